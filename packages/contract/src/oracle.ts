import { Type } from "typebox";
import { oneOf } from "./common.js";

/** The oracle: members' votes and the reports a quorum decided. Amounts are decimal strings. */

const Hash = Type.String({
  pattern: "^0x[0-9a-f]{64}$",
  description: "Report hash (SSZ hash tree root), 0x-hex",
});
/** A report hash, for the resources that name the report they come from. */
export const ReportHash = Hash;
const Dec = Type.String({ pattern: "^[0-9]{1,78}$" });

export const VoteBody = Type.Object(
  {
    memberId: Type.String({ minLength: 1, maxLength: 64 }),
    refSlot: Type.Integer({ minimum: 0 }),
    consensusVersion: Type.Integer({ minimum: 0 }),
    reportHash: Hash,
    signature: Type.String({ pattern: "^0x[0-9a-fA-F]{192}$", description: "BLS signature of the vote" }),
    report: Type.String({
      pattern: "^0x([0-9a-fA-F]{2}){1,1000000}$",
      description: "The member's report, SSZ-encoded (ReportData of @poolkeeper/oracle), 0x-hex",
    }),
    source: Type.Optional(
      oneOf(["ssz", "json"] as const, {
        description: "How the member read the consensus layer (the SSZ state or the JSON routes)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const VoteResult = Type.Object({
  refSlot: Type.Integer(),
  consensusHash: Type.Union([Hash, Type.Null()]),
  votes: Type.Record(Type.String(), Type.Array(Type.String()), {
    description: "Member ids by the hash they vote for",
  }),
  decided: Type.Union([
    Type.Object({ status: oneOf(["applied", "refused"] as const), failed: Type.Array(Type.String()) }),
    Type.Null(),
  ]),
});

export const OracleReportData = Type.Object({
  consensusVersion: Type.Integer(),
  refSlot: Type.Integer(),
  clValidators: Type.Integer(),
  clDepositedGwei: Dec,
  clBalanceGwei: Dec,
  clPendingBalanceGwei: Dec,
  exitedValidators: Type.Integer(),
  operators: Type.Array(
    Type.Object({
      operatorId: Type.Integer(),
      activeValidators: Type.Integer(),
      exitedValidators: Type.Integer(),
      rewardedValidators: Type.Integer(),
      balanceGwei: Dec,
    }),
  ),
  withdrawalVaultBalanceWei: Dec,
  elRewardsVaultBalanceWei: Dec,
  withdrawalFinalizationBatches: Type.Array(Type.Integer()),
  simulatedShareRate: Dec,
  isBunkerMode: Type.Boolean(),
});

export const SanityCheckResult = Type.Object({
  check: Type.String(),
  ok: Type.Boolean(),
  value: Type.String(),
  limit: Type.String(),
  unit: Type.String(),
});

export const OracleReport = Type.Object({
  refSlot: Type.Integer(),
  status: oneOf(["applied", "refused", "pending"] as const),
  reportHash: Type.Union([Hash, Type.Null()]),
  report: Type.Union([OracleReportData, Type.Null()]),
  sanity: Type.Array(SanityCheckResult),
  votes: Type.Array(
    Type.Object({
      memberId: Type.String(),
      source: Type.Union([oneOf(["ssz", "json"] as const), Type.Null()]),
      reportHash: Hash,
      votedAt: Type.String({ format: "date-time" }),
      agrees: Type.Boolean(),
      diff: Type.Array(Type.Object({ field: Type.String(), agreed: Type.String(), member: Type.String() }), {
        description: "Where this member's report differs from the agreed one",
      }),
    }),
  ),
  decidedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
});

export const RefSlotParam = Type.Object({
  refSlot: Type.String({ pattern: "^[0-9]{1,12}$", description: "Ref slot" }),
});

/** What an oracle member needs to know of the oracle: members, quorum, frames. */
export const OracleSetup = Type.Object({
  consensusVersion: Type.Integer(),
  members: Type.Array(Type.Object({ id: Type.String(), publicKey: Type.String() })),
  quorum: Type.Integer(),
  frames: Type.Object({
    slotsPerEpoch: Type.Integer(),
    secondsPerSlot: Type.Integer(),
    genesisTime: Type.Integer(),
    epochsPerFrame: Type.Integer(),
    initialEpoch: Type.Integer(),
  }),
  withdrawalCredentials: Type.String({ pattern: "^0x[0-9a-f]{64}$" }),
  genesisForkVersion: Type.String({
    pattern: "^0x[0-9a-f]{8}$",
    description: "The network's genesis fork version: the deposit signature domain",
  }),
});

/** What an operator's tools need to make deposit data the pool accepts (GET /v1/pool/identity). */
export const PoolIdentity = Type.Object({
  network: Type.String({ description: "The network's name (as the registry checks deposit data)" }),
  withdrawalCredentials: Type.String({ pattern: "^0x[0-9a-f]{64}$" }),
  genesisForkVersion: Type.String({
    pattern: "^0x[0-9a-f]{8}$",
    description: "The network's genesis fork version: the deposit signature domain",
  }),
});

const QueuedRequestJson = Type.Object({
  id: Type.Integer(),
  cumulativeSteth: Dec,
  cumulativeShares: Dec,
  timestamp: Type.Integer(),
  reportTimestamp: Type.Integer(),
});

/** A frame's context (FrameContext of @poolkeeper/oracle), pinned at the first member's ask. */
export const FrameContextSchema = Type.Object({
  refSlot: Type.Integer(),
  frame: Type.Object({
    index: Type.Integer(),
    firstEpoch: Type.Integer(),
    lastEpoch: Type.Integer(),
    refSlot: Type.Integer(),
    refTimestamp: Type.Integer(),
  }),
  consensusVersion: Type.Integer(),
  ledgerSeq: Dec,
  ledger: Type.Record(Type.String(), Type.Union([Type.String(), Type.Integer()]), {
    description: "The ledger's state at the pin: amounts as decimal strings, counters as integers",
  }),
  queue: Type.Array(QueuedRequestJson),
  maxBatchId: Type.Integer(),
  fees: Type.Object({ totalFeeBP: Type.Integer(), operatorsFeeBP: Type.Integer(), treasury: Type.String() }),
  maxPositiveTokenRebase: Dec,
  requestTimestampMarginSeconds: Type.Integer(),
  bunkerLimits: Type.Object({
    normalizedClRewardPerEpoch: Type.Integer(),
    normalizedClRewardMistakeRateBP: Type.Integer(),
    rebaseCheckNearestEpochDistance: Type.Integer(),
    rebaseCheckDistantEpochDistance: Type.Integer(),
    finalizationMaxNegativeRebaseEpochShift: Type.Integer(),
    requestTimestampMarginSeconds: Type.Integer(),
  }),
  bunkerSince: Type.Union([Type.Object({ refSlot: Type.Integer(), timestamp: Type.Integer() }), Type.Null()]),
  previousRefTimestamp: Type.Integer(),
  performance: Type.Object({
    complete: Type.Boolean(),
    watcherEpoch: Type.Union([Type.Integer(), Type.Null()]),
    networkPerformance: Type.Union([Type.Number(), Type.Null()]),
    threshold: Type.Union([Type.Number(), Type.Null()]),
    underperforming: Type.Array(Type.Integer()),
  }),
  exits: Type.Object({
    operators: Type.Array(
      Type.Object({
        operatorId: Type.Integer(),
        targetLimit: Type.Union([Type.Integer(), Type.Null()]),
        targetLimitMode: Type.Union([Type.Literal("soft"), Type.Literal("hard"), Type.Null()]),
      }),
      { description: "The operators' target limits at the pin" },
    ),
    requested: Type.Array(Type.Integer(), {
      description: "Validators with an open exit request at the pin, ascending",
    }),
    maxExitWei: Dec,
  }),
  decision: Type.Union([
    Type.Object({ status: oneOf(["applied", "refused"] as const), reportHash: Hash }),
    Type.Null(),
  ]),
  votes: Type.Array(Type.Object({ memberId: Type.String(), reportHash: Hash })),
});

export const FrameKey = Type.Object({
  id: Type.Integer(),
  pubkey: Type.String({ pattern: "^0x[0-9a-f]{96}$" }),
  operatorId: Type.Integer(),
  amountGwei: Dec,
});
