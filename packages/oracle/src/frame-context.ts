/**
 * What an oracle member builds a frame's report on besides its own beacon nodes, as the pool's
 * "contracts at the ref block" (Lido's oracle reads them with eth_call at the ref slot's block):
 * the ledger's state and withdrawal queue, the pool's keys, the fee, and the pool validators'
 * duty performance over the frame from the watcher. The ledger and the key set are pinned the
 * first time any member asks for a frame (`pinFrameSnapshot`), so every member reads the same
 * ones whenever it asks; the performance is final once the watcher has passed the frame.
 */
import { csmPerformance } from "@poolkeeper/beacon";
import { PoolkeeperError, ValidationError } from "@poolkeeper/core";
import {
  DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
  type FeeConfig,
  type LedgerState,
  PoolLedger,
  type QueuedRequest,
  stateFromJson,
  stateToJson,
} from "@poolkeeper/ledger";
import {
  frameDutyShortfalls,
  frameKeys,
  getWatcherCheckpoint,
  oracleReport,
  pinFrameSnapshot,
  type Store,
  votesFor,
} from "@poolkeeper/store";
import type { BunkerLimits } from "./bunker.js";
import { bunkerSince } from "./bunker-history.js";
import { ORACLE_ERRORS } from "./errors.js";
import { type Frame, type FrameConfig, frameOfRefSlot } from "./frames.js";
import {
  FRAME_PINNED_PARAMETERS,
  framesWith,
  type OracleParameters,
  staticOracleParameters,
  withPinned,
} from "./governed.js";
import type { OracleConfig } from "./oracle-consensus.js";
import { CONSENSUS_VERSION } from "./report-data.js";

/** Lido CSM's performance leeway: a validator below the network's figure minus this earns no fee share. */
export const DEFAULT_PERFORMANCE_LEEWAY_BP = 500;

export interface FramePerformance {
  /** The watcher has processed every epoch of the frame: the figures below are final. */
  complete: boolean;
  watcherEpoch: number | null;
  /** The network's duty performance over the frame (Lido CSM's weights), and the bar: it minus the leeway. */
  networkPerformance: number | null;
  threshold: number | null;
  /** Pool validators below the bar over the frame, by index (ascending). */
  underperforming: number[];
}

export interface FrameContext {
  refSlot: number;
  frame: Frame;
  consensusVersion: number;
  /** The ledger as pinned for the frame: its last entry, its state and its withdrawal queue. */
  ledgerSeq: bigint;
  ledger: LedgerState;
  /** Requests by id from the last finalized one (or the sentinel, id 0) to the last one at the pin. */
  queue: QueuedRequest[];
  /** Keys of deposit batches up to this one are the frame's pool keys (`frameKeys`). */
  maxBatchId: number;
  fees: FeeConfig;
  maxPositiveTokenRebase: bigint;
  /** A request is finalized only this long after it was made (the decider's sanity limit). */
  requestTimestampMarginSeconds: number;
  /** The pool's bunker-mode limits (Lido's OracleDaemonConfig values unless configured). */
  bunkerLimits: BunkerLimits;
  /** The bunker mode in force before this report (its first report's ref slot and time), or null. */
  bunkerSince: { refSlot: number; timestamp: number } | null;
  /** Unix seconds of the last applied report's ref slot (before any: the slot before the initial epoch). */
  previousRefTimestamp: number;
  performance: FramePerformance;
  /**
   * The ejector rule's pool side (ejector.ts): the operators' target limits and the validators
   * with an open exit request, pinned with the snapshot, and the ether one report may ask to exit.
   */
  exits: FrameExits;
  /** The decision on this ref slot, once a quorum agreed, and the votes so far. */
  decision: { status: "applied" | "refused"; reportHash: string } | null;
  votes: { memberId: string; reportHash: string }[];
}

export interface FrameExits {
  operators: { operatorId: number; targetLimit: number | null; targetLimitMode: "soft" | "hard" | null }[];
  requested: number[];
  maxExitWei: bigint;
}

/** ORACLE_MAX_EXIT_ETHER_PER_REPORT's default: Lido's 600 validators of 32 ETH. */
export const DEFAULT_MAX_EXIT_WEI = 19_200n * 10n ** 18n;

export function firstRefTimestamp(f: FrameConfig): number {
  return f.genesisTime + (f.initialEpoch * f.slotsPerEpoch - 1) * f.secondsPerSlot;
}

/** The frame contexts and key pages of `cfg`'s frames, over the store (the admin API serves them). */
export class OracleFrameSource {
  private readonly ledger: PoolLedger;

  constructor(
    private readonly store: Store,
    private readonly cfg: OracleConfig,
    /** The network the watcher's rows are keyed by. */
    private readonly network: string,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.ledger = new PoolLedger(store);
    const fixed = staticOracleParameters(cfg);
    this.params = cfg.parameters ?? (async () => fixed);
  }

  private readonly params: () => Promise<OracleParameters>;

  private frame(frames: FrameConfig, refSlot: number): Frame {
    const frame = frameOfRefSlot(frames, refSlot);
    if (frame === null) throw new ValidationError("refSlot", `${refSlot} is not the ref slot of a frame`);
    if (frame.refTimestamp >= this.now())
      throw new PoolkeeperError(ORACLE_ERRORS.FRAME_NOT_OVER, `ref slot ${refSlot} has not passed yet`, {
        refSlot,
      });
    return frame;
  }

