import type { Concentration } from "./types.js";

/**
 * Concentration of validators among operators, from per-operator counts:
 * - top1Share / top5Share: share of the largest one / five largest operators (0..1);
 * - hhi: Herfindahl-Hirschman index on percentage shares (0..10,000; 10,000 = one operator;
 *   US DoJ reads > 1,800 as highly concentrated);
 * - nakamoto33: the fewest operators that together hold MORE than 1/3 of the validators (enough
 *   to stall finality if they collude). 0 when there are no validators.
 */
export function concentration(counts: readonly number[]): Concentration {
  const sorted = counts.filter((c) => c > 0).sort((a, b) => b - a);
  let total = 0;
  for (const c of sorted) total += c;
  if (total === 0) return { top1Share: 0, top5Share: 0, hhi: 0, nakamoto33: 0 };
  let top5 = 0;
  for (let i = 0; i < Math.min(5, sorted.length); i++) top5 += sorted[i]!;
  let hhi = 0;
  for (const c of sorted) {
    const pct = (100 * c) / total;
    hhi += pct * pct;
  }
  // Integer comparison: cumulative / total > 1/3  <=>  3 * cumulative > total.
  let cumulative = 0;
  let nakamoto33 = 0;
  for (const c of sorted) {
    cumulative += c;
    nakamoto33++;
    if (3 * cumulative > total) break;
  }
  return { top1Share: sorted[0]! / total, top5Share: top5 / total, hhi, nakamoto33 };
}

/** count / total, 0 when total is 0. */
export function share(count: number, total: number): number {
  return total === 0 ? 0 : count / total;
}
