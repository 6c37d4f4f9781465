/**
 * The oracle's hash consensus over the database: members' signed votes (each with the report it
 * built), and once a quorum agrees on a hash, that report sanity-checked and applied to the pool
 * ledger exactly once, all in one transaction under a lock on the ref slot, so that members
 * racing to vote cannot apply it twice. A report that fails a check is kept as refused, with the
 * checks' figures and limits.
 */
import { PoolkeeperError, ValidationError } from "@poolkeeper/core";
import {
  DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
  type FeeConfig,
  PoolLedger,
  principalClBalance,
  type ReportInput,
  simulatedShareRate,
} from "@poolkeeper/ledger";
import {
  appliedHistoryPoints,
  frameSnapshot,
  insertOracleReport,
  listOracleReports,
  lockRefSlot,
  operatorRewardAddresses,
  oracleReport,
  type Queryable,
  recordReportExitRequests,
  type Store,
  type StoredOracleReport,
  upsertVote,
  votesFor,
} from "@poolkeeper/store";
import {
  checkMembers,
  diffReports,
  type FieldDiff,
  type OracleMember,
  type OracleVote,
  tally,
  voteSignatureValid,
} from "./consensus.js";
import { DEFAULT_EXIT_DEADLINE_EPOCHS } from "./ejector.js";
import { ORACLE_ERRORS } from "./errors.js";
import { firstRefTimestamp } from "./frame-context.js";
import { type FrameConfig, frameOfRefSlot } from "./frames.js";
import { framesWith, type OracleParameters, staticOracleParameters, withPinned } from "./governed.js";
import {
  CONSENSUS_VERSION,
  decodeReport,
  ledgerInputOf,
  type ReportData,
  reportHash,
} from "./report-data.js";
import {
  negativeRebaseOf,
  type ReportHistoryPoint,
  runSanityChecks,
  type SanityLimits,
  type SanityResult,
} from "./sanity.js";

export interface OracleConfig {
  members: OracleMember[];
  quorum: number;
  frames: FrameConfig;
  fees: FeeConfig;
  sanity?: SanityLimits;
  /** The performance leeway below the network's figure (basis points; Lido CSM: 500). */
  performanceLeewayBP?: number;
  /**
   * Exit requests of the reports: the most ether one report may ask to exit (default 19,200 ETH)
   * and the epochs an operator has to exit (EXIT_DEADLINE_EPOCHS, default 900).
   */
  exits?: { maxExitWei: bigint; deadlineEpochs: number };
  /** Unix seconds now (tests). */
  now?: () => number;
  /**
   * With governance: the members, quorum, fee, sanity limits and frame as the governance store
   * holds them now (read at each vote and frame; governed.ts). Without it: the fields above.
   */
  parameters?: () => Promise<OracleParameters>;
}

export interface VoteOutcome {
  refSlot: number;
  /** Member ids by the hash they vote for, after this vote. */
  votes: Record<string, string[]>;
  consensusHash: string | null;
  /** Set when this vote completed a quorum: what happened to the report. */
  decided: { status: "applied" | "refused"; failed: string[] } | null;
}

export interface ReportView {
  refSlot: number;
  status: "applied" | "refused" | "pending";
  reportHash: string | null;
  report: ReportData | null;
  sanity: SanityResult[];
  votes: {
    memberId: string;
    source: "ssz" | "json" | null;
    reportHash: string;
    votedAt: Date;
    agrees: boolean;
    diff: FieldDiff[];
  }[];
  decidedAt: Date | null;
}

function toHistoryPoint(x: unknown): ReportHistoryPoint {
  const o = x as { timestamp: number; exitedValidators: number; negativeRebaseWei: string };
  return {
    timestamp: o.timestamp,
    exitedValidators: o.exitedValidators,
    negativeRebaseWei: BigInt(o.negativeRebaseWei),
  };
}

export class OracleConsensus {
  readonly reader: OracleReportReader;
  private readonly ledger: PoolLedger;
  private readonly now: () => number;
  private readonly params: () => Promise<OracleParameters>;

  constructor(
    private readonly store: Store,
    private readonly cfg: OracleConfig,
    /** The network the watcher's validators are keyed by: a report's validatorsToExit become exit requests there. */
    private readonly network?: string,
  ) {
    checkMembers(cfg.members, cfg.quorum);
    this.ledger = new PoolLedger(store);
    this.now = cfg.now ?? (() => Math.floor(Date.now() / 1000));
    const fixed = staticOracleParameters(cfg);
    this.params = cfg.parameters ?? (async () => fixed);
    this.reader = new OracleReportReader(store);
  }

