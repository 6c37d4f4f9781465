/**
 * The pool ledger in PostgreSQL (or PGlite): every operation runs in one transaction that locks
 * the ledger's state, applies the rule (rules.ts), appends the entry and writes the state after
 * it, so that an operation is applied whole or not at all and operations never interleave.
 */
import { PoolkeeperError, ValidationError } from "@poolkeeper/core";
import {
  accountShares,
  addAccountShares,
  appendLedgerEntry,
  checkpointForRequest,
  insertWithdrawalCheckpoint,
  insertWithdrawalRequest,
  listAccountShares,
  listLedgerEntries,
  listOperatorReportEntries,
  listReportEntries,
  listWithdrawalRequests,
  lockLedgerState,
  markWithdrawalClaimed,
  operatorMintedShares,
  type Queryable,
  readLedgerState,
  type Store,
  type StoredWithdrawalRequest,
  withdrawalRequestsOf,
} from "@poolkeeper/store";
import { LedgerBook } from "./book.js";
import {
  entryAccount,
  entryFromJson,
  entryToJson,
  reportEntryFromStored,
  stateFromJson,
  stateToJson,
} from "./codec.js";
import { LEDGER_ERRORS } from "./errors.js";
import { type OperatorReportReward, operatorReportReward } from "./operator-rewards.js";
import {
  checkFeeConfig,
  DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
  type FeeConfig,
  planReport,
  prepareReportInput,
  type ReportInput,
  type ReportOutcome,
} from "./report.js";
import {
  depositableEther,
  type LedgerEntry,
  type LedgerState,
  type Planned,
  parseAccount,
  planClaim,
  planDeposit,
  planDepositRefund,
  planFinalize,
  planSubmit,
  planWithdrawalRequest,
  totalPooledEther,
  totals,
} from "./rules.js";
import { etherByShares, shareRate } from "./shares.js";
import { QUEUE_SENTINEL, type QueuedRequest } from "./withdrawal-queue.js";

export interface PoolSummary {
  totalPooledEther: bigint;
  totalShares: bigint;
  bufferedWei: bigint;
  /** What a deposit batch may take now: the buffer less what unfinalized withdrawal requests reserve. */
  depositableWei: bigint;
  /** Deposited ether not in the last report's CL balance: its pending deposits and deposits it did not see. */
  pendingWei: bigint;
  clBalanceWei: bigint;
  lockedWei: bigint;
  unfinalizedSteth: bigint;
  /** What reports have taken from the withdrawal and EL rewards vaults, in all. */
  withdrawalsCollectedWei: bigint;
  elRewardsCollectedWei: bigint;
  /** Ether per share, 1e27 precision, rounded down. */
  shareRate: bigint;
  /** The last entry applied (0 before any). */
  lastSeq: bigint;
  /** The last applied report's ref slot and its unix seconds (0 before any). */
  lastRefSlot: number;
  lastReportTimestamp: number;
}

export interface AccountView {
  account: string;
  shares: bigint;
  balanceWei: bigint;
  withdrawalRequests: (StoredWithdrawalRequest & { status: "pending" | "finalized" | "claimed" })[];
}

function parseWei(value: bigint | string, field: string): bigint {
  if (typeof value === "bigint") return value;
  if (!/^\d{1,78}$/.test(value))
    throw new ValidationError(field, "must be a whole number of wei (decimal digits)");
  return BigInt(value);
}

function queued(r: StoredWithdrawalRequest): QueuedRequest & { owner: string; claimedWei: bigint | null } {
  return {
    id: r.id,
    cumulativeSteth: r.cumulativeSteth,
    cumulativeShares: r.cumulativeShares,
    timestamp: r.requestedAt,
    reportTimestamp: r.reportTimestamp,
    owner: r.owner,
    claimedWei: r.claimedWei,
  };
}

export interface PoolLedgerOptions {
  /** Unix seconds now (tests). */
  now?: () => number;
}

