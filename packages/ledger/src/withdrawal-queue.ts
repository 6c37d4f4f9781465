/**
 * The withdrawal queue's arithmetic, after Lido's WithdrawalQueueBase: requests keep cumulative
 * stETH and shares (request 0 is the zero sentinel), finalization goes in batches by share rate,
 * and a request finalized at a lower share rate than it was made at gets the lower one (the
 * discount rule), so that a request never takes more than its shares are worth when paid.
 */
import { E27 } from "./shares.js";

/** Lido's limits on one request (WithdrawalQueue.MIN/MAX_STETH_WITHDRAWAL_AMOUNT). */
export const MIN_WITHDRAWAL_WEI = 100n;
export const MAX_WITHDRAWAL_WEI = 1000n * 10n ** 18n;
/** At most this many batches in one finalization (MAX_BATCHES_LENGTH). */
export const MAX_FINALIZATION_BATCHES = 36;

export interface QueuedRequest {
  id: number;
  /** stETH and shares of this and every earlier request. */
  cumulativeSteth: bigint;
  cumulativeShares: bigint;
  /** Unix seconds when it was made, and of the last applied report at that moment. */
  timestamp: number;
  reportTimestamp: number;
}

export const QUEUE_SENTINEL: QueuedRequest = {
  id: 0,
  cumulativeSteth: 0n,
  cumulativeShares: 0n,
  timestamp: 0,
  reportTimestamp: 0,
};

/** stETH, shares and their rate (1e27) of the requests in (prev, end]. */
export function calcBatch(
  prev: QueuedRequest,
  end: QueuedRequest,
): { shareRate: bigint; steth: bigint; shares: bigint } {
  const steth = end.cumulativeSteth - prev.cumulativeSteth;
  const shares = end.cumulativeShares - prev.cumulativeShares;
  return { steth, shares, shareRate: shares === 0n ? 0n : (steth * E27) / shares };
}

export interface FinalizationBatches {
  /** The last request id of each batch, ascending. */
  batches: number[];
  remainingBudget: bigint;
  /** True when every finalizable request fit (nothing was left for lack of budget or batches). */
  finished: boolean;
}

/**
 * Lido's calculateFinalizationBatches in one call: from the first unfinalized request on, while
 * requests are older than `maxTimestamp` and the ether budget pays for them (at the lower of their
 * rate and `maxShareRate`), group consecutive requests into batches that are all above or all
 * below `maxShareRate` (or made under the same report), at most MAX_FINALIZATION_BATCHES.
 *
 * `queue` holds every request by id (queue[0] is the sentinel).
 */
export function finalizationBatches(
  queue: readonly QueuedRequest[],
  lastFinalizedId: number,
  maxShareRate: bigint,
  maxTimestamp: number,
  budget: bigint,
): FinalizationBatches {
  const batches: number[] = [];
  let remaining = budget;
  let prev = queue[lastFinalizedId] ?? QUEUE_SENTINEL;
  let prevRate = 0n;
  let id = lastFinalizedId + 1;
  for (; id < queue.length; id++) {
    const req = queue[id]!;
    if (req.timestamp > maxTimestamp) break;
    const b = calcBatch(prev, req);
    const eth = b.shareRate > maxShareRate ? (b.shares * maxShareRate) / E27 : b.steth;
    if (eth > remaining) break;
    remaining -= eth;
    const sameSide =
      prev.reportTimestamp === req.reportTimestamp ||
      (prevRate <= maxShareRate && b.shareRate <= maxShareRate) ||
      (prevRate > maxShareRate && b.shareRate > maxShareRate);
    if (batches.length !== 0 && sameSide) {
      batches[batches.length - 1] = id;
    } else {
      if (batches.length === MAX_FINALIZATION_BATCHES) {
        remaining += eth;
        break;
      }
      batches.push(id);
    }
    prevRate = b.shareRate;
    prev = req;
  }
  return { batches, remainingBudget: remaining, finished: id === queue.length };
}

/**
 * Lido's prefinalize: the ether to lock and the shares to burn for `batches`, each batch paid
 * at its own rate or `maxShareRate`, whichever is lower (rounded down per batch).
 */
export function prefinalize(
  queue: readonly QueuedRequest[],
  lastFinalizedId: number,
  batches: readonly number[],
  maxShareRate: bigint,
): { ethToLock: bigint; sharesToBurn: bigint } {
  let ethToLock = 0n;
  let sharesToBurn = 0n;
  let prev = queue[lastFinalizedId] ?? QUEUE_SENTINEL;
  for (const end of batches) {
    const req = queue[end];
    if (req === undefined || end <= prev.id)
      throw new Error(`finalization batch ends at ${end}: out of order`);
    const b = calcBatch(prev, req);
    ethToLock += b.shareRate > maxShareRate ? (b.shares * maxShareRate) / E27 : b.steth;
    sharesToBurn += b.shares;
    prev = req;
  }
  return { ethToLock, sharesToBurn };
}

/** What a finalized request pays (Lido's _calculateClaimableEther), rounded down. */
export function claimableEther(
  prev: QueuedRequest,
  req: QueuedRequest,
  checkpointMaxShareRate: bigint,
): bigint {
  const b = calcBatch(prev, req);
  return b.shareRate > checkpointMaxShareRate ? (b.shares * checkpointMaxShareRate) / E27 : b.steth;
}
