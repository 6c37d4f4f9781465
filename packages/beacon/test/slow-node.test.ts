/**
 * A slow node in a fleet of three (issue 9 §8): the pool ranks nodes by recent latency, so a node
 * answering every request 1.5 s late is moved down the list and does not hold the watcher's epochs
 * up; a read the first node is slow to answer is hedged to the next one, whose answer is used.
 * Everything over HTTP against beacon-sim; the assertions are on which node served the requests and
 * on the epochs processed, never on a time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BeaconNodePool, EpochDutiesReader, loadLodestar, valueOrThrow } from "../src/index.js";

type Fleet = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startFleet"]>>;

const N = 64;
const ALL = Array.from({ length: N }, (_, i) => i);
const SLOW_MS = 1500;
const HEALTH_PATHS = ["/eth/v1/node/syncing", "/finality_checkpoints"];

let fleet: Fleet;
/** Requests per sim (by index), health checks apart. */
let served: number[];

beforeAll(async () => {
  await loadLodestar("minimal");
  const { startFleet } = await import("@poolkeeper/beacon-sim");
  fleet = await startFleet(3, { validators: N, seed: "slow-node" });
  fleet.chain.advanceEpochs(16);
  served = fleet.sims.map(() => 0);
  fleet.sims.forEach((sim, i) => {
    sim.app.server.on("request", (req: { url?: string }) => {
      if (!HEALTH_PATHS.some((p) => req.url?.includes(p))) served[i] = (served[i] ?? 0) + 1;
    });
  });
});
afterAll(async () => {
  await fleet?.close();
});

const urlOf = (i: number): string => fleet.sims[i]?.url ?? "";

/** The watcher's work per finalized epoch: every duty of every validator, with rewards and balances. */
async function processEpochs(pool: BeaconNodePool, from: number, to: number, progress: { epoch: number }) {
  const reader = new EpochDutiesReader(pool);
  const out = [];
  for (let e = from; e <= to; e++) {
    out.push(await reader.epochDuties(e, { validators: ALL, rewards: "exceptions" }));
    progress.epoch = e;
  }
  return out;
}