export class PoolLedger {
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    opts: PoolLedgerOptions = {},
  ) {
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** The request's stored row (null: no such request). */
  async withdrawalRequest(id: number, q: Queryable = this.store): Promise<StoredWithdrawalRequest | null> {
    return (await listWithdrawalRequests(q, id, id))[0] ?? null;
  }

  async state(q: Queryable = this.store): Promise<LedgerState> {
    return stateFromJson((await readLedgerState(q))?.data);
  }

  async summary(): Promise<PoolSummary> {
    const row = await readLedgerState(this.store);
    const s = stateFromJson(row?.data);
    return {
      totalPooledEther: totalPooledEther(s),
      totalShares: s.totalShares,
      bufferedWei: s.bufferedWei,
      depositableWei: depositableEther(s),
      pendingWei: s.clPendingWei + (s.depositedWei - s.clDepositedWei),
      clBalanceWei: s.clBalanceWei,
      lockedWei: s.lockedWei,
      unfinalizedSteth: s.unfinalizedSteth,
      withdrawalsCollectedWei: s.withdrawalsCollectedWei,
      elRewardsCollectedWei: s.elRewardsCollectedWei,
      shareRate: shareRate(totals(s)),
      lastSeq: row?.lastSeq ?? 0n,
      lastRefSlot: s.lastRefSlot,
      lastReportTimestamp: s.lastReportTimestamp,
    };
  }

  async account(address: string): Promise<AccountView> {
    const account = parseAccount(address);
    const [s, shares, requests] = await Promise.all([
      this.state(),
      accountShares(this.store, account),
      withdrawalRequestsOf(this.store, account),
    ]);
    return {
      account,
      shares,
      balanceWei: etherByShares(shares, totals(s)),
      withdrawalRequests: requests.map((r) => ({
        ...r,
        status:
          r.claimedWei !== null ? "claimed" : r.id <= s.lastFinalizedRequestId ? "finalized" : "pending",
      })),
    };
  }

  /** An account stakes `wei`: shares minted at the current rate, the buffer grows. */
  async submit(address: string, amount: bigint | string): Promise<{ seq: bigint; shares: bigint }> {
    const account = parseAccount(address);
    const wei = parseWei(amount, "amount");
    return this.write(async (tx, s) => {
      const p = planSubmit(s, account, wei);
      return {
        p,
        after: (seq) =>
          addAccountShares(tx, account, p.entry.shares).then(() => ({ seq, shares: p.entry.shares })),
      };
    });
  }

  /**
   * The ether a deposit may take now: the buffer less what unfinalized withdrawal requests reserve
   * (`depositableEther`). In the caller's transaction `tx` the ledger stays locked until it ends,
   * so that a `deposit` later in it sees the same figure (the registry sizes a batch by it).
   */
  async depositable(tx?: Queryable): Promise<bigint> {
    const row = tx === undefined ? await readLedgerState(this.store) : await lockLedgerState(tx);
    return depositableEther(stateFromJson(row?.data));
  }

  /**
   * A deposit batch paid from the buffer, in the caller's transaction when `tx` is given (the
   * registry's batch transaction), so that the batch and its payment land together or not at all.
   */
  async deposit(
    batchId: string,
    validators: number,
    amount: bigint,
    tx?: Queryable,
  ): Promise<{ seq: bigint }> {
    return this.batchEntry((s) => planDeposit(s, batchId, validators, amount), tx);
  }

  /** One batch's entry (its deposit or refund), in `tx` when given, else in a transaction of its own. */
  private batchEntry(plan: (s: LedgerState) => Planned, tx?: Queryable): Promise<{ seq: bigint }> {
    const run = (q: Queryable) =>
      this.writeIn(q, async (_tx, s) => ({ p: plan(s), after: async (seq) => ({ seq }) }));
    return tx === undefined ? this.store.transaction(run) : run(tx);
  }

  /**
   * A deposit batch refused by deposit security before it was sent: its payment back to the
   * buffer (one `deposit_refund` entry per batch, in the caller's transaction when `tx` is given).
   */
  async refundDeposit(
    batchId: string,
    validators: number,
    amount: bigint,
    tx?: Queryable,
  ): Promise<{ seq: bigint }> {
    return this.batchEntry((s) => planDepositRefund(s, batchId, validators, amount), tx);
  }

  /** An account asks to withdraw `amount` stETH: its shares move to the queue; returns the request id. */
  async requestWithdrawal(
    address: string,
    amount: bigint | string,
  ): Promise<{ seq: bigint; requestId: number; shares: bigint }> {
    const account = parseAccount(address);
    const wei = parseWei(amount, "amount");
    const timestamp = this.now();
    return this.write(async (tx, s) => {
      const last =
        s.lastRequestId === 0
          ? QUEUE_SENTINEL
          : queued((await listWithdrawalRequests(tx, s.lastRequestId))[0]!);
      const p = planWithdrawalRequest(s, account, await accountShares(tx, account), wei, last, timestamp);
      return {
        p,
        after: async (seq) => {
          await addAccountShares(tx, account, -p.entry.shares);
          await insertWithdrawalRequest(tx, {
            id: p.request.id,
            owner: account,
            steth: wei,
            shares: p.entry.shares,
            cumulativeSteth: p.request.cumulativeSteth,
            cumulativeShares: p.request.cumulativeShares,
            requestedAt: timestamp,
            reportTimestamp: p.request.reportTimestamp,
          });
          return { seq, requestId: p.request.id, shares: p.entry.shares };
        },
      };
    });
  }

  /**
   * Finalize the requests the buffer can pay, made up to `maxTimestamp` (default now), at the lower
   * of their rate and `maxShareRate` (default the current rate). Null when nothing could be.
   */
  async finalize(
    opts: { maxTimestamp?: number; maxShareRate?: bigint } = {},
  ): Promise<Extract<LedgerEntry, { kind: "withdrawal_finalize" }> | null> {
    const maxTimestamp = opts.maxTimestamp ?? this.now();
    return this.store.transaction(async (tx) => {
      const row = await lockLedgerState(tx);
      const s = stateFromJson(row?.data);
      if (s.lastFinalizedRequestId === s.lastRequestId) return null;
      const p = planFinalize(s, await this.queueFrom(tx, s), maxTimestamp, opts.maxShareRate);
      if (p === null) return null;
      const seq = await this.append(tx, p);
      await insertWithdrawalCheckpoint(tx, p.entry.firstRequestId, p.entry.maxShareRate, seq);
      return p.entry;
    });
  }

  /** Pay a finalized request to its owner (once). */
  async claim(address: string, requestId: number): Promise<{ seq: bigint; wei: bigint }> {
    const account = parseAccount(address);
    if (!Number.isSafeInteger(requestId) || requestId <= 0)
      throw new ValidationError("requestId", "must be a positive integer");
    return this.write(async (tx, s) => {
      const [prevRow, reqRow] = await listWithdrawalRequests(tx, requestId - 1, requestId).then((rs) =>
        requestId === 1 ? [undefined, rs[0]] : [rs[0], rs[1]],
      );
      if (reqRow === undefined)
        throw new PoolkeeperError(LEDGER_ERRORS.NOT_FOUND, `no withdrawal request ${requestId}`, {
          requestId,
        });
      const cp = await checkpointForRequest(tx, requestId);
      const prev = prevRow === undefined ? QUEUE_SENTINEL : queued(prevRow);
      const p = planClaim(s, account, prev, queued(reqRow), cp?.maxShareRate);
      return {
        p,
        after: async (seq) => {
          if (!(await markWithdrawalClaimed(tx, requestId, p.entry.wei, seq)))
            throw new PoolkeeperError(
              LEDGER_ERRORS.WITHDRAWAL_CLAIMED,
              `withdrawal request ${requestId} was claimed already`,
            );
          return { seq, wei: p.entry.wei };
        },
      };
    });
  }

  /**
   * Apply an agreed oracle report (report.ts): CL balances, vault transfers under the rebase
   * limiter, withdrawals finalized at the report's share rate, fee shares minted. Once per ref
   * slot; a report for a ref slot at or before the last applied one is refused.
   */
  async applyReport(
    input: ReportInput,
    fees: FeeConfig,
    maxPositiveTokenRebase: bigint = DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
    tx?: Queryable,
  ): Promise<{ seq: bigint; outcome: ReportOutcome }> {
    const run = async (q: Queryable) => {
      const row = await lockLedgerState(q);
      const s = stateFromJson(row?.data);
      const queue = input.finalizationBatches.length > 0 ? await this.queueFrom(q, s) : [];
      const plan = planReport(s, input, queue, fees, maxPositiveTokenRebase);
      const entry: LedgerEntry = {
        kind: "report",
        input,
        fees: checkFeeConfig(fees),
        maxPositiveTokenRebase,
        outcome: plan.outcome,
      };
      const seq = await this.append(q, { entry, state: plan.state });
      for (const m of plan.outcome.mints) await addAccountShares(q, m.account, m.shares);
      if (plan.finalizedFrom !== null)
        await insertWithdrawalCheckpoint(q, plan.finalizedFrom, input.simulatedShareRate, seq);
      return { seq, outcome: plan.outcome };
    };
    return tx === undefined ? this.store.transaction(run) : run(tx);
  }

  /**
   * What an oracle member puts in a report, from the ledger as it stands: the simulated share
   * rate (the report without withdrawals) and the finalization batches at that rate for requests
   * made up to `maxTimestamp`, paid from the buffer and the vault transfers the report brings.
   */
  async prepareReport(
    base: Omit<ReportInput, "finalizationBatches" | "simulatedShareRate">,
    fees: FeeConfig,
    opts: { maxTimestamp: number; maxPositiveTokenRebase?: bigint },
  ): Promise<ReportInput> {
    const s = await this.state();
    const queue = s.lastRequestId > s.lastFinalizedRequestId ? await this.queueFrom(this.store, s) : [];
    return prepareReportInput(s, queue, base, fees, opts);
  }

  /** The withdrawal queue a report reads: requests from the last finalized one (or the sentinel) to `toId`. */
  async reportQueue(s: LedgerState, toId = s.lastRequestId): Promise<QueuedRequest[]> {
    return this.queueFrom(this.store, s, toId);
  }

  /** The reports applied, newest first (at most `limit`; ref slots in the range when given). */
  async reports(
    limit = 100,
    range: { fromRefSlot?: number; toRefSlot?: number } = {},
  ): Promise<{ seq: bigint; createdAt: Date; report: Extract<LedgerEntry, { kind: "report" }> }[]> {
    const rows = await listReportEntries(this.store, limit, range);
    return rows.map((e) => ({ seq: e.seq, createdAt: e.createdAt, report: reportEntryFromStored(e.data) }));
  }

  /**
   * Operator `operatorId`'s part of the applied reports that list it, newest first (at most
   * `limit`; ref slots below `beforeRefSlot` when given), read page by page from the store.
   */
  async operatorRewards(
    operatorId: string,
    limit: number,
    beforeRefSlot?: number,
  ): Promise<OperatorReportReward[]> {
    const rows = await listOperatorReportEntries(this.store, operatorId, limit, beforeRefSlot);
    return rows.map((e) => {
      const r = operatorReportReward(reportEntryFromStored(e.data), operatorId);
      if (r === null) throw new Error(`ledger: report entry ${e.seq} does not list operator ${operatorId}`);
      return r;
    });
  }

  /** The fee shares all applied reports minted for operator `operatorId`. */
  operatorSharesMinted(operatorId: string): Promise<bigint> {
    return operatorMintedShares(this.store, operatorId);
  }

  /**
   * Replay the whole history from the first entry and compare the result with the stored
   * state, every account and every request; throws on the first difference. Returns the book.
   */
  async verify(): Promise<LedgerBook> {
    const book = new LedgerBook();
    for (let after = 0n; ; ) {
      const batch = await listLedgerEntries(this.store, after, 5000);
      if (batch.length === 0) break;
      for (const e of batch) book.apply(entryFromJson(e.kind, e.account, e.data));
      after = batch[batch.length - 1]!.seq;
    }
    const stored = JSON.stringify(stateToJson(await this.state()));
    const replayed = JSON.stringify(stateToJson(book.state));
    if (stored !== replayed)
      throw new Error(`ledger verify: state ${stored} but the history gives ${replayed}`);
    const accounts = await listAccountShares(this.store);
    for (const [a, sh] of book.accounts)
      if ((accounts.get(a) ?? 0n) !== sh)
        throw new Error(`ledger verify: ${a} holds ${accounts.get(a)} shares, history gives ${sh}`);
    for (const [a, sh] of accounts)
      if (book.sharesOf(a) !== sh)
        throw new Error(`ledger verify: ${a} holds ${sh} shares, history gives ${book.sharesOf(a)}`);
    const requests = await listWithdrawalRequests(this.store, 1);
    if (requests.length !== book.queue.length - 1)
      throw new Error("ledger verify: the withdrawal queue's length differs");
    for (const r of requests) {
      const b = book.queue[r.id]!;
      if (
        b.cumulativeSteth !== r.cumulativeSteth ||
        b.cumulativeShares !== r.cumulativeShares ||
        b.owner !== r.owner ||
        b.claimedWei !== r.claimedWei
      )
        throw new Error(`ledger verify: withdrawal request ${r.id} differs from its history`);
    }
    return book;
  }

  /** The withdrawal queue by id from the last finalized request (or the sentinel) to the last one. */
  private async queueFrom(tx: Queryable, s: LedgerState, toId?: number): Promise<QueuedRequest[]> {
    const queue: QueuedRequest[] = [];
    for (const r of await listWithdrawalRequests(tx, s.lastFinalizedRequestId, toId)) queue[r.id] = queued(r);
    if (s.lastFinalizedRequestId === 0) queue[0] = QUEUE_SENTINEL;
    return queue;
  }

  private write<T>(
    fn: (tx: Queryable, s: LedgerState) => Promise<{ p: Planned; after: (seq: bigint) => Promise<T> }>,
  ): Promise<T> {
    return this.store.transaction((tx) => this.writeIn(tx, fn));
  }

  private async writeIn<T>(
    tx: Queryable,
    fn: (tx: Queryable, s: LedgerState) => Promise<{ p: Planned; after: (seq: bigint) => Promise<T> }>,
  ): Promise<T> {
    const row = await lockLedgerState(tx);
    const { p, after } = await fn(tx, stateFromJson(row?.data));
    return after(await this.append(tx, p));
  }

  private append(tx: Queryable, p: Planned): Promise<bigint> {
    return appendLedgerEntry(
      tx,
      p.entry.kind,
      entryAccount(p.entry),
      entryToJson(p.entry),
      stateToJson(p.state),
    );
  }
}
