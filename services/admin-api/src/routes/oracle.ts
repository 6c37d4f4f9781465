import { API_ROUTES, FRAME_KEYS_PAGE } from "@poolkeeper/contract";
import { LIMITS } from "@poolkeeper/core";
import type { App, AppContext } from "../app.js";
import { pageLimit, pageMetaBy, routeOptions } from "../contract-routes.js";
import type { OraclePort } from "../oracle-port.js";

/** Oracle members' votes (role `oracle`) and the decided reports (admin, DAO). */
export function oracleRoutes(app: App, oracle: OraclePort, _ctx: AppContext): void {
  app.route({
    ...routeOptions(API_ROUTES.submitOracleVote),
    handler: async (request) => ({ data: await oracle.submitVote(request.body), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.listOracleReports),
    handler: async (request) => {
      const limit = pageLimit(request.query.limit, LIMITS.listPage, LIMITS.listPageDefault);
      const before = request.query.cursor === undefined ? undefined : Number(request.query.cursor);
      const data = await oracle.reports(limit, before);
      return { data, meta: pageMetaBy(data, limit, (r) => r.refSlot) };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.getOracleReport),
    handler: async (request) => ({ data: await oracle.report(Number(request.params.refSlot)), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.getOracleSetup),
    handler: async () => ({ data: await oracle.setup(), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.getPoolIdentity),
    handler: async () => ({ data: await oracle.identity(), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.getOracleFrame),
    handler: async (request) => ({ data: await oracle.frame(Number(request.params.refSlot)), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.listOracleFrameKeys),
    handler: async (request) => {
      const limit = pageLimit(request.query.limit, FRAME_KEYS_PAGE, FRAME_KEYS_PAGE);
      const after = request.query.cursor === undefined ? 0 : Number(request.query.cursor);
      const data = await oracle.frameKeys(Number(request.params.refSlot), after, limit);
      const last = data.at(-1);
      return {
        data,
        meta: {
          count: data.length,
          nextCursor: data.length === limit && last !== undefined ? String(last.id) : null,
        },
      };
    },
  });
}
