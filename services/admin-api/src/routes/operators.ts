import { LIMITS } from "@poolkeeper/core";
import { Type } from "typebox";
import type { App, AppContext } from "../app.js";
import { actorOf, principalOf } from "../auth.js";
import { ForbiddenError } from "../errors.js";
import type { RegistryPort } from "../port.js";
import { Address, envelope, errorResponses, Limit, OperatorIdParam } from "../schemas.js";

export const TargetLimit = Type.Object(
  {
    limit: Limit,
    mode: Type.Union([Type.Literal("soft"), Type.Literal("hard")], {
      description: "Both stop deposits at the limit; hard also puts the operator first in exit selection",
    }),
  },
  { additionalProperties: false, description: "Cap on the operator's staked keys" },
);

export const Operator = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    rewardAddress: Type.String(),
    active: Type.Boolean(),
    vettedLimit: Type.Integer({ description: "DAO-approved number of keys that may be deposited" }),
    targetLimit: Type.Union([TargetLimit, Type.Null()], { description: "null: no target limit" }),
    keys: Type.Record(Type.String(), Type.Integer(), { description: "Key counts by state" }),
    createdAt: Type.String({ format: "date-time" }),
    updatedAt: Type.String({ format: "date-time" }),
  },
  { $id: "Operator" },
);

const Name = Type.String({
  minLength: 1,
  maxLength: LIMITS.operatorNameLength,
  description: "No control, format (bidirectional, zero-width) or line-separator characters",
});
const Reason = Type.String({
  minLength: 1,
  maxLength: LIMITS.reasonLength,
  description: "Why (lands in the audit log)",
});

const CreateBody = Type.Object(
  {
    name: Name,
    rewardAddress: Address,
    active: Type.Optional(Type.Boolean()),
    vettedLimit: Type.Optional(Limit),
    targetLimit: Type.Optional(Type.Union([TargetLimit, Type.Null()])),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    rewardAddress: Type.Optional(Address),
    active: Type.Optional(Type.Boolean()),
    vettedLimit: Type.Optional(Limit),
    targetLimit: Type.Optional(Type.Union([TargetLimit, Type.Null()])),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** Fields the DAO may change; the rest of an operator's record is the admins'. */
const DAO_FIELDS = new Set(["vettedLimit", "targetLimit", "reason"]);

export function operatorRoutes(app: App, registry: RegistryPort, _ctx: AppContext): void {
  app.get(
    "/v1/operators",
    {
      schema: {
        tags: ["operators"],
        summary: "List operators (an operator token sees its own only)",
        response: { 200: envelope(Type.Array(Operator)), ...errorResponses() },
      },
      config: { access: { roles: ["admin", "dao", "operator"] } },
    },
    async (request) => {
      const p = principalOf(request);
      // key counts come from the registry's per-operator counters (O(operators), not O(keys))
      const data =
        p.role === "operator"
          ? [await registry.getOperator(Number(p.operatorId))]
          : await registry.listOperators();
      return { data, meta: { count: data.length } };
    },
  );

  app.post(
    "/v1/operators",
    {
      schema: {
        tags: ["operators"],
        summary: "Create an operator",
        body: CreateBody,
        response: { 201: envelope(Operator), ...errorResponses(409, 422) },
      },
      config: { access: { roles: ["admin"] } },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { reason, ...input } = request.body;
      const op = await registry.createOperator(input, { actor: actorOf(p), ...(reason ? { reason } : {}) });
      return reply.status(201).send({ data: op, meta: {} });
    },
  );

  app.get(
    "/v1/operators/:id",
    {
      schema: {
        tags: ["operators"],
        summary: "One operator with its key counts",
        params: OperatorIdParam,
        response: { 200: envelope(Operator), ...errorResponses(404) },
      },
      config: { access: { roles: ["admin", "dao", "operator"], operatorParam: "id" } },
    },
    async (request) => {
      const op = await registry.getOperator(Number(request.params.id));
      return { data: op, meta: {} };
    },
  );

  app.patch(
    "/v1/operators/:id",
    {
      schema: {
        tags: ["operators"],
        summary: "Change name, reward address, active flag, vetted limit or target limit",
        description:
          "Admins may change every field; the DAO only the vetted and target limits. Lowering the vetted limit below the deposited count is refused (409).",
        params: OperatorIdParam,
        body: PatchBody,
        response: { 200: envelope(Operator), ...errorResponses(404, 409, 422) },
      },
      config: { access: { roles: ["admin", "dao"] } },
    },
    async (request) => {
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
  );
}
