/**
 * The Electra queues and Fulu's proposer lookahead read through the node pool from beacon-sim over
 * HTTP: deposits queued on the sim come back with their pubkey, credentials, amount and slot; a
 * failing node is skipped; a Deneb state is refused with the node's reason.
 */
import { toHex0x } from "@poolkeeper/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeaconNodePool,
  getPendingConsolidations,
  getPendingDeposits,
  getPendingPartialWithdrawals,
  getProposerLookahead,
  loadLodestar,
} from "../src/index.js";

type BeaconSimModule = typeof import("@poolkeeper/beacon-sim");
type Sim = Awaited<ReturnType<BeaconSimModule["startBeaconSim"]>>;
type Fleet = Awaited<ReturnType<BeaconSimModule["startFleet"]>>;

const ETH = 1_000_000_000;
const hex = toHex0x;
/** Execution withdrawal credentials: the prefix byte, 11 zero bytes, a 20-byte address of `fill`. */
const wc = (prefix: number, fill: number): Uint8Array =>
  Uint8Array.from([prefix, ...new Array<number>(11).fill(0), ...new Array<number>(20).fill(fill)]);

let sim: BeaconSimModule;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  await loadLodestar("minimal");
  sim = await import("@poolkeeper/beacon-sim");
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});
async function start(opts: Parameters<BeaconSimModule["startBeaconSim"]>[0]): Promise<Sim> {
  const s = await sim.startBeaconSim({ validators: 64, ...opts });
  closers.push(() => s.close());
  return s;
}
function poolOf(urls: string[]): Promise<BeaconNodePool> {
  return BeaconNodePool.init({ urls, preset: "minimal", retries: 1, retryBaseMs: 10, timeoutMs: 2000 });
}

describe("pending deposits over the node pool", () => {
  let fleet: Fleet;
  let pool: BeaconNodePool;
  const added: number[] = [];

  beforeAll(async () => {
    fleet = await sim.startFleet(2, { validators: 64, fork: "electra" });
    closers.push(() => fleet.close());
    const c = fleet.chain;
    c.advanceTo(19);
    added.push(...c.addValidators(3, wc(1, 0x66)));
    c.advanceTo(5 * 8 + 1);
    // the first node fails every call: each read goes to the second
    fleet.sims[0]?.node.addFault({ kind: "error", status: 503 });
    pool = await poolOf(fleet.sims.map((s) => s.url));
  });

  it("a deposit queued on the chain: pubkey, withdrawal credentials, amount and slot, in queue order", async () => {
    const c = fleet.chain;
    // the state of epoch 3 holds the three requests carried by slot 20
    const e3 = await getPendingDeposits(pool, { stateId: 3 * 8 });
    expect(e3).toMatchObject({ stateId: "24", version: "electra", executionOptimistic: false });
    expect(e3?.items.map((d) => [d.pubkey, d.withdrawalCredentials, d.amount, d.slot])).toEqual(
      added.map((i) => [hex(c.pubkeyOf(i)), hex(wc(1, 0x66)), 32n * BigInt(ETH), 20]),
    );
    expect(e3?.items.every((d) => /^0x[0-9a-f]{192}$/.test(d.signature))).toBe(true);
    // two applied under the 64 ETH churn at the transition into epoch 5: the third still queued
    const head = await getPendingDeposits(pool, { stateId: "head" });
    expect(head?.items.map((d) => d.pubkey)).toEqual([hex(c.pubkeyOf(added[2] as number))]);
    expect(head?.finalized).toBe(false);
    expect(pool.health()[0]?.reachable).toBe(false);
  });

  it("the finalized state by default, with a finality floor; an unknown state is null", async () => {
    const fin = await getPendingDeposits(pool);
    expect(fin?.stateId).toBe("finalized");
    expect(fin?.finalized).toBe(true);
    const finEpoch = fleet.chain.currentFinality().finalized.epoch;
    await expect(getPendingDeposits(pool, { minFinalizedEpoch: finEpoch + 1 })).rejects.toMatchObject({
      code: "ERR_BEACON_NOT_FINALIZED",
    });
    expect(await getPendingDeposits(pool, { stateId: 999 })).toBeNull();
  });

  it("no consolidations and no partial withdrawals queued: empty lists of the state's fork", async () => {
    for (const read of [getPendingConsolidations, getPendingPartialWithdrawals]) {
      const r = await read(pool, { stateId: "head" });
      expect(r?.items).toEqual([]);
      expect(r?.version).toBe("electra");
    }
  });
});

