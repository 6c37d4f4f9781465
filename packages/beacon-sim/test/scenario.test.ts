/**
 * Scripted behaviour produces exactly the expected chain: attestations (present, late, wrong head
 * or target), empty proposer slots, rewards and balances, slashings, exits, deposits, finality.
 * Read over HTTP through @lodestar/api's client where the watcher would.
 */
import "./env-minimal.js";
import { getClient } from "@lodestar/api";
import type { deneb } from "@lodestar/types";
import { describe, expect, it } from "vitest";
import {
  FLAG_HEAD,
  FLAG_SOURCE,
  FLAG_TARGET,
  parseScenario,
  SimChain,
  startBeaconSim,
} from "../src/index.js";

/** For each validator, the (slot of vote, inclusion slot, head root, target root) of its attestations in blocks. */
function attestationsOf(
  chain: SimChain,
  fromSlot: number,
  toSlot: number,
): Map<number, Array<{ slot: number; included: number; head: string; target: string }>> {
  const out = new Map<number, Array<{ slot: number; included: number; head: string; target: string }>>();
  for (let s = fromSlot; s <= toSlot; s++) {
    const b = chain.blockAt(s);
    if (b === undefined) continue;
    for (const a of b.message.body.attestations) {
      const members = chain.committee(a.data.slot, a.data.index);
      for (let k = 0; k < members.length; k++) {
        if (!a.aggregationBits.get(k)) continue;
        const v = members[k] ?? -1;
        const list = out.get(v) ?? [];
        list.push({
          slot: a.data.slot,
          included: s,
          head: Buffer.from(a.data.beaconBlockRoot).toString("hex"),
          target: Buffer.from(a.data.target.root).toString("hex"),
        });
        out.set(v, list);
      }
    }
  }
  return out;
}

describe("scripted validator behaviour", () => {
  const chain = new SimChain({
    fork: "deneb",
    validators: 64,
    scenario: {
      behaviours: [
        { validators: "48-55", behaviour: "offline", from: 2, to: 6 },
        { validators: [40, 41], behaviour: "late", delay: 3, from: 2 },
        { validators: "42", behaviour: "wrong-head", from: 2 },
        { validators: "43", behaviour: "wrong-target", from: 2 },
        { validators: "44-47", behaviour: "no-proposals" },
      ],
    },
  });
  chain.advanceTo(8 * 8);

  it("offline validators attest nowhere in their offline epochs and again afterwards", () => {
    const epochs3to5 = attestationsOf(chain, 3 * 8, 6 * 8);
    for (let v = 48; v <= 55; v++) {
      expect(
        (epochs3to5.get(v) ?? []).filter((a) => chain.epochOf(a.slot) >= 2 && chain.epochOf(a.slot) < 6),
      ).toEqual([]);
    }
    const later = attestationsOf(chain, 6 * 8 + 1, 8 * 8);
    for (let v = 48; v <= 55; v++)
      expect((later.get(v) ?? []).some((a) => chain.epochOf(a.slot) === 6)).toBe(true);
  });

  it("late validators are included `delay` slots after their slot (or the next block), without source/head flags", () => {
    const atts = attestationsOf(chain, 2 * 8, 8 * 8);
    for (const v of [40, 41]) {
      const list = (atts.get(v) ?? []).filter((a) => chain.epochOf(a.slot) >= 2 && chain.epochOf(a.slot) < 7);
      expect(list.length).toBe(5);
      for (const a of list) {
        expect(a.included).toBeGreaterThanOrEqual(a.slot + 3);
        for (let s = a.slot + 3; s < a.included; s++) expect(chain.blockAt(s)).toBeUndefined();
      }
      for (let e = 2; e < 7; e++) {
        const f = chain.participationFlags(e)?.[v] ?? 0;
        expect(f & FLAG_TARGET).toBe(FLAG_TARGET);
        expect(f & (FLAG_SOURCE | FLAG_HEAD)).toBe(0); // delay 3 > sqrt(8)
      }
    }
  });

  it("wrong head votes a non-canonical root; wrong target also misses the target", () => {
    const atts = attestationsOf(chain, 2 * 8, 8 * 8);
    for (const a of atts.get(42) ?? []) {
      if (chain.epochOf(a.slot) < 2) continue;
      expect(chain.blockByRoot(Buffer.from(a.head, "hex"))).toBeUndefined();
      expect(a.target).toBe(
        Buffer.from(chain.blockRootAtOrBefore(chain.startSlot(chain.epochOf(a.slot)))).toString("hex"),
      );
    }
    for (const a of atts.get(43) ?? []) {
      if (chain.epochOf(a.slot) < 2) continue;
      expect(a.target).not.toBe(
        Buffer.from(chain.blockRootAtOrBefore(chain.startSlot(chain.epochOf(a.slot)))).toString("hex"),
      );
    }
    for (let e = 2; e < 7; e++) {
      expect((chain.participationFlags(e)?.[42] ?? 0) & FLAG_HEAD).toBe(0);
      expect((chain.participationFlags(e)?.[42] ?? 0) & FLAG_TARGET).toBe(FLAG_TARGET);
      expect((chain.participationFlags(e)?.[43] ?? 0) & FLAG_TARGET).toBe(0);
    }
  });

  it("proposals of offline and no-proposals validators are empty slots; everyone else's are blocks", () => {
    let checked = 0;
    for (let s = 1; s <= 8 * 8; s++) {
      const p = chain.proposerAt(s);
      const e = chain.epochOf(s);
      const offline = p >= 48 && p <= 55 && e >= 2 && e < 6;
      const silent = p >= 44 && p <= 47;
      expect(chain.blockAt(s) === undefined).toBe(offline || silent);
      checked++;
    }
    expect(checked).toBe(64);
  });

  it("balances follow the rewards: offline validators lose, online gain; rewards endpoint agrees with the balance change", () => {
    // Balance change from epoch 4 to 5 = attestation deltas of epoch 3 + per-block rewards during epoch 4.
    const ctx = chain.attestationRewardContext(3);
    expect(ctx).toBeDefined();
    const d49 = ctx?.deltas(49);
    expect(d49?.source).toBeLessThan(0);
    expect(d49?.target).toBeLessThan(0);
    expect(d49?.head).toBe(0);
    expect(chain.balanceAt(49, 6)).toBeLessThan(chain.balanceAt(49, 2));
    expect(chain.balanceAt(0, 6)).toBeGreaterThan(chain.balanceAt(0, 2));
    // A validator with no proposal and no sync duty: the change is exactly its attestation deltas.
    const members = new Set(chain.syncCommittee(0));
    const proposers = new Set(Array.from({ length: 8 }, (_, k) => chain.proposerAt(4 * 8 + k)));
    const quiet = [...Array(64).keys()].find((v) => !members.has(v) && !proposers.has(v));
    expect(quiet).toBeDefined();
    const d = ctx?.deltas(quiet ?? 0);
    const sum = (d?.head ?? 0) + (d?.source ?? 0) + (d?.target ?? 0) + (d?.inactivity ?? 0);
    expect(sum).not.toBe(0);
    expect(chain.balanceAt(quiet ?? 0, 5) - chain.balanceAt(quiet ?? 0, 4)).toBe(sum);
  });
});

