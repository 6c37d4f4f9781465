/**
 * The pool ledger's rules as pure functions: each takes the ledger's state and what the
 * operation reads, checks the input, and returns the entry to append and the state after it.
 * The PostgreSQL ledger (ledger.ts) and the in-memory replay (replay.ts) both run these, so the
 * stored history and its replay cannot disagree about a rule.
 */
import { PoolkeeperError, ValidationError } from "@poolkeeper/core";
import { LEDGER_ERRORS } from "./errors.js";
import type { FeeConfig, ReportInput, ReportOutcome } from "./report.js";
import { etherByShares, type PoolTotals, shareRate, sharesByEther } from "./shares.js";
import {
  calcBatch,
  claimableEther,
  finalizationBatches,
  MAX_WITHDRAWAL_WEI,
  MIN_WITHDRAWAL_WEI,
  prefinalize,
  type QueuedRequest,
} from "./withdrawal-queue.js";

export interface LedgerState {
  totalShares: bigint;
  /** Shares locked in the withdrawal queue (in totalShares until burnt at finalization). */
  queueShares: bigint;
  /** Ether in the pool not yet deposited nor locked for withdrawals. */
  bufferedWei: bigint;
  /** Keys deposited by the pool, and their deposit amounts. */
  depositedValidators: number;
  depositedWei: bigint;
  /** What the last applied report saw: keys on the consensus layer (as validators or pending deposits), their deposit amounts, their balance and pending balance. */
  clValidators: number;
  clDepositedWei: bigint;
  clBalanceWei: bigint;
  clPendingWei: bigint;
  /** Shares of finalized withdrawals waiting to be burnt (the rebase limiter burns them over several reports, as Lido's Burner). */
  burnerShares: bigint;
  /** Ether locked in the withdrawal queue for finalized, unclaimed requests (not pooled). */
  lockedWei: bigint;
  /** stETH of requests not yet finalized (what the buffer reserves before deposits). */
  unfinalizedSteth: bigint;
  lastRequestId: number;
  lastFinalizedRequestId: number;
  /** Unix seconds and ref slot of the last applied report (0 before any). */
  lastReportTimestamp: number;
  lastRefSlot: number;
  /** What reports have taken from the withdrawal vault and the EL rewards vault, in all (after the rebase limiter). */
  withdrawalsCollectedWei: bigint;
  elRewardsCollectedWei: bigint;
}

export const EMPTY_LEDGER: LedgerState = {
  totalShares: 0n,
  queueShares: 0n,
  bufferedWei: 0n,
  depositedValidators: 0,
  depositedWei: 0n,
  clValidators: 0,
  clDepositedWei: 0n,
  clBalanceWei: 0n,
  clPendingWei: 0n,
  burnerShares: 0n,
  lockedWei: 0n,
  unfinalizedSteth: 0n,
  lastRequestId: 0,
  lastFinalizedRequestId: 0,
  lastReportTimestamp: 0,
  lastRefSlot: 0,
  withdrawalsCollectedWei: 0n,
  elRewardsCollectedWei: 0n,
};

/**
 * buffered + CL balance at the last report + its pending deposits + deposits the last report
 * did not see yet (at their amounts). Vault balances count once a report collects them (the
 * rebase limiter may leave part of them for later reports, as Lido's does).
 */
export function totalPooledEther(s: LedgerState): bigint {
  return s.bufferedWei + s.clBalanceWei + s.clPendingWei + (s.depositedWei - s.clDepositedWei);
}

export function totals(s: LedgerState): PoolTotals {
  return { totalPooledEther: totalPooledEther(s), totalShares: s.totalShares };
}

/** Buffered ether a deposit may take: what withdrawal requests waiting to be finalized leave (Lido's getDepositableEther). */
export function depositableEther(s: LedgerState): bigint {
  return s.bufferedWei > s.unfinalizedSteth ? s.bufferedWei - s.unfinalizedSteth : 0n;
}

// ---------------------------------------------------------------- entries

/** One append-only ledger entry: the operation's input and every amount it computed. */
export type LedgerEntry =
  | { kind: "submit"; account: string; wei: bigint; shares: bigint }
  | { kind: "deposit"; batchId: string; validators: number; wei: bigint }
  /** A deposit batch refused by deposit security (never sent): its payment back in the buffer. */
  | { kind: "deposit_refund"; batchId: string; validators: number; wei: bigint }
  | {
      kind: "withdrawal_request";
      requestId: number;
      account: string;
      steth: bigint;
      shares: bigint;
      timestamp: number;
    }
  | {
      kind: "withdrawal_finalize";
      firstRequestId: number;
      lastRequestId: number;
      /** The cut-off: requests made after it wait. */
      maxTimestamp: number;
      maxShareRate: bigint;
      wei: bigint;
      shares: bigint;
      batches: number[];
    }
  | { kind: "withdrawal_claim"; requestId: number; account: string; wei: bigint }
  | {
      kind: "report";
      input: ReportInput;
      fees: FeeConfig;
      maxPositiveTokenRebase: bigint;
      outcome: ReportOutcome;
    };