describe("a front-run deposit", () => {
  it("both deposits to one key are queued in order; the chain keeps the first one's credentials", async () => {
    const s = await start({ fork: "fulu" });
    const c = s.chain;
    c.advanceTo(19);
    const [i] = c.addValidators(1, wc(1, 0x33)); // the front-runner's credentials first
    const pk = c.pubkeyOf(i as number).slice();
    c.addValidators([pk], wc(1, 0xb9)); // then the pool's deposit to the same key
    c.advanceTo(3 * 8);
    const pool = await poolOf([s.url]);
    const q = await getPendingDeposits(pool, { stateId: "head" });
    expect(q?.items.map((d) => [d.pubkey, d.withdrawalCredentials])).toEqual([
      [hex(pk), hex(wc(1, 0x33))],
      [hex(pk), hex(wc(1, 0xb9))],
    ]);
    c.advanceTo(6 * 8);
    expect((await getPendingDeposits(pool, { stateId: "head" }))?.items).toEqual([]);
    expect(hex(c.validatorAt(i as number, 6).withdrawalCredentials)).toBe(hex(wc(1, 0x33)));
  });
});

describe("pending partial withdrawals", () => {
  it("an EIP-7002 partial withdrawal of a 0x02 validator: its index, amount and withdrawable epoch", async () => {
    const s = await start({
      validators: 16,
      fork: "electra",
      scenario: { withdrawalCredentials: hex(wc(2, 0xab)) },
    });
    const c = s.chain;
    c.advanceTo(19);
    c.addValidators([c.pubkeyOf(6).slice()], undefined, 10 * ETH); // a top-up above 32 ETH
    c.advanceTo(5 * 8 + 3);
    c.requestWithdrawal(6, { amountGwei: 5 * ETH });
    c.advanceTo(6 * 8);
    const pool = await poolOf([s.url]);
    const r = await getPendingPartialWithdrawals(pool, { stateId: "head" });
    // processed in epoch 5: exit queue epoch 5 + 1 + MAX_SEED_LOOKAHEAD, then the withdrawability delay
    expect(r?.items).toEqual([
      {
        validatorIndex: 6,
        amount: 5n * BigInt(ETH),
        withdrawableEpoch: 10 + c.config.MIN_VALIDATOR_WITHDRAWABILITY_DELAY,
      },
    ]);
  });
});

describe("Fulu proposer lookahead", () => {
  it("the proposers of the state's epoch and the next, as the sim's duties", async () => {
    const s = await start({ fork: "fulu" });
    s.chain.advanceTo(6 * 8 + 5);
    const pool = await poolOf([s.url]);
    const r = await getProposerLookahead(pool, { stateId: "head" });
    expect(r?.version).toBe("fulu");
    expect(r?.items).toEqual([6, 7].flatMap((e) => Array.from(s.chain.proposersOf(e))));
    const old = await getProposerLookahead(pool, { stateId: 3 * 8 + 1 });
    expect(old?.items).toEqual([3, 4].flatMap((e) => Array.from(s.chain.proposersOf(e))));
    // Fulu keeps the Electra queues
    expect((await getPendingDeposits(pool, { stateId: "head" }))?.version).toBe("fulu");
  });
});

describe("before the fork", () => {
  it("a Deneb state: unavailable, with the node's reason", async () => {
    const s = await start({ fork: "deneb" });
    s.chain.advanceTo(3 * 8);
    const pool = await poolOf([s.url]);
    await expect(getPendingDeposits(pool, { stateId: "head" })).rejects.toMatchObject({
      code: "ERR_BEACON_UNAVAILABLE",
      message: expect.stringContaining("Cannot retrieve pending deposits for pre-electra state fork=deneb"),
    });
    const electra = await start({ fork: "electra" });
    electra.chain.advanceTo(3 * 8);
    await expect(
      getProposerLookahead(await poolOf([electra.url]), { stateId: "head" }),
    ).rejects.toMatchObject({
      code: "ERR_BEACON_UNAVAILABLE",
      message: expect.stringContaining("pre-fulu"),
    });
  });
});
