/**
 * One oracle member, after Lido's accounting oracle: each round it reads the finalized epoch
 * from its own beacon nodes, takes the newest frame whose ref slot is finalized, and, unless the
 * frame is decided or it has voted on it already, builds the report from its own reads (the
 * consensus layer at the ref slot, the vaults on the execution layer) and the frame's context
 * from the admin API, signs its vote and submits it. A restarted member resumes from what the
 * admin API knows: it never votes twice for a ref slot, never for one that is not finalized, and
 * a frame it missed is covered by the next report (its time since the last report spans it).
 */
import type { BeaconNodePool } from "@poolkeeper/beacon";
import { valueOrThrow } from "@poolkeeper/beacon";
import { type ApiClient, ApiError } from "@poolkeeper/contract";
import { ConfigError, type Logger, pollLoop } from "@poolkeeper/core";
import {
  type BuildOptions,
  buildReport,
  type ClFigures,
  encodeReport,
  type Frame,
  type FrameConfig,
  type FrameContext,
  type FrameContextJson,
  frameContextFromJson,
  lastReportableFrame,
  publicKeyOf,
  type ReportData,
  type ReportVaults,
  reportHash,
  signVote,
} from "@poolkeeper/oracle";
import type { OracleMemberMetrics } from "./metrics.js";

/** A pool key of a frame, as the admin API lists it. */
export interface FramePoolKey {
  pubkey: string;
  operatorId: number;
  depositGwei: bigint;
}

/** What the consensus layer is read for: the pool's keys at a slot of a frame. */
export interface ClReadInput {
  refSlot: number;
  frame: Frame;
  keys: readonly FramePoolKey[];
  withdrawalCredentials: string;
}

/** Reads the consensus layer at a slot (readClFigures of @poolkeeper/oracle). */
export type ClReader = (input: ClReadInput) => Promise<ClFigures>;

/** Reads the vaults on the execution layer at the ref slot, net of what the ledger collected. */
export type VaultReader = (ctx: FrameContext) => Promise<ReportVaults>;

/** Bunker mode and the finalization border for the frame (border.ts); `reasons`: the bunker cases that hold. */
export type BorderReader = (
  ctx: FrameContext,
  cl: ClFigures,
  vaults: ReportVaults,
  read: ClReadInput,
) => Promise<BuildOptions & { reasons?: string[] }>;

export interface MemberDeps {
  api: ApiClient;
  beacon: BeaconNodePool;
  readCl: ClReader;
  readVaults: VaultReader;
  /** Default: no bunker mode, requests finalized up to the ref time minus the decider's margin. */
  readBorder?: BorderReader;
  logger: Logger;
  metrics?: OracleMemberMetrics;
}

export interface MemberIdentity {
  memberId: string;
  /** BLS secret key (32 bytes). Never logged. */
  secretKey: Uint8Array;
}

export type RoundOutcome =
  | { kind: "waiting"; reason: string; refSlot?: number }
  | { kind: "done"; refSlot: number; reason: string }
  | {
      kind: "voted";
      refSlot: number;
      reportHash: string;
      report: ReportData;
      bytes: Uint8Array;
      source: string;
      consensusHash: string | null;
      decided: string | null;
    };

/** The default border: normal mode, requests older than the decider's margin. */
export const defaultBorder: BorderReader = async (ctx) => ({
  isBunkerMode: false,
  finalizationMaxTimestamp: ctx.frame.refTimestamp - ctx.requestTimestampMarginSeconds,
});

export class OracleMember {
  private frames: FrameConfig | undefined;
  private withdrawalCredentials = "";
  /** Ref slots finished in this process (decided, or voted on): not asked again. */
  private doneUpTo = -1;
  private readonly logger: Logger;

  constructor(
    private readonly deps: MemberDeps,
    private readonly id: MemberIdentity,
  ) {
    this.logger = deps.logger.child({ member: id.memberId });
  }

  /**
   * The oracle's setup from the admin API, checked against this member: listed, with this key's
   * public key, on this report format. A mismatch is a ConfigError (the process does not start).
   */
  async init(): Promise<{ genesisForkVersion: string }> {
    const setup = (await this.deps.api.getOracleSetup()).data;
    const me = setup.members.find((m) => m.id === this.id.memberId);
    if (me === undefined)
      throw new ConfigError(
        `ORACLE_MEMBER_ID: ${this.id.memberId} is not an oracle member of this pool (members: ${setup.members.map((m) => m.id).join(", ")})`,
      );
    if (me.publicKey !== publicKeyOf(this.id.secretKey))
      throw new ConfigError(
        `ORACLE_MEMBER_KEY: its public key is not the one the pool lists for ${this.id.memberId}`,
      );
    this.frames = setup.frames;
    this.withdrawalCredentials = setup.withdrawalCredentials;
    const spec = this.deps.beacon.spec;
    if (spec.slotsPerEpoch !== setup.frames.slotsPerEpoch)
      throw new ConfigError(
        `BEACON_URLS: the beacon nodes have ${spec.slotsPerEpoch} slots per epoch, the pool ${setup.frames.slotsPerEpoch}`,
      );
    return { genesisForkVersion: setup.genesisForkVersion };
  }

