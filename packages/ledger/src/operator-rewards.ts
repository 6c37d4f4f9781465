/**
 * What one applied report gave one operator: its validators as the report counted them, the fee
 * shares minted to its reward address, and their worth at the report's share rate after it
 * (shares × postTotalPooledEther / postTotalShares, rounded down as StETH.getPooledEthByShares).
 */
import type { ReportInput, ReportOutcome } from "./report.js";
import { etherByShares } from "./shares.js";

export interface OperatorReportReward {
  refSlot: number;
  /** Unix seconds of the ref slot. */
  timestamp: number;
  /** Where the report minted the operator's fee shares: its reward address at the time. */
  rewardAddress: string;
  activeValidators: number;
  rewardedValidators: number;
  /** Fee shares minted to the operator by this report (0: a negative rebase, or none of its validators rewarded). */
  shares: bigint;
  /** Their worth in wei at the report's post share rate, rounded down. */
  wei: bigint;
}

/**
 * The operator's part of one report, null when the report does not list it. An operator listed
 * twice (a report the ledger does not refuse) has its counts and mints summed; the first entry's
 * reward address is shown.
 */
export function operatorReportReward(
  report: { input: ReportInput; outcome: ReportOutcome },
  operatorId: string,
): OperatorReportReward | null {
  const listed = report.input.operators.filter((o) => o.operatorId === operatorId);
  if (listed.length === 0) return null;
  const shares = report.outcome.mints
    .filter((m) => m.operatorId === operatorId)
    .reduce((a, m) => a + m.shares, 0n);
  return {
    refSlot: report.input.refSlot,
    timestamp: report.input.timestamp,
    rewardAddress: listed[0]!.rewardAddress.toLowerCase(),
    activeValidators: listed.reduce((a, o) => a + o.activeValidators, 0),
    rewardedValidators: listed.reduce((a, o) => a + o.rewardedValidators, 0),
    shares,
    wei: etherByShares(shares, {
      totalPooledEther: report.outcome.postTotalPooledEther,
      totalShares: report.outcome.postTotalShares,
    }),
  };
}
