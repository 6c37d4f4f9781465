/**
 * Bunker mode and the finalization border, after Lido's oracle (src/services/bunker.py,
 * bunker_cases/midterm_slashing_penalty.py, bunker_cases/abnormal_cl_rebase.py and
 * safe_border.py), as pure functions of figures an oracle member reads at the ref slot.
 *
 * Bunker mode is on when one of three cases holds:
 *  1. the CL rebase of the report is negative: CL balance + pending + the withdrawal vault's
 *     transfer against the principal (the last report's CL balance + pending + deposits the
 *     report newly sees, the ledger's `principalClBalance`);
 *  2. the midterm slashing penalty predicted for the pool's slashed validators in some future
 *     frame is above the CL rebase of one frame;
 *  3. the CL rebase is more than the mistake rate below the normal one (Lido's nominal
 *     64 × mean pool effective balance × epochs / √(mean network effective balance)), and one of
 *     the intraframe samples (1 and 23 epochs before the ref slot) shows a negative rebase.
 *
 * While bunker mode is on, withdrawal finalization waits: `finalizationMaxTimestamp` moves the
 * cut-off back to before the bunker started and before the earliest slashing still running.
 *
 * Amounts are gwei as in Lido's oracle (wei where the ledger gives wei); integer arithmetic
 * throughout so that every member computes the same figures (Lido's √ is a float; ours is the
 * integer square root, a difference below one part in 10^9 of the normal rebase).
 */
import { ValidationError } from "@poolkeeper/core";
import { principalClBalance } from "@poolkeeper/ledger";
import type { FrameConfig } from "./frames.js";
import { DEFAULT_SANITY_LIMITS, type SanityLimits } from "./sanity.js";

/** Consensus constants (phase0/Bellatrix/Electra specs, mainnet and minimal alike). */
export const EPOCHS_PER_SLASHINGS_VECTOR = 8192;
export const MIN_VALIDATOR_WITHDRAWABILITY_DELAY = 256;
export const PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX = 3n;
export const EFFECTIVE_BALANCE_INCREMENT_GWEI = 1_000_000_000n;

const GWEI = 1_000_000_000n;
const BP = 10_000n;

export type BunkerLimits = Pick<
  SanityLimits,
  | "normalizedClRewardPerEpoch"
  | "normalizedClRewardMistakeRateBP"
  | "rebaseCheckNearestEpochDistance"
  | "rebaseCheckDistantEpochDistance"
  | "finalizationMaxNegativeRebaseEpochShift"
  | "requestTimestampMarginSeconds"
>;

/** A slashed validator of the pool at the ref slot (exit and activation epochs: for the border). */
export interface PoolSlashedValidator {
  index: number;
  effectiveBalanceGwei: bigint;
  withdrawableEpoch: number;
  /** Without it the slashing epoch is taken as withdrawableEpoch − EPOCHS_PER_SLASHINGS_VECTOR. */
  exitEpoch?: number;
  activationEpoch?: number;
}

/** The pool's CL figures at a slot (the report's clBalanceGwei, clPendingBalanceGwei, clDepositedGwei). */
export interface PoolClFigures {
  clBalanceGwei: bigint;
  clPendingGwei: bigint;
  /** Deposit amounts of the pool keys the consensus layer knows. */
  clDepositedGwei: bigint;
}

/** The pool at a slot before the ref slot, for the intraframe check of case 3. */
export interface IntraframeSample extends PoolClFigures {
  /** The withdrawal vault's balance at that slot. */
  withdrawalVaultWei: bigint;
  /** What reports took from the vault after that slot up to the ref slot. */
  withdrawnFromVaultWei: bigint;
}

