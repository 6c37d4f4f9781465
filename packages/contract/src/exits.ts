import { Type } from "typebox";
import { IdQuery, oneOf, Pubkey } from "./common.js";

/**
 * Exit requests (issue 12, docs/architecture.md "Exits"): the pool asks an operator to exit one of
 * its validators (withdrawals an oracle report could not pay otherwise, or a DAO/admin decision);
 * the operator's daemon signs and submits the voluntary exit and reports its progress; a request
 * past its deadline is escalated by the pool with an EIP-7002 withdrawal request.
 */

export const EXIT_REASONS = ["withdrawals", "dao", "admin"] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/**
 * requested → signed → submitted → exiting → exited; requested|signed|submitted → late →
 * triggered → exiting → exited.
 */
export const EXIT_STATES = [
  "requested",
  "signed",
  "submitted",
  "late",
  "triggered",
  "exiting",
  "exited",
] as const;
export type ExitState = (typeof EXIT_STATES)[number];

/** The states of a request still waiting for the chain to show an exit epoch. */
export const OPEN_EXIT_STATES = ["requested", "signed", "submitted", "late"] as const;

export const EXIT_PROGRESS_STAGES = ["signed", "submitted", "failed"] as const;
export type ExitProgressStage = (typeof EXIT_PROGRESS_STAGES)[number];

export const ExitHistoryEntry = Type.Object({
  state: Type.String({ description: "The state entered, or `failed` for an operator's failed attempt" }),
  at: Type.String({ format: "date-time" }),
  actor: Type.String(),
  detail: Type.Union([Type.String(), Type.Null()]),
});

export const ExitRequest = Type.Object(
  {
    id: Type.Integer(),
    operatorId: Type.Integer(),
    keyId: Type.Integer(),
    pubkey: Type.String({ description: "0x + 96 hex" }),
    validatorIndex: Type.Integer(),
    reason: oneOf(EXIT_REASONS),
    note: Type.Union([Type.String(), Type.Null()], { description: "Why (the DAO's or admin's reason)" }),
    requestedAt: Type.String({ format: "date-time" }),
    refSlot: Type.Union([Type.Integer(), Type.Null()], { description: "The oracle report that asked" }),
    requestedEpoch: Type.Integer(),
    deadlineEpoch: Type.Integer({ description: "requestedEpoch + EXIT_DEADLINE_EPOCHS" }),
    state: oneOf(EXIT_STATES),
    exitedBy: Type.Union([Type.Literal("voluntary"), Type.Literal("triggered"), Type.Null()]),
    exitEpoch: Type.Union([Type.Integer(), Type.Null()]),
    history: Type.Optional(Type.Array(ExitHistoryEntry, { description: "Oldest first" })),
  },
  { $id: "ExitRequest" },
);

export const ExitIdParam = Type.Object({
  id: Type.String({ pattern: "^[0-9]{1,10}$", description: "Exit request id" }),
});

export const ExitsQuery = Type.Object(
  {
    operatorId: Type.Optional(IdQuery("Only this operator's requests")),
    state: Type.Optional(oneOf(EXIT_STATES)),
    limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,9}$", description: "Page size" })),
    cursor: Type.Optional(
      Type.String({ pattern: "^[0-9]{1,10}$", description: "meta.nextCursor of the previous page" }),
    ),
  },
  { additionalProperties: false },
);

export const CreateExitBody = Type.Object(
  {
    pubkey: Type.Optional(Pubkey),
    validatorIndex: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
    reason: Type.String({ minLength: 1, maxLength: 200, description: "Why, recorded in the audit log" }),
  },
  { additionalProperties: false, description: "Exactly one of pubkey and validatorIndex" },
);

export const ExitProgressBody = Type.Object(
  {
    stage: oneOf(EXIT_PROGRESS_STAGES),
    detail: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, description: "Never the signed exit itself" },
);

/** One server-sent event of the exits stream (the client's view). */
export interface ServerSentEvent {
  event: string;
  id: string | null;
  data: string;
}
