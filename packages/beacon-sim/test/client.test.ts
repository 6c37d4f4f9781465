/**
 * Every route the watcher and the oracle use, read back through @lodestar/api's own client over
 * real HTTP (JSON and SSZ).
 */
import "./env-minimal.js";
import { SecretKey } from "@chainsafe/blst";
import { getClient, routes } from "@lodestar/api";
import {
  DOMAIN_BEACON_ATTESTER,
  DOMAIN_BEACON_PROPOSER,
  EPOCHS_PER_HISTORICAL_VECTOR,
  MAX_EFFECTIVE_BALANCE,
  SHUFFLE_ROUND_COUNT,
} from "@lodestar/params";
import { ssz } from "@lodestar/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BeaconSim, startBeaconSim } from "../src/index.js";
import { computeProposerIndex, computeSeed, proposerSeed, shuffledIndices } from "../src/shuffle.js";

let sim: BeaconSim;
let api: ReturnType<typeof getClient>;
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

beforeAll(async () => {
  sim = await startBeaconSim({
    fork: "deneb",
    validators: 64,
    scenario: { behaviours: [{ validators: "48-63", behaviour: "offline" }] },
  });
  sim.chain.advanceTo(12 * 8 + 3); // epoch 12
  api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
});
afterAll(async () => {
  await sim?.close();
});

