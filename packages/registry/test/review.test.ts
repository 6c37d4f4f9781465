import type { KeyStateCounts, OperatorRow } from "@poolkeeper/store";
import { describe, expect, it } from "vitest";
import {
  applyProposedLimits,
  bucketOf,
  bucketsOf,
  checkSimulationInput,
  MAX_ALLOCATION,
  reviewOf,
  simulateOver,
} from "../src/index.js";

/* The review and the simulation over counts: no database. */

const AT = new Date("2026-01-02T03:04:05Z");

function op(id: number, over: Partial<OperatorRow> = {}): OperatorRow {
  return {
    id,
    name: `op-${id}`,
    rewardAddress: new Uint8Array(20).fill(id),
    active: true,
    vettedLimit: 100,
    targetLimit: null,
    targetLimitMode: null,
    createdAt: AT,
    updatedAt: AT,
    ...over,
  };
}

function counts(c: Partial<KeyStateCounts>): KeyStateCounts {
  return {
    submitted: 0,
    vetted: 0,
    deposited: 0,
    active: 0,
    exiting: 0,
    exited: 0,
    slashed: 0,
    removed: 0,
    front_run: 0,
    cancelled: 0,
    ...c,
  };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

/** Four operators: a mixed one, one with a soft target, an inactive one, one without keys. */
function pool() {
  const ops = [op(1), op(2, { targetLimit: 5, targetLimitMode: "soft" }), op(3, { active: false }), op(4)];
  const byId = new Map<number, KeyStateCounts>([
    [1, counts({ submitted: 4, vetted: 3, deposited: 1, active: 2, exiting: 1, exited: 2, slashed: 1 })],
    [2, counts({ vetted: 6, active: 4 })],
    [3, counts({ vetted: 5, active: 1 })],
  ]);
  return bucketsOf(ops, byId);
}

describe("buckets (MinFirst inputs)", () => {
  it("fill = staked keys; capacity = fill + vetted, bounded by the target limit, = fill when inactive", () => {
    const [a, b, c, d] = pool();
    // staked = deposited + active + exiting + slashed
    expect([a!.fill, a!.capacity]).toEqual([5, 8]);
    expect([b!.fill, b!.capacity]).toEqual([4, 5]);
    expect([c!.fill, c!.capacity]).toEqual([1, 1]);
    expect([d!.fill, d!.capacity]).toEqual([0, 0]);
    // A target below the fill never makes the capacity fall under the fill.
    expect(
      bucketOf(op(9, { targetLimit: 1, targetLimitMode: "hard" }), counts({ active: 3, vetted: 2 })).capacity,
    ).toBe(3);
  });
});

describe("reviewOf", () => {
  it("per operator and in total: vetted, ever deposited, active, exited, staked, shares, capacity left", () => {
    const r = reviewOf(pool(), AT);
    expect(r.at).toBe(AT);
    expect(r.operators[0]).toEqual({
      operatorId: 1,
      name: "op-1",
      active: true,
      vettedLimit: 100,
      targetLimit: null,
      keys: { vetted: 3, deposited: 7, active: 3, exited: 2, slashed: 1, staked: 5 },
      activeShare: 3 / 8,
      capacityLeft: 3,
    });
    expect(r.operators[1]!.targetLimit).toEqual({ limit: 5, mode: "soft" });
    expect(r.operators.map((o) => o.capacityLeft)).toEqual([3, 1, 0, 0]);
    expect(r.operators.map((o) => o.activeShare)).toEqual([3 / 8, 4 / 8, 1 / 8, 0]);
    expect(r.totals).toEqual({
      operators: 4,
      activeOperators: 3,
      vetted: 14,
      deposited: 12,
      active: 8,
      exited: 2,
      capacityLeft: 4,
    });
    // Active validators 3, 4, 1: the largest holds half; two together hold more than a third.
    expect(r.concentration).toEqual({
      top1Share: 0.5,
      top5Share: 1,
      hhi: 37.5 ** 2 + 50 ** 2 + 12.5 ** 2,
      nakamoto33: 1,
    });
    expect(r.stakedConcentration.top1Share).toBe(0.5);
  });

  it("an empty pool has zero shares and totals", () => {
    const r = reviewOf([], AT);
    expect(r.operators).toEqual([]);
    expect(r.totals.operators).toBe(0);
    expect(r.concentration).toEqual({ top1Share: 0, top5Share: 0, hhi: 0, nakamoto33: 0 });
  });
});

describe("simulation", () => {
  it("without proposed limits: MinFirst over the current capacities, shares before and after", () => {
    const current = pool();
    const { count, proposedLimits } = checkSimulationInput({ count: 10 });
    const s = simulateOver(current, count, proposedLimits);
    // Room: 3 (op 1) + 1 (op 2, its soft target) = 4.
    expect(s.requested).toBe(10);
    expect(s.allocated).toBe(4);
    expect(s.operators.map((o) => o.allocated)).toEqual([3, 1, 0, 0]);
    expect(s.operators[0]!.before).toEqual({ staked: 5, share: 5 / 10 });
    expect(s.operators[0]!.after).toEqual({ staked: 8, share: 8 / 14 });
  });

  it("under proposed limits: a vetted limit counts submitted keys as vetted, a cleared target, an activated operator", () => {
    const current = pool();
    const { count, proposedLimits } = checkSimulationInput({
      count: 20,
      proposedLimits: [
        // 7 ever deposited + up to 5 depositable = 12; it has 3 vetted + 4 submitted = 7 → 5.
        { operatorId: 1, vettedLimit: 12 },
        { operatorId: 2, targetLimit: null },
        { operatorId: 3, active: true },
      ],
    });
    const buckets = applyProposedLimits(current, proposedLimits);
    expect(buckets.map((b) => b.capacity - b.fill)).toEqual([5, 6, 5, 0]);
    expect(buckets[0]!.op.vettedLimit).toBe(12);
    expect(current[0]!.op.vettedLimit).toBe(100); // the current rows are not changed
    const s = simulateOver(current, count, proposedLimits);
    expect(s.allocated).toBe(16);
    // MinFirst: fills 5, 4, 1 rise towards each other within their rooms.
    expect(s.operators.map((o) => o.after.staked)).toEqual([10, 10, 6, 0]);
  });

  it("refuses bad input naming the field, an unknown operator, a vetted limit below the deposited keys", () => {
    expect(thrown(() => checkSimulationInput({ count: -1 }))).toMatchObject({
      code: "ERR_VALIDATION",
      details: { field: "count" },
    });
    expect(thrown(() => checkSimulationInput({ count: MAX_ALLOCATION + 1 }))).toMatchObject({
      details: { field: "count" },
    });
    expect(
      thrown(() =>
        checkSimulationInput({ count: 1, proposedLimits: [{ operatorId: 1 }, { operatorId: 1 }] }),
      ),
    ).toMatchObject({
      details: { field: "proposedLimits[1].operatorId", reason: "operator 1 is proposed twice" },
    });
    expect(
      thrown(() => checkSimulationInput({ count: 1, proposedLimits: [{ operatorId: 1, vettedLimit: -2 }] })),
    ).toMatchObject({ details: { field: "proposedLimits[0].vettedLimit" } });
    expect(thrown(() => checkSimulationInput({ count: 1, proposedLimits: "x" as never }))).toMatchObject({
      details: { field: "proposedLimits" },
    });
    const unknown = checkSimulationInput({ count: 1, proposedLimits: [{ operatorId: 99 }] });
    expect(thrown(() => simulateOver(pool(), unknown.count, unknown.proposedLimits))).toMatchObject({
      code: "ERR_NOT_FOUND",
    });
    const below = checkSimulationInput({ count: 1, proposedLimits: [{ operatorId: 1, vettedLimit: 6 }] });
    expect(thrown(() => simulateOver(pool(), below.count, below.proposedLimits))).toMatchObject({
      code: "ERR_LIMIT_BELOW_DEPOSITED",
      details: { operatorId: 1, vettedLimit: 6, deposited: 7 },
    });
    // Exactly at the deposited keys is allowed: nothing left to deposit there.
    const at = checkSimulationInput({ count: 1, proposedLimits: [{ operatorId: 1, vettedLimit: 7 }] });
    expect(applyProposedLimits(pool(), at.proposedLimits)[0]!.capacity).toBe(5);
  });
});
