/**
 * The whole ledger in memory: the state, every account's shares, the withdrawal queue and its
 * checkpoints. It runs the same rules as the PostgreSQL ledger; `apply` replays a stored entry,
 * recomputing every amount from the state before it and failing on any difference, so that a
 * replay of the history proves the stored state (PoolLedger.verify) and the property tests can
 * run thousands of operations without a database.
 */
import { PoolkeeperError } from "@poolkeeper/core";
import { LEDGER_ERRORS } from "./errors.js";
import {
  checkFeeConfig,
  DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
  type FeeConfig,
  planReport,
  type ReportInput,
} from "./report.js";
import {
  type ClaimableRequest,
  EMPTY_LEDGER,
  type LedgerEntry,
  type LedgerState,
  type Planned,
  planClaim,
  planDeposit,
  planDepositRefund,
  planFinalize,
  planSubmit,
  planWithdrawalRequest,
  totals,
} from "./rules.js";
import { etherByShares } from "./shares.js";
import { QUEUE_SENTINEL } from "./withdrawal-queue.js";

export type BookRequest = ClaimableRequest;

export class LedgerBook {
  state: LedgerState = EMPTY_LEDGER;
  readonly accounts = new Map<string, bigint>();
  /** Requests by id; [0] is the sentinel. */
  readonly queue: BookRequest[] = [{ ...QUEUE_SENTINEL, owner: "", claimedWei: 0n }];
  /** Finalization checkpoints: from request id, at max share rate. */
  readonly checkpoints: { fromRequestId: number; maxShareRate: bigint }[] = [];
  readonly entries: LedgerEntry[] = [];

  sharesOf(account: string): bigint {
    return this.accounts.get(account) ?? 0n;
  }

  balanceOf(account: string): bigint {
    return etherByShares(this.sharesOf(account), totals(this.state));
  }

  submit(account: string, wei: bigint): Planned {
    return this.commit(planSubmit(this.state, account, wei));
  }

  deposit(batchId: string, validators: number, wei: bigint): Planned {
    return this.commit(planDeposit(this.state, batchId, validators, wei));
  }

  refundDeposit(batchId: string, validators: number, wei: bigint): Planned {
    return this.commit(planDepositRefund(this.state, batchId, validators, wei));
  }

  requestWithdrawal(account: string, steth: bigint, timestamp: number): Planned {
    const last = this.queue[this.queue.length - 1]!;
    const p = planWithdrawalRequest(this.state, account, this.sharesOf(account), steth, last, timestamp);
    this.queue.push({ ...p.request, owner: account, claimedWei: null });
    return this.commit(p);
  }

  finalize(maxTimestamp: number, maxShareRate?: bigint): Planned | null {
    const p = planFinalize(this.state, this.queue, maxTimestamp, maxShareRate);
    return p === null ? null : this.commit(p);
  }

  /** The checkpoint's rate a finalized request is paid at. */
  checkpointRate(requestId: number): bigint | undefined {
    let rate: bigint | undefined;
    for (const c of this.checkpoints) if (c.fromRequestId <= requestId) rate = c.maxShareRate;
    return rate;
  }

  claim(account: string, requestId: number): Planned {
    const req = this.queue[requestId];
    if (req === undefined || requestId === 0)
      throw new PoolkeeperError(LEDGER_ERRORS.NOT_FOUND, `no withdrawal request ${requestId}`);
    const p = planClaim(this.state, account, this.queue[requestId - 1]!, req, this.checkpointRate(requestId));
    return this.commit(p);
  }

  /** Apply an agreed oracle report (report.ts). */
  report(
    input: ReportInput,
    fees: FeeConfig,
    maxPositiveTokenRebase = DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
  ): Planned {
    const plan = planReport(this.state, input, this.queue, fees, maxPositiveTokenRebase);
    return this.commit({
      entry: {
        kind: "report",
        input,
        fees: checkFeeConfig(fees),
        maxPositiveTokenRebase,
        outcome: plan.outcome,
      },
      state: plan.state,
    });
  }

  /** Replay a stored entry: recompute it from the state before it; any difference throws. */
  apply(e: LedgerEntry): void {
    let p: Planned | null;
    switch (e.kind) {
      case "submit":
        p = this.submit(e.account, e.wei);
        break;
      case "deposit":
        p = this.deposit(e.batchId, e.validators, e.wei);
        break;
      case "deposit_refund":
        p = this.refundDeposit(e.batchId, e.validators, e.wei);
        break;
      case "withdrawal_request":
        p = this.requestWithdrawal(e.account, e.steth, e.timestamp);
        break;
      case "withdrawal_finalize":
        p = this.finalize(e.maxTimestamp, e.maxShareRate);
        break;
      case "withdrawal_claim":
        p = this.claim(e.account, e.requestId);
        break;
      case "report":
        p = this.report(e.input, e.fees, e.maxPositiveTokenRebase);
        break;
    }
    const want = canonicalJson(e);
    const got = canonicalJson(p?.entry);
    if (want !== got)
      throw new Error(
        `ledger replay: entry ${this.entries.length} differs: stored ${want}, recomputed ${got}`,
      );
  }

  private commit(p: Planned): Planned {
    const e = p.entry;
    switch (e.kind) {
      case "submit":
        this.accounts.set(e.account, this.sharesOf(e.account) + e.shares);
        break;
      case "withdrawal_request":
        this.accounts.set(e.account, this.sharesOf(e.account) - e.shares);
        break;
      case "withdrawal_finalize":
        this.checkpoints.push({ fromRequestId: e.firstRequestId, maxShareRate: e.maxShareRate });
        break;
      case "withdrawal_claim":
        this.queue[e.requestId]!.claimedWei = e.wei;
        break;
      case "report":
        for (const m of e.outcome.mints) this.accounts.set(m.account, this.sharesOf(m.account) + m.shares);
        if (e.input.finalizationBatches.length > 0)
          // this.state is still the state before the entry
          this.checkpoints.push({
            fromRequestId: this.state.lastFinalizedRequestId + 1,
            maxShareRate: e.input.simulatedShareRate,
          });
        break;
      case "deposit":
      case "deposit_refund":
        break;
    }
    this.state = p.state;
    this.entries.push(e);
    return p;
  }
}

/** JSON with bigints as strings and object keys sorted, so that equal entries give equal text. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === "bigint") return x.toString();
    if (x !== null && typeof x === "object" && !Array.isArray(x))
      return Object.fromEntries(
        Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    return x;
  });
}
