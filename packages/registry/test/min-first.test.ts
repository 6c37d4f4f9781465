import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateMinFirst, allocateMinFirstStepwise } from "../src/index.js";

const bucketsArb = fc
  .array(fc.tuple(fc.nat(60), fc.nat(60)), { minLength: 0, maxLength: 12 })
  .map((pairs) => ({ fills: pairs.map((p) => p[0]), caps: pairs.map((p) => p[1]) }));

describe("allocateMinFirst", () => {
  it("matches the hand-worked case from Lido's library", () => {
    const r = allocateMinFirst([9998, 70, 0], [10000, 101, 100], 101);
    expect(r.fills).toEqual([9998, 86, 85]);
    expect(r.added).toEqual([0, 16, 85]);
    expect(r.allocated).toBe(101);
  });

  it("takes bigint and returns bigint", () => {
    const r = allocateMinFirst([9998n, 70n, 0n], [10000n, 101n, 100n], 101n);
    expect(r.fills).toEqual([9998n, 86n, 85n]);
    expect(r.allocated).toBe(101n);
  });

  it("hand-worked cases: ties split evenly, lower index first; full buckets skipped", () => {
    expect(allocateMinFirst([0, 0, 0], [10, 10, 10], 7).fills).toEqual([3, 2, 2]);
    expect(allocateMinFirst([5, 0], [100, 100], 6).fills).toEqual([6, 5]);
    expect(allocateMinFirst([0, 0, 0], [1, 10, 10], 4).fills).toEqual([1, 2, 1]);
    expect(allocateMinFirst([3, 3], [3, 10], 4).fills).toEqual([3, 7]);
    // More than the room: everything that fits, no more.
    const all = allocateMinFirst([1, 2], [4, 3], 100);
    expect(all.fills).toEqual([4, 3]);
    expect(all.allocated).toBe(4);
    // Fill above capacity (a lowered target): gets nothing, keeps its fill.
    expect(allocateMinFirst([50, 0], [10, 10], 5).fills).toEqual([50, 5]);
    expect(allocateMinFirst([], [], 5).allocated).toBe(0);
    expect(allocateMinFirst([1, 2], [3, 4], 0).added).toEqual([0, 0]);
  });

  it("rejects bad input naming the field", () => {
    expect(() => allocateMinFirst([1], [1, 2], 1)).toThrow(/capacities/);
    expect(() => allocateMinFirst([-1], [1], 1)).toThrow(/fills\[0\]/);
    expect(() => allocateMinFirst([1], [1], 1.5)).toThrow(/^n:/);
  });

  it("equals Lido's step-by-step algorithm on random cases", () => {
    fc.assert(
      fc.property(bucketsArb, fc.nat(400), ({ fills, caps }, n) => {
        expect(allocateMinFirst(fills, caps, n).fills).toEqual(allocateMinFirstStepwise(fills, caps, n));
      }),
      { numRuns: 2000 },
    );
  });

  it("properties: never above capacity, allocates min(n, room), never leaves a bucket with room below another's new deposits", () => {
    fc.assert(
      fc.property(bucketsArb, fc.nat(400), ({ fills, caps }, n) => {
        const r = allocateMinFirst(fills, caps, n);
        let room = 0;
        for (let i = 0; i < fills.length; i++) room += Math.max(0, caps[i]! - fills[i]!);
        expect(r.allocated).toBe(Math.min(n, room));
        for (let i = 0; i < fills.length; i++) {
          expect(r.added[i]).toBeGreaterThanOrEqual(0);
          // Never above capacity (a bucket already above it gets nothing).
          if (r.added[i]! > 0) expect(r.fills[i]).toBeLessThanOrEqual(caps[i]!);
        }
        // MinFirst: if bucket j received anything, every bucket i that still has room ends
        // at least at j's new fill minus one (the even split of the last level).
        for (let j = 0; j < fills.length; j++) {
          if (r.added[j]! === 0) continue;
          for (let i = 0; i < fills.length; i++) {
            if (r.fills[i]! < caps[i]!) expect(r.fills[i]!).toBeGreaterThanOrEqual(r.fills[j]! - 1);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("100,000 deposits over 1,000 operators in one call", () => {
    const fills = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 5000);
    const caps = fills.map((f, i) => f + ((i * 104729) % 400));
    const r = allocateMinFirst(fills, caps, 100_000);
    expect(r.allocated).toBe(100_000);
    expect(r.fills).toEqual(allocateMinFirstStepwise(fills, caps, 100_000));
  });
});