  /**
   * A member's vote with the report it built (SSZ bytes). Checked before anything is stored: the
   * member, the signature, the consensus version, a ref slot of a frame that has passed, the
   * report's own ref slot and hash.
   */
  async submitVote(
    vote: OracleVote,
    reportBytes: Uint8Array,
    /** How the member read the consensus layer (metadata of the vote: both paths give one report). */
    source: "ssz" | "json" | null = null,
  ): Promise<VoteOutcome> {
    const p = await this.params();
    const frames = framesWith(this.cfg.frames, p);
    const member = p.members.find((m) => m.id === vote.memberId);
    if (member === undefined)
      throw new PoolkeeperError(ORACLE_ERRORS.NOT_ORACLE_MEMBER, `${vote.memberId} is not an oracle member`, {
        memberId: vote.memberId,
      });
    if (vote.consensusVersion !== CONSENSUS_VERSION)
      throw new ValidationError(
        "consensusVersion",
        `must be ${CONSENSUS_VERSION} (this oracle's report format)`,
      );
    const frame = frameOfRefSlot(frames, vote.refSlot);
    if (frame === null)
      throw new ValidationError("refSlot", `${vote.refSlot} is not the ref slot of a frame`);
    if (frame.refTimestamp >= this.now())
      throw new ValidationError("refSlot", `${vote.refSlot} has not passed yet`);
    if (!voteSignatureValid(vote, member))
      throw new PoolkeeperError(
        ORACLE_ERRORS.INVALID_SIGNATURE,
        `the vote's signature is not ${vote.memberId}'s`,
        {
          memberId: vote.memberId,
        },
      );
    let report: ReportData;
    try {
      report = decodeReport(reportBytes);
    } catch (e) {
      throw new ValidationError("report", `is not an SSZ-encoded report (${(e as Error).message})`);
    }
    if (reportHash(report) !== vote.reportHash)
      throw new ValidationError("reportHash", "is not the hash tree root of the report sent with it");
    if (report.refSlot !== vote.refSlot || report.consensusVersion !== vote.consensusVersion)
      throw new ValidationError("report", "its ref slot or consensus version differs from the vote's");

    return this.store.transaction(async (tx) => {
      await lockRefSlot(tx, vote.refSlot);
      if ((await oracleReport(tx, vote.refSlot)) !== null)
        throw new PoolkeeperError(
          ORACLE_ERRORS.REPORT_DECIDED,
          `the report of ref slot ${vote.refSlot} is decided already`,
          {
            refSlot: vote.refSlot,
          },
        );
      await upsertVote(tx, { ...vote, report: reportBytes, source });
      const votes = await votesFor(tx, vote.refSlot);
      const t = tally(votes, p.members, p.quorum, vote.refSlot);
      let decided: VoteOutcome["decided"] = null;
      if (t.consensusHash !== null) {
        const agreed = votes.find((v) => v.reportHash === t.consensusHash)!;
        decided = await this.decide(
          tx,
          decodeReport(agreed.report),
          agreed.report,
          t.consensusHash,
          frame.refTimestamp,
          p,
          frames,
        );
      }
      return {
        refSlot: vote.refSlot,
        votes: Object.fromEntries(t.byHash),
        consensusHash: t.consensusHash,
        decided,
      };
    });
  }

