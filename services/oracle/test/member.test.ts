/**
 * The member loop against two beacon-sim nodes of one chain (manual clock) and a scripted admin
 * API (the frame's context and the votes: logic only; the admin API's own side is tested in
 * services/admin-api and the whole in the devnet test):
 * - two members, each on its own node, build byte-identical reports (the SSZ path on one, the
 *   JSON path on the other);
 * - a member never votes for a ref slot that is not finalized, nor while the watcher has not
 *   passed the frame, nor from a node behind finality;
 * - a member restarted after its vote does not vote again; a frame decided elsewhere is left;
 * - a vote that arrives after the decision is not an error;
 * - a negative CL rebase puts the report in bunker mode.
 */
import { BeaconNodePool, loadLodestar } from "@poolkeeper/beacon";
import { type ApiClient, ApiError } from "@poolkeeper/contract";
import { createLogger, toHex0x } from "@poolkeeper/core";
import { EMPTY_LEDGER, type LedgerState, stateToJson } from "@poolkeeper/ledger";
import {
  DEFAULT_SANITY_LIMITS,
  decodeReport,
  type FrameConfig,
  frameAt,
  generateMemberKey,
  lastReportableFrame,
  publicKeyOf,
  readClFigures,
  reportHash,
  voteSignatureValid,
} from "@poolkeeper/oracle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bunkerBorder } from "../src/border.js";
import { type ClReader, OracleMember, type RoundOutcome } from "../src/member.js";

type BeaconSimModule = typeof import("@poolkeeper/beacon-sim");
type Fleet = Awaited<ReturnType<BeaconSimModule["startFleet"]>>;

const ETH = 10n ** 18n;
const S = 8;
const POOL_WC = `0x01${"00".repeat(11)}${"aa".repeat(20)}`;
const TREASURY = "0x00000000000000000000000000000000000000ee";
const logger = createLogger({ name: "member-test", level: "silent" });

interface Script {
  frames: FrameConfig;
  members: { id: string; publicKey: string }[];
  /** Votes the scripted API took, by ref slot. */
  votes: Map<number, { memberId: string; reportHash: string; report: string; source?: string }[]>;
  decided: Map<number, string>;
  watcherEpoch: number;
  /** The next vote is answered "decided already" (another member's vote completed the quorum). */
  decideBeforeNextVote: boolean;
  /** The pinned ledger, over the default (a pool of 12 deposited keys before its first report). */
  ledgerOver?: Partial<LedgerState>;
}

/** A scripted admin API: the oracle routes a member calls, over `script`. */
function scriptedApi(script: Script, keys: { pubkey: string; operatorId: number }[]): ApiClient {
  const api = {
    async getOracleSetup() {
      return {
        data: {
          consensusVersion: 1,
          members: script.members,
          quorum: 2,
          frames: script.frames,
          withdrawalCredentials: POOL_WC,
          genesisForkVersion: "",
        },
        meta: {},
      };
    },
    async getOracleFrame({ params }: { params: { refSlot: number } }) {
      const refSlot = Number(params.refSlot);
      const frame = frameAt(script.frames, Math.floor((refSlot + 1) / S / script.frames.epochsPerFrame) - 1);
      const decided = script.decided.get(refSlot);
      return {
        data: {
          refSlot,
          frame,
          consensusVersion: 1,
          ledgerSeq: "2",
          ledger: stateToJson({
            ...EMPTY_LEDGER,
            totalShares: BigInt(keys.length) * 32n * ETH,
            depositedValidators: keys.length,
            depositedWei: BigInt(keys.length) * 32n * ETH,
            ...script.ledgerOver,
          }),
          queue: [],
          maxBatchId: 1,
          fees: { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: TREASURY },
          maxPositiveTokenRebase: "750000",
          requestTimestampMarginSeconds: 60,
          bunkerLimits: { ...DEFAULT_SANITY_LIMITS, maxPositiveTokenRebase: undefined },
          bunkerSince: null,
          previousRefTimestamp: script.frames.genesisTime,
          performance: {
            complete: script.watcherEpoch >= frame.lastEpoch,
            watcherEpoch: script.watcherEpoch,
            networkPerformance: 1,
            threshold: 0.95,
            underperforming: [],
          },
          exits: { operators: [], requested: [], maxExitWei: (19_200n * ETH).toString() },
          decision: decided === undefined ? null : { status: "applied", reportHash: decided },
          votes: (script.votes.get(refSlot) ?? []).map(({ memberId, reportHash }) => ({
            memberId,
            reportHash,
          })),
        },
        meta: {},
      };
    },
    async listOracleFrameKeys() {
      return {
        data: keys.map((k, i) => ({ id: i + 1, ...k, amountGwei: "32000000000" })),
        meta: { count: keys.length, nextCursor: null },
      };
    },
    async submitOracleVote({
      body,
    }: {
      body: {
        memberId: string;
        refSlot: number;
        reportHash: string;
        report: string;
        signature: string;
        consensusVersion: number;
        source?: string;
      };
    }) {
      const member = script.members.find((m) => m.id === body.memberId)!;
      if (!voteSignatureValid(body, member)) throw new Error("bad signature");
      if (script.decideBeforeNextVote) {
        script.decideBeforeNextVote = false;
        throw new ApiError("POST /v1/oracle/votes", 409, "ERR_REPORT_DECIDED", "decided already");
      }
      const list = script.votes.get(body.refSlot) ?? [];
      list.push({
        memberId: body.memberId,
        reportHash: body.reportHash,
        report: body.report,
        source: body.source,
      });
      script.votes.set(body.refSlot, list);
      return { data: { refSlot: body.refSlot, consensusHash: null, votes: {}, decided: null }, meta: {} };
    },
  };
  return api as unknown as ApiClient;
}

