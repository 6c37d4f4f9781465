/**
 * Applying an oracle report to the ledger, as Lido's Accounting contract computes it
 * (_simulateOracleReport, _calculateTotalProtocolFeeShares, _calculateFeeDistribution) with its
 * order of operations and its rounding:
 *
 *   principal      = CL balance + pending before + deposit amounts of the keys the report newly sees
 *   withdrawals, elRewards, sharesToBurn = smoothenTokenRebase(…)       (the positive-rebase limiter)
 *   postInternalEther = pooled before + CL after + withdrawals − principal + elRewards − ether locked for withdrawals
 *   rewards        = CL after + withdrawals − principal + elRewards, only when CL after + withdrawals > principal
 *   feeEther       = rewards × totalFee / 10,000                                (rounded down first)
 *   sharesToMint   = feeEther × (shares before − sharesToBurn) / (postInternalEther − feeEther)
 *   operators' part = sharesToMint × operatorsFee / totalFee, the treasury takes the rest
 *
 * The operators' part is split by each operator's validators that performed (rewardedValidators)
 * over all active validators: the part of validators that did not perform, and the rounding dust,
 * are not minted and stay with the pool (as Lido's CSM returns undistributed rewards).
 */
import { ValidationError } from "@poolkeeper/core";
import { smoothenTokenRebase } from "./rebase-limiter.js";
import { type LedgerState, parseAccount, totalPooledEther, totals } from "./rules.js";
import { E27, shareRate } from "./shares.js";
import { calcBatch, finalizationBatches, prefinalize, type QueuedRequest } from "./withdrawal-queue.js";

export const FEE_PRECISION_BP = 10_000;

export interface FeeConfig {
  /** The pool's fee on rewards, basis points (Lido: 1,000 = 10%). */
  totalFeeBP: number;
  /** The operators' part of it (Lido: 500); the treasury gets totalFeeBP − operatorsFeeBP and the rounding. */
  operatorsFeeBP: number;
  treasury: string;
}

export const DEFAULT_MAX_POSITIVE_TOKEN_REBASE = 750_000n;

export interface ReportOperator {
  operatorId: string;
  rewardAddress: string;
  /** The operator's validators active in the frame, and those whose performance earns a share. */
  activeValidators: number;
  rewardedValidators: number;
}

/** What an agreed oracle report gives the ledger (amounts in wei). */
export interface ReportInput {
  refSlot: number;
  /** Unix seconds of the ref slot, and since the previous report's. */
  timestamp: number;
  timeElapsed: number;
  /** Pool keys the consensus layer knows at the ref slot (validators or pending deposits), and their deposit amounts. */
  clValidators: number;
  clDepositedWei: bigint;
  clBalanceWei: bigint;
  clPendingWei: bigint;
  withdrawalVaultWei: bigint;
  elRewardsVaultWei: bigint;
  /** Last request id of each finalization batch (calculateFinalizationBatches at simulatedShareRate); may be empty. */
  finalizationBatches: number[];
  simulatedShareRate: bigint;
  operators: ReportOperator[];
}

export interface ReportMint {
  account: string;
  shares: bigint;
  /** The operator it is for; null for the treasury. */
  operatorId: string | null;
}

export interface ReportOutcome {
  principalClBalanceWei: bigint;
  withdrawalsWei: bigint;
  elRewardsWei: bigint;
  etherToFinalizeWei: bigint;
  sharesToFinalize: bigint;
  sharesBurnt: bigint;
  rewardsWei: bigint;
  feeWei: bigint;
  sharesToMintAsFees: bigint;
  mints: ReportMint[];
  /** Fee shares not minted (operators' validators that did not perform, rounding dust): they stay with the pool. */
  sharesNotMinted: bigint;
  postTotalPooledEther: bigint;
  postTotalShares: bigint;
  preShareRate: bigint;
  postShareRate: bigint;
}

export interface ReportPlan {
  outcome: ReportOutcome;
  state: LedgerState;
  /** The first request id finalized, when the report finalizes some. */
  finalizedFrom: number | null;
}

/**
 * The principal a report's CL figures are measured against: the CL balance and pending balance
 * of the last report plus the deposit amounts of the keys this report newly sees.
 */
export function principalClBalance(
  s: Pick<LedgerState, "clBalanceWei" | "clPendingWei" | "clDepositedWei">,
  clDepositedWei: bigint,
): bigint {
  return s.clBalanceWei + s.clPendingWei + (clDepositedWei - s.clDepositedWei);
}

function fail(field: string, reason: string): never {
  throw new ValidationError(field, reason);
}

export function checkFeeConfig(f: FeeConfig): FeeConfig {
  if (!Number.isInteger(f.totalFeeBP) || f.totalFeeBP < 0 || f.totalFeeBP > FEE_PRECISION_BP)
    fail("fees.totalFeeBP", "must be an integer from 0 to 10000 basis points");
  if (!Number.isInteger(f.operatorsFeeBP) || f.operatorsFeeBP < 0 || f.operatorsFeeBP > f.totalFeeBP)
    fail("fees.operatorsFeeBP", "must be an integer from 0 to totalFeeBP");
  return { ...f, treasury: parseAccount(f.treasury, "fees.treasury") };
}

