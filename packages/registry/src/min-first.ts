import { ValidationError } from "@poolkeeper/core";

/**
 * MinFirst allocation, as Lido's MinFirstAllocationStrategy (contracts/common/lib): each next
 * deposit goes to the bucket (operator) with the lowest fill that still has room, ties split
 * evenly with the lower index first. `capacities` are the fills a bucket may reach (not the room
 * left), exactly as in Lido: fills [9998, 70, 0], capacities [10000, 101, 100], 101 deposits →
 * [9998, 86, 85].
 *
 * Lido's loop hands out one "step" per iteration (O(buckets) each). This computes the same end
 * state by water-filling: find the highest level T such that raising every bucket with room to
 * min(capacity, T) costs at most n, then give the remaining r < (buckets at T with room) deposits
 * one each to the lowest-indexed of them. One sort and one sweep: O(m log m) whatever n is.
 */
export interface MinFirstResult<T extends number | bigint> {
  /** The fills after allocation, index for index. */
  fills: T[];
  /** What each bucket received. */
  added: T[];
  /** Total allocated: n, or less when every bucket is full. */
  allocated: T;
}

export function allocateMinFirst(
  fills: readonly number[],
  capacities: readonly number[],
  n: number,
): MinFirstResult<number>;
export function allocateMinFirst(
  fills: readonly bigint[],
  capacities: readonly bigint[],
  n: bigint,
): MinFirstResult<bigint>;
export function allocateMinFirst(
  fills: readonly (number | bigint)[],
  capacities: readonly (number | bigint)[],
  n: number | bigint,
): MinFirstResult<number> | MinFirstResult<bigint> {
  if (fills.length !== capacities.length) {
    throw new ValidationError("capacities", `has ${capacities.length} entries for ${fills.length} fills`);
  }
  const big = typeof n === "bigint";
  const f = fills.map((v, i) => toCount(v, `fills[${i}]`));
  const c = capacities.map((v, i) => toCount(v, `capacities[${i}]`));
  const added = waterFill(f, c, toCount(n, "n"));
  let total = 0;
  for (const a of added) total += a;
  if (big) {
    return {
      fills: f.map((v, i) => BigInt(v + added[i]!)),
      added: added.map((v) => BigInt(v)),
      allocated: BigInt(total),
    };
  }
  return { fills: f.map((v, i) => v + added[i]!), added, allocated: total };
}

function toCount(v: number | bigint, field: string): number {
  if (typeof v === "bigint") {
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ValidationError(field, "must be a count from 0 to 2^53-1");
    return Number(v);
  }
  if (!Number.isSafeInteger(v) || v < 0) throw new ValidationError(field, "must be a non-negative integer");
  return v;
}

/** How much each bucket receives. Exported for the benchmark; use allocateMinFirst. */
export function waterFill(fills: readonly number[], caps: readonly number[], n: number): number[] {
  const m = fills.length;
  const added = new Array<number>(m).fill(0);
  if (n === 0 || m === 0) return added;

  // Buckets with room, and the two kinds of breakpoints of need(T): a bucket joins at its fill,
  // leaves at its capacity.
  const joins: number[] = [];
  const leaves: number[] = [];
  let room = 0;
  for (let i = 0; i < m; i++) {
    const fi = fills[i]!;
    const ci = caps[i]!;
    if (ci > fi) {
      joins.push(fi);
      leaves.push(ci);
      room += ci - fi;
    }
  }
  if (room === 0) return added;
  if (n >= room) {
    for (let i = 0; i < m; i++) added[i] = Math.max(0, caps[i]! - fills[i]!);
    return added;
  }
  joins.sort((a, b) => a - b);
  leaves.sort((a, b) => a - b);

  // Sweep levels upwards. k = buckets with fill <= level < capacity; need = cost to reach level.
  let level = joins[0]!;
  let k = 0;
  let need = 0;
  let ji = 0;
  let li = 0;
  let T = level;
  for (;;) {
    while (ji < joins.length && joins[ji]! <= level) {
      k++;
      ji++;
    }
    while (li < leaves.length && leaves[li]! <= level) {
      k--;
      li++;
    }
    const next = Math.min(
      ji < joins.length ? joins[ji]! : Number.POSITIVE_INFINITY,
      li < leaves.length ? leaves[li]! : Number.POSITIVE_INFINITY,
    );
    // n < room, so some level is reached before every bucket leaves: next is finite while k > 0.
    const step = next - level;
    if (k > 0 && need + k * step > n) {
      T = level + Math.floor((n - need) / k);
      need += k * (T - level);
      break;
    }
    need += k * step;
    level = next;
    if (need === n) {
      T = level;
      break;
    }
  }

  let rest = n - need;
  for (let i = 0; i < m; i++) {
    const fi = fills[i]!;
    const ci = caps[i]!;
    if (ci <= fi) continue;
    const target = Math.min(ci, Math.max(fi, T));
    added[i] = target - fi;
    // Remainder: one each to the lowest-indexed buckets sitting at T with room above it.
    if (rest > 0 && target === T && ci > T) {
      added[i]! += 1;
      rest--;
    }
  }
  return added;
}

/**
 * Lido's MinFirstAllocationStrategy, step for step (one best candidate per iteration): the
 * reference that `allocateMinFirst` must match exactly (tests) and the peer it is measured
 * against (bench/registry/allocate.ts). O(n × operators): not for production use.
 */
export function allocateMinFirstStepwise(fills: number[], caps: number[], n: number): number[] {
  const b = [...fills];
  let allocated = 0;
  while (allocated < n) {
    const size = n - allocated;
    let best = b.length;
    let bestAlloc = Number.POSITIVE_INFINITY;
    let count = 0;
    for (let i = 0; i < b.length; i++) {
      if (b[i]! >= caps[i]!) continue;
      if (bestAlloc > b[i]!) {
        best = i;
        count = 1;
        bestAlloc = b[i]!;
      } else if (bestAlloc === b[i]) count++;
    }
    if (count === 0) break;
    let upper = Number.POSITIVE_INFINITY;
    for (let j = 0; j < b.length; j++) {
      if (b[j]! >= caps[j]!) continue;
      if (b[j]! > bestAlloc && b[j]! < upper) upper = b[j]!;
    }
    const step = Math.min(
      count > 1 ? Math.ceil(size / count) : size,
      Math.min(upper, caps[best]!) - bestAlloc,
    );
    if (step === 0) break;
    b[best]! += step;
    allocated += step;
  }
  return b;
}
