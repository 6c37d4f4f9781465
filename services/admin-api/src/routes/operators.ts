import { API_ROUTES } from "@poolkeeper/contract";
import type { App, AppContext } from "../app.js";
import { actorOf, principalOf } from "../auth.js";
import { routeOptions } from "../contract-routes.js";
import { ForbiddenError } from "../errors.js";
import type { RegistryPort } from "../port.js";

/** Fields the DAO may change; the rest of an operator's record is the admins'. */
const DAO_FIELDS = new Set(["vettedLimit", "targetLimit", "reason"]);

export function operatorRoutes(app: App, registry: RegistryPort, _ctx: AppContext): void {
  app.route({
    ...routeOptions(API_ROUTES.listOperators),
    handler: async (request) => {
      const p = principalOf(request);
      // key counts come from the registry's per-operator counters (O(operators), not O(keys))
      const data =
        p.role === "operator"
          ? [await registry.getOperator(Number(p.operatorId))]
          : await registry.listOperators();
      return { data, meta: { count: data.length } };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.createOperator),
    handler: async (request, reply) => {
      const p = principalOf(request);
      const { reason, ...input } = request.body;
      const op = await registry.createOperator(input, { actor: actorOf(p), ...(reason ? { reason } : {}) });
      return reply.status(201).send({ data: op, meta: {} });
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.getOperator),
    handler: async (request) => {
      const op = await registry.getOperator(Number(request.params.id));
      return { data: op, meta: {} };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.updateOperator),
    handler: async (request) => {
      const p = principalOf(request);
      if (p.role === "dao") {
        const denied = Object.keys(request.body).filter((k) => !DAO_FIELDS.has(k));
        if (denied.length > 0) {
          throw new ForbiddenError(`role dao may change limits only, not ${denied.join(", ")}`);
        }
      }
      const { reason, ...patch } = request.body;
      const op = await registry.updateOperator(Number(request.params.id), patch, {
        actor: actorOf(p),
        ...(reason ? { reason } : {}),
      });
      return { data: op, meta: {} };
    },
  });
}