/**
 * The report's effect on the ledger, without applying it: what Lido's simulateOracleReport
 * answers. `queue` holds the withdrawal requests by id (from the last finalized one on).
 */
export function planReport(
  s: LedgerState,
  r: ReportInput,
  queue: readonly QueuedRequest[],
  fees: FeeConfig,
  maxPositiveTokenRebase: bigint = DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
): ReportPlan {
  fees = checkFeeConfig(fees);
  if (!Number.isSafeInteger(r.refSlot) || r.refSlot <= s.lastRefSlot)
    fail("refSlot", `must be after the last applied report's ref slot ${s.lastRefSlot}`);
  if (!Number.isSafeInteger(r.timestamp) || r.timestamp <= s.lastReportTimestamp)
    fail("timestamp", "must be after the last applied report's");
  if (r.clValidators < s.clValidators || r.clValidators > s.depositedValidators)
    fail(
      "clValidators",
      `must be between the last report's ${s.clValidators} and the ${s.depositedValidators} keys deposited`,
    );
  if (r.clDepositedWei < s.clDepositedWei || r.clDepositedWei > s.depositedWei)
    fail("clDepositedWei", "must be between the last report's and the amount deposited");
  if (r.clValidators === 0 && (r.clBalanceWei !== 0n || r.clPendingWei !== 0n))
    fail("clBalanceWei", "must be 0 while the consensus layer knows no pool validator");
  for (const [k, v] of [
    ["clBalanceWei", r.clBalanceWei],
    ["clPendingWei", r.clPendingWei],
    ["withdrawalVaultWei", r.withdrawalVaultWei],
    ["elRewardsVaultWei", r.elRewardsVaultWei],
  ] as const)
    if (v < 0n) fail(k, "must not be negative");

  const preTotalPooledEther = totalPooledEther(s);
  const preTotalShares = s.totalShares;

  // withdrawals to finalize at the simulated share rate (prefinalize)
  let etherToFinalize = 0n;
  let sharesToFinalize = 0n;
  let finalizedSteth = 0n;
  let finalizedFrom: number | null = null;
  const batches = r.finalizationBatches;
  if (batches.length > 0) {
    if (r.simulatedShareRate <= 0n) fail("simulatedShareRate", "must be more than 0 to finalize withdrawals");
    let prev = s.lastFinalizedRequestId;
    for (const [i, b] of batches.entries()) {
      if (!Number.isSafeInteger(b) || b <= prev || b > s.lastRequestId)
        fail(
          `finalizationBatches[${i}]`,
          "must ascend from the first unfinalized request to the last request",
        );
      prev = b;
    }
    ({ ethToLock: etherToFinalize, sharesToBurn: sharesToFinalize } = prefinalize(
      queue,
      s.lastFinalizedRequestId,
      batches,
      r.simulatedShareRate,
    ));
    finalizedSteth = calcBatch(queue[s.lastFinalizedRequestId]!, queue[batches[batches.length - 1]!]!).steth;
    finalizedFrom = s.lastFinalizedRequestId + 1;
  }

  const postCl = r.clBalanceWei + r.clPendingWei;
  const principal = principalClBalance(s, r.clDepositedWei);
  // a pool nobody holds shares of collects nothing from its vaults: the ether would go to whoever
  // stakes first (Lido avoids this with shares minted at its bootstrap); it waits for a later report
  const collect = preTotalShares > 0n;
  const sm = smoothenTokenRebase({
    limit: maxPositiveTokenRebase,
    preTotalPooledEther,
    preTotalShares,
    preClBalance: principal,
    postClBalance: postCl,
    withdrawalVaultWei: collect ? r.withdrawalVaultWei : 0n,
    elRewardsVaultWei: collect ? r.elRewardsVaultWei : 0n,
    sharesRequestedToBurn: s.burnerShares,
    etherToLockForWithdrawals: etherToFinalize,
    newSharesToBurnForWithdrawals: sharesToFinalize,
  });
  const bufferAfter = s.bufferedWei + sm.withdrawals + sm.elRewards - etherToFinalize;
  if (bufferAfter < 0n)
    fail("finalizationBatches", "lock more ether than the buffer and this report's vault transfers hold");

  const sharesBeforeFees = preTotalShares - sm.sharesToBurn;
  const postInternalEther =
    preTotalPooledEther + postCl + sm.withdrawals - principal + sm.elRewards - etherToFinalize;

  // fees (LIP-12: only when the CL side is above the principal)
  let rewards = 0n;
  let feeWei = 0n;
  let sharesToMint = 0n;
  const unifiedCl = postCl + sm.withdrawals;
  if (unifiedCl > principal && fees.totalFeeBP > 0) {
    rewards = unifiedCl - principal + sm.elRewards;
    feeWei = (rewards * BigInt(fees.totalFeeBP)) / BigInt(FEE_PRECISION_BP);
    if (postInternalEther - feeWei > 0n)
      sharesToMint = (feeWei * sharesBeforeFees) / (postInternalEther - feeWei);
  }
  const mints: ReportMint[] = [];
  let operatorsPart = 0n;
  let operatorsMinted = 0n;
  if (sharesToMint > 0n) {
    operatorsPart = (sharesToMint * BigInt(fees.operatorsFeeBP)) / BigInt(fees.totalFeeBP);
    const active = r.operators.reduce((a, o) => a + BigInt(o.activeValidators), 0n);
    for (const [i, o] of r.operators.entries()) {
      if (o.rewardedValidators < 0 || o.rewardedValidators > o.activeValidators)
        fail(`operators[${i}].rewardedValidators`, "must be between 0 and activeValidators");
      if (active === 0n || o.rewardedValidators === 0) continue;
      const shares = (operatorsPart * BigInt(o.rewardedValidators)) / active;
      if (shares === 0n) continue;
      mints.push({
        account: parseAccount(o.rewardAddress, `operators[${i}].rewardAddress`),
        shares,
        operatorId: o.operatorId,
      });
      operatorsMinted += shares;
    }
    const treasuryShares = sharesToMint - operatorsPart;
    if (treasuryShares > 0n) mints.push({ account: fees.treasury, shares: treasuryShares, operatorId: null });
  }
  const minted = operatorsMinted + (sharesToMint - operatorsPart);
  const postTotalShares = sharesBeforeFees + minted;

  const state: LedgerState = {
    ...s,
    clValidators: r.clValidators,
    clDepositedWei: r.clDepositedWei,
    clBalanceWei: r.clBalanceWei,
    clPendingWei: r.clPendingWei,
    bufferedWei: bufferAfter,
    lockedWei: s.lockedWei + etherToFinalize,
    queueShares: s.queueShares - sharesToFinalize,
    burnerShares: s.burnerShares + sharesToFinalize - sm.sharesToBurn,
    totalShares: postTotalShares,
    unfinalizedSteth: s.unfinalizedSteth - finalizedSteth,
    lastFinalizedRequestId: batches.length > 0 ? batches[batches.length - 1]! : s.lastFinalizedRequestId,
    lastReportTimestamp: r.timestamp,
    lastRefSlot: r.refSlot,
    withdrawalsCollectedWei: s.withdrawalsCollectedWei + sm.withdrawals,
    elRewardsCollectedWei: s.elRewardsCollectedWei + sm.elRewards,
  };
  if (totalPooledEther(state) !== postInternalEther)
    throw new Error(
      `report ${r.refSlot}: pooled ether ${totalPooledEther(state)} ≠ ${postInternalEther} (a bug)`,
    );
  return {
    finalizedFrom,
    state,
    outcome: {
      principalClBalanceWei: principal,
      withdrawalsWei: sm.withdrawals,
      elRewardsWei: sm.elRewards,
      etherToFinalizeWei: etherToFinalize,
      sharesToFinalize,
      sharesBurnt: sm.sharesToBurn,
      rewardsWei: rewards,
      feeWei,
      sharesToMintAsFees: sharesToMint,
      mints,
      sharesNotMinted: sharesToMint - minted,
      postTotalPooledEther: postInternalEther,
      postTotalShares,
      preShareRate: shareRate(totals(s)),
      postShareRate: postTotalShares === 0n ? E27 : (postInternalEther * E27) / postTotalShares,
    },
  };
}

