import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeaconNodePool,
  FinalizedFollower,
  loadLodestar,
  parseAttestationRewards,
  parseSignedGwei,
} from "../src/index.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

describe("finalized-epoch follower on beacon-sim", () => {
  let sim: Sim;
  beforeAll(async () => {
    await loadLodestar("minimal");
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    sim = await startBeaconSim({ validators: 64, seed: "follower" });
  });
  afterAll(() => sim?.close());

  it("reports each new finalized epoch from the event stream, never a non-finalized one, never backwards", async () => {
    const pool = await BeaconNodePool.init({ urls: [sim.url], preset: "minimal" });
    const seen: number[] = [];
    // polling only every 60 s: what arrives quickly came through the event stream
    const f = new FinalizedFollower(pool, (e) => void seen.push(e), undefined, {
      pollIntervalMs: 60_000,
      fallbackPollIntervalMs: 60_000,
    });
    f.start();
    try {
      await new Promise((r) => setTimeout(r, 300)); // stream open, first poll done
      const before = seen.length;
      for (let i = 0; i < 4; i++) {
        sim.chain.advanceEpochs(1);
        await new Promise((r) => setTimeout(r, 200));
      }
      const fin = sim.chain.currentFinality().finalized.epoch;
      expect(fin).toBeGreaterThan(0);
      await expect.poll(() => f.finalizedEpoch, { timeout: 5000 }).toBe(fin);
      expect(seen.length).toBeGreaterThan(before);
      expect(f.eventStreamUp).toBe(true);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
      expect(Math.max(...seen)).toBe(fin);
    } finally {
      f.stop();
    }
  });

  it("with finality stalled, reports nothing new even though the head moves", async () => {
    const pool = await BeaconNodePool.init({ urls: [sim.url], preset: "minimal" });
    const f = new FinalizedFollower(pool, () => undefined, undefined, {
      events: false,
      fallbackPollIntervalMs: 20,
    });
    f.start();
    try {
      await expect
        .poll(() => f.finalizedEpoch, { timeout: 5000 })
        .toBe(sim.chain.currentFinality().finalized.epoch);
      const fin = f.finalizedEpoch;
      sim.chain.stallFinality(true);
      sim.chain.advanceEpochs(3);
      await new Promise((r) => setTimeout(r, 200));
      expect(f.finalizedEpoch).toBe(fin);
    } finally {
      f.stop();
      sim.chain.stallFinality(false);
    }
  });
});

describe("reward values", () => {
  it("are read as signed gwei; decimal fractions are truncated toward zero", () => {
    expect(parseSignedGwei("-581373", "x")).toBe(-581373n);
    expect(parseSignedGwei("436029.75", "x")).toBe(436029n);
    expect(parseSignedGwei("-313047.5", "x")).toBe(-313047n);
    expect(() => parseSignedGwei("1e5", "source")).toThrow(/source/);
    expect(() => parseSignedGwei(5, "head")).toThrow(/head/);
  });
  it("refuse answers for validators not asked for", () => {
    const json = {
      data: { total_rewards: [{ validator_index: "7", head: "1", target: "2", source: "-3" }] },
    };
    expect(parseAttestationRewards(json, new Set(["7"]))).toEqual([
      [7, { head: 1n, target: 2n, source: -3n, inactivity: 0n }],
    ]);
    expect(() => parseAttestationRewards(json, new Set(["8"]))).toThrow(/not asked for/);
    expect(() => parseAttestationRewards({ data: {} }, new Set())).toThrow(/total_rewards/);
  });
});
