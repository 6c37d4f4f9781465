import { API_ROUTES } from "@poolkeeper/contract";
import { LIMITS } from "@poolkeeper/core";
import type { App, AppContext } from "../app.js";
import { actorOf, principalOf } from "../auth.js";
import { pageLimit, pageMeta, routeOptions } from "../contract-routes.js";
import type { GovernancePort } from "../governance-port.js";

/** Proposals (DAO and admin tokens carry them; DAO members' signatures decide) and the governed parameters. */
export function governanceRoutes(app: App, gov: GovernancePort, _ctx: AppContext): void {
  app.route({
    ...routeOptions(API_ROUTES.listProposals),
    handler: async (request) => {
      const limit = pageLimit(request.query.limit, LIMITS.listPage, LIMITS.listPageDefault);
      const before = request.query.cursor === undefined ? undefined : Number(request.query.cursor);
      const data = await gov.list({
        limit,
        ...(before !== undefined ? { before } : {}),
        ...(request.query.status !== undefined ? { status: request.query.status } : {}),
      });
      return { data, meta: pageMeta(data, limit) };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.createProposal),
    handler: async (request, reply) => {
      const data = await gov.propose(request.body, actorOf(principalOf(request)));
      return reply.status(201).send({ data, meta: {} });
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.getProposal),
    handler: async (request) => ({ data: await gov.get(Number(request.params.id)), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.approveProposal),
    handler: async (request) => ({
      data: await gov.approve(Number(request.params.id), request.body),
      meta: {},
    }),
  });

  app.route({
    ...routeOptions(API_ROUTES.cancelProposal),
    handler: async (request) => ({
      data: await gov.cancel(Number(request.params.id), request.body),
      meta: {},
    }),
  });

  app.route({
    ...routeOptions(API_ROUTES.executeProposal),
    handler: async (request) => ({
      data: await gov.execute(Number(request.params.id), actorOf(principalOf(request))),
      meta: {},
    }),
  });

  app.route({
    ...routeOptions(API_ROUTES.getGovernanceParameters),
    handler: async () => ({ data: await gov.parameters(), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.getGovernanceHistory),
    handler: async () => {
      const data = await gov.history();
      return { data, meta: { count: data.length, nextCursor: null } };
    },
  });
}