export interface BunkerInput {
  refSlot: number;
  frames: Pick<FrameConfig, "slotsPerEpoch" | "epochsPerFrame" | "initialEpoch">;
  pool: PoolClFigures & {
    /** Effective balance of the pool's active validators at the ref slot. */
    activeEffectiveBalanceGwei: bigint;
  };
  /** The withdrawal vault's balance at the ref slot. */
  withdrawalVaultWei: bigint;
  /**
   * What the report moves from the vault (the ledger's outcome.withdrawalsWei for the report
   * simulated without EL rewards, where the rebase limiter may leave part); default the balance.
   */
  withdrawalVaultTransferWei?: bigint;
  /**
   * The last applied report (from the ledger's state: lastRefSlot, clBalanceWei, clPendingWei,
   * clDepositedWei); null or lastRefSlot 0 before the first report, when bunker mode is not
   * checked (as Lido). Effective balances at its ref slot: null to use the ref slot's.
   */
  previous: {
    lastRefSlot: number;
    clBalanceWei: bigint;
    clPendingWei: bigint;
    clDepositedWei: bigint;
    activeEffectiveBalanceGwei: bigint | null;
    networkActiveBalanceGwei: bigint | null;
  } | null;
  poolSlashed: readonly PoolSlashedValidator[];
  network: {
    /** Effective balance of every active validator of the network at the ref slot. */
    totalActiveBalanceGwei: bigint;
    /** Every slashed validator of the network (the pool's too) not yet withdrawable at the ref epoch. */
    slashedNotWithdrawable: readonly { effectiveBalanceGwei: bigint; withdrawableEpoch: number }[];
  };
  /** The pool at the nearest and distant sample slots (null: not read; then case 3 cannot be cleared). */
  samples?: { nearest: IntraframeSample; distant: IntraframeSample } | null;
}

export type BunkerReason =
  | { case: "negative_cl_rebase"; clRebaseGwei: bigint }
  | {
      case: "high_midterm_slashing_penalty";
      /** The future frame with the largest predicted penalty, the penalty, and one frame's CL rebase. */
      frame: number;
      midtermPenaltyGwei: bigint;
      frameClRebaseGwei: bigint;
    }
  | {
      case: "abnormal_cl_rebase";
      clRebaseGwei: bigint;
      normalClRebaseGwei: bigint;
      mistakeRateBP: number;
      /** The intraframe sampled rebases (null: not checked or not given). */
      nearestClRebaseGwei: bigint | null;
      distantClRebaseGwei: bigint | null;
    };

export interface BunkerDecision {
  isBunkerMode: boolean;
  /** Every case that holds (Lido stops at the first; the decision is the same). */
  reasons: BunkerReason[];
  /** The report's CL rebase; null when not checked (no report before). */
  clRebaseGwei: bigint | null;
}

/** Integer square root (floor). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("isqrt of a negative number");
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** Floor division (Python's //), for amounts that may be negative. */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const epochOf = (slot: number, slotsPerEpoch: number) => Math.floor(slot / slotsPerEpoch);

/** The frame an epoch falls in (negative before the initial epoch), as Lido's get_frame_by_epoch. */
export function frameIndexOfEpoch(
  f: Pick<FrameConfig, "epochsPerFrame" | "initialEpoch">,
  epoch: number,
): number {
  return Math.floor((epoch - f.initialEpoch) / f.epochsPerFrame);
}

/** The epoch a slashed validator's midterm penalty is applied (process_slashings). */
export function midtermPenaltyEpoch(withdrawableEpoch: number): number {
  return withdrawableEpoch - EPOCHS_PER_SLASHINGS_VECTOR / 2;
}

/**
 * One slashed validator's midterm penalty (Electra process_slashings): the slashings of the
 * network in the vector window at its penalty epoch × 3, at most the total, per increment.
 */
export function midtermPenaltyGwei(
  effectiveBalanceGwei: bigint,
  slashingsInWindowGwei: bigint,
  totalActiveBalanceGwei: bigint,
): bigint {
  const total =
    totalActiveBalanceGwei < EFFECTIVE_BALANCE_INCREMENT_GWEI
      ? EFFECTIVE_BALANCE_INCREMENT_GWEI
      : totalActiveBalanceGwei;
  const adjusted = slashingsInWindowGwei * PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX;
  const perIncrement = (adjusted < total ? adjusted : total) / (total / EFFECTIVE_BALANCE_INCREMENT_GWEI);
  return perIncrement * (effectiveBalanceGwei / EFFECTIVE_BALANCE_INCREMENT_GWEI);
}

