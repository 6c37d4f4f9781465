import { API_ROUTES } from "@poolkeeper/contract";
import { LIMITS } from "@poolkeeper/core";
import type { DepositSecurity } from "@poolkeeper/deposit-security";
import type { App, AppContext } from "../app.js";
import { actorOf, principalOf } from "../auth.js";
import { pageLimit, pageMeta, routeOptions } from "../contract-routes.js";
import type { RegistryPort } from "../port.js";

export function allocationRoutes(
  app: App,
  registry: RegistryPort,
  ctx: AppContext,
  security: DepositSecurity,
): void {
  app.route({
    ...routeOptions(API_ROUTES.simulateAllocation),
    handler: async (request) => {
      const r = await registry.simulateAllocation({
        count: request.body.count,
        proposedLimits: request.body.limits ?? [],
      });
      return { data: r, meta: {} };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.allocateDepositBatch),
    handler: async (request, reply) => {
      const p = principalOf(request);
      const batch = await registry.allocateDepositBatch(request.body.count, { actor: actorOf(p) });
      ctx.metrics.allocationBatches.inc();
      ctx.metrics.allocatedKeys.inc(batch.keyCount);
      // pending until guardians release it (without guardians: released now, 'unguarded')
      await security.afterAllocation(batch.id);
      const withSecurity = { ...batch, security: await security.batchSecurity(batch.id) };
      return reply.status(201).send({ data: withSecurity, meta: { count: batch.keyCount } });
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.listDepositBatches),
    handler: async (request) => {
      const q = request.query;
      const limit = pageLimit(q.limit, LIMITS.listPage, LIMITS.listPageDefault);
      const data = await registry.listBatches({
        limit,
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      });
      return { data, meta: pageMeta(data, limit) };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.getDepositBatch),
    handler: async (request) => {
      const id = Number(request.params.id);
      const batch = await registry.getBatch(id);
      return { data: { ...batch, security: await security.batchSecurity(id) }, meta: {} };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.getDepositDataFile),
    handler: async (request, reply) => {
      const id = Number(request.params.id);
      // handed out for sending only once released through deposit security
      await security.assertReleased(id);
      const text = await registry.batchDepositDataFile(id);
      // Sent as text: the file's bytes are the format (separators, key order), not a re-serialisation.
      return reply
        .type("application/json; charset=utf-8")
        .header("content-disposition", `attachment; filename="deposit_data-batch-${id}.json"`)
        .serializer((x: unknown) => x as string)
        .send(text as never);
    },
  });
}
