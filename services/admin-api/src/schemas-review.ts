import { Type } from "typebox";

/** Response shapes of the review, dry run, deposit batches and audit log (from @poolkeeper/registry). */

const TargetLimitOut = Type.Union([
  Type.Object({ limit: Type.Integer(), mode: Type.Union([Type.Literal("soft"), Type.Literal("hard")]) }),
  Type.Null(),
]);

export const Concentration = Type.Object(
  {
    top1Share: Type.Number({ description: "Share of the largest operator, 0..1" }),
    top5Share: Type.Number({ description: "Share of the five largest operators, 0..1" }),
    hhi: Type.Number({ description: "Herfindahl-Hirschman index on percent shares, 0..10,000" }),
    nakamoto33: Type.Integer({ description: "Fewest operators holding more than 1/3" }),
  },
  { description: "Concentration of validators among operators" },
);

export const Review = Type.Object({
  operators: Type.Array(
    Type.Object({
      operatorId: Type.Integer(),
      name: Type.String(),
      active: Type.Boolean(),
      vettedLimit: Type.Integer(),
      targetLimit: TargetLimitOut,
      keys: Type.Object({
        vetted: Type.Integer({ description: "Vetted, not yet deposited" }),
        deposited: Type.Integer({ description: "Ever deposited" }),
        active: Type.Integer(),
        exited: Type.Integer(),
        slashed: Type.Integer(),
        staked: Type.Integer({ description: "Holding pool ETH: the MinFirst fill" }),
      }),
      activeShare: Type.Number({ description: "Share of the pool's active validators, 0..1" }),
      capacityLeft: Type.Integer({ description: "Deposits MinFirst may still give it" }),
    }),
  ),
  totals: Type.Object({
    operators: Type.Integer(),
    activeOperators: Type.Integer(),
    vetted: Type.Integer(),
    deposited: Type.Integer(),
    active: Type.Integer(),
    exited: Type.Integer(),
    capacityLeft: Type.Integer(),
  }),
  concentration: Concentration,
  stakedConcentration: Concentration,
  at: Type.String({ format: "date-time" }),
});

const Share = Type.Object({ staked: Type.Integer(), share: Type.Number() });

export const Simulation = Type.Object({
  requested: Type.Integer(),
  allocated: Type.Integer(),
  operators: Type.Array(
    Type.Object({
      operatorId: Type.Integer(),
      name: Type.String(),
      before: Share,
      allocated: Type.Integer(),
      after: Share,
    }),
  ),
  before: Concentration,
  after: Concentration,
});

export const DepositDataOut = Type.Object({
  pubkey: Type.String(),
  withdrawal_credentials: Type.String(),
  amount: Type.Integer(),
  signature: Type.String(),
  deposit_message_root: Type.String(),
  deposit_data_root: Type.String(),
  fork_version: Type.String(),
  network_name: Type.String(),
  deposit_cli_version: Type.String(),
});

const BatchSummaryFields = {
  id: Type.Integer(),
  actor: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
  keyCount: Type.Integer(),
};

export const DepositBatchSummary = Type.Object(BatchSummaryFields);

export const DepositBatch = Type.Object({
  ...BatchSummaryFields,
  perOperator: Type.Array(Type.Object({ operatorId: Type.Integer(), count: Type.Integer() })),
  keys: Type.Array(
    Type.Object({
      position: Type.Integer(),
      keyId: Type.Integer(),
      operatorId: Type.Integer(),
      depositData: Type.Union([DepositDataOut], { description: "The deposit_data.json entry of the key" }),
    }),
  ),
});

export const AuditEntry = Type.Object({
  id: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
  at: Type.String({ format: "date-time" }),
});