describe("oracle member", () => {
  let sim: BeaconSimModule;
  let fleet: Fleet;
  let nodes: BeaconNodePool[];
  let keys: { pubkey: string; operatorId: number }[];
  const secret = [generateMemberKey(), generateMemberKey()];
  let script: Script;

  beforeAll(async () => {
    await loadLodestar("minimal");
    sim = await import("@poolkeeper/beacon-sim");
    fleet = await sim.startFleet(2, { validators: 32, scenario: { withdrawalCredentials: POOL_WC } });
    nodes = await Promise.all(
      fleet.sims.map((s) =>
        BeaconNodePool.init({
          urls: [s.url],
          preset: "minimal",
          retries: 0,
          retryBaseMs: 10,
          timeoutMs: 3000,
        }),
      ),
    );
    // the pool: validators 0-11, operators 1 and 2
    keys = Array.from({ length: 12 }, (_, i) => ({
      pubkey: toHex0x(fleet.chain.pubkeyOf(i)),
      operatorId: i < 6 ? 1 : 2,
    }));
    script = {
      frames: {
        slotsPerEpoch: S,
        secondsPerSlot: fleet.chain.secondsPerSlot,
        genesisTime: fleet.chain.genesisTime,
        epochsPerFrame: 2,
        initialEpoch: 0,
      },
      members: secret.map((k, i) => ({ id: `m${i + 1}`, publicKey: publicKeyOf(k) })),
      votes: new Map(),
      decided: new Map(),
      watcherEpoch: 0,
      decideBeforeNextVote: false,
    };
  });
  afterAll(() => fleet?.close());

  const member = (i: number, path: "ssz" | "json", node = nodes[i]!, bunker = false) => {
    const gfv = toHex0x(fleet.chain.config.GENESIS_FORK_VERSION);
    const readCl: ClReader = (input) =>
      readClFigures(node, { ...input, path, genesisForkVersion: gfv, timeoutMs: 5000 });
    const readVaults = async () => ({ withdrawalVaultWei: 0n, elRewardsVaultWei: 0n });
    const m: OracleMember = new OracleMember(
      {
        api: scriptedApi(script, keys),
        beacon: node,
        logger,
        readCl,
        readVaults,
        ...(bunker ? { readBorder: bunkerBorder(() => m.frameConfig(), readCl, readVaults) } : {}),
      },
      { memberId: `m${i + 1}`, secretKey: secret[i]! },
    );
    return m;
  };

  it("waits while no ref slot is finalized, then while the watcher has not passed the frame", async () => {
    const m = member(0, "ssz");
    await m.init();
    const first = await m.round();
    expect(first.kind).toBe("waiting");
    expect((first as { reason: string }).reason).toMatch(/no ref slot finalized/);
    fleet.chain.advanceEpochs(5); // finalized epoch ≥ 2: frame 0 (epochs 0-1, ref slot 15) is reportable
    expect(fleet.chain.currentFinality().finalized.epoch).toBeGreaterThanOrEqual(2);
    const second = await m.round();
    expect(second).toMatchObject({ kind: "waiting", refSlot: 15 });
    expect((second as { reason: string }).reason).toMatch(/watcher has not passed/);
    expect(script.votes.size).toBe(0);
  });

  it("two members on two nodes, by the SSZ and the JSON path, vote for byte-identical reports", async () => {
    script.watcherEpoch = 100;
    const [a, b] = [member(0, "ssz"), member(1, "json")];
    await a.init();
    await b.init();
    const ra = (await a.round()) as Extract<RoundOutcome, { kind: "voted" }>;
    const rb = (await b.round()) as Extract<RoundOutcome, { kind: "voted" }>;
    expect(ra.kind).toBe("voted");
    expect(rb.kind).toBe("voted");
    expect(ra.source).toBe("ssz");
    expect(rb.source).toBe("json");
    expect(Buffer.from(rb.bytes).equals(Buffer.from(ra.bytes))).toBe(true);
    expect(rb.reportHash).toBe(ra.reportHash);
    const refSlot = ra.refSlot;
    const report = decodeReport(Buffer.from(script.votes.get(refSlot)![0]!.report.slice(2), "hex"));
    expect(reportHash(report)).toBe(ra.reportHash);
    expect(report.clValidators).toBe(12);
    expect(report.operators.map((o) => [o.operatorId, o.activeValidators, o.rewardedValidators])).toEqual([
      [1, 6, 6],
      [2, 6, 6],
    ]);
    // the vote says which path ran (the report cannot: it is the same)
    expect(script.votes.get(refSlot)!.map((v) => [v.memberId, v.source])).toEqual([
      ["m1", "ssz"],
      ["m2", "json"],
    ]);
  });

  it("a member restarted after its vote does not vote again; a decided frame is left alone", async () => {
    const before = [...script.votes.values()].flat().length;
    const again = member(0, "ssz");
    await again.init();
    const r = await again.round();
    expect(r).toMatchObject({ kind: "done" });
    expect((r as { reason: string }).reason).toMatch(/voted already/);
    // the next frame is decided by others before this member looks at it
    fleet.chain.advanceEpochs(2);
    const next = (r as { refSlot: number }).refSlot + 2 * S;
    script.decided.set(next, `0x${"11".repeat(32)}`);
    const d = await again.round();
    expect(d).toMatchObject({ kind: "done", refSlot: next });
    expect((d as { reason: string }).reason).toMatch(/decided already/);
    expect([...script.votes.values()].flat().length).toBe(before);
  });

  it("a vote answered 'decided already' ends the frame without an error", async () => {
    fleet.chain.advanceEpochs(2);
    script.decideBeforeNextVote = true;
    const m = member(1, "ssz");
    await m.init();
    const r = await m.round();
    expect(r).toMatchObject({ kind: "done" });
    expect((r as { reason: string }).reason).toMatch(/decided while this member built/);
  });

  it("a node stuck behind finality gives no report: the member waits at that node's finality", async () => {
    const stuckAt = fleet.chain.headSlot;
    fleet.sims[1]!.node.addFault({ kind: "stuck", atSlot: stuckAt });
    fleet.chain.advanceEpochs(4);
    const m = member(1, "ssz", nodes[1]!);
    await m.init();
    // the chain has finalized a newer frame than the stuck node has
    const newest = lastReportableFrame(script.frames, fleet.chain.currentFinality().finalized.epoch)!;
    const r = await m.round();
    // its finality is its own, behind the chain's: never the newest frame
    if ("refSlot" in r && r.refSlot !== undefined) expect(r.refSlot).toBeLessThan(newest.refSlot);
    expect(script.votes.has(newest.refSlot)).toBe(false);
    fleet.sims[1]!.node.clearFaults();
    // back in step, the member reports the newest frame
    const after = await m.round();
    expect(after).toMatchObject({ kind: "voted", refSlot: newest.refSlot });
  });

  it("a CL balance below the last report's: bunker mode in the report, and no fee", async () => {
    fleet.chain.advanceEpochs(2);
    const m = member(0, "ssz", nodes[0]!, true);
    await m.init();
    const frame = lastReportableFrame(script.frames, fleet.chain.currentFinality().finalized.epoch)!;
    const prevRef = frame.refSlot - 2 * S;
    // the last report saw the 12 validators with 33 ETH each: they hold about 32 now
    script.ledgerOver = {
      clValidators: 12,
      clDepositedWei: 12n * 32n * ETH,
      clBalanceWei: 12n * 33n * ETH,
      lastRefSlot: prevRef,
      lastReportTimestamp: script.frames.genesisTime + prevRef * script.frames.secondsPerSlot,
    };
    const r = (await m.round()) as Extract<RoundOutcome, { kind: "voted" }>;
    expect(r).toMatchObject({ kind: "voted", refSlot: frame.refSlot });
    expect(r.report.isBunkerMode).toBe(true);
    expect(r.report.clBalanceGwei).toBeLessThan(12n * 33n * 10n ** 9n);
    // no fee on a negative rebase: the simulated rate is the pooled ether over the same shares
    const pooled = r.report.clBalanceGwei * 10n ** 9n;
    expect(r.report.simulatedShareRate).toBe((pooled * 10n ** 27n) / (12n * 32n * ETH));
    script.ledgerOver = undefined;
  });

  it("refuses to start as a member the pool does not list, or with another key", async () => {
    const as = (memberId: string) =>
      new OracleMember(
        {
          api: scriptedApi(script, keys),
          beacon: nodes[0]!,
          logger,
          readCl: async () => {
            throw new Error("not reached");
          },
          readVaults: async () => ({ withdrawalVaultWei: 0n, elRewardsVaultWei: 0n }),
        },
        { memberId, secretKey: secret[0]! },
      );
    await expect(as("m9").init()).rejects.toThrow(/ORACLE_MEMBER_ID: m9 is not an oracle member/);
    const wrongKey = as("m2");
    await expect(wrongKey.init()).rejects.toThrow(/ORACLE_MEMBER_KEY: its public key is not the one/);
  });
});