  /**
   * Rounds every `pollMs` until stopped; a failed round (a node down, the admin API away) is
   * logged and counted, and the next round tries again. `stop()` waits for a running round.
   */
  start(pollMs: number): { stop(): Promise<void> } {
    return pollLoop(
      async () => {
        const r = await this.round();
        if (r.kind === "waiting")
          this.logger.debug({ refSlot: r.refSlot, reason: r.reason }, "oracle waiting");
      },
      pollMs,
      (e: unknown) => {
        const code = (e as { code?: unknown }).code;
        this.deps.metrics?.errors.inc({ code: typeof code === "string" ? code : "error" });
        this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, "oracle round failed");
      },
    );
  }

  /** The oracle's frames, as the admin API gave them at `init()`. */
  frameConfig(): FrameConfig {
    if (this.frames === undefined) throw new Error("OracleMember.init() first");
    return this.frames;
  }

  /** One round: look for a finalized ref slot to report on and vote once for it. */
  async round(): Promise<RoundOutcome> {
    const frames = this.frames;
    if (frames === undefined) throw new Error("OracleMember.init() first");
    const fin = await this.deps.beacon.request("finality checkpoints", async (api) =>
      valueOrThrow(await api.beacon.getStateFinalityCheckpoints({ stateId: "head" })),
    );
    if (fin === null) return { kind: "waiting", reason: "no beacon node answered the finality checkpoints" };
    const finalizedEpoch = fin.finalized.epoch;
    this.deps.metrics?.finalizedEpoch.set(finalizedEpoch);
    const frame = lastReportableFrame(frames, finalizedEpoch);
    if (frame === null)
      return { kind: "waiting", reason: `no ref slot finalized yet (finalized epoch ${finalizedEpoch})` };
    if (frame.refSlot <= this.doneUpTo)
      return { kind: "waiting", reason: "no new ref slot", refSlot: frame.refSlot };

    const ctx = frameContextFromJson(
      (await this.deps.api.getOracleFrame({ params: { refSlot: frame.refSlot } })).data as FrameContextJson,
    );
    if (ctx.decision !== null) return this.done(frame.refSlot, `decided already (${ctx.decision.status})`);
    if (ctx.ledger.lastRefSlot >= frame.refSlot)
      return this.done(frame.refSlot, `a report at ref slot ${ctx.ledger.lastRefSlot} is applied`);
    const mine = ctx.votes.find((v) => v.memberId === this.id.memberId);
    if (mine !== undefined) return this.done(frame.refSlot, `voted already for ${mine.reportHash}`);
    if (!ctx.performance.complete)
      return {
        kind: "waiting",
        refSlot: frame.refSlot,
        reason: `the watcher has not passed the frame yet (at epoch ${ctx.performance.watcherEpoch ?? "-"}, frame ends ${frame.lastEpoch})`,
      };

    const t0 = performance.now();
    const keys = await this.frameKeys(frame.refSlot);
    const read: ClReadInput = {
      refSlot: frame.refSlot,
      frame,
      keys,
      withdrawalCredentials: this.withdrawalCredentials,
    };
    const cl = await this.deps.readCl(read);
    const vaults = await this.deps.readVaults(ctx);
    const border = await (this.deps.readBorder ?? defaultBorder)(ctx, cl, vaults, read);
    const report = buildReport(ctx, cl, vaults, border);
    const hash = reportHash(report);
    const bytes = encodeReport(report);
    this.deps.metrics?.reportSeconds.observe((performance.now() - t0) / 1000);

    const vote = signVote(this.id.secretKey, this.id.memberId, frame.refSlot, hash, ctx.consensusVersion);
    try {
      const res = (
        await this.deps.api.submitOracleVote({
          body: { ...vote, report: `0x${Buffer.from(bytes).toString("hex")}`, source: cl.source },
        })
      ).data;
      const decided = res.decided?.status ?? null;
      this.deps.metrics?.votes.inc({ outcome: decided ?? "pending" });
      this.deps.metrics?.lastVotedRefSlot.set(frame.refSlot);
      this.doneUpTo = frame.refSlot;
      this.logger.info(
        {
          refSlot: frame.refSlot,
          reportHash: hash,
          source: cl.source,
          clValidators: report.clValidators,
          bunker: border.reasons ?? [],
          consensusHash: res.consensusHash,
          decided,
        },
        "oracle vote submitted",
      );
      return {
        kind: "voted",
        refSlot: frame.refSlot,
        reportHash: hash,
        report,
        bytes,
        source: cl.source,
        consensusHash: res.consensusHash,
        decided,
      };
    } catch (e) {
      if (e instanceof ApiError && e.code === "ERR_REPORT_DECIDED")
        return this.done(frame.refSlot, "decided while this member built its report");
      throw e;
    }
  }

  private done(refSlot: number, reason: string): RoundOutcome {
    this.doneUpTo = Math.max(this.doneUpTo, refSlot);
    this.logger.debug({ refSlot, reason }, "ref slot done");
    return { kind: "done", refSlot, reason };
  }

  /** Every pool key of the frame, page by page. */
  private async frameKeys(refSlot: number): Promise<FramePoolKey[]> {
    const out: FramePoolKey[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.deps.api.listOracleFrameKeys({
        params: { refSlot },
        query: cursor === undefined ? {} : { cursor },
      });
      for (const k of page.data)
        out.push({ pubkey: k.pubkey, operatorId: k.operatorId, depositGwei: BigInt(k.amountGwei) });
      if (page.meta.nextCursor === null) return out;
      cursor = page.meta.nextCursor;
    }
  }
}
