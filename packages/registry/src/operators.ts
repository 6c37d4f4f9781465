import { PoolkeeperError, toChecksumAddress, ValidationError } from "@poolkeeper/core";
import {
  appendAudit,
  emptyCounts,
  findOperator,
  insertOperator,
  isUniqueViolation,
  type KeyStateCounts,
  keyCountsByOperator,
  listOperatorRows,
  type OperatorFields,
  type OperatorRow,
  type Queryable,
  setChangeContext,
  unvetNewestVetted,
  updateOperatorRow,
  vetOldestSubmitted,
} from "@poolkeeper/store";
import type { GovernedCall, RegistryContext } from "./context.js";
import { mapRuleViolation, notFound, REGISTRY_ERRORS } from "./errors.js";
import { countIn, keyCounts, targetOf } from "./review.js";
import {
  type CreateOperatorInput,
  EVER_DEPOSITED_STATES,
  type OperatorWithCounts,
  type UpdateOperatorInput,
} from "./types.js";
import {
  checkActor,
  checkBoolean,
  checkCount,
  checkId,
  checkName,
  checkReason,
  checkRewardAddress,
  checkTargetLimit,
} from "./validate.js";

/* Operators: create, read, and change settings and limits (a vetted limit change vets or un-vets). */

function operatorOut(op: OperatorRow, c: KeyStateCounts): OperatorWithCounts {
  return {
    id: op.id,
    name: op.name,
    rewardAddress: toChecksumAddress(op.rewardAddress),
    active: op.active,
    vettedLimit: op.vettedLimit,
    targetLimit: targetOf(op),
    createdAt: op.createdAt,
    updatedAt: op.updatedAt,
    keys: keyCounts(c),
  };
}

/** The operator's settings as the audit log records them. */
function auditOperator(op: OperatorRow): Record<string, unknown> {
  return {
    name: op.name,
    rewardAddress: toChecksumAddress(op.rewardAddress),
    active: op.active,
    vettedLimit: op.vettedLimit,
    targetLimit: targetOf(op),
  };
}

/** With governance, a change outside an executed proposal that the step does not cover is refused. */
function requireProposal(
  ctx: RegistryContext,
  call: GovernedCall,
  field: string,
  what: string,
  kind: string,
  details: Record<string, unknown> = {},
): void {
  if (ctx.options.governance === undefined || call.governed !== undefined) return;
  throw new PoolkeeperError(
    REGISTRY_ERRORS.GOVERNANCE_REQUIRED,
    `${what} needs an executed governance proposal: POST /v1/governance/proposals with kind ${kind}`,
    { field, kind, proposals: "/v1/governance/proposals", ...details },
  );
}

/** How far a limit moves (a limit set or removed moves further than any step). */
function limitMove(from: number | null, to: number | null): number {
  if (from === to) return 0;
  if (from === null || to === null) return Number.POSITIVE_INFINITY;
  return Math.abs(to - from);
}

export async function createOperator(
  ctx: RegistryContext,
  input: CreateOperatorInput,
  actor: string,
  reason?: string,
  call: GovernedCall = {},
): Promise<OperatorWithCounts> {
  return ctx.store.transaction((tx) => createOperatorIn(ctx, tx, input, actor, reason, call));
}

/** `createOperator` in the caller's transaction (an executed proposal's). */
export async function createOperatorIn(
  ctx: RegistryContext,
  tx: Queryable,
  input: CreateOperatorInput,
  actor: string,
  reason?: string,
  call: GovernedCall = {},
): Promise<OperatorWithCounts> {
  requireProposal(ctx, call, "operator", "adding an operator", "operator.add");
  checkActor(actor);
  const why = checkReason(reason);
  if (input === null || typeof input !== "object") throw new ValidationError("operator", "must be an object");
  const fields: OperatorFields = {
    name: checkName(input.name),
    rewardAddress: checkRewardAddress(input.rewardAddress),
    active: input.active === undefined ? true : checkBoolean(input.active, "active"),
    vettedLimit: input.vettedLimit === undefined ? 0 : checkCount(input.vettedLimit, "vettedLimit"),
    targetLimit: null,
    targetLimitMode: null,
  };
  const target = input.targetLimit === undefined ? null : checkTargetLimit(input.targetLimit);
  fields.targetLimit = target?.limit ?? null;
  fields.targetLimitMode = target?.mode ?? null;
  try {
    const op = await insertOperator(tx, fields);
    await appendAudit(tx, {
      actor,
      action: "operator.create",
      target: `operator:${op.id}`,
      reason: why,
      before: null,
      after: auditOperator(op),
    });
    return operatorOut(op, emptyCounts());
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new PoolkeeperError(
        REGISTRY_ERRORS.CONFLICT,
        `an operator named "${fields.name}" already exists`,
        {
          field: "name",
        },
      );
    }
    throw e;
  }
}

export async function listOperators(ctx: RegistryContext): Promise<OperatorWithCounts[]> {
  const [ops, counts] = await Promise.all([listOperatorRows(ctx.store), keyCountsByOperator(ctx.store)]);
  return ops.map((op) => operatorOut(op, counts.get(op.id) ?? emptyCounts()));
}

/** Throws ERR_NOT_FOUND. */
export async function getOperator(ctx: RegistryContext, id: number): Promise<OperatorWithCounts> {
  checkId(id, "operatorId");
  const op = await findOperator(ctx.store, id);
  if (op === undefined) throw notFound("operator", id);
  const counts = await keyCountsByOperator(ctx.store, [id]);
  return operatorOut(op, counts.get(id) ?? emptyCounts());
}

