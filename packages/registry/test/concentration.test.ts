import { describe, expect, it } from "vitest";
import { concentration, share } from "../src/concentration.js";

/** Each figure defined once (src/concentration.ts); these are worked by hand. */
describe("concentration (hand-worked)", () => {
  it("one operator holds everything", () => {
    expect(concentration([7])).toEqual({ top1Share: 1, top5Share: 1, hhi: 10_000, nakamoto33: 1 });
  });

  it("four equal operators: HHI 4 × 25² = 2500, two needed to pass 1/3", () => {
    expect(concentration([5, 5, 5, 5])).toEqual({ top1Share: 0.25, top5Share: 1, hhi: 2500, nakamoto33: 2 });
  });

  it("50/30/20: HHI 2500 + 900 + 400 = 3800, the largest alone passes 1/3", () => {
    const c = concentration([30, 20, 50]);
    expect(c.top1Share).toBe(0.5);
    expect(c.top5Share).toBe(1);
    expect(c.hhi).toBeCloseTo(3800, 9);
    expect(c.nakamoto33).toBe(1);
  });

  it("exactly 1/3 is not more than 1/3: 3 of 9 needs a second operator", () => {
    // shares 3/9, 2/9, 2/9, 2/9: 3*3 = 9 is not > 9; 3*(3+2) = 15 > 9.
    expect(concentration([3, 2, 2, 2]).nakamoto33).toBe(2);
  });

  it("seven operators of 1..7: top-5 is (7+6+5+4+3)/28, zeros are left out", () => {
    const c = concentration([1, 2, 3, 4, 5, 6, 7, 0, 0]);
    expect(c.top1Share).toBeCloseTo(7 / 28, 12);
    expect(c.top5Share).toBeCloseTo(25 / 28, 12);
    // sum of (100·k/28)² for k = 1..7 = 10,000 × 140 / 784
    expect(c.hhi).toBeCloseTo((10_000 * 140) / 784, 9);
    // 7 → 21 not > 28; 7+6 = 13 → 39 > 28
    expect(c.nakamoto33).toBe(2);
  });

  it("no validators: every figure 0; share of nothing is 0", () => {
    expect(concentration([])).toEqual({ top1Share: 0, top5Share: 0, hhi: 0, nakamoto33: 0 });
    expect(concentration([0, 0])).toEqual({ top1Share: 0, top5Share: 0, hhi: 0, nakamoto33: 0 });
    expect(share(3, 0)).toBe(0);
    expect(share(1, 4)).toBe(0.25);
  });
});
