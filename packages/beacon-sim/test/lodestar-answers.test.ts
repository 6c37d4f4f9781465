/**
 * Entry-by-entry conformance with a real Lodestar node (test/fixtures/beacon-recordings: v1.22.0 dev
 * chain, minimal preset, 64 interop validators, 0..47 online). The sim has the same interop keys,
 * genesis validators root and genesis randao mix, and its proposers sign their randao reveals with
 * those keys: its randao mixes, so its proposers, empty slots, committees, duties and attestation
 * rewards are the recorded node's. Block and state roots are the sim's own (its blocks are not the
 * real node's bytes), so dependent roots and checkpoint roots are compared by rule, not by value.
 * Error codes and messages are Lodestar's (beacon-node/src/api/impl).
 */
import "./env-minimal.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DOMAIN_BEACON_ATTESTER,
  DOMAIN_BEACON_PROPOSER,
  DOMAIN_SYNC_COMMITTEE,
  EPOCHS_PER_HISTORICAL_VECTOR,
  MAX_EFFECTIVE_BALANCE,
  SHUFFLE_ROUND_COUNT,
  SYNC_COMMITTEE_SIZE,
} from "@lodestar/params";
import { ssz } from "@lodestar/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BeaconSim, startBeaconSim } from "../src/index.js";
import * as spec from "../src/shuffle.js";

const DIR = join(
  import.meta.dirname,
  "../../../test/fixtures/beacon-recordings/lodestar-v1.22.0-minimal-64-validators-48-online",
);
const rec = (name: string) => JSON.parse(readFileSync(join(DIR, name), "utf8")) as unknown;
const realState = (name: string) =>
  ssz.deneb.BeaconState.deserialize(new Uint8Array(readFileSync(join(DIR, name))));
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

const S = 8;
const ALL = Array.from({ length: 64 }, (_, i) => String(i));
const st40 = realState("state_slot_40.ssz");
const stFin = realState("state_finalized.ssz");
const pubkeys = st40.validators.map((v) => hex(v.pubkey));
/** get_randao_mix(state, epoch − MIN_SEED_LOOKAHEAD − 1) of a real state. */
const mixFor = (st: typeof st40, epoch: number) =>
  st.randaoMixes[(epoch + EPOCHS_PER_HISTORICAL_VECTOR - 2) % EPOCHS_PER_HISTORICAL_VECTOR] ??
  new Uint8Array(32);
const ACTIVE = Uint32Array.from(st40.validators.keys());

/** What the real node's genesis state decides for epoch 0 or 1: committees and proposers. */
function expectedEpoch(epoch: number) {
  const mix = mixFor(st40, epoch); // not yet overwritten at slot 40: the genesis mix
  const perm = spec.shuffledIndices(
    64,
    spec.computeSeed(mix, epoch, DOMAIN_BEACON_ATTESTER),
    SHUFFLE_ROUND_COUNT,
  );
  const shuffled = Array.from(perm, (p) => ACTIVE[p] ?? 0);
  const committees: Array<{ index: string; slot: string; validators: string[] }> = [];
  for (let k = 0; k < 2 * S; k++)
    committees.push({
      index: String(k % 2),
      slot: String(epoch * S + Math.floor(k / 2)),
      validators: shuffled.slice(k * 4, k * 4 + 4).map(String),
    });
  const seed = spec.computeSeed(mix, epoch, DOMAIN_BEACON_PROPOSER);
  const proposers = Array.from({ length: S }, (_, k) =>
    spec.computeProposerIndex(
      ACTIVE,
      () => MAX_EFFECTIVE_BALANCE,
      spec.proposerSeed(seed, epoch * S + k),
      SHUFFLE_ROUND_COUNT,
      MAX_EFFECTIVE_BALANCE,
    ),
  );
  return { committees, proposers };
}

let sim: BeaconSim;

