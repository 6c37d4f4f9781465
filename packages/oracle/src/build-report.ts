/**
 * A member's report for a frame, from what it read itself (the consensus layer at the ref slot,
 * the vaults on the execution layer) and the frame's context from the pool (frame-context.ts):
 * a pure function, so two members with the same inputs build the same bytes.
 */
import { planReport, prepareReportInput, type QueuedRequest } from "@poolkeeper/ledger";
import type { PoolValidatorFigure } from "./cl-figures.js";
import { chooseValidatorsToExit } from "./ejector.js";
import type { FrameContext } from "./frame-context.js";
import { CONSENSUS_VERSION, ledgerInputOf, type ReportData } from "./report-data.js";

/** The consensus-layer figures a report needs (ClFigures of cl-figures.ts has them). */
export interface ReportClSide {
  refSlot: number;
  clValidators: number;
  clDepositedGwei: bigint;
  clBalanceGwei: bigint;
  clPendingBalanceGwei: bigint;
  exitedValidators: number;
  operators: readonly {
    operatorId: number;
    activeValidators: number;
    exitedValidators: number;
    balanceGwei: bigint;
    /** Its validators active in the frame, by index. */
    activeIndices: readonly number[];
  }[];
  /** Every pool validator at the ref slot (the ejector rule's candidates and those exiting). */
  validators: readonly PoolValidatorFigure[];
}

export interface ReportVaults {
  withdrawalVaultWei: bigint;
  elRewardsVaultWei: bigint;
}

export interface BuildOptions {
  isBunkerMode: boolean;
  /** Requests made after this (unix seconds) are not finalized by this report (the safe border). */
  finalizationMaxTimestamp: number;
}

/**
 * The stETH the queue still asks after this report's finalization, counting only requests made at
 * or before the ref slot: a request made later is the next report's demand (Lido's ejector reads
 * the withdrawal queue at the ref block). The ledger pinned for the frame may already hold later
 * ones (it is pinned at the first member's ask, after the ref slot).
 */
export function unfinalizedAtRef(
  queue: readonly (QueuedRequest | undefined)[],
  lastFinalizedRequestId: number,
  refTimestamp: number,
): bigint {
  const finalized = queue[lastFinalizedRequestId]?.cumulativeSteth ?? 0n;
  let lastAtRef: QueuedRequest | undefined;
  for (let id = lastFinalizedRequestId + 1; id < queue.length; id++) {
    const q = queue[id];
    if (q === undefined) continue;
    if (q.timestamp > refTimestamp) break; // ids are in time order
    lastAtRef = q;
  }
  return lastAtRef === undefined ? 0n : lastAtRef.cumulativeSteth - finalized;
}

/**
 * The report: per operator, its validators that performed over the frame (active ones not below
 * the bar of `ctx.performance`); the simulated share rate and the finalization batches from the
 * pinned ledger, as the decider will check them.
 */
export function buildReport(
  ctx: FrameContext,
  cl: ReportClSide,
  vaults: ReportVaults,
  opts: BuildOptions,
): ReportData {
  if (cl.refSlot !== ctx.refSlot)
    throw new Error(`the consensus-layer figures are of slot ${cl.refSlot}, not ref slot ${ctx.refSlot}`);
  const under = new Set(ctx.performance.underperforming);
  const operators = [...cl.operators]
    .sort((a, b) => a.operatorId - b.operatorId)
    .map((o) => ({
      operatorId: o.operatorId,
      activeValidators: o.activeValidators,
      exitedValidators: o.exitedValidators,
      rewardedValidators: o.activeIndices.filter((i) => !under.has(i)).length,
      balanceGwei: o.balanceGwei,
    }));
  const draft: ReportData = {
    consensusVersion: CONSENSUS_VERSION,
    refSlot: ctx.refSlot,
    clValidators: cl.clValidators,
    clDepositedGwei: cl.clDepositedGwei,
    clBalanceGwei: cl.clBalanceGwei,
    clPendingBalanceGwei: cl.clPendingBalanceGwei,
    exitedValidators: cl.exitedValidators,
    operators,
    withdrawalVaultBalanceWei: vaults.withdrawalVaultWei,
    elRewardsVaultBalanceWei: vaults.elRewardsVaultWei,
    withdrawalFinalizationBatches: [],
    simulatedShareRate: 0n,
    isBunkerMode: opts.isBunkerMode,
    validatorsToExit: [],
  };
  // who receives the fee shares does not move the share rate: the simulation mints to the treasury
  const {
    finalizationBatches: _b,
    simulatedShareRate: _r,
    ...base
  } = ledgerInputOf(draft, {
    refTimestamp: ctx.frame.refTimestamp,
    previousRefTimestamp: ctx.previousRefTimestamp,
    rewardAddressOf: () => ctx.fees.treasury,
  });
  const queue: QueuedRequest[] = [];
  for (const q of ctx.queue) queue[q.id] = q;
  const input = prepareReportInput(ctx.ledger, queue, base, ctx.fees, {
    maxTimestamp: opts.finalizationMaxTimestamp,
    maxPositiveTokenRebase: ctx.maxPositiveTokenRebase,
  });
  // the ejector rule on the ledger as this report leaves it: what the queue still asks, the
  // buffer after finalization, what the vaults keep (the rebase limiter may leave some there)
  const after = planReport(ctx.ledger, input, queue, ctx.fees, ctx.maxPositiveTokenRebase).state;
  const collected =
    after.withdrawalsCollectedWei -
    ctx.ledger.withdrawalsCollectedWei +
    (after.elRewardsCollectedWei - ctx.ledger.elRewardsCollectedWei);
  const exits = chooseValidatorsToExit({
    demandWei: unfinalizedAtRef(queue, after.lastFinalizedRequestId, ctx.frame.refTimestamp),
    bufferWei: after.bufferedWei,
    vaultsWei: vaults.withdrawalVaultWei + vaults.elRewardsVaultWei - collected,
    validators: cl.validators,
    operators: ctx.exits.operators,
    requested: new Set(ctx.exits.requested),
    maxExitWei: ctx.exits.maxExitWei,
  });
  return {
    ...draft,
    withdrawalFinalizationBatches: input.finalizationBatches,
    simulatedShareRate: input.simulatedShareRate,
    validatorsToExit: exits.validatorsToExit,
  };
}
