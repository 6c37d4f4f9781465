import { ValidationError } from "./errors.js";

/** Largest value of a PostgreSQL `integer` column: operator ids, counts and limits. */
export const DB_INTEGER_MAX = 2_147_483_647;
/** Largest `bigint` (BIGSERIAL) id that a JavaScript number holds exactly: API token ids. */
export const DB_BIGINT_ID_MAX = Number.MAX_SAFE_INTEGER;

/**
 * A database id given by a user (a number, or the digits of a flag or an argument), checked before
 * it reaches SQL: a whole number from 1 to `max` (default: an `integer` column). The registry's
 * `checkId` (and so every API route) applies the same range; `field` names the option.
 */
export function parseId(value: unknown, field: string, max: number = DB_INTEGER_MAX): number {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^[0-9]{1,16}$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new ValidationError(field, `must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}
