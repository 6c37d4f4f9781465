import { Type } from "typebox";
import type { App, AppContext } from "../app.js";
import type { RegistryPort } from "../port.js";
import { envelope, errorResponses } from "../schemas.js";
import { AuditEntry, Review } from "../schemas-review.js";

export function reviewRoutes(app: App, registry: RegistryPort, _ctx: AppContext): void {
  app.get(
    "/v1/review",
    {
      schema: {
        tags: ["review"],
        summary: "The DAO review: per-operator figures and the pool's concentration",
        description:
          "Per operator: vetted, deposited, active, exited, share of the pool's active validators, capacity left, target. Pool-wide: top-1 and top-5 share, Herfindahl-Hirschman index, Nakamoto coefficient at 1/3.",
        response: { 200: envelope(Review), ...errorResponses() },
      },
      config: { access: { roles: ["admin", "dao"] } },
    },
    async () => ({ data: await registry.review(), meta: {} }),
  );

  app.get(
    "/v1/audit",
    {
      schema: {
        tags: ["review"],
        summary: "The audit log (limit changes, vetting decisions...), newest first",
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$", description: "At most 1000" })),
            before: Type.Optional(
              Type.String({ pattern: "^[0-9]{1,18}$", description: "Entries older than this id" }),
            ),
            target: Type.Optional(
              Type.String({
                pattern: "^[a-z]+:[0-9A-Za-z]{1,100}$",
                description: "Only entries about this target, e.g. operator:3 or batch:12",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: envelope(Type.Array(AuditEntry)), ...errorResponses() },
      },
      config: { access: { roles: ["admin", "dao"] } },
    },
    async (request) => {
      const limit = Math.min(Number(request.query.limit ?? 100), 1000);
      const data = await registry.audit(limit, request.query.before, request.query.target);
      return { data, meta: { count: data.length } };
    },
  );
}
