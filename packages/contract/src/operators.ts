import { LIMITS } from "@poolkeeper/core";
import { Type } from "typebox";
import { Address, Limit } from "./common.js";

/** Operators: the record, its creation and its changes. */

export const TargetLimit = Type.Object(
  {
    limit: Limit,
    mode: Type.Union([Type.Literal("soft"), Type.Literal("hard")], {
      description: "Both stop deposits at the limit; hard also puts the operator first in exit selection",
    }),
  },
  { additionalProperties: false, description: "Cap on the operator's staked keys" },
);

export const Operator = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    rewardAddress: Type.String(),
    active: Type.Boolean(),
    vettedLimit: Type.Integer({ description: "DAO-approved number of keys that may be deposited" }),
    targetLimit: Type.Union([TargetLimit, Type.Null()], { description: "null: no target limit" }),
    keys: Type.Record(Type.String(), Type.Integer(), { description: "Key counts by state" }),
    createdAt: Type.String({ format: "date-time" }),
    updatedAt: Type.String({ format: "date-time" }),
  },
  { $id: "Operator" },
);

export const OperatorName = Type.String({
  minLength: 1,
  maxLength: LIMITS.operatorNameLength,
  description: "No control, format (bidirectional, zero-width) or line-separator characters",
});

export const Reason = Type.String({
  minLength: 1,
  maxLength: LIMITS.reasonLength,
  description: "Why (lands in the audit log)",
});

export const CreateOperatorBody = Type.Object(
  {
    name: OperatorName,
    rewardAddress: Address,
    active: Type.Optional(Type.Boolean()),
    vettedLimit: Type.Optional(Limit),
    targetLimit: Type.Optional(Type.Union([TargetLimit, Type.Null()])),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);

export const UpdateOperatorBody = Type.Object(
  {
    name: Type.Optional(OperatorName),
    rewardAddress: Type.Optional(Address),
    active: Type.Optional(Type.Boolean()),
    vettedLimit: Type.Optional(Limit),
    targetLimit: Type.Optional(Type.Union([TargetLimit, Type.Null()])),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false, minProperties: 1 },
);
