import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { API_ROUTES, ErrorBody } from "@poolkeeper/contract";
import type { Logger } from "@poolkeeper/core";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import { makeAuthenticate, type TokenVerifier } from "./auth.js";
import { routeOptions } from "./contract-routes.js";
import { clientErrorHandler, errorHandler, frameworkErrorHandler, notFoundHandler } from "./errors.js";
import { Inflight } from "./inflight.js";
import { type ApiMetrics, createMetrics, type MetricsSources } from "./metrics.js";
import { dashboardRoutes } from "./routes/dashboard.js";

export type App = FastifyInstance<
  import("node:http").Server,
  import("node:http").IncomingMessage,
  import("node:http").ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface AdminApiConfig {
  /** Requests per client IP per window, on every route. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** Body limit of every route but the key upload. */
  bodyLimitBytes: number;
  /**
   * Body limit of POST /v1/operators/{id}/keys; undefined: `API_CAPS.uploadEntries` entries of the
   * largest valid size (see maxEntryBytes in upload-guard.ts).
   */
  uploadBodyLimitBytes: number | undefined;
  /** Key uploads per token per window (on top of the per-address limit). */
  uploadRateLimitMax: number;
  uploadRateLimitWindowMs: number;
  /** On close, how long to wait for running handlers and streams before the database closes. */
  closeGraceMs: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy you control). */
  trustProxy: boolean;
  /** How often an open exits stream reads the table, and its heartbeat comment (routes/exits.ts). */
  exitStreamPollMs: number;
  exitStreamHeartbeatMs: number;
  /** How long a public route's answer is reused (and its Cache-Control max-age); 0: not cached. */
  publicCacheTtlMs: number;
  /** Requests per client IP per window on each public route (`GET /v1/public/...`). */
  publicRateLimitMax: number;
}

export const DEFAULT_API_CONFIG: AdminApiConfig = {
  rateLimitMax: 600,
  rateLimitWindowMs: 60_000,
  bodyLimitBytes: 256 * 1024,
  uploadBodyLimitBytes: undefined,
  uploadRateLimitMax: 20,
  uploadRateLimitWindowMs: 60_000,
  closeGraceMs: 10_000,
  trustProxy: false,
  exitStreamPollMs: 1_000,
  exitStreamHeartbeatMs: 15_000,
  publicCacheTtlMs: 5_000,
  publicRateLimitMax: 300,
};

export interface AppContext {
  config: AdminApiConfig;
  metrics: ApiMetrics;
  inflight: Inflight;
}

export interface BaseDeps {
  logger: Logger;
  config?: Partial<AdminApiConfig>;
  tokens: TokenVerifier;
  metricsSources: MetricsSources;
  /** Readiness: throws (or returns a reason) when the database is not reachable or not migrated. */
  ready(): Promise<{ ok: true } | { ok: false; reason: string }>;
}