describe("node, genesis, spec", () => {
  it("genesis, version, syncing, health, spec, fork schedule, deposit contract", async () => {
    const g = (await api.beacon.getGenesis()).value();
    expect(g.genesisTime).toBe(sim.chain.genesisTime);
    expect(hex(g.genesisValidatorsRoot)).toBe(hex(sim.chain.genesisValidatorsRoot));
    expect(hex(g.genesisForkVersion)).toBe("0x00000001");
    expect((await api.node.getNodeVersion()).value().version).toMatch(/^beacon-sim\//);
    const s = (await api.node.getSyncingStatus()).value();
    expect(s).toEqual({
      headSlot: 99,
      syncDistance: 0,
      isSyncing: false,
      isOptimistic: false,
      elOffline: false,
    });
    const h = await api.node.getHealth();
    expect(h.status).toBe(200);
    const spec = (await api.config.getSpec()).value();
    expect(spec.SLOTS_PER_EPOCH).toBe("8");
    expect(spec.PRESET_BASE).toBe("minimal");
    expect((await api.config.getForkSchedule()).value().length).toBe(5);
    expect((await api.config.getDepositContract()).value().chainId).toBe(sim.chain.config.DEPOSIT_CHAIN_ID);
  });
});

describe("blocks and headers", () => {
  it("headers by slot, root, head, finalized; 404 for an empty slot", async () => {
    const head = (await api.beacon.getBlockHeader({ blockId: "head" })).value();
    const headBlock = sim.chain.blockByRoot(head.root);
    expect(headBlock?.slot).toBe(head.header.message.slot);
    const byRoot = (await api.beacon.getBlockHeader({ blockId: hex(head.root) })).value();
    expect(byRoot.header.message.slot).toBe(head.header.message.slot);
    const fin = await api.beacon.getBlockHeader({ blockId: "finalized" });
    expect(fin.meta().finalized).toBe(true);
    expect(fin.value().header.message.slot % 8).toBe(0);
    const empty = [...Array(99).keys()].find((s) => s > 0 && sim.chain.blockAt(s) === undefined);
    expect(empty).toBeDefined();
    const r = await api.beacon.getBlockHeader({ blockId: empty ?? 0 });
    expect(r.status).toBe(404);
    const list = (await api.beacon.getBlockHeaders({ slot: head.header.message.slot })).value();
    expect(list.map((x) => hex(x.root))).toEqual([hex(head.root)]);
    const parentChildren = (
      await api.beacon.getBlockHeaders({ parentRoot: hex(head.header.message.parentRoot) })
    ).value();
    expect(parentChildren.map((x) => hex(x.root))).toEqual([hex(head.root)]);
    expect(hex((await api.beacon.getBlockRoot({ blockId: "head" })).value().root)).toBe(hex(head.root));
  });

  it("block v2 in JSON and SSZ: same block, header root = hash of the message, parent chain links", async () => {
    const slot =
      [...Array(40).keys()].map((k) => 60 + k).find((s) => sim.chain.blockAt(s) !== undefined) ?? 60;
    const json = await api.beacon.getBlockV2({ blockId: slot });
    expect(json.meta().version).toBe("deneb");
    const block = json.value() as import("@lodestar/types").deneb.SignedBeaconBlock;
    expect(block.message.slot).toBe(slot);
    const sszRes = await api.beacon.getBlockV2({ blockId: slot }, { responseWireFormat: "ssz" as never });
    const fromSsz = sszRes.value() as import("@lodestar/types").deneb.SignedBeaconBlock;
    expect(hex(ssz.deneb.BeaconBlock.hashTreeRoot(fromSsz.message))).toBe(
      hex(ssz.deneb.BeaconBlock.hashTreeRoot(block.message)),
    );
    const header = (await api.beacon.getBlockHeader({ blockId: slot })).value();
    expect(hex(ssz.deneb.BeaconBlock.hashTreeRoot(block.message))).toBe(hex(header.root));
    const parent = (await api.beacon.getBlockHeader({ blockId: hex(block.message.parentRoot) })).value();
    expect(parent.header.message.slot).toBeLessThan(slot);
    expect(block.message.body.attestations.length).toBeGreaterThan(0);
    expect(block.message.body.syncAggregate.syncCommitteeBits.bitLen).toBe(32);
    expect(block.message.body.executionPayload.timestamp).toBe(
      sim.chain.genesisTime + slot * sim.chain.secondsPerSlot,
    );
    const atts = (await api.beacon.getBlockAttestationsV2({ blockId: slot })).value();
    expect(atts.length).toBe(block.message.body.attestations.length);
  });
});

describe("state", () => {
  it("validators: GET with ids and statuses, POST, single; balances GET and POST", async () => {
    const pk5 = hex(sim.chain.pubkeyOf(5));
    const v = (await api.beacon.getStateValidators({ stateId: "head", validatorIds: [0, pk5, 63] })).value();
    expect(v.map((x) => x.index)).toEqual([0, 5, 63]);
    expect(v[1]?.status).toBe("active_ongoing");
    const all = (
      await api.beacon.postStateValidators({ stateId: "finalized", statuses: ["active_ongoing"] })
    ).value();
    expect(all.length).toBe(64);
    const none = (
      await api.beacon.postStateValidators({ stateId: "head", statuses: ["exited_slashed"] })
    ).value();
    expect(none).toEqual([]);
    const general = (
      await api.beacon.getStateValidators({ stateId: "head", statuses: ["active"] as never })
    ).value();
    expect(general.length).toBe(64);
    const one = (await api.beacon.getStateValidator({ stateId: "head", validatorId: pk5 })).value();
    expect(one.index).toBe(5);
    expect((await api.beacon.getStateValidator({ stateId: "head", validatorId: 64 })).status).toBe(404);
    const b = (
      await api.beacon.getStateValidatorBalances({ stateId: "head", validatorIds: [0, 48] })
    ).value();
    expect(b.map((x) => x.index)).toEqual([0, 48]);
    expect(b[0]?.balance).toBeGreaterThan(32e9);
    expect(b[1]?.balance).toBeLessThan(32e9);
    const pb = (
      await api.beacon.postStateValidatorBalances({ stateId: "head", validatorIds: [pk5] })
    ).value();
    expect(pb).toEqual([{ index: 5, balance: sim.chain.balanceAt(5, 12) }]);
  });

  it("finality checkpoints, state root, fork, committees (filters), sync committees", async () => {
    const f = (await api.beacon.getStateFinalityCheckpoints({ stateId: "head" })).value();
    expect(f.finalized.epoch).toBeGreaterThan(0);
    expect(f.currentJustified.epoch).toBeGreaterThanOrEqual(f.finalized.epoch);
    const root = (await api.beacon.getStateRoot({ stateId: 40 })).value().root;
    expect((await api.beacon.getStateRoot({ stateId: hex(root) })).value().root).toEqual(root);
    expect(hex((await api.beacon.getStateFork({ stateId: "head" })).value().currentVersion)).toBe(
      "0x04000001",
    );
    const committees = (await api.beacon.getEpochCommittees({ stateId: 40, epoch: 5 })).value();
    expect(committees.length).toBe(16);
    const seen = new Set(committees.flatMap((c) => c.validators));
    expect(seen.size).toBe(64);
    const one = (await api.beacon.getEpochCommittees({ stateId: 40, epoch: 5, slot: 43, index: 1 })).value();
    expect(one).toEqual([committees.find((c) => c.slot === 43 && c.index === 1)]);
    const sc = (await api.beacon.getEpochSyncCommittees({ stateId: "head" })).value();
    expect(sc.validators.length).toBe(32);
    expect(sc.validatorAggregates.flat()).toEqual(sc.validators);
  });

  it("SSZ debug state decodes with the preset's types and matches the JSON endpoints", async () => {
    const res = await api.debug.getStateV2({ stateId: "finalized" }, { responseWireFormat: "ssz" as never });
    expect(res.meta().version).toBe("deneb");
    const bytes = res.ssz();
    const state = ssz.deneb.BeaconState.deserialize(bytes);
    // "finalized" is the state at the head's finalized checkpoint; its own checkpoints are older.
    const headFin = (await api.beacon.getStateFinalityCheckpoints({ stateId: "head" })).value();
    expect(state.slot).toBe(headFin.finalized.epoch * 8);
    const fin = (await api.beacon.getStateFinalityCheckpoints({ stateId: "finalized" })).value();
    const balances = (await api.beacon.getStateValidatorBalances({ stateId: "finalized" })).value();
    expect(state.balances).toEqual(balances.map((b) => b.balance));
    expect(hex(state.validators[7]?.pubkey ?? new Uint8Array())).toBe(hex(sim.chain.pubkeyOf(7)));
    expect(state.finalizedCheckpoint.epoch).toBe(fin.finalized.epoch);
  });
});

describe("duties, rewards, liveness", () => {
  it("proposer duties (past and next epoch) agree with the blocks", async () => {
    const d = await api.validator.getProposerDuties({ epoch: 6 });
    const duties = d.value();
    expect(duties.length).toBe(8);
    for (const duty of duties) {
      const b = sim.chain.blockAt(duty.slot);
      if (b !== undefined) expect(b.message.proposerIndex).toBe(duty.validatorIndex);
      else expect(duty.validatorIndex).toBeGreaterThanOrEqual(48);
    }
    expect(d.meta().dependentRoot).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await api.validator.getProposerDuties({ epoch: 13 })).value().length).toBe(8);
    expect((await api.validator.getProposerDuties({ epoch: 15 })).status).toBe(400);
  });

  it("committees and proposers recomputed from the served SSZ state (as the spec does) match the API", async () => {
    const epoch = 10;
    const state = ssz.deneb.BeaconState.deserialize(
      (await api.debug.getStateV2({ stateId: epoch * 8 }, { responseWireFormat: "ssz" as never })).ssz(),
    );
    const mix =
      state.randaoMixes[(epoch + EPOCHS_PER_HISTORICAL_VECTOR - 2) % EPOCHS_PER_HISTORICAL_VECTOR] ??
      new Uint8Array(32);
    const active = Uint32Array.from(state.validators.keys()).filter(
      (i) =>
        (state.validators[i]?.activationEpoch ?? 0) <= epoch && epoch < (state.validators[i]?.exitEpoch ?? 0),
    );
    const perm = shuffledIndices(
      active.length,
      computeSeed(mix, epoch, DOMAIN_BEACON_ATTESTER),
      SHUFFLE_ROUND_COUNT,
    );
    const shuffled = Array.from(perm, (p) => active[p]);
    const committees = (await api.beacon.getEpochCommittees({ stateId: epoch * 8, epoch })).value();
    for (const c of committees) {
      const k = (c.slot % 8) * 2 + c.index;
      expect(c.validators).toEqual(shuffled.slice((active.length * k) / 16, (active.length * (k + 1)) / 16));
    }
    const duties = (await api.validator.getProposerDuties({ epoch })).value();
    for (const d of duties) {
      const seed = proposerSeed(computeSeed(mix, epoch, DOMAIN_BEACON_PROPOSER), d.slot);
      expect(
        computeProposerIndex(
          active,
          (i) => state.validators[i]?.effectiveBalance ?? 0,
          seed,
          SHUFFLE_ROUND_COUNT,
          MAX_EFFECTIVE_BALANCE,
        ),
      ).toBe(d.validatorIndex);
    }
  });

  it("attester duties match committees; sync duties match the sync committee", async () => {
    // Lodestar answers attester duties for the previous, current and next epoch of its head
    const epoch = sim.chain.epochOf(sim.chain.headSlot);
    const duties = (await api.validator.getAttesterDuties({ epoch, indices: [0, 1, 50] })).value();
    expect(duties.map((d) => d.validatorIndex)).toEqual([0, 1, 50]);
    const committees = (await api.beacon.getEpochCommittees({ stateId: "head", epoch })).value();
    for (const d of duties) {
      const c = committees.find((x) => x.slot === d.slot && x.index === d.committeeIndex);
      expect(c?.validators[d.validatorCommitteeIndex]).toBe(d.validatorIndex);
      expect(c?.validators.length).toBe(d.committeeLength);
      expect(d.committeesAtSlot).toBe(2);
    }
    const sync = (
      await api.validator.getSyncCommitteeDuties({ epoch: 12, indices: [...Array(64).keys()] })
    ).value();
    const members = Array.from(sim.chain.syncCommittee(sim.chain.syncPeriodOf(12)));
    expect(
      sync
        .flatMap((s) => s.validatorSyncCommitteeIndices.map((k) => members[k] === s.validatorIndex))
        .every(Boolean),
    ).toBe(true);
    expect(sync.reduce((n, s) => n + s.validatorSyncCommitteeIndices.length, 0)).toBe(32);
  });

  it("attestation rewards (signed), sync committee rewards, liveness", async () => {
    const r = (await api.beacon.getAttestationsRewards({ epoch: 8, validatorIds: [0, 50] })).value();
    expect(r.idealRewards.length).toBe(33);
    // The 1.48 client decodes negative values as unsigned: the raw JSON carries the sign.
    const raw = (await (
      await fetch(`${sim.url}/eth/v1/beacon/rewards/attestations/8`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "[]",
      })
    ).json()) as {
      data: {
        total_rewards: Array<{ validator_index: string; source: string; target: string; head: string }>;
      };
    };
    // Signs follow the participation flags of epoch 8 (an online validator whose attestation waited
    // more than sqrt(8) slots for a block loses its source flag, as on a real chain).
    const flags = sim.chain.participationFlags(8) ?? new Uint8Array();
    let positiveSources = 0;
    for (const t of raw.data.total_rewards) {
      const f = flags[Number(t.validator_index)] ?? 0;
      expect(Number(t.source) > 0).toBe((f & 1) !== 0);
      expect(Number(t.target) > 0).toBe((f & 2) !== 0);
      expect(Number(t.head) > 0).toBe((f & 4) !== 0);
      if (Number(t.source) > 0) positiveSources++;
    }
    expect(positiveSources).toBeGreaterThan(30);
    const v50 = raw.data.total_rewards.find((x) => x.validator_index === "50");
    expect(Number(v50?.source)).toBeLessThan(0);
    expect(Number(v50?.target)).toBeLessThan(0);
    expect(Number(v50?.head)).toBe(0);
    expect(r.totalRewards.map((x) => x.validatorIndex)).toEqual([0, 50]);
    const slot =
      [...Array(8).keys()].map((k) => 80 + k).find((s) => sim.chain.blockAt(s) !== undefined) ?? 80;
    const sr = (await api.beacon.getSyncCommitteeRewards({ blockId: slot, validatorIds: [] })).value();
    expect(sr.length).toBeGreaterThan(0);
    const br = (await api.beacon.getBlockRewards({ blockId: slot })).value();
    expect(br.proposerIndex).toBe(sim.chain.blockAt(slot)?.message.proposerIndex);
    expect(br.attestations).toBeGreaterThan(0);
    expect(br.total).toBe(br.attestations + br.syncAggregate + br.proposerSlashings + br.attesterSlashings);
    const live = (await api.validator.getLiveness({ epoch: 11, indices: [0, 47, 48, 63] })).value();
    expect(live).toEqual([
      { index: 0, isLive: true },
      { index: 47, isLive: true },
      { index: 48, isLive: false },
      { index: 63, isLive: false },
    ]);
  });
});

