import type { Static, TSchema } from "typebox";
import { ApiError, CONTRACT_ERRORS } from "./errors.js";
import type { ServerSentEvent } from "./exits.js";
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

/** An `sse` route also takes the id of the last event seen (sent as Last-Event-ID) and an abort signal. */
type StreamIn<R> = R extends { format: "sse" }
  ? { lastEventId?: string | number; signal?: AbortSignal }
  : unknown;

/** What a route's method takes. */
export type RouteInput<R> = ParamsIn<R> & QueryIn<R> & BodyIn<R> & StreamIn<R>;

type SuccessSchema<R> = R extends { response: infer M }
  ? M[Extract<keyof M, 200 | 201 | 204>] extends infer S extends TSchema
    ? S
    : never
  : never;

/** What a route's method resolves to: the success body (`text` routes: the text; 204: null). */
export type RouteResult<R> = R extends { format: "text" }
  ? string
  : R extends { format: "sse" }
    ? AsyncIterable<ServerSentEvent>
    : Static<SuccessSchema<R>>;

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
  lastEventId?: string | number;
  signal?: AbortSignal;
}

/**
 * The events of a text/event-stream body as they arrive (the WHATWG parsing rules: `field: value`
 * lines, a blank line ends an event, comment lines start with `:`). Ends when the body ends.
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let id: string | null = null;
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let nl = buffer.search(/\r?\n/); nl >= 0; nl = buffer.search(/\r?\n/)) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(buffer[nl] === "\r" ? nl + 2 : nl + 1);
      if (line === "") {
        if (data.length > 0) yield { event, id, data: data.join("\n") };
        event = "message";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
  }
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
    if (spec.format === "sse") {
      headers.accept = "text/event-stream";
      if (input.lastEventId !== undefined) headers["last-event-id"] = String(input.lastEventId);
    }
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method: spec.method,
        headers,
        ...(hasBody ? { body: JSON.stringify(input.body) } : {}),
        ...(input.signal !== undefined ? { signal: input.signal } : {}),
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
    if (spec.format === "sse" && res.ok && res.body !== null) return readServerSentEvents(res.body);
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