/**
 * The largest sum of predicted midterm penalties of the pool's slashed validators in one future
 * frame. A network slashing counts for a penalty at epoch M when it falls in the vector window
 * ending at M: its slashing epoch (at most withdrawable − EPOCHS_PER_SLASHINGS_VECTOR) is at or
 * after M − EPOCHS_PER_SLASHINGS_VECTOR, that is its withdrawable epoch is at or after M (Lido's
 * bounded slashings; a slashing whose exit queue pushed its withdrawable epoch later counts too,
 * which errs on the side of bunker mode). Null when no pool validator has a penalty ahead.
 */
export function maxFutureMidtermPenalty(
  i: Pick<BunkerInput, "refSlot" | "frames" | "poolSlashed" | "network">,
): { frame: number; penaltyGwei: bigint } | null {
  const refEpoch = epochOf(i.refSlot, i.frames.slotsPerEpoch);
  const network = i.network.slashedNotWithdrawable.filter((v) => v.withdrawableEpoch > refEpoch);
  const perFrame = new Map<number, bigint>();
  for (const v of i.poolSlashed) {
    const m = midtermPenaltyEpoch(v.withdrawableEpoch);
    if (m <= refEpoch) continue;
    let window = 0n;
    for (const n of network) if (n.withdrawableEpoch >= m) window += n.effectiveBalanceGwei;
    const frame = frameIndexOfEpoch(i.frames, m);
    perFrame.set(
      frame,
      (perFrame.get(frame) ?? 0n) +
        midtermPenaltyGwei(v.effectiveBalanceGwei, window, i.network.totalActiveBalanceGwei),
    );
  }
  let best: { frame: number; penaltyGwei: bigint } | null = null;
  for (const [frame, penaltyGwei] of [...perFrame].sort((a, b) => a[0] - b[0]))
    if (best === null || penaltyGwei > best.penaltyGwei) best = { frame, penaltyGwei };
  return best;
}

/**
 * Lido's normal CL rebase for the pool over `epochsPassed`: normalizedClRewardPerEpoch × mean
 * pool effective balance × epochs / √(mean network effective balance, at least 1 ETH).
 */
export function normalClRebaseGwei(
  meanPoolEffectiveGwei: bigint,
  meanNetworkEffectiveGwei: bigint,
  epochsPassed: number,
  normalizedClRewardPerEpoch: number,
): bigint {
  const all =
    meanNetworkEffectiveGwei < EFFECTIVE_BALANCE_INCREMENT_GWEI
      ? EFFECTIVE_BALANCE_INCREMENT_GWEI
      : meanNetworkEffectiveGwei;
  return (BigInt(normalizedClRewardPerEpoch) * meanPoolEffectiveGwei * BigInt(epochsPassed)) / isqrt(all);
}

/**
 * The CL rebase from a sample slot to the ref slot (Lido's _calculate_cl_rebase_between_blocks):
 * the pool's balance + pending + vault at the ref slot, minus the same at the sample, minus the
 * deposits that reached the consensus layer between, plus what reports took from the vault.
 */
export function sampledClRebaseGwei(
  ref: PoolClFigures & { withdrawalVaultWei: bigint },
  sample: IntraframeSample,
): bigint {
  const at = (f: PoolClFigures) => f.clBalanceGwei + f.clPendingGwei;
  const wei =
    (at(ref) - at(sample) - (ref.clDepositedGwei - sample.clDepositedGwei)) * GWEI +
    ref.withdrawalVaultWei -
    sample.withdrawalVaultWei +
    sample.withdrawnFromVaultWei;
  return floorDiv(wei, GWEI);
}

