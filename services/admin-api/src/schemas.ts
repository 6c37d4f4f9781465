import { DB_INTEGER_MAX, ValidationError } from "@poolkeeper/core";
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

/** Largest id of an `integer` column (operators, keys, batches). */
export const MAX_INT4 = DB_INTEGER_MAX;

/** A decimal id in a query string: digits only (no sign, exponent or leading zeros). */
export const IdQuery = (description: string) =>
  Type.String({ pattern: "^(0|[1-9][0-9]{0,9})$", description: `${description} (at most ${MAX_INT4})` });

/** The value of an IdQuery parameter, range-checked: a 400 naming the field, not a database error. */
export function queryId(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_INT4) {
    throw new ValidationError(`querystring.${field}`, `must be a whole number from 0 to ${MAX_INT4}`);
  }
  return n;
}

export const Limit = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });
