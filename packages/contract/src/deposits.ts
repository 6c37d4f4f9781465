import { API_CAPS, LIMITS } from "@poolkeeper/core";
import { Type } from "typebox";
import { Limit } from "./common.js";
import { BatchSecuritySchema } from "./deposit-security.js";
import { TargetLimit } from "./operators.js";
import { Concentration } from "./review.js";

/** Deposit batches and the allocation's dry run. */

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
  security: Type.Optional(BatchSecuritySchema),
});

export const AllocateBody = Type.Object(
  { count: Type.Integer({ minimum: 1, maximum: API_CAPS.depositBatchKeys }) },
  { additionalProperties: false },
);

/** One operator's proposed limits (the body field `limits` is the list of them). */
export const ProposedLimits = Type.Object(
  {
    operatorId: Type.Integer({ minimum: 0 }),
    vettedLimit: Type.Optional(Limit),
    targetLimit: Type.Optional(Type.Union([TargetLimit, Type.Null()])),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const SimulateBody = Type.Object(
  {
    count: Type.Integer({ minimum: 1, maximum: LIMITS.allocationCount }),
    limits: Type.Optional(Type.Array(ProposedLimits, { maxItems: API_CAPS.simulationProposals })),
  },
  { additionalProperties: false },
);

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

export const BatchIdParam = Type.Object({
  id: Type.String({ pattern: "^[0-9]{1,9}$", description: "Batch id" }),
});

/** The deposit_data.json file of a batch (sent as the file's own bytes). */
export const DepositDataFile = Type.Array(Type.Object({}, { additionalProperties: true }));
