import { LIMITS, PoolkeeperError, ValidationError } from "@poolkeeper/core";
import { emptyCounts, type KeyStateCounts, type OperatorRow } from "@poolkeeper/store";
import { concentration, share } from "./concentration.js";
import { notFound, REGISTRY_ERRORS } from "./errors.js";
import { allocateMinFirst } from "./min-first.js";
import {
  EVER_DEPOSITED_STATES,
  type KeyCounts,
  type KeyState,
  type OperatorReview,
  type ProposedLimits,
  type Review,
  type Simulation,
  STAKED_STATES,
  type TargetLimit,
} from "./types.js";
import { checkBoolean, checkCount, checkId, checkTargetLimit } from "./validate.js";

/*
 * The review and the simulation as pure functions over operator rows and key counts: no database,
 * no clock (the caller reads the rows and passes the time).
 */

/** Most deposits in one batch (and in one simulation): core LIMITS.allocationCount. */
export const MAX_ALLOCATION = LIMITS.allocationCount;

/** Keys of `c` in any of `states`. */
export function countIn(c: KeyStateCounts, states: readonly KeyState[]): number {
  let n = 0;
  for (const s of states) n += c[s];
  return n;
}

export function keyCounts(c: KeyStateCounts): KeyCounts {
  return { total: countIn(c, Object.keys(c) as KeyState[]), ...c };
}

export function targetOf(op: OperatorRow): TargetLimit | null {
  return op.targetLimit === null || op.targetLimitMode === null
    ? null
    : { limit: op.targetLimit, mode: op.targetLimitMode };
}

/** Inputs of MinFirst for one operator. */
export interface Bucket {
  op: OperatorRow;
  counts: KeyStateCounts;
  /** Staked keys: the fill. */
  fill: number;
  /** The fill it may reach: staked + depositable, bounded by the target limit; = fill when inactive. */
  capacity: number;
}

export function bucketOf(
  op: OperatorRow,
  counts: KeyStateCounts,
  depositable: number = counts.vetted,
): Bucket {
  const fill = countIn(counts, STAKED_STATES);
  let capacity = fill;
  if (op.active) {
    capacity = fill + depositable;
    if (op.targetLimit !== null) capacity = Math.max(fill, Math.min(capacity, op.targetLimit));
  }
  return { op, counts, fill, capacity };
}

/** One bucket per operator row, in the rows' order; an operator without keys has empty counts. */
export function bucketsOf(
  ops: readonly OperatorRow[],
  counts: ReadonlyMap<number, KeyStateCounts>,
): Bucket[] {
  return ops.map((op) => bucketOf(op, counts.get(op.id) ?? emptyCounts()));
}

/** Validators active on the beacon chain (active + exiting). */
function activeOf(c: KeyStateCounts): number {
  return c.active + c.exiting;
}

/** The DAO's review of the operators as `buckets` describe them, at `at`. */
export function reviewOf(buckets: readonly Bucket[], at: Date): Review {
  let totalActive = 0;
  for (const b of buckets) totalActive += activeOf(b.counts);
  const operators: OperatorReview[] = buckets.map((b) => ({
    operatorId: b.op.id,
    name: b.op.name,
    active: b.op.active,
    vettedLimit: b.op.vettedLimit,
    targetLimit: targetOf(b.op),
    keys: {
      vetted: b.counts.vetted,
      deposited: countIn(b.counts, EVER_DEPOSITED_STATES),
      active: activeOf(b.counts),
      exited: b.counts.exited,
      slashed: b.counts.slashed,
      staked: b.fill,
    },
    activeShare: share(activeOf(b.counts), totalActive),
    capacityLeft: b.capacity - b.fill,
  }));
  const totals = {
    operators: operators.length,
    activeOperators: operators.filter((o) => o.active).length,
    vetted: 0,
    deposited: 0,
    active: 0,
    exited: 0,
    capacityLeft: 0,
  };
  for (const o of operators) {
    totals.vetted += o.keys.vetted;
    totals.deposited += o.keys.deposited;
    totals.active += o.keys.active;
    totals.exited += o.keys.exited;
    totals.capacityLeft += o.capacityLeft;
  }
  return {
    operators,
    totals,
    concentration: concentration(operators.map((o) => o.keys.active)),
    stakedConcentration: concentration(operators.map((o) => o.keys.staked)),
    at,
  };
}

/** The simulation's input as the registry takes it. */
export interface SimulationInput {
  count: number;
  proposedLimits?: readonly ProposedLimits[];
}