describe("orphaned proposals", () => {
  it("an orphaned block exists by root (canonical: false) but the chain builds on its parent", async () => {
    const sim = await startBeaconSim({ fork: "deneb", validators: 64, scenario: { orphanedSlots: [20] } });
    try {
      const chain = sim.chain;
      chain.advanceTo(4 * 8);
      const api = getClient({ baseUrl: sim.url }, { config: chain.config });
      expect((await api.beacon.getBlockHeader({ blockId: 20 })).status).toBe(404);
      const atSlot = (await api.beacon.getBlockHeaders({ slot: 20 })).value();
      expect(atSlot.length).toBe(1);
      expect(atSlot[0]?.canonical).toBe(false);
      const orphanRoot = `0x${Buffer.from(atSlot[0]?.root ?? []).toString("hex")}`;
      const byRoot = (await api.beacon.getBlockHeader({ blockId: orphanRoot })).value();
      expect(byRoot.canonical).toBe(false);
      expect((await api.beacon.getBlockV2({ blockId: orphanRoot })).value().message.slot).toBe(20);
      const next = [21, 22, 23].map((s) => chain.blockAt(s)).find((b) => b !== undefined);
      expect(Buffer.from(next?.message.parentRoot ?? []).toString("hex")).toBe(
        Buffer.from(chain.blockRootAtOrBefore(19)).toString("hex"),
      );
      const children = (
        await api.beacon.getBlockHeaders({
          parentRoot: `0x${Buffer.from(chain.blockRootAtOrBefore(19)).toString("hex")}`,
        })
      ).value();
      expect(children.map((h) => h.canonical).sort()).toEqual([false, true]);
      // The proposer duty of slot 20 stands; no canonical block fulfils it.
      const duties = (await api.validator.getProposerDuties({ epoch: 2 })).value();
      expect(duties.find((d) => d.slot === 20)?.validatorIndex).toBe(atSlot[0]?.header.message.proposerIndex);
    } finally {
      await sim.close();
    }
  });

  it("the orphaned-proposals behaviour orphans every block of those validators", () => {
    const chain = new SimChain({
      fork: "deneb",
      validators: 64,
      scenario: { behaviours: [{ validators: "0-15", behaviour: "orphaned-proposals" }] },
    });
    chain.advanceTo(4 * 8);
    let orphans = 0;
    for (let s = 1; s <= chain.headSlot; s++) {
      const p = chain.proposerAt(s);
      if (p <= 15) {
        expect(chain.blockAt(s)).toBeUndefined();
        expect(chain.orphansAt(s).length).toBe(1);
        orphans++;
      } else expect(chain.blockAt(s)).toBeDefined();
    }
    expect(orphans).toBeGreaterThan(0);
  });
});

describe("block packing", () => {
  it("merges aggregates of the same vote that became includable together, and never exceeds MAX_ATTESTATIONS", () => {
    const chain = new SimChain({
      fork: "deneb",
      validators: 64,
      scenario: {
        behaviours: [{ validators: "0-31", behaviour: "late", delay: 2, from: 2 }],
        missedSlots: [17],
      },
    });
    chain.advanceTo(4 * 8);
    const b18 = chain.blockAt(18);
    expect(b18).toBeDefined();
    const forSlot16 = (b18?.message.body.attestations ?? []).filter((a) => a.data.slot === 16);
    expect(forSlot16.map((a) => a.data.index).sort()).toEqual([0, 1]); // one aggregate per committee
    for (const a of forSlot16) {
      expect(a.aggregationBits.getTrueBitIndexes().length).toBe(chain.committee(16, a.data.index).length);
    }
    for (let s = 1; s <= chain.headSlot; s++)
      expect((chain.blockAt(s)?.message.body.attestations.length ?? 0) <= 128).toBe(true);
  });
});

describe("slashings, exits, deposits, finality", () => {
  it("a slashing at epoch E: included in a block of E, slashed from E+1, penalised, exits later", () => {
    const chain = new SimChain({
      fork: "deneb",
      validators: 64,
      scenario: {
        slashings: [
          { validator: 7, epoch: 3 },
          { validator: 8, epoch: 3, kind: "proposer" },
        ],
      },
    });
    const twin = new SimChain({ fork: "deneb", validators: 64 });
    chain.advanceTo(5 * 8);
    twin.advanceTo(5 * 8);
    const blocks = Array.from({ length: 8 }, (_, k) => chain.blockAt(3 * 8 + k)).filter(
      (b) => b !== undefined,
    );
    expect(
      blocks.some((b) =>
        b.message.body.attesterSlashings.some((s) => s.attestation1.attestingIndices.includes(7)),
      ),
    ).toBe(true);
    expect(
      blocks.some((b) =>
        b.message.body.proposerSlashings.some((s) => s.signedHeader1.message.proposerIndex === 8),
      ),
    ).toBe(true);
    const withSlashing = blocks.find((b) => b.message.body.attesterSlashings.length > 0);
    expect(withSlashing?.rewards.attesterSlashings).toBe(32e9 / 512);
    expect(chain.statusAt(7, 3)).toBe("active_ongoing");
    expect(chain.statusAt(7, 4)).toBe("active_slashed");
    expect(chain.validatorAt(7, 4).slashed).toBe(true);
    // The same chain without the slashing: at least effective/32 (1 ETH) less.
    expect(twin.balanceAt(7, 4) - chain.balanceAt(7, 4)).toBeGreaterThanOrEqual(32e9 / 32);
    const exit = chain.validatorAt(7, 4).exitEpoch;
    chain.advanceTo(chain.startSlot(exit + 1));
    expect(chain.statusAt(7, exit + 1)).toBe("exited_slashed");
  });

  it("a scripted exit: active_exiting with exit_epoch = E + 1 + MAX_SEED_LOOKAHEAD, then exited", async () => {
    const sim = await startBeaconSim({
      fork: "deneb",
      validators: 64,
      scenario: { exits: [{ validator: 3, epoch: 2 }] },
    });
    try {
      const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
      sim.chain.advanceTo(3 * 8);
      const v = (await api.beacon.getStateValidator({ stateId: "head", validatorId: 3 })).value();
      expect(v.status).toBe("active_exiting");
      expect(v.validator.exitEpoch).toBe(2 + 1 + 4);
      let inBlock = false;
      for (let s = 16; s < 24; s++)
        if (sim.chain.blockAt(s)?.message.body.voluntaryExits.some((e) => e.message.validatorIndex === 3))
          inBlock = true;
      expect(inBlock).toBe(true);
      sim.chain.advanceTo(8 * 8);
      const after = (await api.beacon.getStateValidator({ stateId: "head", validatorId: 3 })).value();
      expect(after.status).toBe("exited_unslashed");
      // An exited validator has no more duties.
      const duties = (await api.validator.getAttesterDuties({ epoch: 8, indices: [3] })).value();
      expect(duties).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it("deposits: pending_queued in the next epoch, active after finality, with given pubkeys and 0x01 credentials", async () => {
    const sim = await startBeaconSim({ fork: "deneb", validators: 64 });
    try {
      const chain = sim.chain;
      const api = getClient({ baseUrl: sim.url }, { config: chain.config });
      const other = new SimChain({ fork: "deneb", validators: 70 });
      const newKeys = [other.pubkeyOf(64).slice(), other.pubkeyOf(65).slice()];
      const wc = new Uint8Array(32);
      wc[0] = 1;
      wc.fill(0xaa, 12);
      chain.advanceTo(2 * 8 + 3);
      expect(chain.addValidators(newKeys, wc)).toEqual([64, 65]);
      expect(() => chain.addValidators([newKeys[0] ?? new Uint8Array()])).toThrow(/already in the registry/);
      chain.advanceTo(3 * 8);
      const pk = `0x${Buffer.from(newKeys[0] ?? []).toString("hex")}`;
      const v = (await api.beacon.getStateValidator({ stateId: "head", validatorId: pk })).value();
      expect(v.index).toBe(64);
      expect(v.status).toBe("pending_queued");
      expect(v.validator.withdrawalCredentials[0]).toBe(1);
      chain.advanceTo(12 * 8);
      const active = (await api.beacon.getStateValidator({ stateId: "head", validatorId: 65 })).value();
      expect(active.status).toBe("active_ongoing");
      expect(active.validator.activationEpoch).toBeGreaterThan(3);
      expect((await api.beacon.getStateValidator({ stateId: 2 * 8, validatorId: 65 })).status).toBe(404);
    } finally {
      await sim.close();
    }
  });

  it("finality advances (current - 2 with everyone online) and stalls on command", () => {
    const chain = new SimChain({ fork: "deneb", validators: 64 });
    chain.advanceTo(6 * 8);
    expect(chain.currentFinality().finalized.epoch).toBe(4);
    chain.stallFinality(true);
    chain.advanceTo(12 * 8);
    expect(chain.currentFinality().finalized.epoch).toBe(4);
    chain.stallFinality(false);
    chain.advanceTo(16 * 8);
    expect(chain.currentFinality().finalized.epoch).toBe(14);
    const stalled = new SimChain({
      fork: "deneb",
      validators: 64,
      scenario: { finality: [{ from: 4, to: 9, mode: "stall" }] },
    });
    stalled.advanceTo(8 * 8);
    expect(stalled.currentFinality().finalized.epoch).toBeLessThanOrEqual(2);
  });

  it("inactivity leak: with finality stalled, offline validators pay inactivity penalties and nobody earns flag rewards", () => {
    const chain = new SimChain({
      fork: "deneb",
      validators: 64,
      scenario: {
        behaviours: [{ validators: "0-7", behaviour: "offline" }],
        finality: [{ from: 2, mode: "stall" }],
      },
    });
    chain.advanceTo(14 * 8);
    const ctx = chain.attestationRewardContext(11);
    const off = ctx?.deltas(3);
    const on = ctx?.deltas(40);
    expect(off?.inactivity).toBeLessThan(0);
    expect(off?.source).toBeLessThan(0);
    expect(on?.inactivity).toBe(0);
    expect([on?.source, on?.target, on?.head]).toEqual([0, 0, 0]); // leaking: no rewards
    expect(chain.inactivityScores[3]).toBeGreaterThan(0);
    expect(chain.inactivityScores[40]).toBe(0);
    expect(chain.currentFinality().finalized.epoch).toBe(0);
  });

  it("withdrawals: 0x01 validators above 32 ETH are swept into execution payloads", () => {
    const wc = new Uint8Array(32);
    wc[0] = 1;
    wc.fill(0x11, 12);
    const chain = new SimChain({ fork: "deneb", validators: 16, withdrawalCredentials: wc });
    chain.advanceTo(12 * 8);
    const ws: deneb.ExecutionPayload["withdrawals"] = [];
    for (let s = 1; s <= chain.headSlot; s++)
      ws.push(...(chain.blockAt(s)?.message.body.executionPayload.withdrawals ?? []));
    expect(ws.length).toBeGreaterThan(0);
    expect(ws.every((w) => Buffer.from(w.address).toString("hex") === "11".repeat(20))).toBe(true);
    expect(ws.map((w) => w.index)).toEqual(ws.map((_, k) => k));
  });

  it("prunes states and blocks older than the retention window (404 there, like a pruned node)", async () => {
    const sim = await startBeaconSim({ fork: "deneb", validators: 64, stateRetentionEpochs: 4 });
    try {
      sim.chain.advanceTo(10 * 8);
      const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
      expect((await api.beacon.getStateValidatorBalances({ stateId: 3 * 8 })).status).toBe(404);
      expect((await api.beacon.getStateValidatorBalances({ stateId: 7 * 8 })).status).toBe(200);
      expect(sim.chain.blockAt(3 * 8 + 1)).toBeUndefined();
      expect((await api.beacon.getBlockHeader({ blockId: "genesis" })).status).toBe(200);
      const recent = [...Array(8).keys()]
        .map((k) => 9 * 8 + k)
        .find((s) => sim.chain.blockAt(s) !== undefined);
      expect((await api.beacon.getBlockHeader({ blockId: recent ?? 0 })).status).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it("runs with a slots-per-epoch other than the preset's (spec, committees, duties, finality follow it)", async () => {
    const sim = await startBeaconSim({ fork: "deneb", validators: 64, slotsPerEpoch: 4, secondsPerSlot: 3 });
    try {
      sim.chain.advanceTo(8 * 4);
      const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
      const spec = (await api.config.getSpec()).value();
      expect([spec.SLOTS_PER_EPOCH, spec.SECONDS_PER_SLOT]).toEqual(["4", "3"]);
      const committees = (await api.beacon.getEpochCommittees({ stateId: 20, epoch: 5 })).value();
      expect(new Set(committees.map((c) => c.slot))).toEqual(new Set([20, 21, 22, 23]));
      expect(new Set(committees.flatMap((c) => c.validators)).size).toBe(64);
      expect((await api.validator.getProposerDuties({ epoch: 5 })).value().map((d) => d.slot)).toEqual([
        20, 21, 22, 23,
      ]);
      expect(
        (await api.beacon.getStateFinalityCheckpoints({ stateId: "head" })).value().finalized.epoch,
      ).toBe(6);
    } finally {
      await sim.close();
    }
  });

  it("is deterministic: the same scenario gives the same chain", () => {
    const a = new SimChain({
      fork: "deneb",
      validators: 64,
      seed: "x",
      scenario: { behaviours: [{ validators: "0-9", behaviour: "offline" }] },
    });
    const b = new SimChain({
      fork: "deneb",
      validators: 64,
      seed: "x",
      scenario: { behaviours: [{ validators: "0-9", behaviour: "offline" }] },
    });
    a.advanceTo(40);
    b.advanceTo(40);
    expect(Buffer.from(a.blockRootAtOrBefore(40)).toString("hex")).toBe(
      Buffer.from(b.blockRootAtOrBefore(40)).toString("hex"),
    );
    expect(a.balanceAt(5, 5)).toBe(b.balanceAt(5, 5));
  });
});

describe("scenario parsing", () => {
  it("rejects bad input with the field and the reason", () => {
    expect(() => parseScenario({ behaviours: [{ validators: "a-b", behaviour: "offline" }] })).toThrow(
      /scenario\.behaviours\.0\.validators/,
    );
    expect(() => parseScenario({ behaviours: [{ validators: 1, behaviour: "late" }] })).toThrow(
      /delay is required/,
    );
    expect(() => parseScenario({ behaviours: [{ validators: 1, behaviour: "sleepy" }] })).toThrow(
      /scenario\.behaviours\.0\.behaviour/,
    );
    expect(() => parseScenario({ validatorz: 5 })).toThrow(/scenario/);
    expect(() => parseScenario({ faults: [{ kind: "error", status: 404 }] })).toThrow(
      /scenario\.faults\.0\.status/,
    );
    expect(() => new SimChain({ fork: "deneb", scenario: { preset: "mainnet" } })).toThrow(/preset/);
    const pk = new SimChain({ fork: "deneb", validators: 2 }).pubkeyOf(1).slice();
    expect(() => new SimChain({ fork: "deneb", pubkeys: [pk, pk] })).toThrow(/pubkeys\[1\]: appears twice/);
    const chain = new SimChain({ fork: "deneb", validators: 4 });
    expect(() => chain.addValidators([pk, pk])).toThrow(/already in the registry|appears twice/);
    expect(chain.n).toBe(4);
    expect(() => chain.addValidators([new Uint8Array(47)])).toThrow(/pubkeys\[0\]: must be 48 bytes/);
    expect(() => chain.advanceTo(-1)).toThrow(/slot/);
  });
});
