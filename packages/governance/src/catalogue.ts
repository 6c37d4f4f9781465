/**
 * What a proposal may change. Each kind has its own schema (`parse`: the value as stored, or a
 * ValidationError naming the field, `value.<field>`), and is either a **parameter** (a value the
 * governance store holds: the current one is the newest executed, or the genesis value) or an
 * **action** (an effect on another part of the pool, run by the `GovernanceEffects` the process
 * composes, recorded in the history under the names the effect returns).
 *
 * The kinds defined here need no other package: the guardians, the operators' limits above the
 * step, adding, activating or deactivating an operator, unpausing deposits. The oracle's
 * parameters (the fee and its split, members and quorum, sanity limits, the frame) are defined
 * with their schemas in @poolkeeper/oracle (governed.ts) and joined in one catalogue by the
 * process (`catalogueOf`).
 */
import { ValidationError } from "@poolkeeper/core";
import type { Queryable } from "@poolkeeper/store";
import { checkSigners, type Signer } from "./signing.js";

export interface KindSpec {
  readonly kind: string;
  readonly type: "parameter" | "action";
  readonly description: string;
  /** The value as stored (plain JSON), or a ValidationError naming `value.<field>`. */
  parse(value: unknown): unknown;
}

export type Catalogue = ReadonlyMap<string, KindSpec>;

export function catalogueOf(...groups: readonly (readonly KindSpec[])[]): Catalogue {
  const out = new Map<string, KindSpec>();
  for (const spec of groups.flat()) {
    if (out.has(spec.kind)) throw new Error(`governance kind ${spec.kind} defined twice`);
    out.set(spec.kind, spec);
  }
  return out;
}

/**
 * How an executed action changes the pool, in the execution's transaction (so that a failed
 * effect executes nothing). Returns the values to record in the history by name
 * (`operator:<id>` → the operator's governed settings after the change).
 */
export interface GovernanceEffects {
  apply(
    tx: Queryable,
    kind: string,
    value: unknown,
    ctx: { proposalId: number; actor: string; reason: string },
  ): Promise<Record<string, unknown>>;
}

// ------------------------------------------------------------------ schema helpers

export function objectOf(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new ValidationError(field, "must be an object");
  for (const k of Object.keys(value))
    if (!allowed.includes(k))
      throw new ValidationError(
        `${field}.${k}`,
        `is not a field of this change (fields: ${allowed.join(", ")})`,
      );
  return value as Record<string, unknown>;
}

export function intOf(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max)
    throw new ValidationError(field, `must be an integer from ${min} to ${max}`);
  return v;
}

function targetLimitOf(v: unknown, field: string): { limit: number; mode: "soft" | "hard" } | null {
  if (v === null) return null;
  const o = objectOf(v, field, ["limit", "mode"]);
  const limit = intOf(o.limit, `${field}.limit`, 0, 1_000_000);
  if (o.mode !== "soft" && o.mode !== "hard")
    throw new ValidationError(`${field}.mode`, "must be soft or hard");
  return { limit, mode: o.mode };
}

/** A signer set value ({members, quorum}); `allowEmpty`: no member and quorum 0 (none configured). */
export function signerSetOf(value: unknown, allowEmpty: boolean): { members: Signer[]; quorum: number } {
  const o = objectOf(value, "value", ["members", "quorum"]);
  if (!Array.isArray(o.members))
    throw new ValidationError("value.members", "must be a list of {id, publicKey}");
  const members = o.members.map((m, i) => {
    const e = objectOf(m, `value.members[${i}]`, ["id", "publicKey"]);
    return {
      id: e.id as string,
      publicKey: typeof e.publicKey === "string" ? e.publicKey.toLowerCase() : (e.publicKey as string),
    };
  });
  const quorum = intOf(o.quorum, "value.quorum", 0);
  if (members.length === 0 && allowEmpty) {
    if (quorum !== 0) throw new ValidationError("value.quorum", "must be 0 when no member is listed");
    return { members, quorum };
  }
  try {
    checkSigners(members, quorum, "members");
  } catch (e) {
    if (e instanceof ValidationError) {
      const d = e.details as { field: string; reason: string };
      throw new ValidationError(`value.${d.field}`, d.reason);
    }
    throw e;
  }
  return { members, quorum };
}

