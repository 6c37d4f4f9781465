/**
 * Orphaned proposals on beacon-sim (behaviour `orphaned-proposals` and scenario `orphanedSlots`):
 * the block exists by root and in `headers?slot=` with `canonical: false` but the chain goes on from
 * its parent. The duty reader must call those proposals orphaned: not proposed, not simply missed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BeaconNodePool, type EpochDuties, EpochDutiesReader, loadLodestar } from "../src/index.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const N = 64;
const ALL = Array.from({ length: N }, (_, i) => i);
const S = 8; // minimal preset
const ORPHANED_SLOTS = [17, 20]; // epoch 2
const MISSED_SLOTS = [18]; // epoch 2: no block at all
const ORPHANING = (v: number) => v < 32; // epoch 3: every proposal of validators 0..31 is orphaned

let sim: Sim;
let pool: BeaconNodePool;
const byEpoch = new Map<number, EpochDuties>();

beforeAll(async () => {
  await loadLodestar("minimal");
  const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
  sim = await startBeaconSim({
    validators: N,
    seed: "h5-orphans",
    scenario: {
      orphanedSlots: ORPHANED_SLOTS,
      missedSlots: MISSED_SLOTS,
      behaviours: [{ validators: "0-31", behaviour: "orphaned-proposals", from: 3, to: 4 }],
    },
  });
  sim.chain.advanceEpochs(7);
  pool = await BeaconNodePool.init({ urls: [sim.url], preset: "minimal", retries: 1, retryBaseMs: 10 });
  const reader = new EpochDutiesReader(pool);
  for (const e of [1, 2, 3]) byEpoch.set(e, await reader.epochDuties(e, { validators: ALL }));
});
afterAll(async () => {
  await sim?.close();
});

function statuses(epoch: number): Map<number, string> {
  return new Map((byEpoch.get(epoch)?.proposals ?? []).map((p) => [p.slot, p.status]));
}

describe("orphaned proposals on beacon-sim", () => {
  it("the sim really orphans: a non-canonical block at the slot, the next block builds on its parent", async () => {
    for (const slot of ORPHANED_SLOTS) {
      expect(sim.chain.blockAt(slot)).toBeUndefined();
      const res = await fetch(`${sim.url}/eth/v1/beacon/headers?slot=${slot}`);
      const body = (await res.json()) as { data: Array<{ canonical: boolean; root: string }> };
      expect(body.data.map((h) => h.canonical)).toEqual([false]);
      const orphanRoot = body.data[0]?.root as string;
      const byRoot = await fetch(`${sim.url}/eth/v1/beacon/headers/${orphanRoot}`);
      expect(byRoot.status).toBe(200);
      let next = slot + 1;
      while (sim.chain.blockAt(next) === undefined) next++;
      const parent = sim.chain.blockAt(next)?.message.parentRoot as Uint8Array;
      expect(`0x${Buffer.from(parent).toString("hex")}`).not.toBe(orphanRoot);
    }
  });

  it("epoch 1: every proposal made", () => {
    for (const s of statuses(1).values()) expect(s).toBe("proposed");
    expect(byEpoch.get(1)?.network.proposalsMade).toBe(S);
  });

  it("epoch 2: the orphaned slots are orphaned, the missed slot missed, the others proposed", () => {
    const st = statuses(2);
    expect(st.size).toBe(S);
    for (const [slot, s] of st) {
      if (ORPHANED_SLOTS.includes(slot)) expect([slot, s]).toEqual([slot, "orphaned"]);
      else if (MISSED_SLOTS.includes(slot)) expect([slot, s]).toEqual([slot, "missed"]);
      else expect([slot, s]).toEqual([slot, "proposed"]);
    }
    for (const p of byEpoch.get(2)?.proposals ?? []) {
      expect(p.validatorIndex).toBe(sim.chain.proposerAt(p.slot));
      // an orphaned block is not the slot's block
      if (p.status !== "proposed") expect(p.blockRoot).toBeNull();
    }
    expect(byEpoch.get(2)?.network.proposalsMade).toBe(S - ORPHANED_SLOTS.length - MISSED_SLOTS.length);
  });

  it("epoch 3: exactly the proposals of the orphaning validators are orphaned", () => {
    const props = byEpoch.get(3)?.proposals ?? [];
    expect(props).toHaveLength(S);
    const orphaned = props.filter((p) => ORPHANING(p.validatorIndex));
    expect(orphaned.length).toBeGreaterThan(0); // the seed gives this epoch some (else the test proves nothing)
    expect(orphaned.length).toBeLessThan(S);
    for (const p of props)
      expect([p.slot, p.status]).toEqual([p.slot, ORPHANING(p.validatorIndex) ? "orphaned" : "proposed"]);
  });

  it("a node failing the headers query fails the epoch instead of calling the orphaned proposal missed", async () => {
    const failing = await BeaconNodePool.init({
      urls: [sim.url],
      preset: "minimal",
      retries: 1,
      retryBaseMs: 10,
    });
    const reader = new EpochDutiesReader(failing);
    sim.node.addFault({ kind: "error", status: 503, pathContains: "/headers?slot=" });
    try {
      await expect(reader.epochDuties(2, { validators: ALL })).rejects.toThrow(/headers at slot 17/);
    } finally {
      sim.node.clearFaults();
    }
    const again = await reader.epochDuties(2, { validators: ALL });
    expect(again.proposals.find((p) => p.slot === 17)?.status).toBe("orphaned");
  });

  it("only the pool's proposals are reported, and orphaned stays orphaned for a pool subset", async () => {
    const reader = new EpochDutiesReader(pool);
    const p17 = sim.chain.proposerAt(17);
    const d = await reader.epochDuties(2, { validators: [p17] });
    const mine = d.proposals.filter((p) => p.slot === 17);
    expect(mine).toEqual([{ validatorIndex: p17, slot: 17, status: "orphaned", blockRoot: null }]);
  });
});
