/**
 * The withdrawal queue's arithmetic against hand-worked cases (Lido's WithdrawalQueueBase rules:
 * batches by share rate, the discount at finalization, rounding down).
 */
import { describe, expect, it } from "vitest";
import { E27 } from "../src/shares.js";
import {
  claimableEther,
  finalizationBatches,
  MAX_FINALIZATION_BATCHES,
  prefinalize,
  QUEUE_SENTINEL,
  type QueuedRequest,
} from "../src/withdrawal-queue.js";

const ETH = 10n ** 18n;

/** A queue from [stETH, shares, timestamp, reportTimestamp] per request. */
function queueOf(reqs: [bigint, bigint, number, number][]): QueuedRequest[] {
  const q: QueuedRequest[] = [QUEUE_SENTINEL];
  for (const [steth, shares, timestamp, reportTimestamp] of reqs) {
    const prev = q[q.length - 1]!;
    q.push({
      id: q.length,
      cumulativeSteth: prev.cumulativeSteth + steth,
      cumulativeShares: prev.cumulativeShares + shares,
      timestamp,
      reportTimestamp,
    });
  }
  return q;
}

describe("finalization batches (calculateFinalizationBatches)", () => {
  // requests 1-2 made at rate 1.0 (report 100), 3 at 1.2 (report 200), 4 at 1.0 again (report 300)
  const q = queueOf([
    [10n * ETH, 10n * ETH, 110, 100],
    [5n * ETH, 5n * ETH, 120, 100],
    [12n * ETH, 10n * ETH, 210, 200],
    [1n * ETH, 1n * ETH, 310, 300],
  ]);

  it("at a rate of 1.1: requests below the line share a batch, the one above starts its own", () => {
    const rate = (11n * E27) / 10n;
    const r = finalizationBatches(q, 0, rate, 1000, 100n * ETH);
    expect(r.batches).toEqual([2, 3, 4]);
    // paid: 10 + 5 at their own rate, request 3 discounted to 10 shares × 1.1 = 11, request 4: 1
    expect(r.remainingBudget).toBe(100n * ETH - 15n * ETH - 11n * ETH - 1n * ETH);
    expect(r.finished).toBe(true);
    const p = prefinalize(q, 0, r.batches, rate);
    expect(p).toEqual({ ethToLock: 27n * ETH, sharesToBurn: 26n * ETH });
    // each request pays at the lower rate: request 3 gets 11 ETH, not its 12
    expect(claimableEther(q[2]!, q[3]!, rate)).toBe(11n * ETH);
    expect(claimableEther(q[0]!, q[1]!, rate)).toBe(10n * ETH);
  });

  it("stops at the cut-off time and at the budget (a request is never split)", () => {
    const rate = E27;
    expect(finalizationBatches(q, 0, rate, 150, 100n * ETH).batches).toEqual([2]);
    const byBudget = finalizationBatches(q, 0, rate, 1000, 20n * ETH);
    expect(byBudget.batches).toEqual([2]);
    expect(byBudget.remainingBudget).toBe(5n * ETH);
    expect(byBudget.finished).toBe(false);
    // from request 3 on (1-2 finalized): 10 shares at 1.0 = 10 ETH (above the line), then 1 (on it)
    expect(finalizationBatches(q, 2, rate, 1000, 11n * ETH)).toEqual({
      batches: [3, 4],
      remainingBudget: 0n,
      finished: true,
    });
  });

  it("a discounted batch rounds down per batch, and its requests' claims never add up to more", () => {
    // 3 requests of 1 wei-odd sizes at a rate above the finalization rate
    const odd = queueOf([
      [7n, 5n, 1, 1],
      [11n, 8n, 1, 1],
      [13n, 9n, 1, 1],
    ]);
    const rate = (13n * E27) / 10n; // 1.3 < every request's rate (1.4, 1.375, 1.444)
    const { batches } = finalizationBatches(odd, 0, rate, 10, 1000n);
    expect(batches).toEqual([3]);
    const { ethToLock } = prefinalize(odd, 0, batches, rate);
    expect(ethToLock).toBe((22n * rate) / E27); // 28.6 → 28
    const claims = [1, 2, 3].map((i) => claimableEther(odd[i - 1]!, odd[i]!, rate));
    expect(claims).toEqual([6n, 10n, 11n]); // 6.5, 10.4, 11.7 rounded down
    expect(claims.reduce((a, b) => a + b)).toBeLessThanOrEqual(ethToLock);
  });

  it("at most 36 batches: requests alternating around the line stop at the 36th", () => {
    const reqs: [bigint, bigint, number, number][] = [];
    for (let i = 0; i < 50; i++) reqs.push(i % 2 === 0 ? [2n, 1n, i, i] : [1n, 1n, i, i]);
    const alt = queueOf(reqs);
    const r = finalizationBatches(alt, 0, (3n * E27) / 2n, 100, 1000n);
    expect(r.batches).toHaveLength(MAX_FINALIZATION_BATCHES);
    expect(r.batches.at(-1)).toBe(36);
    expect(r.finished).toBe(false);
  });
});