/** The fastify instance with logging, errors, auth, limits, metrics and OpenAPI; no routes yet. */
export async function buildBase(deps: BaseDeps): Promise<{ app: App; ctx: AppContext }> {
  const config: AdminApiConfig = { ...DEFAULT_API_CONFIG, ...deps.config };
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: false } },
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    logController: new ApiLogController(),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  const inflight = new Inflight();
  const metrics = createMetrics(deps.metricsSources, (e) =>
    deps.logger.warn(
      { err: { name: (e as Error).name, message: (e as Error).message } },
      "metrics source failed",
    ),
  );
  const ctx: AppContext = { config, metrics, inflight };

  app.decorateRequest("principal", null);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addSchema(ErrorBody);

  await app.register(rateLimit, {
    global: true,
    max: config.rateLimitMax,
    timeWindow: config.rateLimitWindowMs,
    errorResponseBuilder: (_req, context) => ({
      statusCode: 429,
      code: "ERR_RATE_LIMITED",
      message: `rate limit exceeded, retry in ${context.after}`,
      details: { limit: context.max },
    }),
  });

  // Authentication runs per route after the rate limit's hook (both added on route creation, in
  // this order), so a flood of bad tokens is limited before it reaches the database.
  const authenticate = makeAuthenticate(deps.tokens);
  app.addHook("onRoute", (route) => {
    const existing = route.onRequest;
    route.onRequest =
      existing === undefined
        ? [authenticate]
        : [...(Array.isArray(existing) ? existing : [existing]), authenticate];
    // Our own (async) API handlers are counted while they run, even after their client left.
    const access = (route.config as { access?: { roles: unknown } } | undefined)?.access;
    if (access !== undefined && access.roles !== "public") {
      const handler = route.handler as (this: unknown, ...args: unknown[]) => unknown;
      route.handler = async function (this: unknown, ...args: unknown[]) {
        inflight.begin();
        try {
          return await handler.apply(this, args);
        } finally {
          inflight.end();
        }
      } as typeof route.handler;
    }
  });
  app.addHook("onClose", async () => {
    if (!(await inflight.idle(config.closeGraceMs))) {
      deps.logger.warn({ running: inflight.count }, "closing with requests still running");
    }
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.requestDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "poolkeeper admin API",
        description:
          "Operators, keys, vetting, limits, MinFirst allocation and the DAO review of a liquid-staking pool.",
        version: "0.1.0",
      },
      components: {
        securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } },
      },
      security: [{ bearerAuth: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true }, config: { access: { roles: "public" } } }, async () =>
    app.swagger(),
  );

  app.route({ ...routeOptions(API_ROUTES.live), handler: async () => ({ status: "ok" as const }) });
  app.route({
    ...routeOptions(API_ROUTES.ready),
    handler: async (_request, reply) => {
      let r: { ok: true } | { ok: false; reason: string };
      try {
        r = await deps.ready();
      } catch (e) {
        r = { ok: false, reason: `database unreachable (${(e as Error).name})` };
      }
      if (r.ok) return { status: "ready" as const };
      return reply.status(503).send({ code: "ERR_UNAVAILABLE", message: r.reason, details: {} });
    },
  });
  app.route({
    ...routeOptions(API_ROUTES.metrics),
    handler: async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  });
  dashboardRoutes(app);
  return { app, ctx };
}

/**
 * What a request log line shows of a request: method, `url` as the path without its query string,
 * and the names of the query parameters (their values may be secrets).
 */
export function requestLogFields(request: FastifyRequest): Record<string, unknown> {
  const url = request.raw.url ?? "";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const names = q < 0 ? [] : [...new Set(new URLSearchParams(url.slice(q + 1)).keys())];
  return {
    method: request.method,
    url: path,
    ...(names.length > 0 ? { query: names } : {}),
    remoteAddress: request.ip,
  };
}

const CLIENT_GONE = new Set(["ERR_STREAM_PREMATURE_CLOSE", "ECONNRESET", "EPIPE"]);

/**
 * fastify's request log lines with the path and the names of query parameters only, never their
 * values (a token put in the query string must not reach the log); a client that went away before
 * its answer was written is logged at info, not as an error.
 */
class ApiLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.info({ request: requestLogFields(request) }, "incoming request");
  }

  override requestCompleted(
    error: Error | null | undefined,
    _request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const res = { statusCode: reply.statusCode };
    if (error === null || error === undefined) {
      reply.log.info({ res, responseTime: reply.elapsedTime }, "request completed");
      return;
    }
    const code = (error as { code?: unknown }).code;
    const err = { name: error.name, message: error.message, code };
    if (typeof code === "string" && CLIENT_GONE.has(code)) {
      reply.log.info(
        { res, err, responseTime: reply.elapsedTime },
        "client went away before the answer was written",
      );
    } else {
      reply.log.error({ res, err, responseTime: reply.elapsedTime }, "request errored");
    }
  }
}

/**
 * Close the app: stop accepting connections, let running requests finish (idle keep-alive
 * connections close at once), then, after `graceMs`, drop connections that are still open so that
 * a stuck client cannot hold the process past its shutdown deadline.
 */
export async function closeApp(app: App, graceMs: number): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), graceMs);
  timer.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}
