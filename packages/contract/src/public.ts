import { ALERT_KINDS } from "@poolkeeper/core";
import { Type } from "typebox";
import { oneOf } from "./common.js";
import { Concentration } from "./review.js";

/**
 * The public routes (`GET /v1/public/...`, no token): what a staker checks before staking, and
 * nothing more. Every field here is on an allow-list (services/admin-api/test/public.test.ts):
 * no token, no reward or staker address, no alert message text, no key material.
 */

const Wei = Type.String({ pattern: "^[0-9]{1,78}$", description: "Wei, decimal string" });
const Rate = Type.String({ pattern: "^[0-9]+\\.[0-9]{27}$", description: "Ether per share, 27 decimals" });
const Share = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const Score = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });
const At = Type.String({
  format: "date-time",
  description: "When the figures were read (cached up to a few seconds)",
});

/** A part of the page whose data does not exist in this build yet (governance, deposit security). */
export const NotAvailable = Type.Object(
  {
    available: Type.Literal(false),
    reason: Type.String({ description: "Why there is no figure yet" }),
  },
  { description: "A placeholder: the figure comes with a later part of the pool" },
);

export const PublicOperators = Type.Object({
  at: At,
  window: Type.String({ description: "Performance window (7d)" }),
  network: Type.Object(
    {
      effectiveness: Score("Rated combined effectiveness of the whole network"),
      csmPerformance: Score("Lido CSM duty-weighted performance of the whole network"),
    },
    { description: "The network's own figures over the same epochs" },
  ),
  operators: Type.Array(
    Type.Object({
      operatorId: Type.Integer(),
      name: Type.String(),
      active: Type.Boolean(),
      validators: Type.Integer({ description: "Active validators" }),
      staked: Type.Integer({ description: "Keys holding pool ether" }),
      share: Share("Share of the pool's active validators"),
      effectiveness: Score("Rated combined effectiveness over the window; null: no duties"),
      csmPerformance: Score("CSM performance over the window; null: no duties"),
      vsNetwork: Score("Effectiveness minus the network's, over the window"),
    }),
  ),
});

export const PublicConcentration = Type.Object({
  at: At,
  validators: Type.Integer({ description: "The pool's active validators" }),
  staked: Type.Integer({ description: "Keys holding pool ether (deposited, active, exiting, slashed)" }),
  operators: Type.Integer({ description: "Operators with staked keys" }),
  concentration: Type.Object(Concentration.properties, {
    description: "Concentration of the active validators among operators",
  }),
  stakedConcentration: Type.Object(Concentration.properties, {
    description: "Concentration of the staked keys (before activation too)",
  }),
  shares: Type.Array(
    Type.Object({
      operatorId: Type.Integer(),
      name: Type.String(),
      share: Share("Share of active validators"),
      stakedShare: Share("Share of staked keys"),
    }),
    { description: "Operators with staked keys, largest staked share first" },
  ),
});

export const PublicToken = Type.Object({
  at: At,
  shareRate: Rate,
  totalPooledEther: Wei,
  totalShares: Wei,
  history: Type.Array(
    Type.Object({ refSlot: Type.Integer(), timestamp: Type.Integer(), before: Rate, after: Rate }),
    { description: "Share rate before and after each applied report, oldest first (the last 100)" },
  ),
  reports: Type.Array(
    Type.Object({
      refSlot: Type.Integer(),
      status: oneOf(["applied", "refused", "pending"] as const),
      reportHash: Type.Union([Type.String(), Type.Null()]),
      decidedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
      sanityPassed: Type.Integer({ description: "Sanity checks passed" }),
      sanityFailed: Type.Array(Type.String(), { description: "Names of failed sanity checks" }),
      isBunkerMode: Type.Union([Type.Boolean(), Type.Null()]),
      votes: Type.Array(
        Type.Object({
          memberId: Type.String(),
          agrees: Type.Boolean(),
          votedAt: Type.String({ format: "date-time" }),
        }),
      ),
    }),
    { description: "The last decided reports, newest first (at most 10)" },
  ),
});

export const PublicFees = Type.Object({
  at: At,
  fee: Type.Union([
    Type.Object({
      totalFeeBP: Type.Integer({ description: "The pool's fee on rewards, basis points" }),
      operatorsFeeBP: Type.Integer({ description: "The operators' part, basis points" }),
      treasuryFeeBP: Type.Integer({ description: "The treasury's part, basis points" }),
    }),
    NotAvailable,
  ]),
  minted: Type.Array(
    Type.Object({
      refSlot: Type.Integer(),
      timestamp: Type.Integer(),
      rewardsWei: Wei,
      feeWei: Wei,
      operatorsShares: Wei,
      treasuryShares: Wei,
      notMintedShares: Wei,
    }),
    { description: "Fee shares minted by the last applied reports, newest first (at most 10)" },
  ),
});

