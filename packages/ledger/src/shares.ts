/**
 * stETH share arithmetic as Lido's StETH and WithdrawalQueueBase contracts do it: integer
 * division that rounds down, so that no conversion ever gives a holder more than its due.
 *
 *   sharesByEther(e) = e × totalShares / totalPooledEther         (StETH.getSharesByPooledEth)
 *   etherByShares(s) = s × totalPooledEther / totalShares         (StETH.getPooledEthByShares)
 *   shareRate        = totalPooledEther × 1e27 / totalShares      (ether per share, 1e27 precision)
 */

/** Precision of share rates (Lido's E27_PRECISION_BASE). */
export const E27 = 10n ** 27n;

export interface PoolTotals {
  totalPooledEther: bigint;
  totalShares: bigint;
}

/** Shares worth `wei` at the pool's rate, rounded down; 1:1 while the pool holds nothing. */
export function sharesByEther(wei: bigint, t: PoolTotals): bigint {
  if (t.totalShares === 0n || t.totalPooledEther === 0n) return wei;
  return (wei * t.totalShares) / t.totalPooledEther;
}

/** Ether worth `shares` at the pool's rate, rounded down. */
export function etherByShares(shares: bigint, t: PoolTotals): bigint {
  if (t.totalShares === 0n) return 0n;
  return (shares * t.totalPooledEther) / t.totalShares;
}

/** Ether per share with 1e27 precision, rounded down; 1e27 (1:1) for an empty pool. */
export function shareRate(t: PoolTotals): bigint {
  if (t.totalShares === 0n) return E27;
  return (t.totalPooledEther * E27) / t.totalShares;
}

/** Format a 1e27-precision rate as a decimal string ("1.000123…", 27 decimals, exact). */
export function formatRate(rate: bigint): string {
  const whole = rate / E27;
  return `${whole}.${(rate % E27).toString().padStart(27, "0")}`;
}
