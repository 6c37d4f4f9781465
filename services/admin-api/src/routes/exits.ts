import { API_ROUTES } from "@poolkeeper/contract";
import { LIMITS, ValidationError } from "@poolkeeper/core";
import type { App, AppContext } from "../app.js";
import { actorOf, assertOperatorScope, principalOf } from "../auth.js";
import { pageLimit, pageMeta, queryId, routeOptions } from "../contract-routes.js";
import { ForbiddenError, NotFoundError } from "../errors.js";
import type { ExitsPort } from "../exits-port.js";

/** Exit requests: the list, one with its history, a DAO/admin request, the operator's stream and progress. */
export function exitRoutes(app: App, exits: ExitsPort, ctx: AppContext): void {
  // each open stream reads the table (requests of other replicas and of the oracle's decisions)
  // and writes a heartbeat comment so that proxies and the client see it alive
  const pollMs = ctx.config.exitStreamPollMs;
  const heartbeatMs = ctx.config.exitStreamHeartbeatMs;
  const streams = new Set<() => void>();
  app.addHook("preClose", async () => {
    for (const end of [...streams]) end();
  });

  app.route({
    ...routeOptions(API_ROUTES.listExits),
    handler: async (request) => {
      const p = principalOf(request);
      const q = request.query;
      let operatorId = q.operatorId !== undefined ? queryId(q.operatorId, "operatorId") : undefined;
      if (p.role === "operator") {
        if (operatorId !== undefined) assertOperatorScope(p, String(operatorId));
        operatorId = Number(p.operatorId);
      }
      const limit = pageLimit(q.limit, LIMITS.listPage, LIMITS.listPageDefault);
      const data = await exits.list({
        limit,
        ...(operatorId !== undefined ? { operatorId } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(q.cursor !== undefined ? { beforeId: queryId(q.cursor, "cursor") } : {}),
      });
      return { data, meta: pageMeta(data, limit) };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.getExit),
    handler: async (request) => {
      const p = principalOf(request);
      const data = await exits.get(queryId(request.params.id, "id"));
      if (p.role === "operator" && String(data.operatorId) !== p.operatorId) {
        throw new ForbiddenError(`this token may only act for operator ${p.operatorId}`);
      }
      return { data, meta: {} };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.createExit),
    handler: async (request, reply) => {
      const p = principalOf(request);
      const { pubkey, validatorIndex, reason } = request.body;
      if ((pubkey === undefined) === (validatorIndex === undefined)) {
        throw new ValidationError("body.pubkey", "give exactly one of pubkey and validatorIndex");
      }
      const data = await exits.create(
        pubkey !== undefined ? { pubkey } : { validatorIndex: validatorIndex! },
        {
          role: p.role === "dao" ? "dao" : "admin",
          actor: actorOf(p),
          reason,
        },
      );
      return reply.status(201).send({ data, meta: {} });
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.reportExitProgress),
    handler: async (request) => {
      const p = principalOf(request);
      const body = request.body;
      const data = await exits.progress(
        queryId(request.params.id, "id"),
        { stage: body.stage, ...(body.detail !== undefined ? { detail: body.detail } : {}) },
        { operatorId: Number(p.operatorId), actor: actorOf(p) },
      );
      return { data, meta: {} };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.streamOperatorExits),
    handler: async (request, reply) => {
      const operatorId = queryId(request.params.id, "id");
      if (!(await exits.operatorExists(operatorId))) throw new NotFoundError("operator", String(operatorId));
      const header = request.headers["last-event-id"];
      const last =
        typeof header === "string" && /^[0-9]{1,10}$/.test(header.trim()) ? Number(header.trim()) : 0;
      const sent = new Set<number>();
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      raw.write(": exits stream\n\n");
      ctx.inflight.begin();
      let closed = false;
      let reading = false;
      let again = false;
      // Every open request above Last-Event-ID not sent yet: a request committed late with a lower
      // id than one already sent is still sent (ids are given at insert, not at commit).
      const push = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            const open = await exits.openAfter(operatorId, last);
            for (const r of open) {
              if (closed || sent.has(r.id)) continue;
              sent.add(r.id);
              raw.write(`event: exit_requested\nid: ${r.id}\ndata: ${JSON.stringify(r)}\n\n`);
            }
          } while (again && !closed);
        } catch (e) {
          request.log.warn({ err: e instanceof Error ? e.message : String(e) }, "exits stream read failed");
        } finally {
          reading = false;
        }
      };
      const poll = setInterval(() => void push(), pollMs);
      const beat = setInterval(() => raw.write(": heartbeat\n\n"), heartbeatMs);
      const unsubscribe = exits.onRequested(() => void push());
      const end = () => {
        if (closed) return;
        closed = true;
        clearInterval(poll);
        clearInterval(beat);
        unsubscribe();
        streams.delete(end);
        ctx.inflight.end();
        raw.end();
      };
      streams.add(end);
      raw.once("close", end);
      await push();
    },
  });
}
