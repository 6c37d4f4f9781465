import type { Static, TSchema } from "typebox";
import { ApiError, CONTRACT_ERRORS } from "./errors.js";
import { API_ROUTES, type ApiRoutes, type RouteSpec } from "./routes.js";

/**
 * A typed client of the admin API, built from the route table: one method per route, named as in
 * `API_ROUTES`, taking that route's path parameters, query and body and resolving to its success
 * answer. An error answer throws `ApiError` (code, status, message; never the token).
 */

/** Path and query values may be given as numbers; they are sent as decimal text. */
type Loose<T> = { [K in keyof T]: T[K] extends string | undefined ? T[K] | number : T[K] };

type ParamsIn<R> = R extends { params: infer P extends TSchema } ? { params: Loose<Static<P>> } : unknown;
type QueryIn<R> = R extends { querystring: infer Q extends TSchema } ? { query?: Loose<Static<Q>> } : unknown;
type BodyIn<R> = R extends { body: infer B extends TSchema } ? { body: Static<B> } : unknown;

/** What a route's method takes. */
export type RouteInput<R> = ParamsIn<R> & QueryIn<R> & BodyIn<R>;

type SuccessSchema<R> = R extends { response: infer M }
  ? M[Extract<keyof M, 200 | 201 | 204>] extends infer S extends TSchema
    ? S
    : never
  : never;

/** What a route's method resolves to: the success body (`text` routes: the text; 204: null). */
export type RouteResult<R> = R extends { format: "text" } ? string : Static<SuccessSchema<R>>;

type Method<R> =
  Record<string, never> extends RouteInput<R>
    ? (input?: RouteInput<R>) => Promise<RouteResult<R>>
    : (input: RouteInput<R>) => Promise<RouteResult<R>>;

export type ApiClient = { readonly [K in keyof ApiRoutes]: Method<ApiRoutes[K]> };

export interface ApiClientOptions {
  /** e.g. `http://127.0.0.1:8080` (no trailing path). */
  baseUrl: string;
  /** A bearer token (`pk_…`); public routes are called without it. */
  token?: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

interface ErrorAnswer {
  code?: unknown;
  message?: unknown;
  details?: unknown;
}

interface AnyInput {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

/** The path of `spec` with its parameters filled in (each one URL-encoded). */
export function routePath(spec: RouteSpec, params: Record<string, string | number> = {}): string {
  return spec.url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new TypeError(`${spec.method} ${spec.url}: path parameter ${name} missing`);
    return encodeURIComponent(String(v));
  });
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, "");
  const token = options.token;
  const doFetch = options.fetch ?? fetch;

  async function call(spec: RouteSpec, input: AnyInput = {}): Promise<unknown> {
    let path = routePath(spec, input.params);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined) query.set(k, String(v));
    const qs = query.toString();
    if (qs !== "") path += `?${qs}`;
    const route = `${spec.method} ${spec.url}`;
    const headers: Record<string, string> = {};
    if (token !== undefined && spec.access.roles !== "public") headers.authorization = `Bearer ${token}`;
    const hasBody = spec.body !== undefined && input.body !== undefined;
    if (hasBody) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method: spec.method,
        headers,
        ...(hasBody ? { body: JSON.stringify(input.body) } : {}),
      });
    } catch (e) {
      throw new ApiError(
        route,
        0,
        CONTRACT_ERRORS.UNREACHABLE,
        `no answer from ${base} (${(e as Error).message})`,
        {},
        { cause: e },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let body: ErrorAnswer | null;
      try {
        body = JSON.parse(text) as ErrorAnswer | null;
      } catch {
        body = null;
      }
      if (body !== null && typeof body.code === "string" && typeof body.message === "string") {
        const details =
          typeof body.details === "object" && body.details !== null
            ? (body.details as Record<string, unknown>)
            : {};
        throw new ApiError(route, res.status, body.code, body.message, details);
      }
      throw new ApiError(
        route,
        res.status,
        CONTRACT_ERRORS.BAD_ANSWER,
        `an error answer that is not an API error body (${res.statusText})`,
      );
    }
    if (spec.format === "text") return text;
    if (res.status === 204 || text === "") return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ApiError(
        route,
        res.status,
        CONTRACT_ERRORS.BAD_ANSWER,
        "the answer is not JSON",
        {},
        { cause: e },
      );
    }
  }

  const client: Record<string, (input?: AnyInput) => Promise<unknown>> = {};
  for (const [name, spec] of Object.entries(API_ROUTES) as [string, RouteSpec][]) {
    client[name] = (input) => call(spec, input);
  }
  return client as unknown as ApiClient;
}