export type LedgerEntryKind = LedgerEntry["kind"];
export const LEDGER_ENTRY_KINDS: readonly LedgerEntryKind[] = [
  "submit",
  "deposit",
  "withdrawal_request",
  "withdrawal_finalize",
  "withdrawal_claim",
  "report",
  "deposit_refund",
];

export interface Planned<E extends LedgerEntry = LedgerEntry> {
  entry: E;
  state: LedgerState;
}

// ---------------------------------------------------------------- checks

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

/** An execution-layer address, lower-cased; a ValidationError naming `field` otherwise. */
export function parseAccount(value: unknown, field = "account"): string {
  if (typeof value !== "string" || !ADDRESS_RE.test(value))
    throw new ValidationError(field, "must be an address: 0x and 40 hex digits");
  return value.toLowerCase();
}

function positive(wei: bigint, field: string): void {
  if (wei <= 0n) throw new ValidationError(field, "must be more than 0 wei");
}

// ---------------------------------------------------------------- rules

/** Lido's submit: shares at the current rate, rounded down (1:1 into an empty pool). */
export function planSubmit(
  s: LedgerState,
  account: string,
  wei: bigint,
): Planned<Extract<LedgerEntry, { kind: "submit" }>> {
  positive(wei, "amount");
  const shares = sharesByEther(wei, totals(s));
  if (shares === 0n) throw new ValidationError("amount", `${wei} wei buys no share at the current rate`);
  return {
    entry: { kind: "submit", account, wei, shares },
    state: { ...s, totalShares: s.totalShares + shares, bufferedWei: s.bufferedWei + wei },
  };
}

/** A deposit batch paid from the buffer (only what withdrawal requests leave); refused whole otherwise. */
export function planDeposit(
  s: LedgerState,
  batchId: string,
  validators: number,
  wei: bigint,
): Planned<Extract<LedgerEntry, { kind: "deposit" }>> {
  if (!Number.isSafeInteger(validators) || validators <= 0)
    throw new ValidationError("validators", "must be a positive integer");
  positive(wei, "amount");
  const available = depositableEther(s);
  if (wei > available)
    throw new PoolkeeperError(
      LEDGER_ERRORS.BUFFER_INSUFFICIENT,
      `the buffer cannot pay for deposit batch ${batchId}: ${wei} wei needed, ${available} wei depositable`,
      { batchId, needed: wei.toString(), depositable: available.toString() },
    );
  return {
    entry: { kind: "deposit", batchId, validators, wei },
    state: {
      ...s,
      bufferedWei: s.bufferedWei - wei,
      depositedValidators: s.depositedValidators + validators,
      depositedWei: s.depositedWei + wei,
    },
  };
}

/**
 * A deposit batch refused before it was sent (deposit security): what its `deposit` entry took
 * from the buffer goes back to it, exactly. Refused when the figures would undo more than was
 * deposited, or count fewer deposited keys than the last report saw on the consensus layer.
 */
export function planDepositRefund(
  s: LedgerState,
  batchId: string,
  validators: number,
  wei: bigint,
): Planned<Extract<LedgerEntry, { kind: "deposit_refund" }>> {
  if (!Number.isSafeInteger(validators) || validators <= 0)
    throw new ValidationError("validators", "must be a positive integer");
  positive(wei, "amount");
  if (validators > s.depositedValidators - s.clValidators || wei > s.depositedWei - s.clDepositedWei)
    throw new ValidationError(
      "batchId",
      `deposit batch ${batchId}: refunding ${validators} keys (${wei} wei) would undo deposits the last report saw on the consensus layer`,
    );
  return {
    entry: { kind: "deposit_refund", batchId, validators, wei },
    state: {
      ...s,
      bufferedWei: s.bufferedWei + wei,
      depositedValidators: s.depositedValidators - validators,
      depositedWei: s.depositedWei - wei,
    },
  };
}

/**
 * Lido's requestWithdrawals for one request: `steth` of the account's balance moves to the queue
 * as getSharesByPooledEth(steth) shares, within Lido's per-request limits.
 */
