/**
 * One operator's part of one applied report: not listed → null; listed twice → counts and mints
 * summed; the worth at the report's post share rate rounded down.
 */
import { describe, expect, it } from "vitest";
import { operatorReportReward } from "../src/operator-rewards.js";
import type { ReportInput, ReportOutcome } from "../src/report.js";

const R = "0x00000000000000000000000000000000000000AB";

function entry(operators: ReportInput["operators"], mints: ReportOutcome["mints"]) {
  return {
    input: { refSlot: 31, timestamp: 1_186, operators } as ReportInput,
    // 10 wei pooled over 3 shares: a share is worth 3.33… wei
    outcome: { mints, postTotalPooledEther: 10n, postTotalShares: 3n } as ReportOutcome,
  };
}

describe("operatorReportReward", () => {
  it("null for an operator the report does not list, even with a mint naming it", () => {
    const e = entry(
      [{ operatorId: "1", rewardAddress: R, activeValidators: 1, rewardedValidators: 1 }],
      [{ account: R, shares: 1n, operatorId: "2" }],
    );
    expect(operatorReportReward(e, "2")).toBeNull();
  });

  it("sums an operator listed twice, ignores the treasury's and others' mints, rounds the worth down", () => {
    const e = entry(
      [
        { operatorId: "7", rewardAddress: R, activeValidators: 2, rewardedValidators: 1 },
        { operatorId: "8", rewardAddress: R, activeValidators: 5, rewardedValidators: 5 },
        { operatorId: "7", rewardAddress: R, activeValidators: 3, rewardedValidators: 3 },
      ],
      [
        { account: R.toLowerCase(), shares: 1n, operatorId: "7" },
        { account: R.toLowerCase(), shares: 4n, operatorId: "8" },
        { account: R.toLowerCase(), shares: 1n, operatorId: "7" },
        { account: R.toLowerCase(), shares: 9n, operatorId: null },
      ],
    );
    expect(operatorReportReward(e, "7")).toEqual({
      refSlot: 31,
      timestamp: 1_186,
      rewardAddress: R.toLowerCase(),
      activeValidators: 5,
      rewardedValidators: 4,
      shares: 2n,
      // 2 × 10 / 3 = 6.67 → 6
      wei: 6n,
    });
  });

  it("listed without a mint: 0 shares, 0 wei", () => {
    const e = entry([{ operatorId: "3", rewardAddress: R, activeValidators: 4, rewardedValidators: 0 }], []);
    expect(operatorReportReward(e, "3")).toMatchObject({ shares: 0n, wei: 0n, rewardedValidators: 0 });
  });
});