async function call(
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> & { data?: unknown } }> {
  const r = await fetch(
    sim.url + path,
    body === undefined
      ? undefined
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
  );
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Lodestar's error body (fastify's): status, its name, the message. */
const failure = (status: 400 | 404 | 500, message: string) => ({
  status,
  body: {
    statusCode: status,
    error: { 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error" }[status],
    message,
  },
});

beforeAll(async () => {
  sim = await startBeaconSim({
    fork: "deneb",
    validators: 64,
    secondsPerSlot: 2,
    scenario: { behaviours: [{ validators: "48-63", behaviour: "offline" }] },
  });
});
afterAll(async () => {
  await sim?.close();
});

describe("at genesis (head at slot 0): the duties a Lodestar dev chain gives", () => {
  it("the genesis randao mix is the recorded node's", () => {
    expect(hex(sim.chain.randaoMix(-1))).toBe(hex(mixFor(st40, 0)));
    expect(hex(mixFor(st40, 0))).toBe(hex(stFin.eth1Data.blockHash));
  });

  it("committees of the genesis state: epoch 0 and 1, slot order then index", async () => {
    expect(sim.chain.headSlot).toBe(0);
    for (const epoch of [0, 1]) {
      const res = await call(`/eth/v1/beacon/states/genesis/committees?epoch=${epoch}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: expectedEpoch(epoch).committees,
        execution_optimistic: false,
        finalized: true,
      });
    }
  });

  it("proposer duties of epoch 0 name a proposer for every slot, slot 0 included; dependent root = genesis block", async () => {
    const genesisRoot = hex(sim.chain.blockAt(0)?.root ?? new Uint8Array());
    for (const epoch of [0, 1]) {
      const res = await call(`/eth/v1/validator/duties/proposer/${epoch}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: expectedEpoch(epoch).proposers.map((v, k) => ({
          pubkey: pubkeys[v],
          validator_index: String(v),
          slot: String(epoch * S + k),
        })),
        execution_optimistic: false,
        dependent_root: genesisRoot,
      });
    }
  });

  it("attester duties of epochs 0 and 1, in request order (indices, duplicates kept); dependent root = genesis block", async () => {
    const genesisRoot = hex(sim.chain.blockAt(0)?.root ?? new Uint8Array());
    const ids = ["7", "0", "63", "7"];
    for (const epoch of [0, 1]) {
      const { committees } = expectedEpoch(epoch);
      const want = ids.map((id) => {
        const c = committees.find((x) => x.validators.includes(id));
        if (c === undefined) throw new Error(`validator ${id} in no committee`);
        return {
          pubkey: pubkeys[Number(id)],
          validator_index: id,
          committee_index: c.index,
          committee_length: "4",
          committees_at_slot: "2",
          validator_committee_index: String(c.validators.indexOf(id)),
          slot: c.slot,
        };
      });
      const res = await call(`/eth/v1/validator/duties/attester/${epoch}`, ids);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: want, execution_optimistic: false, dependent_root: genesisRoot });
    }
  });

  it("sync committees of periods 0 and 1 are the genesis state's (the recorded state's current committee)", async () => {
    const members = st40.currentSyncCommittee.pubkeys.map((p) => String(pubkeys.indexOf(hex(p))));
    expect(members.length).toBe(SYNC_COMMITTEE_SIZE);
    const res = await call("/eth/v1/beacon/states/genesis/sync_committees");
    expect(res.status).toBe(200);
    expect((res.body.data as { validators: string[] }).validators).toEqual(members);
    for (const epoch of [0, 1]) {
      const duties = await call(`/eth/v1/validator/duties/sync/${epoch}`, ALL);
      const got = (
        duties.body.data as Array<{ validator_index: string; validator_sync_committee_indices: string[] }>
      )
        .flatMap((d) =>
          d.validator_sync_committee_indices.map((k) => [Number(k), d.validator_index] as const),
        )
        .sort((a, b) => a[0] - b[0])
        .map(([, v]) => v);
      expect(got).toEqual(members);
    }
  });
});