function checkInput(i: BunkerInput): void {
  if (!Number.isSafeInteger(i.refSlot) || i.refSlot < 0)
    throw new ValidationError("refSlot", "must be a non-negative integer");
  for (const [k, v] of [
    ["pool.clBalanceGwei", i.pool.clBalanceGwei],
    ["pool.clPendingGwei", i.pool.clPendingGwei],
    ["pool.clDepositedGwei", i.pool.clDepositedGwei],
    ["pool.activeEffectiveBalanceGwei", i.pool.activeEffectiveBalanceGwei],
    ["withdrawalVaultWei", i.withdrawalVaultWei],
    ["network.totalActiveBalanceGwei", i.network.totalActiveBalanceGwei],
  ] as const)
    if (v < 0n) throw new ValidationError(k, "must not be negative");
  if (i.withdrawalVaultTransferWei !== undefined && i.withdrawalVaultTransferWei > i.withdrawalVaultWei)
    throw new ValidationError("withdrawalVaultTransferWei", "must not be above withdrawalVaultWei");
  if (i.previous !== null && i.previous.lastRefSlot >= i.refSlot)
    throw new ValidationError("previous.lastRefSlot", "must be before refSlot");
  for (const [n, v] of i.poolSlashed.entries())
    if (!Number.isSafeInteger(v.withdrawableEpoch) || v.effectiveBalanceGwei < 0n)
      throw new ValidationError(`poolSlashed[${n}]`, "needs an integer withdrawableEpoch and a balance ≥ 0");
}

/** Decide bunker mode for a report (Lido's BunkerService.is_bunker_mode, every case evaluated). */
export function decideBunkerMode(
  i: BunkerInput,
  limits: BunkerLimits = DEFAULT_SANITY_LIMITS,
): BunkerDecision {
  checkInput(i);
  const prev = i.previous;
  if (prev === null || prev.lastRefSlot === 0)
    return { isBunkerMode: false, reasons: [], clRebaseGwei: null };

  const reasons: BunkerReason[] = [];
  const refEpoch = epochOf(i.refSlot, i.frames.slotsPerEpoch);
  const epochsPassed = refEpoch - epochOf(prev.lastRefSlot, i.frames.slotsPerEpoch);
  const transfer = i.withdrawalVaultTransferWei ?? i.withdrawalVaultWei;
  const postCl = (i.pool.clBalanceGwei + i.pool.clPendingGwei) * GWEI + transfer;
  const clRebaseGwei = floorDiv(postCl - principalClBalance(prev, i.pool.clDepositedGwei * GWEI), GWEI);

  // 1. negative CL rebase
  if (clRebaseGwei < 0n) reasons.push({ case: "negative_cl_rebase", clRebaseGwei });

  // 2. high midterm slashing penalty against one frame's CL rebase
  const penalty = maxFutureMidtermPenalty(i);
  if (penalty !== null && epochsPassed > 0) {
    const frameClRebaseGwei = (clRebaseGwei * BigInt(i.frames.epochsPerFrame)) / BigInt(epochsPassed);
    if (penalty.penaltyGwei > frameClRebaseGwei)
      reasons.push({
        case: "high_midterm_slashing_penalty",
        frame: penalty.frame,
        midtermPenaltyGwei: penalty.penaltyGwei,
        frameClRebaseGwei,
      });
  }

  // 3. abnormal CL rebase: below the normal one by more than the mistake rate, and a sample negative
  const mean = (now: bigint, then: bigint | null) => (now + (then ?? now)) / 2n;
  const normal = normalClRebaseGwei(
    mean(i.pool.activeEffectiveBalanceGwei, prev.activeEffectiveBalanceGwei),
    mean(i.network.totalActiveBalanceGwei, prev.networkActiveBalanceGwei),
    epochsPassed,
    limits.normalizedClRewardPerEpoch,
  );
  const rate = BigInt(limits.normalizedClRewardMistakeRateBP);
  // 1 − rebase / normal > rate  ⇔  rebase × 10,000 < normal × (10,000 − rateBP)
  if (normal > 0n && clRebaseGwei * BP < normal * (BP - rate)) {
    const base = {
      case: "abnormal_cl_rebase" as const,
      clRebaseGwei,
      normalClRebaseGwei: normal,
      mistakeRateBP: limits.normalizedClRewardMistakeRateBP,
    };
    if (limits.rebaseCheckNearestEpochDistance === 0 && limits.rebaseCheckDistantEpochDistance === 0) {
      reasons.push({ ...base, nearestClRebaseGwei: null, distantClRebaseGwei: null });
    } else if (i.samples === undefined || i.samples === null) {
      // without the samples the abnormal rebase cannot be cleared: bunker mode errs on the safe side
      reasons.push({ ...base, nearestClRebaseGwei: null, distantClRebaseGwei: null });
    } else {
      const ref = { ...i.pool, withdrawalVaultWei: i.withdrawalVaultWei };
      const nearest = sampledClRebaseGwei(ref, i.samples.nearest);
      const distant = sampledClRebaseGwei(ref, i.samples.distant);
      if (nearest < 0n || distant < 0n)
        reasons.push({ ...base, nearestClRebaseGwei: nearest, distantClRebaseGwei: distant });
    }
  }
  return { isBunkerMode: reasons.length > 0, reasons, clRebaseGwei };
}