export const PublicWithdrawals = Type.Object({
  at: At,
  queue: Type.Object({
    requests: Type.Integer({ description: "Withdrawal requests not finalized yet" }),
    unfinalizedStETH: Wei,
    bufferedEther: Wei,
  }),
  bunkerMode: Type.Boolean({ description: "The last applied report's bunker mode" }),
  expectedWait: Type.Union([
    Type.Object({
      seconds: Type.Integer({ description: "finalizationSeconds + exitSeconds" }),
      finalizationSeconds: Type.Integer({
        description: "Until the first report that may finalize a request made now",
      }),
      exitSeconds: Type.Integer({
        description: "Exit churn, withdrawability delay and a report, when the buffer falls short",
      }),
      validatorsToExit: Type.Integer({ description: "Validators the shortfall needs (32 ETH each)" }),
      nextReportRefSlot: Type.Integer(),
    }),
    NotAvailable,
  ]),
});

export const PublicRisk = Type.Object({
  at: At,
  slashedValidators: Type.Integer(),
  penalties: Type.Object({
    balanceChangeGwei: Type.String({
      pattern: "^-?[0-9]+$",
      description: "The pool's CL balance change over 30 days (watcher)",
    }),
    missedAttestations: Type.Integer({ description: "Over 30 days" }),
    missedProposals: Type.Integer({ description: "Over 30 days" }),
  }),
  lateExits: Type.Integer({ description: "Exit requests past their deadline without an exit, ever" }),
  triggeredExits: Type.Integer({ description: "Validators exited by the pool's EIP-7002 request" }),
  alerts30d: Type.Object({
    total: Type.Integer(),
    byKind: Type.Record(Type.String(), Type.Integer()),
    recent: Type.Array(
      Type.Object({
        kind: oneOf(ALERT_KINDS),
        operatorId: Type.Union([Type.Integer(), Type.Null()]),
        epoch: Type.Union([Type.Integer(), Type.Null()]),
        createdAt: Type.String({ format: "date-time" }),
      }),
      { description: "Newest first, at most 20 (no message text)" },
    ),
  }),
  frontRunKeys: Type.Object(
    {
      count: Type.Integer({
        description: "Keys whose deposit batch was refused because they were front-run",
      }),
      lastAt: Type.Union([Type.String(), Type.Null()], { description: "The latest one's time" }),
    },
    { description: "Front-run keys caught by the guardians (deposit security), ever" },
  ),
});

export const PublicControl = Type.Object({
  at: At,
  oracle: Type.Union([
    Type.Object({ members: Type.Integer(), quorum: Type.Integer(), epochsPerFrame: Type.Integer() }),
    NotAvailable,
  ]),
  deposits: Type.Object(
    {
      guarded: Type.Boolean({ description: "Batches are released only by a quorum of guardians" }),
      guardians: Type.Integer(),
      quorum: Type.Union([Type.Integer(), Type.Null()]),
      paused: Type.Boolean(),
      pausedBy: Type.Union([Type.String(), Type.Null()], { description: "The guardian that paused" }),
      pausedAt: Type.Union([Type.String(), Type.Null()]),
      pauseReason: Type.Union([Type.String(), Type.Null()]),
      unpausedAt: Type.Union([Type.String(), Type.Null()]),
      unpauseReason: Type.Union([Type.String(), Type.Null()]),
    },
    { description: "Deposit security: who releases deposits, and whether they are paused" },
  ),
  governance: Type.Union([
    Type.Object({
      daoMembers: Type.Integer(),
      quorum: Type.Integer(),
      timelockSeconds: Type.Integer(),
      limitStep: Type.Integer({ description: "Limit changes up to this many keys stay immediate" }),
      parameters: Type.Array(
        Type.Object({
          name: Type.String(),
          proposalId: Type.Union([Type.Integer(), Type.Null()], { description: "null: the genesis value" }),
          setAt: Type.String(),
        }),
        { description: "Who can change what: each governed parameter, only by an executed proposal" },
      ),
      pending: Type.Array(
        Type.Object({
          id: Type.Integer(),
          kind: Type.String(),
          status: Type.String(),
          reason: Type.String(),
          executableAt: Type.Union([Type.String(), Type.Null()], {
            description: "When its timelock ends (null: not approved yet)",
          }),
        }),
        { description: "Proposals not yet executed or cancelled" },
      ),
    }),
    NotAvailable,
  ]),
});
