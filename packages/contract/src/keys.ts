import { API_CAPS, KEY_STATES, LIMITS } from "@poolkeeper/core";
import { Type } from "typebox";
import { IdQuery, oneOf, PageLimit } from "./common.js";

/** Keys: the upload (deposit_data.json entries), the key list and one key with its history. */

const HexField = (maxLength: number, description: string) => Type.String({ maxLength, description });

/**
 * One deposit_data.json entry. The schema checks types and bounds only; the registry checks the
 * content of every entry (hex, lengths, signatures, credentials, fork, amount, duplicates) and
 * answers 422 with a reason per entry, so one upload reports every bad entry at once.
 */
export const DepositDataEntry = Type.Object(
  {
    pubkey: HexField(98, "BLS public key, 48 bytes hex"),
    withdrawal_credentials: HexField(66, "32 bytes hex: must equal the pool's credentials"),
    amount: Type.Integer({ minimum: 0, description: "gwei: 32000000000" }),
    signature: HexField(194, "BLS signature, 96 bytes hex"),
    deposit_message_root: HexField(66, "32 bytes hex"),
    deposit_data_root: HexField(66, "32 bytes hex"),
    fork_version: HexField(10, "4 bytes hex: the pool network's GENESIS_FORK_VERSION"),
    network_name: Type.Optional(Type.String({ maxLength: LIMITS.depositDataLabelLength })),
    deposit_cli_version: Type.Optional(Type.String({ maxLength: LIMITS.depositDataLabelLength })),
  },
  { $id: "DepositDataEntry" },
);

export const UploadResult = Type.Object({
  operatorId: Type.Integer(),
  count: Type.Integer(),
  firstKeyId: Type.Integer(),
  lastKeyId: Type.Integer(),
});

export const KeyStateSchema = oneOf(KEY_STATES, { description: "Key state" });

export const Key = Type.Object(
  {
    id: Type.Integer({ description: "Key id: upload order across the registry (the list's cursor)" }),
    key: Type.String({ description: "BLS public key, 0x-prefixed" }),
    depositSignature: Type.String(),
    operatorId: Type.Integer(),
    state: KeyStateSchema,
    used: Type.Boolean({ description: "Deposited (or later)" }),
  },
  { $id: "Key" },
);

export const KeyEvent = Type.Object({
  from: Type.Union([KeyStateSchema, Type.Null()]),
  to: KeyStateSchema,
  actor: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: "date-time" }),
});

export const KeyDetail = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  depositSignature: Type.String(),
  operatorId: Type.Integer(),
  state: KeyStateSchema,
  used: Type.Boolean(),
  withdrawalCredentials: Type.String(),
  depositDataRoot: Type.String(),
  uploadedBy: Type.Union([Type.String(), Type.Null()], {
    description: "Actor of the upload (token and operator): the first upload of a key wins",
  }),
  uploadedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  chainDeposit: Type.Union(
    [
      Type.Object({
        slot: Type.Integer({ description: "Slot of the block that carried the deposit request" }),
        amountGwei: Type.String({ description: "Gwei, decimal" }),
        withdrawalCredentials: Type.String({
          description: "The chain's credentials, 0x-prefixed (different from the key's: a front-run deposit)",
        }),
        seenEpoch: Type.Integer({ description: "The epoch whose finalized state showed it first" }),
      }),
      Type.Null(),
    ],
    {
      description:
        "The key's deposit as the chain first showed it: a pending deposit (Electra and later) seen by the watcher; null before",
    },
  ),
  history: Type.Array(KeyEvent),
});

export const KeysQuery = Type.Object(
  {
    operator: Type.Optional(IdQuery("Operator id")),
    state: Type.Optional(KeyStateSchema),
    cursor: Type.Optional(IdQuery("meta.nextCursor of the previous page")),
    limit: Type.Optional(PageLimit(API_CAPS.keysPage, "Page size; without it every key streams")),
  },
  { additionalProperties: false },
);

export const VetResult = Type.Object({ vetted: Type.Integer() });
