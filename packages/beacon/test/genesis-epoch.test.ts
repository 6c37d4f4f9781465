/**
 * Epoch 0 starts with the genesis block, which nobody proposed: the reader must not count it as a
 * proposal duty, nor reject the epoch because the genesis block's proposer_index (0) differs from
 * the proposer the shuffling computes for slot 0.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BeaconNodePool, EpochDutiesReader, loadLodestar } from "../src/index.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;
const N = 64;
const ALL = Array.from({ length: N }, (_, i) => i);
let sim: Sim;
let pool: BeaconNodePool;

beforeAll(async () => {
  await loadLodestar("minimal");
  const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
  sim = await startBeaconSim({ validators: N, seed: "genesis-epoch" });
  sim.chain.advanceEpochs(5);
  pool = await BeaconNodePool.init({ urls: [sim.url], preset: "minimal", retries: 1, retryBaseMs: 10 });
});
afterAll(async () => {
  await sim?.close();
});

describe("epoch 0", () => {
  it("is processed: no proposal duty for the genesis slot, every other slot proposed", async () => {
    const reader = new EpochDutiesReader(pool);
    const d = await reader.epochDuties(0, { validators: ALL });
    const slots = d.proposals.map((p) => p.slot).sort((a, b) => a - b);
    expect(slots).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(d.proposals.every((p) => p.status === "proposed")).toBe(true);
    expect(d.network.proposalsAssigned).toBe(7);
    expect(d.network.proposalsMade).toBe(7);
  });
});
