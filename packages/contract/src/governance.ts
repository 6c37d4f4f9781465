import { Type } from "typebox";
import { oneOf } from "./common.js";
import { Reason } from "./operators.js";

/** Governance (issue 14): proposals, DAO approvals and the governed parameters. */

const Hash = Type.String({ pattern: "^0x[0-9a-f]{64}$" });
const Date_ = Type.String({ format: "date-time" });
const NullableDate = Type.Union([Date_, Type.Null()]);
const BlsSignature = Type.String({
  pattern: "^0x[0-9a-f]{192}$",
  description: "BLS signature (lower-case hex) of a DAO member: `poolkeeper governance sign`",
});
export const PROPOSAL_STATUSES = ["pending", "approved", "executed", "cancelled"] as const;

export const ProposalIdParam = Type.Object({
  id: Type.String({ pattern: "^[1-9][0-9]{0,17}$", description: "Proposal id" }),
});

export const ProposalBody = Type.Object(
  {
    kind: Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        "What changes: a governed parameter (fee, oracle.members, …) or an action (operator.add, …)",
    }),
    value: Type.Unknown({ description: "The new value, checked by the kind's own schema" }),
    reason: Reason,
  },
  { additionalProperties: false },
);

export const SignatureBody = Type.Object(
  {
    memberId: Type.String({ minLength: 1, maxLength: 64, description: "The DAO member who signs" }),
    signature: BlsSignature,
  },
  { additionalProperties: false },
);

export const Proposal = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  value: Type.Unknown(),
  changeHash: Type.String({
    description: "sha256 of the canonical JSON of {kind, value}: what members sign",
  }),
  reason: Type.String(),
  author: Type.String({ description: "The token that proposed it (token:<id>:<role>)" }),
  status: oneOf(PROPOSAL_STATUSES),
  approvals: Type.Array(
    Type.Object({ memberId: Type.String(), signature: Type.String(), approvedAt: Date_ }),
  ),
  quorum: Type.Integer(),
  createdAt: Date_,
  approvedAt: NullableDate,
  executableAt: Type.Union([Date_, Type.Null()], {
    description: "When the timelock ends (set by the approval that reaches the quorum)",
  }),
  executedAt: NullableDate,
  executedBy: Type.Union([Type.String(), Type.Null()]),
  cancelledAt: NullableDate,
  cancelledBy: Type.Union([Type.String(), Type.Null()]),
});

export const ProposalsQuery = Type.Object(
  {
    status: Type.Optional(oneOf(PROPOSAL_STATUSES)),
    limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,9}$", description: "Page size" })),
    cursor: Type.Optional(
      Type.String({ pattern: "^[0-9]{1,18}$", description: "meta.nextCursor of the previous page" }),
    ),
  },
  { additionalProperties: false },
);

export const GovernanceParameters = Type.Object({
  poolId: Type.String({ description: "What every DAO signature is bound to (chain and pool)" }),
  dao: Type.Object({
    members: Type.Array(Type.Object({ id: Type.String(), publicKey: Type.String() })),
    quorum: Type.Integer(),
  }),
  timelockSeconds: Type.Integer(),
  limitStep: Type.Integer({ description: "Limit changes up to this many keys stay immediate" }),
  parameters: Type.Array(
    Type.Object({
      name: Type.String(),
      value: Type.Unknown(),
      proposalId: Type.Union([Type.Integer(), Type.Null()], { description: "null: the genesis value" }),
      setAt: Date_,
    }),
  ),
  kinds: Type.Array(
    Type.Object({
      kind: Type.String(),
      type: oneOf(["parameter", "action"] as const),
      description: Type.String(),
    }),
  ),
});

export const GovernanceHistoryEntry = Type.Object({
  seq: Type.Integer(),
  name: Type.String(),
  value: Type.Unknown(),
  proposalId: Type.Union([Type.Integer(), Type.Null()]),
  at: Date_,
});

/** Re-exported for clients that check a change hash themselves. */
export const ChangeHash = Hash;