  /** Sanity-check the agreed report and apply it (or keep it refused), in the vote's transaction. */
  private async decide(
    tx: Queryable,
    report: ReportData,
    bytes: Uint8Array,
    hash: string,
    refTimestamp: number,
    current: OracleParameters,
    frames: FrameConfig,
  ): Promise<{ status: "applied" | "refused"; failed: string[] }> {
    // the fee and limits pinned with the frame members built on (when one was asked for)
    const p = withPinned(current, (await frameSnapshot(tx, report.refSlot))?.governed ?? null);
    const s = await this.ledger.state(tx);
    const rewards = await operatorRewardAddresses(tx);
    const input: ReportInput = ledgerInputOf(report, {
      refTimestamp,
      previousRefTimestamp: s.lastReportTimestamp !== 0 ? s.lastReportTimestamp : firstRefTimestamp(frames),
      rewardAddressOf: (id) => {
        const a = rewards.get(id);
        if (a === undefined)
          throw new ValidationError(`report.operators`, `operator ${id} is not in the registry`);
        return a;
      },
    });
    const history = (await appliedHistoryPoints(tx)).map(toHistoryPoint);
    const last = history.at(-1);
    const lastBatch = input.finalizationBatches.at(-1);
    const lastRequest = lastBatch === undefined ? null : await this.ledger.withdrawalRequest(lastBatch, tx);
    const principal = principalClBalance(s, input.clDepositedWei);
    const postCl = input.clBalanceWei + input.clPendingWei;
    const sanityInput = {
      timestamp: refTimestamp,
      timeElapsed: input.timeElapsed,
      principalClWei: principal,
      postClWei: postCl,
      withdrawalVaultWei: input.withdrawalVaultWei,
      preClValidators: s.clValidators,
      postClValidators: input.clValidators,
      appearedWei: input.clDepositedWei - s.clDepositedWei,
      preExitedValidators: last?.exitedValidators ?? 0,
      postExitedValidators: report.exitedValidators,
      exitedWei: 0n,
      simulatedShareRate: input.simulatedShareRate,
      actualShareRate: simulatedShareRate(s, input, p.fees, p.sanity.maxPositiveTokenRebase),
      lastFinalizedRequestTimestamp: lastRequest?.requestedAt ?? null,
      history,
    };
    let results = runSanityChecks(sanityInput, p.sanity);
    // without withdrawals to finalize the simulated rate is informative only (as Lido checks it)
    if (input.finalizationBatches.length === 0)
      results = results.filter((r) => r.check !== "simulated_share_rate");
    const failed = results.filter((r) => !r.ok).map((r) => r.check);
    if (failed.length > 0) {
      await insertOracleReport(tx, {
        refSlot: report.refSlot,
        reportHash: hash,
        report: bytes,
        status: "refused",
        sanity: results,
        historyPoint: null,
        ledgerSeq: null,
      });
      return { status: "refused", failed };
    }
    const { seq } = await this.ledger.applyReport(
      input,
      p.fees,
      p.sanity.maxPositiveTokenRebase ?? DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
      tx,
    );
    await insertOracleReport(tx, {
      refSlot: report.refSlot,
      reportHash: hash,
      report: bytes,
      status: "applied",
      sanity: results,
      historyPoint: {
        timestamp: refTimestamp,
        exitedValidators: report.exitedValidators,
        negativeRebaseWei: negativeRebaseOf(sanityInput).toString(),
      },
      ledgerSeq: seq,
    });
    if (report.validatorsToExit.length > 0 && this.network !== undefined) {
      const requestedEpoch = Math.floor(report.refSlot / frames.slotsPerEpoch);
      await recordReportExitRequests(tx, this.network, {
        refSlot: report.refSlot,
        requestedEpoch,
        deadlineEpoch: requestedEpoch + (this.cfg.exits?.deadlineEpochs ?? DEFAULT_EXIT_DEADLINE_EPOCHS),
        validators: report.validatorsToExit,
        actor: "oracle",
      });
    }
    return { status: "applied", failed: [] };
  }
}

/** The decided reports and the votes, as the admin API shows them (needs no member list). */
export class OracleReportReader {
  constructor(private readonly store: Store) {}

  /** A ref slot's report: its status, the agreed data, the checks, every member's vote with a diff when it disagrees. */
  async report(refSlot: number): Promise<ReportView> {
    const [decided, votes] = await Promise.all([
      oracleReport(this.store, refSlot),
      votesFor(this.store, refSlot),
    ]);
    if (decided === null && votes.length === 0)
      throw new PoolkeeperError(ORACLE_ERRORS.NOT_FOUND, `no report or vote for ref slot ${refSlot}`, {
        refSlot,
      });
    return this.view(refSlot, decided, votes);
  }

  /** Decided reports, newest first. */
  async reports(limit: number, before?: number): Promise<ReportView[]> {
    const rows = await listOracleReports(this.store, limit, before);
    return Promise.all(rows.map(async (r) => this.view(r.refSlot, r, await votesFor(this.store, r.refSlot))));
  }

  private view(
    refSlot: number,
    decided: StoredOracleReport | null,
    votes: Awaited<ReturnType<typeof votesFor>>,
  ): ReportView {
    const agreed = decided === null ? null : decodeReport(decided.report);
    return {
      refSlot,
      status: decided?.status ?? "pending",
      reportHash: decided?.reportHash ?? null,
      report: agreed,
      sanity: (decided?.sanity as SanityResult[] | undefined) ?? [],
      votes: votes.map((v) => {
        const agrees = decided !== null && v.reportHash === decided.reportHash;
        return {
          memberId: v.memberId,
          source: v.source,
          reportHash: v.reportHash,
          votedAt: v.votedAt,
          agrees,
          diff: agreed === null || agrees ? [] : diffReports(agreed, decodeReport(v.report)),
        };
      }),
      decidedAt: decided?.decidedAt ?? null,
    };
  }
}
