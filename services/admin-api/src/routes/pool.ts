import { API_ROUTES } from "@poolkeeper/contract";
import { LIMITS } from "@poolkeeper/core";
import type { App, AppContext } from "../app.js";
import { pageLimit, pageMetaBy, routeOptions } from "../contract-routes.js";
import type { PoolPort } from "../pool-port.js";

/** The pool ledger: totals, share rate history, accounts, and the admin's stake/withdraw/claim for the devnet and tests. */
export function poolRoutes(app: App, pool: PoolPort, _ctx: AppContext): void {
  app.route({
    ...routeOptions(API_ROUTES.getPool),
    handler: async () => ({ data: await pool.summary(), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.poolShareRate),
    handler: async (request) => {
      const { from, to } = request.query;
      const data = await pool.shareRateHistory({
        ...(from !== undefined ? { from: Number(from) } : {}),
        ...(to !== undefined ? { to: Number(to) } : {}),
      });
      return { data, meta: { count: data.length } };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.getAccount),
    handler: async (request) => ({ data: await pool.account(request.params.address), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.submitToPool),
    handler: async (request) => ({
      data: await pool.submit(request.body.account, request.body.amount),
      meta: {},
    }),
  });

  app.route({
    ...routeOptions(API_ROUTES.requestWithdrawal),
    handler: async (request) => ({
      data: await pool.requestWithdrawal(request.body.account, request.body.amount),
      meta: {},
    }),
  });

  app.route({
    ...routeOptions(API_ROUTES.claimWithdrawal),
    handler: async (request) => ({
      data: await pool.claim(request.body.account, Number(request.params.id)),
      meta: {},
    }),
  });

  app.route({
    ...routeOptions(API_ROUTES.getOperatorRewards),
    handler: async (request) => {
      // an operator token reaches here for its own operator only (the route's operatorParam)
      const limit = pageLimit(request.query.limit, LIMITS.listPage, LIMITS.listPageDefault);
      const { cursor } = request.query;
      const data = await pool.operatorRewards(Number(request.params.id), {
        limit,
        ...(cursor !== undefined ? { beforeRefSlot: Number(cursor) } : {}),
      });
      return { data, meta: pageMetaBy(data.reports, limit, (r) => r.refSlot) };
    },
  });
}
