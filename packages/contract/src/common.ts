import { DB_INTEGER_MAX } from "@poolkeeper/core";
import { type TLiteral, type TSchema, type TUnion, Type } from "typebox";

/** Shapes shared by the resources of the admin API. */

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: "Stable error code, e.g. ERR_VALIDATION" }),
    message: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: "Error", description: "Every error response" },
);

/** Lido keys-API style envelope: `{data, meta}`. */
export function envelope<T extends TSchema>(data: T) {
  return Type.Object({ data, meta: Type.Record(Type.String(), Type.Unknown()) });
}

/** `meta` of a page: how many items it holds and the `cursor` of the next one. */
export const PageMeta = Type.Object({
  count: Type.Integer({ description: "Items in this answer" }),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: "`cursor` of the next page; null: this was the last one",
  }),
});

/** A page of a list: `{data: [...], meta: {count, nextCursor}}`; nextCursor null at the end. */
export function listEnvelope<T extends TSchema>(item: T, description?: string) {
  return Type.Object({
    data: Type.Array(item, description === undefined ? {} : { description }),
    meta: PageMeta,
  });
}

export const Address = Type.String({
  pattern: "^0x[0-9a-fA-F]{40}$",
  description: "Execution-layer address (EIP-55 checksummed or all lowercase)",
});

export const Pubkey = Type.String({
  pattern: "^(0x)?[0-9a-fA-F]{96}$",
  description: "BLS public key, 48 bytes hex (0x optional)",
});

export const OperatorId = Type.String({ pattern: "^[0-9]{1,18}$", description: "Operator id" });
export const OperatorIdParam = Type.Object({ id: OperatorId });

/** Largest id of an `integer` column (operators, keys, batches). */
export const MAX_INT4 = DB_INTEGER_MAX;

/** A decimal id in a query string: digits only (no sign, exponent or leading zeros). */
export const IdQuery = (description: string) =>
  Type.String({ pattern: "^(0|[1-9][0-9]{0,9})$", description: `${description} (at most ${MAX_INT4})` });

/** A count or limit in a body: 0 to the largest integer column. */
export const Limit = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });

/** `limit` of a list: a page size from 1 to `max`. */
export const PageLimit = (max: number, what: string) =>
  Type.String({ pattern: "^[1-9][0-9]{0,9}$", description: `${what}, at most ${max}` });

type Literals<T extends readonly string[]> = T extends readonly [
  infer H extends string,
  ...infer R extends readonly string[],
]
  ? [TLiteral<H>, ...Literals<R>]
  : [];

/** `anyOf` the literal values of a word list (key states, alert kinds), typed as their union. */
export function oneOf<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<Literals<T>>;
}