describe("the spec functions over the real states", () => {
  it("sync committee sampling gives the recorded next committee (period 2, decided at epoch 8)", () => {
    const epoch = 8;
    const next = spec.computeSyncCommitteeIndices(
      ACTIVE,
      (i) => stFin.validators[i]?.effectiveBalance ?? 0,
      spec.computeSeed(mixFor(stFin, epoch), epoch, DOMAIN_SYNC_COMMITTEE),
      SHUFFLE_ROUND_COUNT,
      MAX_EFFECTIVE_BALANCE,
      SYNC_COMMITTEE_SIZE,
    );
    expect(Array.from(next, (i) => pubkeys[i])).toEqual(stFin.nextSyncCommittee.pubkeys.map(hex));
  });
});

describe("after the recorded epochs (head at slot 88, epoch 11)", () => {
  beforeAll(() => {
    sim.chain.advanceTo(88);
  });

  it("headers 40..55: the recorded proposers, and 404 where the recorded node had no block", async () => {
    for (let slot = 40; slot <= 55; slot++) {
      const real = rec(`header_${slot}.json`) as {
        statusCode?: number;
        data?: { header: { message: { slot: string; proposer_index: string } } };
      };
      const res = await call(`/eth/v1/beacon/headers/${slot}`);
      expect({ slot, status: res.status }).toEqual({ slot, status: real.statusCode ?? 200 });
      if (real.data === undefined) expect(res.body).toEqual(real);
      else
        expect((res.body.data as { header: { message: unknown } }).header.message).toMatchObject({
          slot: real.data.header.message.slot,
          proposer_index: real.data.header.message.proposer_index,
        });
    }
  });

  it("headers and blocks 40..55 from a node finalized at epoch 6 (as the recorded one was): the recorded meta fields", async () => {
    const node = await startBeaconSim({ chain: sim.chain, faults: [{ kind: "stuck", atSlot: 80 }] });
    try {
      const meta = (body: Record<string, unknown>) => ({
        execution_optimistic: body.execution_optimistic,
        finalized: body.finalized,
        version: body.version,
        canonical: (body.data as { canonical?: boolean } | undefined)?.canonical,
      });
      for (let slot = 40; slot <= 55; slot++) {
        for (const [file, path] of [
          [`header_${slot}.json`, `/eth/v1/beacon/headers/${slot}`],
          [`block_${slot}.json`, `/eth/v2/beacon/blocks/${slot}`],
        ] as const) {
          const real = rec(file) as Record<string, unknown>;
          if (real.statusCode !== undefined) continue;
          const body = (await (await fetch(node.url + path)).json()) as Record<string, unknown>;
          expect({ file, ...meta(body) }).toEqual({ file, ...meta(real) });
        }
      }
    } finally {
      await node.close();
    }
  });

  it("proposer duties of epoch 11, attester duties of epoch 10, committees of the finalized state: the recorded entries", async () => {
    // dependent roots aside: block roots differ (the sim's blocks are not the real node's bytes)
    const proposers = await call("/eth/v1/validator/duties/proposer/11");
    expect(proposers.body.data).toEqual((rec("proposer_duties_epoch_11.json") as { data: unknown }).data);
    const attesters = await call("/eth/v1/validator/duties/attester/10", ALL);
    expect(attesters.body.data).toEqual((rec("attester_duties_epoch_10.json") as { data: unknown }).data);
    expect(await call("/eth/v1/beacon/states/finalized/committees")).toEqual({
      status: 200,
      body: rec("committees_finalized.json"),
    });
  });

  it("attestation rewards of epoch 5: the recorded amounts (the recorded node writes fractions: floored)", async () => {
    type Row = Record<string, string>;
    const real = (
      rec("attestation_rewards_epoch_5.json") as { data: { ideal_rewards: Row[]; total_rewards: Row[] } }
    ).data;
    const floor = (rows: Row[]) =>
      rows.map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(Math.floor(Number(v)))])),
      );
    const res = await call("/eth/v1/beacon/rewards/attestations/5", []);
    const data = res.body.data as { ideal_rewards: Row[]; total_rewards: Row[] };
    expect(data.total_rewards).toEqual(floor(real.total_rewards));
    expect(data.ideal_rewards).toEqual(floor(real.ideal_rewards));
  });

  it("sync duties of epoch 10: the recorded answer, entry by entry", async () => {
    const res = await call("/eth/v1/validator/duties/sync/10", ALL);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(rec("sync_duties_epoch_10.json"));
  });

  it("the state at slot 40: fork, registry, sync committees, genesis mixes as the recorded state's", async () => {
    const res = await call("/eth/v1/beacon/states/40/fork");
    expect(res.body.data).toEqual(ssz.phase0.Fork.toJson(st40.fork));
    const r = await fetch(`${sim.url}/eth/v2/debug/beacon/states/40`, {
      headers: { accept: "application/octet-stream" },
    });
    const mine = ssz.deneb.BeaconState.deserialize(new Uint8Array(await r.arrayBuffer()));
    const json = (st: typeof st40) => ssz.deneb.BeaconState.toJson(st) as Record<string, unknown>;
    const [a, b] = [json(mine), json(st40)];
    for (const field of [
      "genesis_validators_root",
      "slot",
      "fork",
      "validators",
      "slashings",
      "inactivity_scores",
      "current_sync_committee",
      "next_sync_committee",
      "justification_bits",
      "historical_roots",
      "historical_summaries",
    ])
      expect({ field, value: a[field] }).toEqual({ field, value: b[field] });
    // the proposers' reveals with the interop keys: the same mixes, the genesis mix from epoch 6 on
    expect(mine.randaoMixes.map(hex)).toEqual(st40.randaoMixes.map(hex));
  });

  it("liveness of epoch 8, asked of a node whose head is in epoch 9: the recorded answer, entry by entry", async () => {
    const node = await startBeaconSim({ chain: sim.chain, faults: [{ kind: "stuck", atSlot: 72 }] });
    try {
      const r = await fetch(`${node.url}/eth/v1/validator/liveness/8`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(ALL),
      });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual(rec("liveness_epoch_8.json"));
    } finally {
      await node.close();
    }
  });

  it("validators ?id=0,48 at slot 48: the recorded entries (balances aside: rewards follow the sim's blocks)", async () => {
    const real = rec("validators_slot_48_0_48.json") as { data: Array<Record<string, unknown>> };
    const res = await call("/eth/v1/beacon/states/48/validators?id=0,48");
    expect(res.status).toBe(200);
    const strip = (list: Array<Record<string, unknown>>) => list.map(({ balance: _b, ...rest }) => rest);
    expect(strip(res.body.data as Array<Record<string, unknown>>)).toEqual(strip(real.data));
    expect({ ...res.body, data: undefined }).toEqual({ ...real, data: undefined });
  });

  it("validators of the finalized state: every recorded entry in order (balances aside)", async () => {
    const real = rec("validators_finalized.json") as { data: Array<Record<string, unknown>> };
    const res = await call("/eth/v1/beacon/states/finalized/validators");
    const strip = (list: Array<Record<string, unknown>>) => list.map(({ balance: _b, ...rest }) => rest);
    expect(strip(res.body.data as Array<Record<string, unknown>>)).toEqual(strip(real.data));
    const balances = await call("/eth/v1/beacon/states/finalized/validator_balances");
    const realBalances = rec("balances_finalized.json") as { data: Array<{ index: string }> };
    expect((balances.body.data as Array<{ index: string }>).map((b) => b.index)).toEqual(
      realBalances.data.map((b) => b.index),
    );
  });
});

describe("requests Lodestar refuses or filters (head at epoch 11)", () => {
  beforeAll(() => {
    sim.chain.advanceTo(88);
  });
  const rootAt = (slot: number) => hex(sim.chain.blockRootAtOrBefore(slot));

  it("proposer duties: up to the next epoch; the dependent root is the head state's for epochs 10..12", async () => {
    expect(await call("/eth/v1/validator/duties/proposer/13")).toEqual(
      failure(400, "Requested epoch 13 must not be more than one epoch in the future"),
    );
    for (const epoch of [10, 11, 12]) {
      const res = await call(`/eth/v1/validator/duties/proposer/${epoch}`);
      expect(res.status).toBe(200);
      expect(res.body.dependent_root).toBe(rootAt(87));
      expect((res.body.data as unknown[]).length).toBe(S);
    }
    // older epochs come from the state at their first slot
    const old = await call("/eth/v1/validator/duties/proposer/5");
    expect(old.body.dependent_root).toBe(rootAt(39));
  });

  it("attester duties: 400 for none or beyond the next epoch, 500 for an unknown index or before the previous epoch", async () => {
    expect(await call("/eth/v1/validator/duties/attester/11", [])).toEqual(
      failure(400, "No validator to get attester duties"),
    );
    expect(await call("/eth/v1/validator/duties/attester/13", ["0"])).toEqual(
      failure(400, "Cannot get duties for epoch more than one ahead"),
    );
    expect(await call("/eth/v1/validator/duties/attester/11", ["0", "64"])).toEqual(
      failure(500, "validatorIndex 64 too high. Current validator count 64"),
    );
    expect(await call("/eth/v1/validator/duties/attester/9", ["0"])).toEqual(
      failure(500, "EPOCH_CONTEXT_ERROR_DECISION_ROOT_EPOCH_OUT_OF_RANGE"),
    );
    const prev = await call("/eth/v1/validator/duties/attester/10", ["0"]);
    expect(prev.status).toBe(200);
    expect(prev.body.dependent_root).toBe(rootAt(71));
    expect((await call("/eth/v1/validator/duties/attester/12", ["0"])).body.dependent_root).toBe(rootAt(87));
  });

  it("sync duties: the head state's current and next period only", async () => {
    expect(await call("/eth/v1/validator/duties/sync/11", [])).toEqual(
      failure(400, "No validator to get attester duties"),
    );
    expect(await call("/eth/v1/validator/duties/sync/7", ["0"])).toEqual(
      failure(500, "EPOCH_CONTEXT_ERROR_NO_SYNC_COMMITTEE"),
    );
    expect(await call("/eth/v1/validator/duties/sync/24", ["0"])).toEqual(
      failure(500, "EPOCH_CONTEXT_ERROR_NO_SYNC_COMMITTEE"),
    );
    expect((await call("/eth/v1/validator/duties/sync/23", ["0"])).status).toBe(200);
    expect(await call("/eth/v1/beacon/states/head/sync_committees?epoch=7")).toEqual(
      failure(500, "EPOCH_CONTEXT_ERROR_NO_SYNC_COMMITTEE"),
    );
  });

  it("committees: within one epoch of the state, the state's epoch by default, an unknown index selects nothing", async () => {
    expect(await call("/eth/v1/beacon/states/head/committees?epoch=9")).toEqual(
      failure(400, "Epoch 9 must be within one epoch of state epoch 11"),
    );
    expect(await call("/eth/v1/beacon/states/head/committees?slot=80")).toEqual(
      failure(400, "Slot 80 is not in epoch 11"),
    );
    const none = await call("/eth/v1/beacon/states/head/committees?index=2");
    expect(none.status).toBe(200);
    expect(none.body.data).toEqual([]);
    const one = await call("/eth/v1/beacon/states/head/committees?epoch=10&slot=81&index=1");
    expect((one.body.data as Array<{ slot: string; index: string }>).map((c) => [c.slot, c.index])).toEqual([
      ["81", "1"],
    ]);
  });

  it("validators and balances: request order, pubkeys and indices, unknown ids left out, duplicates 400", async () => {
    const ids = ["5", pubkeys[3] ?? "", "0", "640", `0x${"ab".repeat(48)}`];
    const res = await call("/eth/v1/beacon/states/head/validators", { ids });
    expect((res.body.data as Array<{ index: string }>).map((v) => v.index)).toEqual(["5", "3", "0"]);
    const get = await call(`/eth/v1/beacon/states/head/validators?id=${ids.join(",")}`);
    expect(get.body).toEqual(res.body);
    const bal = await call("/eth/v1/beacon/states/head/validator_balances", ids);
    expect((bal.body.data as Array<{ index: string }>).map((v) => v.index)).toEqual(["5", "3", "0"]);
    expect(await call("/eth/v1/beacon/states/head/validators", { ids: ["1", "2", "1"] })).toEqual(
      failure(400, "Duplicate validator IDs provided: 1"),
    );
    expect(await call("/eth/v1/beacon/states/head/validator_balances", ["7", "7"])).toEqual(
      failure(400, "Duplicate validator IDs provided: 7"),
    );
    // decimal ids are read as numbers first ("07" is 7); ids beyond any index are compared too
    expect(await call("/eth/v1/beacon/states/head/validator_balances", ["7", "07"])).toEqual(
      failure(400, "Duplicate validator IDs provided: 7"),
    );
    expect(
      await call("/eth/v1/beacon/states/head/validator_balances", ["99999999999", "3", "99999999999", "3"]),
    ).toEqual(failure(400, "Duplicate validator IDs provided: 99999999999, 3"));
    expect(
      await call("/eth/v1/beacon/states/head/validators", { statuses: ["active_ongoing", "active_ongoing"] }),
    ).toEqual(failure(400, "Duplicate statuses provided: active_ongoing"));
    const active = await call("/eth/v1/beacon/states/head/validators?status=active");
    expect((active.body.data as unknown[]).length).toBe(64);
    const pending = await call("/eth/v1/beacon/states/head/validators?status=pending_queued");
    expect(pending.body.data).toEqual([]);
  });

  it("liveness: the previous, current and next epoch only; nothing seen yet in the next", async () => {
    expect(await call("/eth/v1/validator/liveness/9", ["0"])).toEqual(
      failure(400, "Request epoch 9 is more than one epoch before or after the current epoch 11"),
    );
    expect(await call("/eth/v1/validator/liveness/13", ["0"])).toEqual(
      failure(400, "Request epoch 13 is more than one epoch before or after the current epoch 11"),
    );
    expect(await call("/eth/v1/validator/liveness/5", [])).toEqual({ status: 200, body: { data: [] } });
    expect((await call("/eth/v1/validator/liveness/12", ["0"])).body.data).toEqual([
      { index: "0", is_live: false },
    ]);
    expect((await call("/eth/v1/validator/liveness/10", ["0", "48"])).body.data).toEqual([
      { index: "0", is_live: true },
      { index: "48", is_live: false },
    ]);
  });

  it("one validator: 404 for an index or pubkey the state does not have, 400 for a malformed id", async () => {
    expect(await call("/eth/v1/beacon/states/head/validators/64")).toEqual(
      failure(404, "Validator index from future state"),
    );
    expect(await call(`/eth/v1/beacon/states/head/validators/0x${"ab".repeat(48)}`)).toEqual(
      failure(404, "Validator pubkey not found in state"),
    );
    expect(await call("/eth/v1/beacon/states/head/validators/0xzz")).toEqual(
      failure(400, "Invalid pubkey hex encoding"),
    );
    const byKey = await call(`/eth/v1/beacon/states/head/validators/${pubkeys[9]}`);
    expect((byKey.body.data as { index: string }).index).toBe("9");
  });
});