/** The sample slots of case 3: `distance` epochs before the ref slot. */
export function intraframeSampleSlots(
  refSlot: number,
  slotsPerEpoch: number,
  limits: BunkerLimits = DEFAULT_SANITY_LIMITS,
): { nearest: number; distant: number } {
  return {
    nearest: Math.max(0, refSlot - limits.rebaseCheckNearestEpochDistance * slotsPerEpoch),
    distant: Math.max(0, refSlot - limits.rebaseCheckDistantEpochDistance * slotsPerEpoch),
  };
}

// ---------------------------------------------------------------- the finalization border

export interface SafeBorderInput {
  refSlot: number;
  frames: FrameConfig;
  /** This report's decision. */
  isBunkerMode: boolean;
  /**
   * Unix seconds of the ref slot of the first report of the bunker mode in force before this
   * report (`bunkerSince`); null when the last applied report was not in bunker mode.
   */
  bunkerSinceTimestamp: number | null;
  /** The last applied report's ref slot (0: none). */
  lastReportRefSlot: number;
  /** The pool's slashed validators at the ref slot (those withdrawable by then are left out here). */
  poolSlashed: readonly PoolSlashedValidator[];
  /** When the last finalized request was made (null: none finalized yet). */
  lastFinalizedRequestTimestamp: number | null;
}

export type SafeBorderKind = "default" | "negative_rebase" | "associated_slashings";

export interface SafeBorder {
  /** Requests made at or before it may be finalized (the ledger's prepareReport maxTimestamp). */
  maxTimestamp: number;
  epoch: number;
  kind: SafeBorderKind;
}

/** Lido's finalization_default_shift: the request margin in whole epochs, rounded up. */
export function finalizationDefaultShift(
  f: Pick<FrameConfig, "slotsPerEpoch" | "secondsPerSlot">,
  requestTimestampMarginSeconds: number,
): number {
  return Math.ceil(requestTimestampMarginSeconds / (f.slotsPerEpoch * f.secondsPerSlot));
}

/**
 * The earliest slashing epoch among the pool's slashings still running (Lido's
 * _get_earliest_slashed_epoch_among_incomplete_slashings): among those with the earliest exit
 * epoch, withdrawable − EPOCHS_PER_SLASHINGS_VECTOR; when the exit queue hid the slashing epoch
 * (withdrawable − exit = MIN_VALIDATOR_WITHDRAWABILITY_DELAY) Lido searches the frames between the
 * last finalized request and the validators' activation with past states; without those, the
 * start of that range, rounded to its frame (the most cautious answer of that search).
 */
export function earliestRunningSlashingEpoch(i: SafeBorderInput): number | null {
  const spe = i.frames.slotsPerEpoch;
  const refEpoch = epochOf(i.refSlot, spe);
  const running = i.poolSlashed.filter((v) => v.withdrawableEpoch > refEpoch);
  if (running.length === 0) return null;
  const exitOf = (v: PoolSlashedValidator) =>
    v.exitEpoch ?? v.withdrawableEpoch - MIN_VALIDATOR_WITHDRAWABILITY_DELAY - 1;
  const firstExit = Math.min(...running.map(exitOf));
  const first = running.filter((v) => exitOf(v) === firstExit);
  let earliest: number | null = null;
  for (const v of first) {
    const period = v.withdrawableEpoch - exitOf(v);
    if (period < MIN_VALIDATOR_WITHDRAWABILITY_DELAY)
      throw new ValidationError(
        `poolSlashed[${v.index}].exitEpoch`,
        "must be at least MIN_VALIDATOR_WITHDRAWABILITY_DELAY before withdrawableEpoch",
      );
    if (period === MIN_VALIDATOR_WITHDRAWABILITY_DELAY) {
      const lastFinalizedEpoch =
        i.lastFinalizedRequestTimestamp === null
          ? 0
          : Math.max(
              0,
              epochOf(
                Math.floor(
                  (i.lastFinalizedRequestTimestamp - i.frames.genesisTime) / i.frames.secondsPerSlot,
                ),
                spe,
              ),
            );
      const activation = Math.min(...first.map((x) => x.activationEpoch ?? 0));
      return roundEpochToFrame(i.frames, Math.max(lastFinalizedEpoch, activation));
    }
    const predicted = v.withdrawableEpoch - EPOCHS_PER_SLASHINGS_VECTOR;
    if (earliest === null || predicted < earliest) earliest = predicted;
  }
  return earliest;
}

