import { API_ROUTES } from "@poolkeeper/contract";
import { LIMITS } from "@poolkeeper/core";
import type { App, AppContext } from "../app.js";
import { routeOptions } from "../contract-routes.js";
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
      const limit = Math.min(Number(q.limit ?? LIMITS.listPageDefault), LIMITS.listPage);
      const data = await registry.audit({
        limit,
        ...(q.before !== undefined ? { cursor: q.before } : {}),
        ...(q.target !== undefined ? { target: q.target } : {}),
      });
      return { data, meta: { count: data.length } };
    },
  });
}
