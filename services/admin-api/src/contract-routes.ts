import { ErrorBody, MAX_INT4, type RouteSpec } from "@poolkeeper/contract";
import { ValidationError } from "@poolkeeper/core";
import type { TSchema } from "typebox";

/**
 * A route of the contract's table (@poolkeeper/contract API_ROUTES) as fastify route options:
 * method, url, the schemas (validation, the type provider's types, OpenAPI) and the access rule.
 * A route file spreads it into `app.route({...routeOptions(API_ROUTES.x), handler})`, so its
 * request and reply types come from the contract, checked by the compiler.
 */

type Field<R, K extends string> = R extends { [P in K]: infer S extends TSchema } ? S : undefined;

/** Every route may answer 400 (bad input), 401, 403 and 429. */
const COMMON_ERRORS = [400, 401, 403, 429] as const;

export interface RouteSchemaOf<R extends RouteSpec> {
  tags: string[];
  summary: string;
  description?: string;
  security?: never[];
  params: Field<R, "params">;
  querystring: Field<R, "querystring">;
  body: Field<R, "body">;
  response: R["response"] & {
    [S in (typeof COMMON_ERRORS)[number] | R["errors"][number]]: typeof ErrorBody;
  };
}

export function routeOptions<const R extends RouteSpec>(spec: R) {
  const response: Record<number, TSchema> = { ...spec.response };
  for (const s of [...COMMON_ERRORS, ...spec.errors]) response[s] = ErrorBody;
  const schema = {
    tags: [...spec.tags],
    summary: spec.summary,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.access.roles === "public" ? { security: [] } : {}),
    ...(spec.params !== undefined ? { params: spec.params } : {}),
    ...(spec.querystring !== undefined ? { querystring: spec.querystring } : {}),
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    response,
  } as unknown as RouteSchemaOf<R>;
  return {
    method: spec.method,
    url: spec.url,
    schema,
    config: {
      access: {
        roles: spec.access.roles,
        ...(spec.access.operatorParam !== undefined ? { operatorParam: spec.access.operatorParam } : {}),
      },
    },
  };
}

/** The value of an id query parameter, range-checked: a 400 naming the field, not a database error. */
export function queryId(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_INT4) {
    throw new ValidationError(`querystring.${field}`, `must be a whole number from 0 to ${MAX_INT4}`);
  }
  return n;
}

/** The `limit` query parameter of a list: 1 to `max` (a 400 naming it above), `fallback` when absent. */
export function pageLimit(value: string | undefined, max: number, fallback: number): number;
export function pageLimit(value: string | undefined, max: number): number | undefined;
export function pageLimit(value: string | undefined, max: number, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new ValidationError("querystring.limit", `must be a whole number from 1 to ${max}`);
  }
  return n;
}

/** meta of a page read newest first: a full page may have more after it, a short one is the end. */
export function pageMeta(items: readonly { id: number | string }[], limit: number) {
  return pageMetaBy(items, limit, (x) => x.id);
}

/** `pageMeta` of items whose cursor is `cursorOf(item)` (a ref slot, …). */
export function pageMetaBy<T>(items: readonly T[], limit: number, cursorOf: (item: T) => number | string) {
  const last = items.at(-1);
  return {
    count: items.length,
    nextCursor: items.length === limit && last !== undefined ? String(cursorOf(last)) : null,
  };
}