/** The first epoch of the frame an epoch falls in (Lido's round_epoch_by_frame). */
export function roundEpochToFrame(
  f: Pick<FrameConfig, "epochsPerFrame" | "initialEpoch">,
  epoch: number,
): number {
  return frameIndexOfEpoch(f, epoch) * f.epochsPerFrame + f.initialEpoch;
}

/**
 * The finalization cut-off for a report (Lido's SafeBorder.get_safe_border_epoch, as a time):
 * outside bunker mode the ref epoch minus the request margin in epochs; in bunker mode the
 * earlier of the negative-rebase border (the bunker's start, or the last report when it starts
 * now, minus the margin, but no more than finalizationMaxNegativeRebaseEpochShift back) and the
 * associated-slashings border (the frame of the earliest running slashing, minus the margin).
 * `maxTimestamp` is the border epoch's first second; never before genesis.
 */
export function finalizationMaxTimestamp(
  i: SafeBorderInput,
  limits: BunkerLimits = DEFAULT_SANITY_LIMITS,
): SafeBorder {
  const f = i.frames;
  const spe = f.slotsPerEpoch;
  const refEpoch = epochOf(i.refSlot, spe);
  const shift = finalizationDefaultShift(f, limits.requestTimestampMarginSeconds);
  const defaultEpoch = refEpoch - shift;
  let border: { epoch: number; kind: SafeBorderKind } = { epoch: defaultEpoch, kind: "default" };
  if (i.isBunkerMode) {
    const refTimestamp = f.genesisTime + i.refSlot * f.secondsPerSlot;
    let start: number;
    if (i.bunkerSinceTimestamp !== null && i.bunkerSinceTimestamp <= refTimestamp)
      start = epochOf(Math.floor((i.bunkerSinceTimestamp - f.genesisTime) / f.secondsPerSlot), spe);
    else if (i.lastReportRefSlot !== 0) start = epochOf(i.lastReportRefSlot, spe);
    else start = f.initialEpoch;
    const negative = Math.max(refEpoch - limits.finalizationMaxNegativeRebaseEpochShift, start - shift);
    const slashed = earliestRunningSlashingEpoch(i);
    const associated = slashed === null ? defaultEpoch : roundEpochToFrame(f, slashed) - shift;
    border =
      associated < negative
        ? { epoch: associated, kind: "associated_slashings" }
        : { epoch: negative, kind: "negative_rebase" };
  }
  const epoch = Math.max(0, border.epoch);
  return { maxTimestamp: f.genesisTime + epoch * spe * f.secondsPerSlot, epoch, kind: border.kind };
}

// ---------------------------------------------------------------- bunker since

/** One decided report as the bunker history needs it. */
export interface BunkerHistoryPoint {
  refSlot: number;
  applied: boolean;
  isBunkerMode: boolean;
}

/**
 * The ref slot of the first report of the bunker mode in force: the oldest of the applied reports
 * with isBunkerMode that follow one another up to the newest applied report (refused reports do
 * not count); null when the newest applied report is not in bunker mode. As Lido's
 * bunkerModeSinceTimestamp, set by the report that turns bunker mode on and cleared by one that
 * turns it off. `newestFirst`: decided reports by ref slot, descending.
 */
export function bunkerSinceRefSlot(newestFirst: Iterable<BunkerHistoryPoint>): number | null {
  let since: number | null = null;
  for (const r of newestFirst) {
    if (!r.applied) continue;
    if (!r.isBunkerMode) break;
    since = r.refSlot;
  }
  return since;
}