/**
 * The share rate the oracle puts in its report: the report simulated without finalizing any
 * withdrawal (Lido: simulateOracleReport with no batches, then postInternalEther × 1e27 / postInternalShares).
 */
export function simulatedShareRate(
  s: LedgerState,
  r: Omit<ReportInput, "finalizationBatches" | "simulatedShareRate">,
  fees: FeeConfig,
  maxPositiveTokenRebase: bigint = DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
): bigint {
  return planReport(
    s,
    { ...r, finalizationBatches: [], simulatedShareRate: 0n },
    [],
    fees,
    maxPositiveTokenRebase,
  ).outcome.postShareRate;
}

/**
 * What an oracle member puts in a report, from the ledger's state `s` and its withdrawal queue
 * (by id, from the last finalized request on): the simulated share rate (the report without
 * withdrawals) and the finalization batches at that rate for requests made up to
 * `maxTimestamp`, paid from the buffer and the vault transfers the report brings.
 */
export function prepareReportInput(
  s: LedgerState,
  queue: readonly QueuedRequest[],
  base: Omit<ReportInput, "finalizationBatches" | "simulatedShareRate">,
  fees: FeeConfig,
  opts: { maxTimestamp: number; maxPositiveTokenRebase?: bigint },
): ReportInput {
  const limit = opts.maxPositiveTokenRebase ?? DEFAULT_MAX_POSITIVE_TOKEN_REBASE;
  const dry = planReport(s, { ...base, finalizationBatches: [], simulatedShareRate: 0n }, [], fees, limit);
  const rate = dry.outcome.postShareRate;
  const batches =
    s.lastRequestId > s.lastFinalizedRequestId
      ? finalizationBatches(queue, s.lastFinalizedRequestId, rate, opts.maxTimestamp, dry.state.bufferedWei)
          .batches
      : [];
  return { ...base, finalizationBatches: batches, simulatedShareRate: rate };
}
