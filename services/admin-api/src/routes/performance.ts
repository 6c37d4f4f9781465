import { API_ROUTES } from "@poolkeeper/contract";
import { LIMITS, ValidationError } from "@poolkeeper/core";
import type { App, AppContext } from "../app.js";
import { assertOperatorScope, principalOf } from "../auth.js";
import { pageLimit, pageMeta, routeOptions } from "../contract-routes.js";
import { ForbiddenError, NotFoundError } from "../errors.js";
import type { PerformancePort } from "../performance-port.js";

/** The operator filter a principal may use: an operator token is held to its own operator. */
function scopedOperator(
  p: ReturnType<typeof principalOf>,
  requested: string | undefined,
): number | undefined {
  if (p.role !== "operator") return requested === undefined ? undefined : Number(requested);
  if (requested !== undefined) assertOperatorScope(p, String(Number(requested)));
  return Number(p.operatorId);
}

export function performanceRoutes(app: App, perf: PerformancePort, _ctx: AppContext): void {
  app.route({
    ...routeOptions(API_ROUTES.operatorsPerformance),
    handler: async (request) => {
      const operatorId = scopedOperator(principalOf(request), request.query.operator);
      const data = await perf.operators(request.query.window ?? "1d", operatorId);
      return { data, meta: { count: data.operators.length } };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.performanceHistory),
    handler: async (request) => {
      const operatorId = scopedOperator(principalOf(request), request.query.operator);
      const data = await perf.history(request.query.window ?? "7d", operatorId);
      return { data, meta: { count: data.points.length } };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.validatorHistory),
    handler: async (request) => {
      const p = principalOf(request);
      const { pubkey } = request.params;
      const v = await perf.findValidator(pubkey);
      if (v === null) throw new NotFoundError("validator", pubkey);
      if (p.role === "operator" && String(v.operatorId) !== p.operatorId) {
        throw new ForbiddenError(`this token may only read validators of operator ${p.operatorId}`);
      }
      const { from, to } = request.query;
      const data = await perf.validatorHistory(pubkey, {
        ...(from !== undefined ? { from: Number(from) } : {}),
        ...(to !== undefined ? { to: Number(to) } : {}),
      });
      if (data === null) throw new NotFoundError("validator", pubkey);
      return { data, meta: { count: data.epochs.length } };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.listAlerts),
    handler: async (request) => {
      const q = request.query;
      const operatorId = scopedOperator(principalOf(request), q.operator);
      const limit = pageLimit(q.limit, LIMITS.listPage, LIMITS.listPageDefault);
      const since = q.since === undefined ? undefined : new Date(q.since);
      if (since !== undefined && Number.isNaN(since.getTime())) {
        throw new ValidationError("querystring.since", "is not a date-time");
      }
      const data = await perf.alerts({
        ...(operatorId !== undefined ? { operatorId } : {}),
        ...(q.kind !== undefined ? { kind: q.kind } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(q.cursor !== undefined ? { before: Number(q.cursor) } : {}),
        limit,
      });
      return { data, meta: pageMeta(data, limit) };
    },
  });
}