export function planWithdrawalRequest(
  s: LedgerState,
  account: string,
  accountShares: bigint,
  steth: bigint,
  last: QueuedRequest,
  timestamp: number,
): Planned<Extract<LedgerEntry, { kind: "withdrawal_request" }>> & { request: QueuedRequest } {
  if (steth < MIN_WITHDRAWAL_WEI)
    throw new ValidationError("amount", `must be at least ${MIN_WITHDRAWAL_WEI} wei`);
  if (steth > MAX_WITHDRAWAL_WEI)
    throw new ValidationError("amount", `must be at most ${MAX_WITHDRAWAL_WEI} wei (1000 ETH) per request`);
  const t = totals(s);
  const balance = etherByShares(accountShares, t);
  if (steth > balance)
    throw new ValidationError("amount", `is more than the account's balance of ${balance} wei`, {
      balance: balance.toString(),
    });
  const shares = sharesByEther(steth, t);
  if (shares === 0n || shares > accountShares)
    throw new ValidationError("amount", "buys no share to withdraw");
  const requestId = s.lastRequestId + 1;
  const request: QueuedRequest = {
    id: requestId,
    cumulativeSteth: last.cumulativeSteth + steth,
    cumulativeShares: last.cumulativeShares + shares,
    timestamp,
    reportTimestamp: s.lastReportTimestamp,
  };
  return {
    entry: { kind: "withdrawal_request", requestId, account, steth, shares, timestamp },
    request,
    state: {
      ...s,
      queueShares: s.queueShares + shares,
      unfinalizedSteth: s.unfinalizedSteth + steth,
      lastRequestId: requestId,
    },
  };
}

/**
 * Finalize what the buffer can pay: the batches of Lido's calculateFinalizationBatches at
 * `maxShareRate` (default: the pool's current rate) for requests made up to `maxTimestamp`;
 * the ether is locked in the queue and the requests' shares are burnt. Null when nothing fits.
 * `queue` holds the requests by id from the sentinel up to the last one.
 */
export function planFinalize(
  s: LedgerState,
  queue: readonly QueuedRequest[],
  maxTimestamp: number,
  maxShareRate: bigint = shareRate(totals(s)),
): Planned<Extract<LedgerEntry, { kind: "withdrawal_finalize" }>> | null {
  if (maxShareRate <= 0n) throw new ValidationError("maxShareRate", "must be more than 0");
  const { batches } = finalizationBatches(
    queue,
    s.lastFinalizedRequestId,
    maxShareRate,
    maxTimestamp,
    s.bufferedWei,
  );
  if (batches.length === 0) return null;
  const { ethToLock, sharesToBurn } = prefinalize(queue, s.lastFinalizedRequestId, batches, maxShareRate);
  const lastRequestId = batches[batches.length - 1]!;
  const steth = calcBatch(queue[s.lastFinalizedRequestId]!, queue[lastRequestId]!).steth;
  return {
    entry: {
      kind: "withdrawal_finalize",
      firstRequestId: s.lastFinalizedRequestId + 1,
      lastRequestId,
      maxTimestamp,
      maxShareRate,
      wei: ethToLock,
      shares: sharesToBurn,
      batches,
    },
    state: {
      ...s,
      bufferedWei: s.bufferedWei - ethToLock,
      lockedWei: s.lockedWei + ethToLock,
      totalShares: s.totalShares - sharesToBurn,
      queueShares: s.queueShares - sharesToBurn,
      unfinalizedSteth: s.unfinalizedSteth - steth,
      lastFinalizedRequestId: lastRequestId,
    },
  };
}

/** A request as a claim needs it: its place in the queue, its owner, whether it was paid. */
export interface ClaimableRequest extends QueuedRequest {
  owner: string;
  claimedWei: bigint | null;
}

/**
 * Pay a finalized request to its owner at the lower of its own rate and its finalization's
 * (`checkpointMaxShareRate`), rounded down; once.
 */
export function planClaim(
  s: LedgerState,
  account: string,
  prev: QueuedRequest,
  req: ClaimableRequest,
  checkpointMaxShareRate: bigint | undefined,
): Planned<Extract<LedgerEntry, { kind: "withdrawal_claim" }>> {
  if (req.owner !== account)
    throw new ValidationError("account", `is not the owner of withdrawal request ${req.id}`);
  if (req.id > s.lastFinalizedRequestId || checkpointMaxShareRate === undefined)
    throw new PoolkeeperError(
      LEDGER_ERRORS.WITHDRAWAL_NOT_FINALIZED,
      `withdrawal request ${req.id} is not finalized yet`,
      {
        requestId: req.id,
      },
    );
  if (req.claimedWei !== null)
    throw new PoolkeeperError(
      LEDGER_ERRORS.WITHDRAWAL_CLAIMED,
      `withdrawal request ${req.id} was claimed already`,
      {
        requestId: req.id,
      },
    );
  const wei = claimableEther(prev, req, checkpointMaxShareRate);
  if (wei > s.lockedWei)
    throw new Error(`request ${req.id} claims ${wei} wei of ${s.lockedWei} locked (a bug)`);
  return {
    entry: { kind: "withdrawal_claim", requestId: req.id, account, wei },
    state: { ...s, lockedWei: s.lockedWei - wei },
  };
}
