import { Readable } from "node:stream";
import { API_ROUTES, DepositDataEntry } from "@poolkeeper/contract";
import { API_CAPS, PoolkeeperError } from "@poolkeeper/core";
import { notFound } from "@poolkeeper/registry";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { App, AppContext } from "../app.js";
import { actorOf, assertOperatorScope, principalOf } from "../auth.js";
import { pageLimit, queryId, routeOptions } from "../contract-routes.js";
import type { KeyFilter, RegistryPort } from "../port.js";
import { JsonEntryCounter, PayloadTooLargeError, UploadGate, uploadBodyLimit } from "../upload-guard.js";

/** The largest valid entry: every string at its schema's maximum length, 32 ETH in gwei. */
export const MAXIMAL_DEPOSIT_ENTRY: Record<string, unknown> = Object.fromEntries(
  Object.entries(DepositDataEntry.properties).map(([name, schema]) => [
    name,
    "maxLength" in schema ? "f".repeat(schema.maxLength as number) : 32_000_000_000,
  ]),
);

/** An array is an upload, an object inside it an entry: nothing nests deeper. */
const UPLOAD_MAX_DEPTH = 2;

/**
 * Read one item ahead: the next page is fetched from the database while the current one is being
 * written to the socket. At most two pages are in memory.
 */
export async function* aheadByOne<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  let done = false;
  try {
    for (;;) {
      const r = await next;
      if (r.done === true) {
        done = true;
        return;
      }
      next = it.next();
      yield r.value;
    }
  } finally {
    if (!done) {
      // Stopped early (client gone, or an error): let the pending read settle, then close the source.
      await next.then(
        () => undefined,
        () => undefined,
      );
      await it.return?.();
    }
  }
}

/** The keys list as one JSON document `{data: [...], meta}`, written page by page. */
async function* keysJson(chunks: AsyncIterable<string>, meta: () => Record<string, unknown>) {
  yield '{"data":[';
  let first = true;
  for await (const c of chunks) {
    yield first ? c : `,${c}`;
    first = false;
  }
  yield `],"meta":${JSON.stringify(meta())}}`;
}