/**
 * Checks a simulation's input (fields named as `proposedLimits[i].…`) and returns the count and
 * the proposed limits by operator id. Throws ValidationError.
 */
export function checkSimulationInput(input: SimulationInput): {
  count: number;
  proposedLimits: Map<number, ProposedLimits>;
} {
  if (input === null || typeof input !== "object")
    throw new ValidationError("simulation", "must be an object");
  const count = checkCount(input.count, "count", 0, MAX_ALLOCATION);
  const proposedLimits = new Map<number, ProposedLimits>();
  const list = input.proposedLimits ?? [];
  if (!Array.isArray(list)) throw new ValidationError("proposedLimits", "must be an array");
  list.forEach((p, i) => {
    const id = checkId(p?.operatorId, `proposedLimits[${i}].operatorId`);
    if (proposedLimits.has(id))
      throw new ValidationError(`proposedLimits[${i}].operatorId`, `operator ${id} is proposed twice`);
    if (p.vettedLimit !== undefined) checkCount(p.vettedLimit, `proposedLimits[${i}].vettedLimit`);
    if (p.targetLimit !== undefined) checkTargetLimit(p.targetLimit);
    if (p.active !== undefined) checkBoolean(p.active, `proposedLimits[${i}].active`);
    proposedLimits.set(id, p);
  });
  return { count, proposedLimits };
}

/**
 * The buckets as they would be under `proposedLimits` (checked by checkSimulationInput). A proposed
 * vetted limit counts the operator's submitted keys as vetted up to it, in upload order. Throws
 * ERR_NOT_FOUND for a proposal naming no operator of `current`, ERR_LIMIT_BELOW_DEPOSITED for a
 * vetted limit below the operator's deposited keys.
 */
export function applyProposedLimits(
  current: readonly Bucket[],
  proposedLimits: ReadonlyMap<number, ProposedLimits>,
): Bucket[] {
  const known = new Set(current.map((b) => b.op.id));
  for (const id of proposedLimits.keys()) if (!known.has(id)) throw notFound("operator", id);
  return current.map((b) => {
    const p = proposedLimits.get(b.op.id);
    if (p === undefined) return b;
    const op: OperatorRow = { ...b.op };
    if (p.active !== undefined) op.active = p.active;
    if (p.targetLimit !== undefined) {
      op.targetLimit = p.targetLimit?.limit ?? null;
      op.targetLimitMode = p.targetLimit?.mode ?? null;
    }
    let depositable = b.counts.vetted;
    if (p.vettedLimit !== undefined) {
      const deposited = countIn(b.counts, EVER_DEPOSITED_STATES);
      if (p.vettedLimit < deposited) {
        throw new PoolkeeperError(
          REGISTRY_ERRORS.LIMIT_BELOW_DEPOSITED,
          `proposed vettedLimit ${p.vettedLimit} for operator ${op.id} is below its ${deposited} deposited keys`,
          { operatorId: op.id, vettedLimit: p.vettedLimit, deposited },
        );
      }
      op.vettedLimit = p.vettedLimit;
      depositable = Math.min(b.counts.vetted + b.counts.submitted, p.vettedLimit - deposited);
    }
    return bucketOf(op, b.counts, depositable);
  });
}

/**
 * Dry run over `current`: allocate `count` deposits by MinFirst under the proposed limits (vetted
 * limit, target limit, active flag per operator; as checkSimulationInput returns them) and show
 * the shares of staked keys before and after.
 */
export function simulateOver(
  current: readonly Bucket[],
  count: number,
  proposedLimits: ReadonlyMap<number, ProposedLimits>,
): Simulation {
  const buckets = applyProposedLimits(current, proposedLimits);
  const r = allocateMinFirst(
    buckets.map((b) => b.fill),
    buckets.map((b) => b.capacity),
    count,
  );
  let totalBefore = 0;
  for (const b of buckets) totalBefore += b.fill;
  const totalAfter = totalBefore + r.allocated;
  return {
    requested: count,
    allocated: r.allocated,
    operators: buckets.map((b, i) => ({
      operatorId: b.op.id,
      name: b.op.name,
      before: { staked: b.fill, share: share(b.fill, totalBefore) },
      allocated: r.added[i]!,
      after: { staked: r.fills[i]!, share: share(r.fills[i]!, totalAfter) },
    })),
    before: concentration(buckets.map((b) => b.fill)),
    after: concentration(r.fills),
  };
}