describe("a slow node first in a fleet of three", () => {
  it("is moved down the list: it serves no epoch work, and the fleet is less than an epoch behind a healthy-only fleet", async () => {
    fleet.sims[0]?.node.addFault({ kind: "slow", delayMs: SLOW_MS });
    try {
      const withSlow = await BeaconNodePool.init({ urls: [urlOf(0), urlOf(1), urlOf(2)], preset: "minimal" });
      const healthy = await BeaconNodePool.init({ urls: [urlOf(1), urlOf(2)], preset: "minimal" });
      const before = [...served];
      // both follow the same epochs at once; when the healthy-only fleet is done, see where the other is
      const slowProgress = { epoch: 0 };
      const healthyProgress = { epoch: 0 };
      const slowRun = processEpochs(withSlow, 2, 11, slowProgress);
      const healthyResult = await processEpochs(healthy, 2, 11, healthyProgress);
      const epochAtThatPoint = slowProgress.epoch;
      const slowResult = await slowRun;

      expect(healthyProgress.epoch).toBe(11);
      // less than one epoch of lag: at most the epoch in progress is left
      expect(epochAtThatPoint).toBeGreaterThanOrEqual(10);
      expect(slowResult).toEqual(healthyResult);
      // the slow node was asked for (almost) nothing; the two fast ones did the work
      const slowServed = (served[0] ?? 0) - (before[0] ?? 0);
      const fastServed = (served[1] ?? 0) + (served[2] ?? 0) - (before[1] ?? 0) - (before[2] ?? 0);
      expect(slowServed).toBeLessThanOrEqual(2);
      expect(fastServed).toBeGreaterThan(100);
      expect(withSlow.ranked().at(-1)).toBe(withSlow.urls[0]);
      const h = withSlow.health()[0];
      expect(h?.reachable).toBe(true); // slow, not down: it stays in the list as a fallback
    } finally {
      fleet.sims[0]?.node.clearFaults();
    }
  });

  it("hedges a read the best node is slow to answer: the next node's answer is used, the slow one aborted", async () => {
    const pool = await BeaconNodePool.init({ urls: [urlOf(0), urlOf(1), urlOf(2)], preset: "minimal" });
    // warm up: latencies known for every node, and for this kind of request
    await processEpochs(pool, 3, 3, { epoch: 0 });
    const first = pool.ranked()[0] as string;
    const firstIdx = pool.urls.indexOf(first);
    fleet.sims[firstIdx]?.node.addFault({ kind: "slow", delayMs: SLOW_MS });
    try {
      const s0 = pool.stats();
      const finality = (api: Parameters<Parameters<BeaconNodePool["request"]>[1]>[0]) =>
        api.beacon.getStateFinalityCheckpoints({ stateId: "head" }).then(valueOrThrow);
      const got = await pool.request("finality checkpoints", async (api, node) => ({
        url: node.url,
        fin: await finality(api),
      }));
      const s1 = pool.stats();
      expect(got?.url).not.toBe(first);
      expect(got?.fin.finalized.epoch).toBe(fleet.chain.currentFinality().finalized.epoch);
      expect(s1.sent[first]).toBe((s0.sent[first] ?? 0) + 1); // it was asked first…
      expect(s1.hedged).toBe(s0.hedged + 1); // …hedged once…
      expect(s1.aborted).toBe(s0.aborted + 1); // …and its request aborted when the other answered
      // from now on the slow node is asked last: ten more reads never reach it
      expect(pool.ranked()[0]).not.toBe(first);
      for (let k = 0; k < 10; k++) await pool.request("finality checkpoints", finality);
      expect(pool.stats().sent[first]).toBe(s1.sent[first]);

      // a request marked as not idempotent is never hedged: the slow node's own answer is used
      // (the fast node fails its health check, so the slow one is asked first)
      const other = (firstIdx + 1) % 3;
      fleet.sims[other]?.node.addFault({ kind: "error", status: 503, pathContains: "/eth/v1/node/syncing" });
      const pair = await BeaconNodePool.init({ urls: [first, urlOf(other)], preset: "minimal" });
      await pair.refreshHealth();
      const once = await pair.request(
        "finality checkpoints",
        async (api, node) => ({ url: node.url, fin: await finality(api) }),
        { hedge: false },
      );
      expect(once?.url).toBe(first);
      expect(pair.stats().hedged).toBe(0);
      expect(pair.stats().sent[urlOf(other)]).toBeUndefined();
    } finally {
      for (const sim of fleet.sims) sim.node.clearFaults();
    }
  });

  it("with adaptive: false keeps the order of reachability only (the behaviour before): the slow node serves every request", async () => {
    fleet.sims[0]?.node.addFault({ kind: "slow", delayMs: 200 });
    try {
      const pool = await BeaconNodePool.init({
        urls: [urlOf(0), urlOf(1), urlOf(2)],
        preset: "minimal",
        adaptive: false,
      });
      for (let k = 0; k < 3; k++)
        await pool.request("finality checkpoints", async (api) =>
          valueOrThrow(await api.beacon.getStateFinalityCheckpoints({ stateId: "head" })),
        );
      const s = pool.stats();
      expect(s.sent[pool.urls[0] as string]).toBe(3);
      expect(s.hedged).toBe(0);
    } finally {
      fleet.sims[0]?.node.clearFaults();
    }
  });
});

describe("the follower's event stream", () => {
  it("moves from a slow first node to the best-ranked one", async () => {
    const { FinalizedFollower } = await import("../src/index.js");
    fleet.sims[0]?.node.addFault({ kind: "slow", delayMs: SLOW_MS });
    const pool = await BeaconNodePool.init({ urls: [urlOf(0), urlOf(1), urlOf(2)], preset: "minimal" });
    const f = new FinalizedFollower(pool, () => undefined, undefined, { fallbackPollIntervalMs: 50 });
    try {
      f.start();
      expect(f.eventStreamUrl).toBe(urlOf(0)); // nothing known yet: the list's order
      await expect.poll(() => f.eventStreamUrl, { timeout: 10_000 }).not.toBe(urlOf(0));
      await expect
        .poll(() => f.finalizedEpoch, { timeout: 10_000 })
        .toBe(fleet.chain.currentFinality().finalized.epoch);
      // once the slow node's own health check is in, it stays off the stream
      await pool.refreshHealth();
      expect(pool.prefers(f.eventStreamUrl as string, urlOf(0))).toBe(true);
    } finally {
      f.stop();
      fleet.sims[0]?.node.clearFaults();
    }
  });
});
