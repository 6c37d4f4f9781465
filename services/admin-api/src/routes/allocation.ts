import { API_CAPS, LIMITS } from "@poolkeeper/core";
import { Type } from "typebox";
import type { App, AppContext } from "../app.js";
import { actorOf, principalOf } from "../auth.js";
import type { RegistryPort } from "../port.js";
import { envelope, errorResponses, Limit } from "../schemas.js";
import { DepositBatch, DepositBatchSummary, Simulation } from "../schemas-review.js";
import { TargetLimit } from "./operators.js";

/** One operator's proposed limits (the body field `limits` is the list of them). */
const ProposedLimits = Type.Object(
  {
    operatorId: Type.Integer({ minimum: 0 }),
    vettedLimit: Type.Optional(Limit),
    targetLimit: Type.Optional(Type.Union([TargetLimit, Type.Null()])),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export function allocationRoutes(app: App, registry: RegistryPort, ctx: AppContext): void {
  app.post(
    "/v1/allocation/simulate",
    {
      schema: {
        tags: ["allocation"],
        summary: "Dry run: allocate `count` deposits under proposed limits; nothing changes",
        description: "Returns per-operator figures and the pool's concentration before and after.",
        body: Type.Object(
          {
            count: Type.Integer({ minimum: 1, maximum: LIMITS.allocationCount }),
            limits: Type.Optional(Type.Array(ProposedLimits, { maxItems: API_CAPS.simulationProposals })),
          },
          { additionalProperties: false },
        ),
        response: { 200: envelope(Simulation), ...errorResponses(404, 422) },
      },
      config: { access: { roles: ["admin", "dao"] } },
    },
    async (request) => {
      const r = await registry.simulateAllocation({
        count: request.body.count,
        proposedLimits: request.body.limits ?? [],
      });
      return { data: r, meta: {} };
    },
  );

  app.post(
    "/v1/deposits/batches",
    {
      schema: {
        tags: ["deposits"],
        summary: "Allocate the next `count` deposits (MinFirst) and mark their keys deposited",
        description:
          "One transaction under a pool-wide lock: concurrent calls never receive the same key. Fewer depositable keys than `count`: 409 ERR_NO_CAPACITY and nothing changes.",
        body: Type.Object(
          { count: Type.Integer({ minimum: 1, maximum: API_CAPS.depositBatchKeys }) },
          { additionalProperties: false },
        ),
        response: { 201: envelope(DepositBatch), ...errorResponses(409, 422) },
      },
      config: { access: { roles: ["admin"] } },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { batch, keyCount } = await registry.allocateDepositBatch(request.body.count, {
        actor: actorOf(p),
      });
      ctx.metrics.allocationBatches.inc();
      ctx.metrics.allocatedKeys.inc(keyCount);
      return reply.status(201).send({ data: batch, meta: { count: keyCount } });
    },
  );

  app.get(
    "/v1/deposits/batches",
    {
      schema: {
        tags: ["deposits"],
        summary: "Deposit batches, newest first",
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$", description: "At most 1000" })),
            before: Type.Optional(
              Type.String({ pattern: "^[0-9]{1,9}$", description: "Batches older than this id" }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: envelope(Type.Array(DepositBatchSummary)), ...errorResponses() },
      },
      config: { access: { roles: ["admin", "dao"] } },
    },
    async (request) => {
      const limit = Math.min(Number(request.query.limit ?? 100), 1000);
      const data = await registry.listBatches(limit, request.query.before);
      return { data, meta: { count: data.length } };
    },
  );

  app.get(
    "/v1/deposits/batches/:id",
    {
      schema: {
        tags: ["deposits"],
        summary: "One deposit batch with its keys' deposit data",
        params: Type.Object({ id: Type.String({ pattern: "^[0-9]{1,9}$", description: "Batch id" }) }),
        response: { 200: envelope(DepositBatch), ...errorResponses(404) },
      },
      config: { access: { roles: ["admin", "dao"] } },
    },
    async (request) => ({ data: await registry.getBatch(Number(request.params.id)), meta: {} }),
  );

  app.get(
    "/v1/deposits/batches/:id/deposit_data",
    {
      schema: {
        tags: ["deposits"],
        summary: "One deposit batch as a deposit_data.json file",
        description:
          "The batch's keys in batch order, in the deposit_data.json format the deposit CLIs write and the staking launchpad reads (`poolkeeper keys verify` checks it).",
        params: Type.Object({ id: Type.String({ pattern: "^[0-9]{1,9}$", description: "Batch id" }) }),
        response: {
          200: Type.Array(Type.Object({}, { additionalProperties: true })),
          ...errorResponses(404),
        },
      },
      config: { access: { roles: ["admin", "dao"] } },
    },
    async (request, reply) => {
      const id = Number(request.params.id);
      const text = await registry.batchDepositDataFile(id);
      // Sent as text: the file's bytes are the format (separators, key order), not a re-serialisation.
      return reply
        .type("application/json; charset=utf-8")
        .header("content-disposition", `attachment; filename="deposit_data-batch-${id}.json"`)
        .serializer((x: unknown) => x as string)
        .send(text as never);
    },
  );
}