/**
 * Change name, reward address, active flag, vetted limit or target limit (audit-logged).
 * Raising the vetted limit vets submitted keys in upload order up to it; lowering it returns
 * vetted (not deposited) keys above it to submitted, newest first; below the deposited count it
 * is refused with ERR_LIMIT_BELOW_DEPOSITED.
 */
export async function updateOperator(
  ctx: RegistryContext,
  id: number,
  patch: UpdateOperatorInput,
  actor: string,
  reason?: string,
  call: GovernedCall = {},
): Promise<OperatorWithCounts> {
  return ctx.store.transaction((tx) => updateOperatorIn(ctx, tx, id, patch, actor, reason, call));
}

/**
 * `updateOperator` in the caller's transaction (an executed proposal's). With governance, a
 * vetted or target limit moved by more than the step, or the active flag changed, is refused
 * unless `call.governed` (ERR_GOVERNANCE_REQUIRED, before anything changes).
 */
export async function updateOperatorIn(
  ctx: RegistryContext,
  tx: Queryable,
  id: number,
  patch: UpdateOperatorInput,
  actor: string,
  reason?: string,
  call: GovernedCall = {},
): Promise<OperatorWithCounts> {
  checkId(id, "operatorId");
  checkActor(actor);
  const why = checkReason(reason);
  if (patch === null || typeof patch !== "object") throw new ValidationError("patch", "must be an object");
  const name = patch.name === undefined ? undefined : checkName(patch.name);
  const rewardAddress =
    patch.rewardAddress === undefined ? undefined : checkRewardAddress(patch.rewardAddress);
  const active = patch.active === undefined ? undefined : checkBoolean(patch.active, "active");
  const vettedLimit =
    patch.vettedLimit === undefined ? undefined : checkCount(patch.vettedLimit, "vettedLimit");
  const target = patch.targetLimit === undefined ? undefined : checkTargetLimit(patch.targetLimit);

  try {
    const { op, counts } = await (async () => {
      const before = await findOperator(tx, id, true);
      if (before === undefined) throw notFound("operator", id);
      const step = ctx.options.governance?.limitStep ?? Number.POSITIVE_INFINITY;
      if (active !== undefined && active !== before.active)
        requireProposal(
          ctx,
          call,
          "active",
          `${active ? "activating" : "deactivating"} operator ${id}`,
          active ? "operator.activate" : "operator.deactivate",
          { operatorId: id },
        );
      if (vettedLimit !== undefined && limitMove(before.vettedLimit, vettedLimit) > step)
        requireProposal(
          ctx,
          call,
          "vettedLimit",
          `moving operator ${id}'s vetted limit from ${before.vettedLimit} to ${vettedLimit} (more than the step of ${step})`,
          "operator.limits",
          { operatorId: id, from: before.vettedLimit, to: vettedLimit, step },
        );
      if (target !== undefined && limitMove(before.targetLimit, target?.limit ?? null) > step)
        requireProposal(
          ctx,
          call,
          "targetLimit",
          `moving operator ${id}'s target limit from ${before.targetLimit ?? "none"} to ${target?.limit ?? "none"} (more than the step of ${step})`,
          "operator.limits",
          { operatorId: id, from: before.targetLimit, to: target?.limit ?? null, step },
        );
      const counts = (await keyCountsByOperator(tx, [id])).get(id) ?? emptyCounts();
      const fields: OperatorFields = {
        name: name ?? before.name,
        rewardAddress: rewardAddress ?? before.rewardAddress,
        active: active ?? before.active,
        vettedLimit: vettedLimit ?? before.vettedLimit,
        targetLimit: target === undefined ? before.targetLimit : (target?.limit ?? null),
        targetLimitMode: target === undefined ? before.targetLimitMode : (target?.mode ?? null),
      };
      const deposited = countIn(counts, EVER_DEPOSITED_STATES);
      if (fields.vettedLimit < deposited) {
        throw new PoolkeeperError(
          REGISTRY_ERRORS.LIMIT_BELOW_DEPOSITED,
          `vettedLimit ${fields.vettedLimit} is below the ${deposited} keys operator ${id} already has deposited: a deposited key cannot be un-vetted`,
          { field: "vettedLimit", operatorId: id, vettedLimit: fields.vettedLimit, deposited },
        );
      }
      let unvetted = 0;
      let vetted = 0;
      if (vettedLimit !== undefined) {
        await setChangeContext(tx, actor, why ?? `vetted limit set to ${fields.vettedLimit}`);
        const excess = counts.vetted + deposited - fields.vettedLimit;
        unvetted = await unvetNewestVetted(tx, id, excess);
      }
      const after = await updateOperatorRow(tx, id, fields);
      if (vettedLimit !== undefined) {
        vetted = await vetOldestSubmitted(
          tx,
          id,
          fields.vettedLimit - (counts.vetted - unvetted) - deposited,
        );
      }
      await appendAudit(tx, {
        actor,
        action: "operator.update",
        target: `operator:${id}`,
        reason: why,
        before: auditOperator(before),
        after: auditOperator(after),
      });
      if (vetted > 0 || unvetted > 0) {
        await appendAudit(tx, {
          actor,
          action: vetted > 0 ? "keys.vet" : "keys.unvet",
          target: `operator:${id}`,
          reason: why,
          before: { vetted: counts.vetted, submitted: counts.submitted },
          after: {
            vetted: counts.vetted - unvetted + vetted,
            submitted: counts.submitted + unvetted - vetted,
          },
        });
      }
      const now = (await keyCountsByOperator(tx, [id])).get(id) ?? emptyCounts();
      return { op: after, counts: now };
    })();
    return operatorOut(op, counts);
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new PoolkeeperError(REGISTRY_ERRORS.CONFLICT, `an operator named "${name}" already exists`, {
        field: "name",
      });
    }
    throw mapRuleViolation(e);
  }
}
