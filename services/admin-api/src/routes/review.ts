import { API_ROUTES } from "@poolkeeper/contract";
import { LIMITS } from "@poolkeeper/core";
import type { App, AppContext } from "../app.js";
import { pageLimit, pageMeta, routeOptions } from "../contract-routes.js";
import type { RegistryPort } from "../port.js";

export function reviewRoutes(app: App, registry: RegistryPort, _ctx: AppContext): void {
  app.route({
    ...routeOptions(API_ROUTES.getReview),
    handler: async () => ({ data: await registry.review(), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.listAudit),
    handler: async (request) => {
      const q = request.query;
      const limit = pageLimit(q.limit, LIMITS.listPage, LIMITS.listPageDefault);
      const data = await registry.audit({
        limit,
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.target !== undefined ? { target: q.target } : {}),
      });
      return { data, meta: pageMeta(data, limit) };
    },
  });
}
