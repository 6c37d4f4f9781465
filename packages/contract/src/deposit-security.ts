import { Type } from "typebox";

/** Deposit security (issue 13): batch release by guardians, pause and unpause. */

const Root = Type.String({ pattern: "^0x[0-9a-f]{64}$" });
const Sig = Type.String({ pattern: "^0x[0-9a-f]{192}$" });
const GuardianId = Type.String({ minLength: 1, maxLength: 64 });
const Slot = Type.Integer({ minimum: 0 });

export const GuardianDepositSignatureSchema = Type.Object(
  { guardianId: GuardianId, batchId: Slot, keysRoot: Root, blockRoot: Root, slot: Slot, signature: Sig },
  { additionalProperties: false },
);

export const ReleaseBody = Type.Object(
  {
    signatures: Type.Array(GuardianDepositSignatureSchema, { minItems: 1, maxItems: 64 }),
    /** What the poster checked (states, slots, counts, when). */
    checks: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

const EvidenceSchema = Type.Object(
  {
    source: Type.Union([
      Type.Literal("validator"),
      Type.Literal("pending_deposit"),
      Type.Literal("el_deposit"),
    ]),
    view: Type.String({ maxLength: 32 }),
    slot: Type.Union([Slot, Type.Null()]),
    credentials: Root,
    amountGwei: Type.String({ pattern: "^[0-9]{1,20}$" }),
    validatorIndex: Type.Union([Slot, Type.Null()]),
    depositIndex: Type.Union([Slot, Type.Null()]),
  },
  { additionalProperties: false },
);

export const RefusalBody = Type.Object(
  {
    refusal: Type.Object(
      {
        guardianId: GuardianId,
        batchId: Slot,
        keysRoot: Root,
        evidenceRoot: Root,
        slot: Slot,
        signature: Sig,
      },
      { additionalProperties: false },
    ),
    keys: Type.Array(
      Type.Object(
        {
          keyId: Type.Integer({ minimum: 1 }),
          pubkey: Type.String({ pattern: "^0x[0-9a-f]{96}$" }),
          evidence: EvidenceSchema,
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
);

export const PauseBody = Type.Object(
  { guardianId: GuardianId, slot: Slot, signature: Sig },
  { additionalProperties: false },
);

export const HeartbeatBody = Type.Object(
  { guardianId: GuardianId, slot: Slot, blockRoot: Root, signature: Sig },
  { additionalProperties: false },
);

export const UnpauseBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);

export const BatchSecuritySchema = Type.Object({
  status: Type.Union([Type.Literal("pending"), Type.Literal("released"), Type.Literal("refused")]),
  mode: Type.Union([Type.String(), Type.Null()]),
  quorum: Type.Union([Type.Integer(), Type.Null()]),
  releasedAt: Type.Union([Type.String(), Type.Null()]),
  releaseSlot: Type.Union([Type.Integer(), Type.Null()]),
  releaseBlockRoot: Type.Union([Type.String(), Type.Null()]),
  signers: Type.Array(Type.String()),
  refusedAt: Type.Union([Type.String(), Type.Null()]),
  refusedBy: Type.Union([Type.String(), Type.Null()]),
  refusedReason: Type.Union([Type.String(), Type.Null()]),
  messages: Type.Array(
    Type.Object({
      kind: Type.String(),
      guardianId: Type.String(),
      slot: Type.Integer(),
      blockRoot: Type.Union([Type.String(), Type.Null()]),
      receivedAt: Type.String(),
      checks: Type.Record(Type.String(), Type.Unknown()),
    }),
    {
      description:
        "Every guardian message accepted for the batch (release signatures with the checks their guardian ran, refusals)",
    },
  ),
  evidence: Type.Array(
    Type.Object({
      keyId: Type.Integer(),
      guardianId: Type.String(),
      source: Type.String(),
      view: Type.String(),
      slot: Type.Integer(),
      credentials: Type.String(),
      amountGwei: Type.String(),
    }),
  ),
});

export const SecurityStatusSchema = Type.Object({
  enabled: Type.Boolean({
    description: "false: no guardians configured, batches are released at allocation",
  }),
  paused: Type.Boolean(),
  pausedBy: Type.Union([Type.String(), Type.Null()]),
  pauseSlot: Type.Union([Type.Integer(), Type.Null()]),
  pauseReason: Type.Union([Type.String(), Type.Null()]),
  pausedAt: Type.Union([Type.String(), Type.Null()]),
  lastUnpauseSlot: Type.Union([Type.Integer(), Type.Null()]),
  unpausedBy: Type.Union([Type.String(), Type.Null()]),
  unpauseReason: Type.Union([Type.String(), Type.Null()]),
  unpausedAt: Type.Union([Type.String(), Type.Null()]),
  currentSlot: Type.Integer(),
  quorum: Type.Union([Type.Integer(), Type.Null()]),
  maxAgeSlots: Type.Union([Type.Integer(), Type.Null()]),
  pauseExpirySlots: Type.Union([Type.Integer(), Type.Null()]),
  guardians: Type.Array(
    Type.Object({
      id: Type.String(),
      publicKey: Type.String(),
      lastSeenSlot: Type.Union([Type.Integer(), Type.Null()]),
      lastSeenAt: Type.Union([Type.String(), Type.Null()]),
      silent: Type.Boolean(),
    }),
  ),
  pendingBatches: Type.Array(Type.Integer()),
});

export const PendingBatchSchema = Type.Object({
  id: Type.Integer(),
  keysRoot: Type.String(),
  keys: Type.Array(
    Type.Object({
      keyId: Type.Integer(),
      operatorId: Type.Integer(),
      pubkey: Type.String(),
      withdrawalCredentials: Type.String(),
    }),
  ),
});

export const PendingBatchesSchema = Type.Object({
  /** The pool's withdrawal credentials and the network's genesis fork version (what guardians check against). */
  withdrawalCredentials: Type.String(),
  genesisForkVersion: Type.String(),
  currentSlot: Type.Integer(),
  maxAgeSlots: Type.Integer(),
  batches: Type.Array(PendingBatchSchema),
});
