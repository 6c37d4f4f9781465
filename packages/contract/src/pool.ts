import { Type } from "typebox";
import { Address, oneOf } from "./common.js";

/** The pool ledger: totals, the share rate, accounts and withdrawal requests. Amounts are wei as decimal strings. */

export const Wei = Type.String({ pattern: "^[0-9]{1,78}$", description: "Wei, as a decimal string" });
export const ShareRate = Type.String({
  pattern: "^[0-9]+\\.[0-9]{27}$",
  description: "Ether per share with 27 decimals (1e27 precision, rounded down)",
});

export const PoolSummary = Type.Object({
  totalPooledEther: Wei,
  totalShares: Wei,
  bufferedEther: Type.String({
    ...Wei,
    description: "Staked ether not yet deposited nor locked for withdrawals",
  }),
  depositableEther: Type.String({
    ...Wei,
    description:
      "What the next deposit batch may take: the buffer less the stETH of withdrawal requests not finalized yet (a batch costing more is refused, 409 ERR_BUFFER_INSUFFICIENT)",
  }),
  pendingEther: Type.String({
    ...Wei,
    description:
      "Deposited ether the last report did not see as CL balance: its pending deposits and deposits it did not see yet",
  }),
  clBalance: Type.String({ ...Wei, description: "The pool validators' CL balance at the last report" }),
  lockedForWithdrawals: Type.String({
    ...Wei,
    description: "Ether of finalized, unclaimed withdrawal requests",
  }),
  unfinalizedWithdrawals: Type.String({
    ...Wei,
    description: "stETH of withdrawal requests not finalized yet",
  }),
  withdrawalsCollected: Type.String({
    ...Wei,
    description: "Ether the reports have taken from the withdrawal vault, in all",
  }),
  elRewardsCollected: Type.String({
    ...Wei,
    description: "Ether the reports have taken from the execution-layer rewards vault, in all",
  }),
  shareRate: ShareRate,
  lastReport: Type.Union([
    Type.Object({ refSlot: Type.Integer(), timestamp: Type.Integer({ description: "Unix seconds" }) }),
    Type.Null(),
  ]),
});

export const WITHDRAWAL_STATUSES = ["pending", "finalized", "claimed"] as const;

export const WithdrawalRequest = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  owner: Address,
  amountOfStETH: Wei,
  amountOfShares: Wei,
  requestedAt: Type.Integer({ description: "Unix seconds" }),
  status: oneOf(WITHDRAWAL_STATUSES),
  claimedEther: Type.Union([Wei, Type.Null()], { description: "What the claim paid (null before)" }),
});

export const Account = Type.Object({
  address: Address,
  shares: Wei,
  balance: Type.String({ ...Wei, description: "shares × totalPooledEther / totalShares, rounded down" }),
  withdrawalRequests: Type.Array(WithdrawalRequest),
});

export const AddressParam = Type.Object({ address: Address });

export const SubmitBody = Type.Object(
  { account: Address, amount: Type.String({ ...Wei, description: "Wei to stake" }) },
  { additionalProperties: false },
);
export const SubmitResult = Type.Object({ account: Address, amount: Wei, shares: Wei });

export const WithdrawalBody = Type.Object(
  {
    account: Address,
    amount: Type.String({ ...Wei, description: "stETH to withdraw, in wei (100 wei to 1000 ETH)" }),
  },
  { additionalProperties: false },
);
export const WithdrawalResult = Type.Object({
  requestId: Type.Integer(),
  amountOfStETH: Wei,
  amountOfShares: Wei,
});

export const RequestIdParam = Type.Object({
  id: Type.String({ pattern: "^[1-9][0-9]{0,14}$", description: "Request id" }),
});
export const ClaimBody = Type.Object({ account: Address }, { additionalProperties: false });
export const ClaimResult = Type.Object({ requestId: Type.Integer(), amount: Wei });

export const ShareRatePoint = Type.Object({
  refSlot: Type.Integer(),
  timestamp: Type.Integer({ description: "Unix seconds of the ref slot" }),
  before: ShareRate,
  after: ShareRate,
});
