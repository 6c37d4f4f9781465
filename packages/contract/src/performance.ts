import { ALERT_KINDS } from "@poolkeeper/core";
import { Type } from "typebox";
import { oneOf } from "./common.js";

/** The watcher's figures: operators' performance, one validator's history, alerts. */

/** The windows of GET /v1/performance/operators. */
export const WINDOWS = ["1d", "7d", "30d"] as const;
export type Window = (typeof WINDOWS)[number];

const Score = (description: string) =>
  Type.Union([Type.Number(), Type.Null()], { description: `${description}; null when no such duty` });

export const Scores = Type.Object(
  {
    attester: Score("Rated attester effectiveness: participation × correctness × inclusion-delay score"),
    proposer: Score("Rated proposer effectiveness: proposed / assigned"),
    effectiveness: Score("Rated combined: 5/8 attester + 3/8 proposer (attester alone without proposals)"),
    participation: Score("Attestations included / assigned, weighted by effective balance"),
    correctness: Score(
      "Mean over included attestations of (source + target + head) / 3, weighted by effective balance",
    ),
    inclusionDelayScore: Score(
      "Mean over included attestations of 1 / optimal inclusion delay, weighted by effective balance",
    ),
    csmPerformance: Score(
      "Lido CSM duty-weighted performance: (54 att + 8 proposals + 2 sync) / weights of assigned kinds; att weighted by effective balance",
    ),
  },
  {
    description:
      "Scores; one formula with the watcher's alerts (@poolkeeper/beacon). Attestation duties weigh by the validator's effective balance (its attestation rewards are proportional to it; a 2048 ETH 0x02 validator weighs 64 of a 32 ETH one); proposals and sync duties count one each",
  },
);

const Count = Type.Integer({ minimum: 0 });

export const Duties = Type.Object(
  {
    attestations: Type.Object({ assigned: Count, included: Count, missed: Count }),
    proposals: Type.Object({ assigned: Count, proposed: Count, missed: Count }),
    sync: Type.Object({
      assigned: Count,
      participated: Count,
      missed: Count,
    }),
  },
  { description: "Duty counts; sync counts are slots of sync-committee duty" },
);

const Figures = Type.Object({ scores: Scores, duties: Duties });

export const EpochWindow = Type.Object(
  {
    fromEpoch: Type.Integer(),
    toEpoch: Type.Integer(),
    processedEpochs: Type.Integer({ description: "Epochs of the range the watcher has processed" }),
  },
  { description: "The epochs the figures cover (inclusive)" },
);

const Gwei = Type.String({ pattern: "^-?[0-9]+$", description: "gwei, decimal string" });

export const OperatorPerformance = Type.Object({
  operatorId: Type.Integer(),
  validators: Type.Integer({ description: "Validators with duties in the window's last epoch with data" }),
  balanceChangeGwei: Gwei,
  scores: Scores,
  duties: Duties,
  vsNetwork: Type.Object(
    {
      effectiveness: Score("Operator minus network, Rated combined"),
      csmPerformance: Score("Operator minus network, CSM performance"),
    },
    { description: "Difference to the network's own figure over the same epochs" },
  ),
});

export const OperatorsPerformance = Type.Object({
  window: Type.String(),
  windowEpochs: Type.Integer({ description: "Epochs in the window for the network's timing" }),
  range: Type.Union([EpochWindow, Type.Null()], { description: "null: no epoch processed yet" }),
  network: Figures,
  operators: Type.Array(OperatorPerformance),
});

export const WatchedValidator = Type.Object({
  pubkey: Type.String(),
  index: Type.Integer(),
  operatorId: Type.Integer(),
  firstEpoch: Type.Integer({ description: "First epoch with duties seen by the watcher" }),
  lastEpoch: Type.Union([Type.Integer(), Type.Null()], {
    description: "Last epoch with duties (exit epoch - 1) once the chain has set an exit",
  }),
  status: Type.Union([Type.String(), Type.Null()], {
    description: "Latest beacon status other than active_ongoing (null: active_ongoing)",
  }),
});

const ProposalSlot = Type.Object({
  slot: Type.Integer(),
  result: Type.Union([Type.Literal("proposed"), Type.Literal("missed"), Type.Literal("orphaned")]),
});

export const ValidatorEpoch = Type.Object({
  epoch: Type.Integer(),
  attestation: Type.Union(
    [
      Type.Object({
        slot: Type.Union([Type.Integer(), Type.Null()], { description: "null for a perfect attestation" }),
        included: Type.Boolean(),
        missed: Type.Boolean(),
        inclusionDelay: Type.Union([Type.Integer(), Type.Null()], {
          description: "Slots after the duty slot; null when missed or (perfect attestation) not stored",
        }),
        optimalInclusionDelay: Type.Union([Type.Integer(), Type.Null()], {
          description: "Counted from the first block after the duty slot (1 is best)",
        }),
        sourceCorrect: Type.Boolean(),
        targetCorrect: Type.Boolean(),
        headCorrect: Type.Boolean(),
        rewardsGwei: Type.Union([Type.Object({ source: Gwei, target: Gwei, head: Gwei }), Type.Null()]),
      }),
      Type.Null(),
    ],
    { description: "null: no attestation duty recorded in this epoch" },
  ),
  proposals: Type.Array(ProposalSlot),
  sync: Type.Union([Type.Object({ assigned: Count, participated: Count, missed: Count }), Type.Null()], {
    description: "null: not in the sync committee",
  }),
  balanceChangeGwei: Type.Union([Gwei, Type.Null()], {
    description: "null: not stored (the watcher keeps it only for epochs that were not perfect)",
  }),
  status: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()),
});

export const ValidatorHistory = Type.Object({
  validator: WatchedValidator,
  range: Type.Object({ fromEpoch: Type.Integer(), toEpoch: Type.Integer() }),
  totals: Figures,
  epochs: Type.Array(ValidatorEpoch, { description: "Processed epochs of the range, newest first" }),
});

export const AlertKindSchema = oneOf(ALERT_KINDS, { description: "Alert kinds raised by the watcher" });

export const Alert = Type.Object({
  id: Type.Integer(),
  kind: AlertKindSchema,
  operatorId: Type.Union([Type.Integer(), Type.Null()]),
  validatorIndex: Type.Union([Type.Integer(), Type.Null()]),
  validatorPubkey: Type.Union([Type.String(), Type.Null()]),
  epoch: Type.Union([Type.Integer(), Type.Null()]),
  message: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: "date-time" }),
  webhook: Type.Object({ state: Type.String(), attempts: Type.Integer() }),
});

/** GET /v1/performance/history: the window cut into buckets, each with the network's figure. */
export const PerformanceHistory = Type.Object({
  window: Type.String(),
  bucketEpochs: Type.Integer({ description: "Epochs per point" }),
  points: Type.Array(
    Type.Object({
      fromEpoch: Type.Integer(),
      toEpoch: Type.Integer(),
      network: Type.Object({
        effectiveness: Score("The network's Rated combined effectiveness over the bucket"),
        csmPerformance: Score("The network's CSM performance over the bucket"),
      }),
      operators: Type.Array(
        Type.Object({
          operatorId: Type.Integer(),
          effectiveness: Score("Rated combined effectiveness over the bucket"),
          csmPerformance: Score("CSM performance over the bucket"),
        }),
      ),
    }),
    { description: "Oldest first; buckets without processed epochs are left out" },
  ),
});