  async context(refSlot: number): Promise<FrameContext> {
    const current = await this.params();
    const frames = framesWith(this.cfg.frames, current);
    const frame = this.frame(frames, refSlot);
    const snap = await pinFrameSnapshot(this.store, refSlot, FRAME_PINNED_PARAMETERS);
    // the fee and limits pinned with the frame: every member builds with the same
    const p = withPinned(current, snap.governed);
    const ledger = stateFromJson(snap.ledgerState as never);
    const queue =
      ledger.lastRequestId > ledger.lastFinalizedRequestId ? await this.ledger.reportQueue(ledger) : [];
    const [decided, votes, performance, since] = await Promise.all([
      oracleReport(this.store, refSlot),
      votesFor(this.store, refSlot),
      this.performance(frame),
      bunkerSince(this.store, frames),
    ]);
    const limits = p.sanity;
    return {
      refSlot,
      frame,
      consensusVersion: CONSENSUS_VERSION,
      ledgerSeq: snap.ledgerSeq,
      ledger,
      queue: queue.filter((q) => q !== undefined),
      maxBatchId: snap.maxBatchId,
      fees: p.fees,
      maxPositiveTokenRebase: p.sanity.maxPositiveTokenRebase ?? DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
      requestTimestampMarginSeconds: limits.requestTimestampMarginSeconds,
      bunkerLimits: {
        normalizedClRewardPerEpoch: limits.normalizedClRewardPerEpoch,
        normalizedClRewardMistakeRateBP: limits.normalizedClRewardMistakeRateBP,
        rebaseCheckNearestEpochDistance: limits.rebaseCheckNearestEpochDistance,
        rebaseCheckDistantEpochDistance: limits.rebaseCheckDistantEpochDistance,
        finalizationMaxNegativeRebaseEpochShift: limits.finalizationMaxNegativeRebaseEpochShift,
        requestTimestampMarginSeconds: limits.requestTimestampMarginSeconds,
      },
      // a bunker report at or after this ref slot would be this frame's own: not "before"
      bunkerSince: since !== null && since.refSlot < refSlot ? since : null,
      previousRefTimestamp:
        ledger.lastReportTimestamp !== 0 ? ledger.lastReportTimestamp : firstRefTimestamp(frames),
      performance,
      exits: {
        operators: snap.exits?.operators ?? [],
        requested: snap.exits?.requested ?? [],
        maxExitWei: this.cfg.exits?.maxExitWei ?? DEFAULT_MAX_EXIT_WEI,
      },
      decision: decided === null ? null : { status: decided.status, reportHash: decided.reportHash },
      votes: votes.map((v) => ({ memberId: v.memberId, reportHash: v.reportHash })),
    };
  }

  /** A page of the frame's pool keys (key id order), after `afterId`; pins the frame's snapshot too. */
  async keys(
    refSlot: number,
    afterId: number,
    limit: number,
  ): Promise<{ id: number; pubkey: string; operatorId: number; amountGwei: bigint }[]> {
    this.frame(framesWith(this.cfg.frames, await this.params()), refSlot);
    const snap = await pinFrameSnapshot(this.store, refSlot, FRAME_PINNED_PARAMETERS);
    return frameKeys(this.store, snap.maxBatchId, afterId, limit);
  }

  private async performance(frame: Frame): Promise<FramePerformance> {
    const watcherEpoch = await getWatcherCheckpoint(this.store, this.network);
    const complete = watcherEpoch !== null && watcherEpoch >= frame.lastEpoch;
    const d = await frameDutyShortfalls(this.store, this.network, frame.firstEpoch, frame.lastEpoch);
    const net = csmPerformance(d.network);
    const leeway = (this.cfg.performanceLeewayBP ?? DEFAULT_PERFORMANCE_LEEWAY_BP) / 10_000;
    const threshold = net === null ? null : net - leeway;
    const underperforming =
      threshold === null
        ? []
        : d.validators
            .filter((v) => (csmPerformance(v.counts) ?? 1) < threshold)
            .map((v) => v.validatorIndex);
    return { complete, watcherEpoch, networkPerformance: net, threshold, underperforming };
  }
}

/** A frame context as JSON (the admin API's answer): amounts as decimal strings. */
export function frameContextToJson(c: FrameContext) {
  return {
    ...c,
    ledgerSeq: c.ledgerSeq.toString(),
    ledger: stateToJson(c.ledger),
    queue: c.queue.map((q) => ({
      ...q,
      cumulativeSteth: q.cumulativeSteth.toString(),
      cumulativeShares: q.cumulativeShares.toString(),
    })),
    maxPositiveTokenRebase: c.maxPositiveTokenRebase.toString(),
    exits: { ...c.exits, maxExitWei: c.exits.maxExitWei.toString() },
  };
}

export type FrameContextJson = ReturnType<typeof frameContextToJson>;

/** The JSON back (a member reading the admin API's answer); bad numbers throw naming the field. */
export function frameContextFromJson(j: FrameContextJson): FrameContext {
  const big = (v: string, field: string): bigint => {
    if (!/^[0-9]{1,78}$/.test(v)) throw new ValidationError(field, "must be a decimal integer");
    return BigInt(v);
  };
  return {
    ...j,
    ledgerSeq: big(j.ledgerSeq, "ledgerSeq"),
    ledger: stateFromJson(j.ledger),
    queue: j.queue.map((q, i) => ({
      ...q,
      cumulativeSteth: big(q.cumulativeSteth, `queue[${i}].cumulativeSteth`),
      cumulativeShares: big(q.cumulativeShares, `queue[${i}].cumulativeShares`),
    })),
    fees: { ...j.fees },
    maxPositiveTokenRebase: big(j.maxPositiveTokenRebase, "maxPositiveTokenRebase"),
    exits: { ...j.exits, maxExitWei: big(j.exits.maxExitWei, "exits.maxExitWei") },
  };
}
