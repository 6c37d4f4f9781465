/**
 * Lido's PositiveTokenRebaseLimiter: how much the share rate may grow in one report. The CL
 * change itself is never capped; ether from the vaults is taken in order only up to the limit,
 * and shares are burnt only as far as the limit allows (the rest wait for later reports).
 * The limit is on a 1e9 scale: Lido's mainnet maxPositiveTokenRebase is 750,000 (0.075%).
 */

const min = (a: bigint, b: bigint) => (a < b ? a : b);

export const LIMITER_PRECISION = 1_000_000_000n;
/** Lido's UNLIMITED_REBASE (type(uint64).max): no limit. */
export const UNLIMITED_REBASE = 2n ** 64n - 1n;

export class RebaseLimiter {
  private current: bigint;
  private readonly max: bigint;
  private readonly limit: bigint;

  constructor(
    limit: bigint,
    private readonly preTotalPooledEther: bigint,
    private readonly preTotalShares: bigint,
  ) {
    if (limit <= 0n) throw new Error("the rebase limit must be more than 0");
    if (limit > UNLIMITED_REBASE) throw new Error("the rebase limit is above UNLIMITED_REBASE");
    this.limit = preTotalPooledEther === 0n ? UNLIMITED_REBASE : limit;
    this.current = preTotalPooledEther;
    this.max =
      this.limit === UNLIMITED_REBASE
        ? 2n ** 256n - 1n
        : preTotalPooledEther + (this.limit * preTotalPooledEther) / LIMITER_PRECISION;
  }

  isLimitReached(): boolean {
    return this.current >= this.max;
  }

  decreaseEther(wei: bigint): void {
    if (this.limit === UNLIMITED_REBASE) return;
    if (wei > this.current) throw new Error("the rebase limiter went below zero pooled ether");
    this.current -= wei;
  }

  /** Add up to `wei`, not past the limit; returns what was taken. */
  increaseEther(wei: bigint): bigint {
    if (this.limit === UNLIMITED_REBASE) return wei;
    const prev = this.current;
    this.current = min(this.current + wei, this.max);
    return this.current - prev;
  }

  sharesToBurnLimit(): bigint {
    if (this.limit === UNLIMITED_REBASE) return this.preTotalShares;
    if (this.isLimitReached()) return 0n;
    const limitPlus1 = this.limit + LIMITER_PRECISION;
    const rate = (this.current * LIMITER_PRECISION) / this.preTotalPooledEther;
    return (this.preTotalShares * (limitPlus1 - rate)) / limitPlus1;
  }
}

/**
 * Lido's smoothenTokenRebase: the vault transfers and the shares to burn a report may apply.
 * `preClBalance` is the principal (the CL balance before, plus what was deposited since).
 */
export function smoothenTokenRebase(p: {
  limit: bigint;
  preTotalPooledEther: bigint;
  preTotalShares: bigint;
  preClBalance: bigint;
  postClBalance: bigint;
  withdrawalVaultWei: bigint;
  elRewardsVaultWei: bigint;
  sharesRequestedToBurn: bigint;
  etherToLockForWithdrawals: bigint;
  newSharesToBurnForWithdrawals: bigint;
}): { withdrawals: bigint; elRewards: bigint; sharesFromWQToBurn: bigint; sharesToBurn: bigint } {
  const l = new RebaseLimiter(p.limit, p.preTotalPooledEther, p.preTotalShares);
  if (p.postClBalance < p.preClBalance) l.decreaseEther(p.preClBalance - p.postClBalance);
  else l.increaseEther(p.postClBalance - p.preClBalance);
  const withdrawals = l.increaseEther(p.withdrawalVaultWei);
  const elRewards = l.increaseEther(p.elRewardsVaultWei);
  const simulatedSharesToBurn = min(l.sharesToBurnLimit(), p.sharesRequestedToBurn);
  l.decreaseEther(p.etherToLockForWithdrawals);
  const sharesToBurn = min(l.sharesToBurnLimit(), p.newSharesToBurnForWithdrawals + p.sharesRequestedToBurn);
  return { withdrawals, elRewards, sharesFromWQToBurn: sharesToBurn - simulatedSharesToBurn, sharesToBurn };
}