// ------------------------------------------------------------------ the kinds defined here

export const GUARDIANS = "guardians";
export const OPERATOR_LIMITS = "operator.limits";
export const OPERATOR_ADD = "operator.add";
export const OPERATOR_ACTIVATE = "operator.activate";
export const OPERATOR_DEACTIVATE = "operator.deactivate";
export const DEPOSITS_UNPAUSE = "deposits.unpause";

const operatorIdOnly = (value: unknown) => {
  const o = objectOf(value, "value", ["operatorId"]);
  return { operatorId: intOf(o.operatorId, "value.operatorId", 1) };
};

export const POOL_KINDS: readonly KindSpec[] = [
  {
    kind: GUARDIANS,
    type: "parameter",
    description:
      "The deposit guardians (id and BLS public key) and their quorum (more than half): who signs deposits and may pause them",
    parse: (v) => signerSetOf(v, true),
  },
  {
    kind: OPERATOR_LIMITS,
    type: "action",
    description:
      "An operator's vetted limit and/or target limit when the change is larger than the step (GOVERNANCE_LIMIT_STEP); smaller changes stay immediate (PATCH /v1/operators/{id})",
    parse(value) {
      const o = objectOf(value, "value", ["operatorId", "vettedLimit", "targetLimit"]);
      const out: Record<string, unknown> = { operatorId: intOf(o.operatorId, "value.operatorId", 1) };
      if (o.vettedLimit !== undefined)
        out.vettedLimit = intOf(o.vettedLimit, "value.vettedLimit", 0, 1_000_000);
      if (o.targetLimit !== undefined) out.targetLimit = targetLimitOf(o.targetLimit, "value.targetLimit");
      if (out.vettedLimit === undefined && out.targetLimit === undefined)
        throw new ValidationError("value", "must change vettedLimit, targetLimit or both");
      return out;
    },
  },
  {
    kind: OPERATOR_ADD,
    type: "action",
    description: "A new operator (name, reward address, optional limits), active once executed",
    parse(value) {
      const o = objectOf(value, "value", ["name", "rewardAddress", "vettedLimit", "targetLimit"]);
      if (typeof o.name !== "string" || o.name.trim() === "" || o.name.length > 200)
        throw new ValidationError("value.name", "must be 1-200 characters");
      if (typeof o.rewardAddress !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(o.rewardAddress))
        throw new ValidationError("value.rewardAddress", "must be an address: 0x and 40 hex digits");
      const out: Record<string, unknown> = { name: o.name, rewardAddress: o.rewardAddress.toLowerCase() };
      if (o.vettedLimit !== undefined)
        out.vettedLimit = intOf(o.vettedLimit, "value.vettedLimit", 0, 1_000_000);
      if (o.targetLimit !== undefined) out.targetLimit = targetLimitOf(o.targetLimit, "value.targetLimit");
      return out;
    },
  },
  {
    kind: OPERATOR_ACTIVATE,
    type: "action",
    description: "An inactive operator may receive deposits again",
    parse: operatorIdOnly,
  },
  {
    kind: OPERATOR_DEACTIVATE,
    type: "action",
    description: "An operator receives no more deposits",
    parse: operatorIdOnly,
  },
  {
    kind: DEPOSITS_UNPAUSE,
    type: "action",
    description:
      "Deposits resume after a pause (a pause by a guardian or the DAO is instant; resuming is a proposal)",
    parse(value) {
      objectOf(value, "value", []);
      return {};
    },
  },
];
