import { Readable } from "node:stream";
import { API_CAPS, LIMITS, PoolkeeperError } from "@poolkeeper/core";
import { notFound } from "@poolkeeper/registry";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { App, AppContext } from "../app.js";
import { actorOf, assertOperatorScope, principalOf } from "../auth.js";
import { KEY_STATES, type KeyFilter, type RegistryPort } from "../port.js";
import { envelope, errorResponses, IdQuery, OperatorIdParam, Pubkey, queryId } from "../schemas.js";
import { JsonEntryCounter, PayloadTooLargeError, UploadGate, uploadBodyLimit } from "../upload-guard.js";

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

/** The largest valid entry: every string at its schema's maximum length, 32 ETH in gwei. */
export const MAXIMAL_DEPOSIT_ENTRY: Record<string, unknown> = Object.fromEntries(
  Object.entries(DepositDataEntry.properties).map(([name, schema]) => [
    name,
    "maxLength" in schema ? "f".repeat(schema.maxLength as number) : 32_000_000_000,
  ]),
);

/** An array is an upload, an object inside it an entry: nothing nests deeper. */
const UPLOAD_MAX_DEPTH = 2;

export const Key = Type.Object(
  {
    id: Type.Integer({ description: "Key id: upload order across the registry (the list's cursor)" }),
    key: Type.String({ description: "BLS public key, 0x-prefixed" }),
    depositSignature: Type.String(),
    operatorId: Type.Integer(),
    state: Type.String(),
    used: Type.Boolean({ description: "Deposited (or later)" }),
  },
  { $id: "Key" },
);

const KeyEvent = Type.Object({
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.String(),
  actor: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: "date-time" }),
});

const KeyDetail = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  depositSignature: Type.String(),
  operatorId: Type.Integer(),
  state: Type.String(),
  used: Type.Boolean(),
  withdrawalCredentials: Type.String(),
  depositDataRoot: Type.String(),
  uploadedBy: Type.Union([Type.String(), Type.Null()], {
    description: "Actor of the upload (token and operator): the first upload of a key wins",
  }),
  uploadedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  history: Type.Array(KeyEvent),
});

const KeysQuery = Type.Object(
  {
    operator: Type.Optional(IdQuery("Operator id")),
    state: Type.Optional(Type.Union(KEY_STATES.map((s) => Type.Literal(s)))),
    cursor: Type.Optional(IdQuery("meta.nextCursor of the previous page")),
    limit: Type.Optional(
      Type.String({ pattern: "^[1-9][0-9]{0,8}$", description: "Page size; without it every key streams" }),
    ),
  },
  { additionalProperties: false },
);

const Reason = Type.String({ minLength: 1, maxLength: LIMITS.reasonLength });

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

  app.post(
    "/v1/operators/:id/keys",
    {
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
      schema: {
        tags: ["keys"],
        summary: "Upload deposit data (the deposit_data.json array): all or nothing",
        description:
          "Every entry is validated before anything is stored (launchpad checks with batch BLS verification, the pool's withdrawal credentials and network, 32 ETH, no duplicates here or in the registry). Any failure: 422 with `details.failures` listing each bad entry and its reasons.",
        params: OperatorIdParam,
        body: Type.Array(DepositDataEntry, { minItems: 1, maxItems: maxKeys }),
        response: {
          201: envelope(
            Type.Object({
              operatorId: Type.Integer(),
              count: Type.Integer(),
              firstKeyId: Type.Integer(),
              lastKeyId: Type.Integer(),
            }),
          ),
          ...errorResponses(404, 409, 413, 422, 429),
        },
      },
      config: { access: { roles: ["admin", "operator"], operatorParam: "id" } },
    },
    async (request, reply) => {
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
  );

  app.delete(
    "/v1/operators/:id/keys/:pubkey",
    {
      schema: {
        tags: ["keys"],
        summary: "Remove a key that was never deposited",
        params: Type.Object({ id: OperatorIdParam.properties.id, pubkey: Pubkey }),
        querystring: Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorResponses(404, 409) },
      },
      config: { access: { roles: ["admin", "operator"], operatorParam: "id" } },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const reason = request.query.reason;
      await registry.removeKey(Number(request.params.id), request.params.pubkey, {
        actor: actorOf(p),
        ...(reason ? { reason } : {}),
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/v1/operators/:id/keys/vet",
    {
      schema: {
        tags: ["keys"],
        summary: "Vet submitted keys in upload order, up to the operator's vetted limit",
        params: OperatorIdParam,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false })),
        response: { 200: envelope(Type.Object({ vetted: Type.Integer() })), ...errorResponses(404, 409) },
      },
      config: { access: { roles: ["admin", "dao"] } },
    },
    async (request) => {
      const p = principalOf(request);
      const reason = request.body?.reason;
      const r = await registry.vetKeys(Number(request.params.id), {
        actor: actorOf(p),
        ...(reason ? { reason } : {}),
      });
      return { data: r, meta: {} };
    },
  );

  app.get(
    "/v1/keys",
    {
      schema: {
        tags: ["keys"],
        summary: "List keys, streamed",
        description:
          "Streams `{data: Key[], meta: {count, nextCursor}}` as it reads the database, in constant memory. Without `limit` every matching key is returned; with it, one page and `meta.nextCursor` for the next. An operator token sees its own keys only.",
        querystring: KeysQuery,
        response: { 200: envelope(Type.Array(Key)), ...errorResponses() },
      },
      config: { access: { roles: ["admin", "dao", "operator"] } },
    },
    async (request, reply) => {
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
      const limit = q.limit === undefined ? undefined : Math.min(Number(q.limit), API_CAPS.keysPage);
      const filter: KeyFilter = {
        ...(operatorId !== undefined ? { operatorId } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(cursor !== undefined ? { cursor: String(cursor) } : {}),
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
  );

  app.get(
    "/v1/keys/:pubkey",
    {
      schema: {
        tags: ["keys"],
        summary: "One key with its state history",
        params: Type.Object({ pubkey: Pubkey }),
        response: { 200: envelope(KeyDetail), ...errorResponses(404) },
      },
      config: { access: { roles: ["admin", "dao", "operator"] } },
    },
    async (request) => {
      const p = principalOf(request);
      const key = await registry.getKey(request.params.pubkey);
      // Another operator's key answers exactly as an unknown one: an operator cannot probe which keys exist.
      if (p.role === "operator" && String(key.operatorId) !== p.operatorId) throw notFound("key", key.key);
      // The first event is the upload: who uploaded the key first, and when (see README: key squatting).
      const upload = key.history.find((e) => e.from === null);
      return {
        data: { ...key, uploadedBy: upload?.actor ?? null, uploadedAt: upload?.at ?? null },
        meta: {},
      };
    },
  );
}
