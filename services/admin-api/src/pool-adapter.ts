import { MAX_INT4 } from "@poolkeeper/contract";
import { toHex0x } from "@poolkeeper/core";
import { formatRate, PoolLedger } from "@poolkeeper/ledger";
import { appliedReportHashes, findOperator, type Store } from "@poolkeeper/store";
import { NotFoundError } from "./errors.js";
import type { PoolPort } from "./pool-port.js";

/** Reports read for the share-rate history (newest first, then filtered). */
const HISTORY_REPORTS = 10_000;

/**
 * The pool routes over the pool ledger; `now` (unix seconds) stamps withdrawal requests (default:
 * the wall clock; on a chain the caller moves, its time, which the oracle compares them with).
 */
export function poolPort(store: Store, now?: () => number): PoolPort {
  const ledger = new PoolLedger(store, now === undefined ? {} : { now });
  return {
    async summary() {
      const s = await ledger.summary();
      return {
        totalPooledEther: s.totalPooledEther.toString(),
        totalShares: s.totalShares.toString(),
        bufferedEther: s.bufferedWei.toString(),
        depositableEther: s.depositableWei.toString(),
        pendingEther: s.pendingWei.toString(),
        clBalance: s.clBalanceWei.toString(),
        lockedForWithdrawals: s.lockedWei.toString(),
        unfinalizedWithdrawals: s.unfinalizedSteth.toString(),
        withdrawalsCollected: s.withdrawalsCollectedWei.toString(),
        elRewardsCollected: s.elRewardsCollectedWei.toString(),
        shareRate: formatRate(s.shareRate),
        lastReport: s.lastRefSlot === 0 ? null : { refSlot: s.lastRefSlot, timestamp: s.lastReportTimestamp },
      };
    },
    async shareRateHistory({ from, to }) {
      const reports = await ledger.reports(HISTORY_REPORTS, {
        ...(from !== undefined ? { fromRefSlot: from } : {}),
        ...(to !== undefined ? { toRefSlot: to } : {}),
      });
      return reports
        .map((r) => r.report)
        .reverse()
        .map((r) => ({
          refSlot: r.input.refSlot,
          timestamp: r.input.timestamp,
          before: formatRate(r.outcome.preShareRate),
          after: formatRate(r.outcome.postShareRate),
        }));
    },
    async account(address) {
      const a = await ledger.account(address);
      return {
        address: a.account,
        shares: a.shares.toString(),
        balance: a.balanceWei.toString(),
        withdrawalRequests: a.withdrawalRequests.map((r) => ({
          id: r.id,
          owner: r.owner,
          amountOfStETH: r.steth.toString(),
          amountOfShares: r.shares.toString(),
          requestedAt: r.requestedAt,
          status: r.status,
          claimedEther: r.claimedWei === null ? null : r.claimedWei.toString(),
        })),
      };
    },
    async submit(account, amount) {
      const r = await ledger.submit(account, amount);
      return { account: account.toLowerCase(), amount, shares: r.shares.toString() };
    },
    async requestWithdrawal(account, amount) {
      const r = await ledger.requestWithdrawal(account, amount);
      return { requestId: r.requestId, amountOfStETH: amount, amountOfShares: r.shares.toString() };
    },
    async claim(account, requestId) {
      const r = await ledger.claim(account, requestId);
      return { requestId, amount: r.wei.toString() };
    },
    async operatorRewards(operatorId, { limit, beforeRefSlot }) {
      const op =
        operatorId >= 1 && operatorId <= MAX_INT4 ? await findOperator(store, operatorId) : undefined;
      if (op === undefined) throw new NotFoundError("operator", String(operatorId));
      const id = String(operatorId);
      const [reports, minted, holding] = await Promise.all([
        ledger.operatorRewards(id, limit, beforeRefSlot),
        ledger.operatorSharesMinted(id),
        ledger.account(toHex0x(op.rewardAddress)),
      ]);
      const hashes = await appliedReportHashes(
        store,
        reports.map((r) => r.refSlot),
      );
      return {
        operatorId,
        rewardAddress: holding.account,
        sharesMinted: minted.toString(),
        shares: holding.shares.toString(),
        balance: holding.balanceWei.toString(),
        reports: reports.map((r) => ({
          refSlot: r.refSlot,
          timestamp: r.timestamp,
          reportHash: hashes.get(r.refSlot) ?? null,
          rewardAddress: r.rewardAddress,
          activeValidators: r.activeValidators,
          rewardedValidators: r.rewardedValidators,
          shares: r.shares.toString(),
          ether: r.wei.toString(),
        })),
      };
    },
  };
}
