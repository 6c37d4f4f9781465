import { Type } from "typebox";

/** The DAO review and the audit log. */

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

export const ReviewExits = Type.Object(
  {
    requested: Type.Integer({ description: "Exit requests ever made for its validators" }),
    open: Type.Integer({ description: "Not yet exiting on the chain" }),
    late: Type.Integer({
      description: "Past their deadline without an exit (the late exits held against it)",
    }),
    triggered: Type.Integer({ description: "Exited by the pool's EIP-7002 withdrawal request" }),
    lastTriggeredAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  },
  { description: "The operator's exit requests and late exits" },
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
      exits: ReviewExits,
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

export const AuditTarget = Type.String({
  pattern: "^[a-z]+:[0-9A-Za-z]{1,100}$",
  description: "Only entries about this target, e.g. operator:3 or batch:12",
});