describe("pool: voluntary exits", () => {
  it("accepts a correctly signed exit, includes it in the next block, and rejects a bad signature", async () => {
    const chain = sim.chain;
    const exit = { epoch: chain.epochOf(chain.headSlot), validatorIndex: 9 };
    const bad = await api.beacon.submitPoolVoluntaryExit({
      signedVoluntaryExit: {
        message: exit,
        signature: SecretKey.fromBytes(chain.secretKeyOfValidator(10) ?? new Uint8Array(32))
          .sign(chain.voluntaryExitSigningRoot(exit))
          .toBytes(),
      },
    });
    expect(bad.status).toBe(400);
    expect(await bad.errorBody()).toContain("invalid voluntary exit signature");
    const sk = chain.secretKeyOfValidator(9);
    if (sk === undefined) throw new Error("no key");
    const good = await api.beacon.submitPoolVoluntaryExit({
      signedVoluntaryExit: {
        message: exit,
        signature: SecretKey.fromBytes(sk).sign(chain.voluntaryExitSigningRoot(exit)).toBytes(),
      },
    });
    expect(good.status).toBe(200);
    expect((await api.beacon.getPoolVoluntaryExits()).value().length).toBe(1);
    const again = await api.beacon.submitPoolVoluntaryExit({
      signedVoluntaryExit: {
        message: exit,
        signature: SecretKey.fromBytes(sk).sign(chain.voluntaryExitSigningRoot(exit)).toBytes(),
      },
    });
    expect(again.status).toBe(400);
    const before = chain.headSlot;
    chain.advanceTo(before + 8);
    let found = false;
    for (let s = before + 1; s <= chain.headSlot; s++) {
      if (chain.blockAt(s)?.message.body.voluntaryExits.some((e) => e.message.validatorIndex === 9))
        found = true;
    }
    expect(found).toBe(true);
    chain.advanceEpochs(1);
    const v = (await api.beacon.getStateValidator({ stateId: "head", validatorId: 9 })).value();
    expect(v.status).toBe("active_exiting");
    expect(v.validator.exitEpoch).toBeGreaterThan(chain.epochOf(chain.headSlot));
  });
});

describe("event stream", () => {
  it("delivers head, block and finalized_checkpoint events through the client", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      void api.events.eventstream({
        topics: [
          routes.events.EventType.head,
          routes.events.EventType.block,
          routes.events.EventType.finalizedCheckpoint,
        ],
        signal: controller.signal,
        onEvent: (e) => {
          seen.push(e.type);
          if (seen.includes("head") && seen.includes("block") && seen.includes("finalized_checkpoint"))
            resolve();
        },
      });
    });
    const ticker = setInterval(() => sim.chain.advanceTo(sim.chain.headSlot + 1), 10);
    await done.finally(() => {
      clearInterval(ticker);
      controller.abort();
    });
    expect(seen).toContain("finalized_checkpoint");
  });
});