export function keyRoutes(app: App, registry: RegistryPort, ctx: AppContext): void {
  const maxKeys = API_CAPS.uploadEntries;
  const uploadLimit = ctx.config.uploadBodyLimitBytes ?? uploadBodyLimit(MAXIMAL_DEPOSIT_ENTRY, maxKeys);
  const limiter = app.createRateLimit({
    max: ctx.config.uploadRateLimitMax,
    timeWindow: ctx.config.uploadRateLimitWindowMs,
    keyGenerator: (request) => `upload:${principalOf(request).tokenId}`,
  });
  async function uploadRateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const r = await limiter(request);
    if (r.isAllowed || !r.isExceeded) return;
    void reply.header("retry-after", String(r.ttlInSeconds));
    throw new PoolkeeperError(
      "ERR_RATE_LIMITED",
      `key uploads: at most ${r.max} per ${Math.round(r.timeWindow / 1000)} s per token, retry in ${r.ttlInSeconds} s`,
      { limit: r.max, retryAfterSeconds: r.ttlInSeconds },
    );
  }
  const uploads = new UploadGate();
  const slots = new WeakMap<FastifyRequest, { release: () => void; released: boolean; running: boolean }>();
  /**
   * Take the operator's upload slot before the body is read. It is freed when the handler ends,
   * or when the response closes first (refused body, client gone) and the handler never ran.
   */
  function holdUploadSlot(request: FastifyRequest, reply: FastifyReply, operatorId: string): void {
    const release = uploads.tryAcquire(operatorId);
    if (release === undefined) {
      throw new PoolkeeperError(
        "ERR_UPLOAD_IN_PROGRESS",
        `operator ${operatorId}: another key upload is running; retry when it has finished`,
        { operatorId },
      );
    }
    const slot = {
      released: false,
      running: false,
      release() {
        slot.released = true;
        release();
      },
    };
    slots.set(request, slot);
    reply.raw.once("close", () => {
      if (!slot.running) slot.release();
    });
  }
  /** The handler starts: false when the slot was already given up (the client left meanwhile). */
  function runUploadSlot(request: FastifyRequest): boolean {
    const slot = slots.get(request);
    if (slot === undefined || slot.released) return false;
    slot.running = true;
    return true;
  }

  app.route({
    ...routeOptions(API_ROUTES.uploadKeys),
    bodyLimit: uploadLimit,
    // Before the body is read: the per-token rate limit, the declared size, one upload per
    // operator; while it is read: the entry count (JSON.parse never sees more than the limit).
    preParsing: [
      uploadRateLimit,
      async (request, reply, payload) => {
        const declared = Number(request.headers["content-length"]);
        if (declared > uploadLimit) {
          throw new PayloadTooLargeError(
            `body: ${declared} bytes is more than the ${uploadLimit} bytes that ${maxKeys} entries need`,
            { reason: "too large", limit: uploadLimit },
          );
        }
        holdUploadSlot(request, reply, request.params.id);
        return payload.pipe(new JsonEntryCounter(maxKeys, UPLOAD_MAX_DEPTH));
      },
    ],
    handler: async (request, reply) => {
      const p = principalOf(request);
      if (!runUploadSlot(request)) {
        throw new PoolkeeperError("ERR_CLIENT_ABORTED", "the upload was abandoned by its client", {});
      }
      try {
        const result = await registry.uploadKeys(Number(request.params.id), request.body, {
          actor: actorOf(p),
        });
        return reply.status(201).send({ data: result, meta: {} });
      } finally {
        slots.get(request)?.release();
      }
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.removeKey),
    handler: async (request, reply) => {
      const p = principalOf(request);
      const reason = request.query.reason;
      await registry.removeKey(Number(request.params.id), request.params.pubkey, {
        actor: actorOf(p),
        ...(reason ? { reason } : {}),
      });
      return reply.status(204).send(null);
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.vetKeys),
    handler: async (request) => {
      const p = principalOf(request);
      const reason = request.body?.reason;
      const r = await registry.vetKeys(Number(request.params.id), {
        actor: actorOf(p),
        ...(reason ? { reason } : {}),
      });
      return { data: r, meta: {} };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.listKeys),
    handler: async (request, reply) => {
      const p = principalOf(request);
      const q = request.query;
      // Every parameter is checked before the answer starts: once the 200 is sent, an error can
      // only cut the body.
      let operatorId = q.operator === undefined ? undefined : queryId(q.operator, "operator");
      const cursor = q.cursor === undefined ? undefined : queryId(q.cursor, "cursor");
      if (p.role === "operator") {
        if (operatorId !== undefined) assertOperatorScope(p, String(operatorId));
        operatorId = Number(p.operatorId);
      }
      const limit = pageLimit(q.limit, API_CAPS.keysPage);
      const filter: KeyFilter = {
        ...(operatorId !== undefined ? { operatorId } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
        ...(limit !== undefined ? { limit } : {}),
      };
      const list = registry.streamKeysJson(filter);
      // The first page is read before the status is sent, so that a database that refuses the
      // query (or is down) gets its own error answer instead of a cut 200.
      const pages = list.chunks[Symbol.asyncIterator]();
      const first = await pages.next();
      async function* rest(): AsyncGenerator<string> {
        if (first.done === true) return;
        try {
          yield first.value;
          for (let r = await pages.next(); r.done !== true; r = await pages.next()) yield r.value;
        } finally {
          await pages.return?.();
        }
      }
      const stream = Readable.from(
        keysJson(rest(), () => ({ count: list.count(), nextCursor: list.nextCursor() })),
        {
          objectMode: false,
        },
      );
      stream.on("error", (e) =>
        request.log.error({ err: { name: e.name, message: e.message } }, "keys stream failed"),
      );
      // The stream reads the database after the handler returned: count it until it closes.
      ctx.inflight.begin();
      stream.once("close", () => ctx.inflight.end());
      // A stream is written as it is read (fastify does not serialise streams); the schema above documents it.
      return reply.type("application/json; charset=utf-8").send(stream as never);
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.getKey),
    handler: async (request) => {
      const p = principalOf(request);
      const key = await registry.getKey(request.params.pubkey);
      // Another operator's key answers exactly as an unknown one: an operator cannot probe which keys exist.
      if (p.role === "operator" && String(key.operatorId) !== p.operatorId) throw notFound("key", key.key);
      return { data: key, meta: {} };
    },
  });
}
