import { type TSchema, Type } from "typebox";

/** Shared TypeBox schemas: the one definition of each shape the API speaks. */

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: "Stable error code, e.g. ERR_VALIDATION" }),
    message: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: "Error", description: "Every error response" },
);

/** The error responses a route can give, for its OpenAPI description. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const s of [400, 401, 403, 429, ...statuses]) out[s] = ErrorBody;
  return out;
}

/** Lido keys-API style envelope: `{data, meta}`. */
export function envelope<T extends TSchema>(data: T) {
  return Type.Object({ data, meta: Type.Record(Type.String(), Type.Unknown()) });
}

export const Hex0x = (bytes: number, description?: string) =>
  Type.String({
    pattern: `^(0x)?[0-9a-fA-F]{${bytes * 2}}$`,
    description: description ?? `${bytes} bytes, hex (0x optional)`,
  });

export const Address = Type.String({
  pattern: "^0x[0-9a-fA-F]{40}$",
  description: "Execution-layer address (EIP-55 checksummed or all lowercase)",
});

export const Pubkey = Type.String({
  pattern: "^(0x)?[0-9a-fA-F]{96}$",
  description: "BLS public key, 48 bytes hex (0x optional)",
});

export const OperatorIdParam = Type.Object({
  id: Type.String({ pattern: "^[0-9]{1,18}$", description: "Operator id" }),
});

export const Limit = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });
