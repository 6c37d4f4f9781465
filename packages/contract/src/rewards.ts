import { Type } from "typebox";
import { Address, PageMeta } from "./common.js";
import { ReportHash } from "./oracle.js";
import { Wei } from "./pool.js";

/** An operator's rewards: the fee shares the applied oracle reports minted to its reward address. */

export const OperatorReportReward = Type.Object({
  refSlot: Type.Integer(),
  timestamp: Type.Integer({ description: "Unix seconds of the ref slot" }),
  reportHash: Type.Union([ReportHash, Type.Null()], {
    description: "The hash the oracle members agreed on (null: the report was applied without a vote)",
  }),
  rewardAddress: Type.String({
    ...Address,
    description: "Where the report minted the operator's fee shares (its reward address then)",
  }),
  activeValidators: Type.Integer({ description: "The operator's validators active in the frame" }),
  rewardedValidators: Type.Integer({
    description: "Those whose performance earned a share of the operators' fee",
  }),
  shares: Type.String({
    ...Wei,
    description: "Fee shares minted to the operator (0: a negative rebase, or no validator rewarded)",
  }),
  ether: Type.String({
    ...Wei,
    description:
      "Their worth in wei at the report's share rate after it: shares × postTotalPooledEther / postTotalShares, rounded down",
  }),
});

export const OperatorRewards = Type.Object({
  operatorId: Type.Integer(),
  rewardAddress: Type.String({ ...Address, description: "The operator's reward address now (lowercase)" }),
  sharesMinted: Type.String({
    ...Wei,
    description: "Fee shares minted to the operator by all applied reports",
  }),
  shares: Type.String({ ...Wei, description: "The shares its reward address holds now" }),
  balance: Type.String({
    ...Wei,
    description: "Their worth now: shares × totalPooledEther / totalShares, rounded down",
  }),
  reports: Type.Array(OperatorReportReward, {
    description: "The applied reports that list the operator, newest first (this page)",
  }),
});

export const OperatorRewardsPage = Type.Object({ data: OperatorRewards, meta: PageMeta });
