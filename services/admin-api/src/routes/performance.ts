import { ValidationError } from "@poolkeeper/core";
import { Type } from "typebox";
import type { App, AppContext } from "../app.js";
import { assertOperatorScope, principalOf } from "../auth.js";
import { ForbiddenError, NotFoundError } from "../errors.js";
import { type PerformancePort, WINDOWS } from "../performance-port.js";
import { envelope, errorResponses, Pubkey } from "../schemas.js";
import {
  AlertKindSchema,
  AlertView,
  OperatorsPerformance,
  ValidatorHistory,
} from "../schemas-performance.js";

const OperatorQuery = Type.String({ pattern: "^[0-9]{1,9}$", description: "Operator id" });
const EpochQuery = (description: string) => Type.String({ pattern: "^[0-9]{1,10}$", description });

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
  app.get(
    "/v1/performance/operators",
    {
      schema: {
        tags: ["performance"],
        summary: "Operators' scores and duty counts over a window, with the network's figure",
        description:
          "Per operator with duties in the window: Rated-style effectiveness (attester, proposer, combined 5/8 + 3/8), Lido CSM duty-weighted performance (54/8/2), duty counts and the difference to the network's own figure over the same epochs. The window is the last 1, 7 or 30 days of epochs up to the last processed one; `range` says which epochs that was and how many of them the watcher processed. An operator token sees its own operator only.",
        querystring: Type.Object(
          {
            window: Type.Optional(
              Type.Union(
                WINDOWS.map((w) => Type.Literal(w)),
                { description: "Default 1d" },
              ),
            ),
            operator: Type.Optional(OperatorQuery),
          },
          { additionalProperties: false },
        ),
        response: { 200: envelope(OperatorsPerformance), ...errorResponses() },
      },
      config: { access: { roles: ["admin", "dao", "operator"] } },
    },
    async (request) => {
      const operatorId = scopedOperator(principalOf(request), request.query.operator);
      const data = await perf.operators(request.query.window ?? "1d", operatorId);
      return { data, meta: { count: data.operators.length } };
    },
  );

  app.get(
    "/v1/performance/validators/:pubkey",
    {
      schema: {
        tags: ["performance"],
        summary: "One validator's epoch history",
        description:
          "Per processed epoch, newest first: attestation (included or missed, inclusion delay, source/target/head correct), proposals (proposed, missed or orphaned), sync participation, balance change, status and events; with totals and scores over the range. Without from/to: the last day of epochs. At most 10000 epochs per request. An operator token may only read its own operator's validators.",
        params: Type.Object({ pubkey: Pubkey }),
        querystring: Type.Object(
          {
            from: Type.Optional(EpochQuery("First epoch (inclusive)")),
            to: Type.Optional(EpochQuery("Last epoch (inclusive)")),
          },
          { additionalProperties: false },
        ),
        response: { 200: envelope(ValidatorHistory), ...errorResponses(404) },
      },
      config: { access: { roles: ["admin", "dao", "operator"] } },
    },
    async (request) => {
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
  );

  app.get(
    "/v1/alerts",
    {
      schema: {
        tags: ["performance"],
        summary: "Alerts stored by the watcher, newest first",
        description:
          "Filters: operator, kind, since (ISO 8601 date-time). Pages with limit (default 100, at most 1000) and before (meta.nextCursor). An operator token sees its own operator's alerts only.",
        querystring: Type.Object(
          {
            operator: Type.Optional(OperatorQuery),
            kind: Type.Optional(AlertKindSchema),
            since: Type.Optional(
              Type.String({
                format: "date-time",
                description: "Alerts created at or after, e.g. 2026-11-24T00:00:00Z",
              }),
            ),
            limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$", description: "At most 1000" })),
            before: Type.Optional(
              Type.String({ pattern: "^[0-9]{1,15}$", description: "Alerts older than this id" }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: envelope(Type.Array(AlertView)), ...errorResponses() },
      },
      config: { access: { roles: ["admin", "dao", "operator"] } },
    },
    async (request) => {
      const q = request.query;
      const operatorId = scopedOperator(principalOf(request), q.operator);
      const limit = Math.min(Number(q.limit ?? 100), 1000);
      const since = q.since === undefined ? undefined : new Date(q.since);
      if (since !== undefined && Number.isNaN(since.getTime())) {
        throw new ValidationError("querystring.since", "is not a date-time");
      }
      const data = await perf.alerts({
        ...(operatorId !== undefined ? { operatorId } : {}),
        ...(q.kind !== undefined ? { kind: q.kind } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(q.before !== undefined ? { before: Number(q.before) } : {}),
        limit,
      });
      const last = data.at(-1);
      return {
        data,
        meta: {
          count: data.length,
          nextCursor: data.length === limit && last !== undefined ? String(last.id) : null,
        },
      };
    },
  );
}
