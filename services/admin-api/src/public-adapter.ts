/**
 * The public page's figures (`GET /v1/public/...`), read from the same ports as the token routes
 * and cut down to what a staker may see: names and counts, never reward or staker addresses,
 * tokens, alert messages or key material (services/admin-api/test/public.test.ts holds the
 * allow-list). Each section is one function; routes/public.ts caches them.
 *
 * Without an oracle or a DAO the oracle and governance parts are `{available: false, reason}`.
 */
import type {
  PublicConcentration,
  PublicControl,
  PublicFees,
  PublicOperators,
  PublicRisk,
  PublicToken,
  PublicWithdrawals,
} from "@poolkeeper/contract";
import { ALERT_KINDS, LIMITS } from "@poolkeeper/core";
import type { DepositSecurity } from "@poolkeeper/deposit-security";
import { PoolLedger } from "@poolkeeper/ledger";
import { DEFAULT_SANITY_LIMITS, expectedWithdrawalWait, type OracleConfig } from "@poolkeeper/oracle";
import { share } from "@poolkeeper/registry";
import { frontRunKeyCount, type Store } from "@poolkeeper/store";
import type { Static } from "typebox";
import type { GovernancePort } from "./governance-port.js";
import type { OraclePort } from "./oracle-port.js";
import type { PerformancePort } from "./performance-port.js";
import type { PoolPort } from "./pool-port.js";
import type { RegistryPort } from "./port.js";

export interface PublicPort {
  operators(): Promise<Static<typeof PublicOperators>>;
  concentration(): Promise<Static<typeof PublicConcentration>>;
  token(): Promise<Static<typeof PublicToken>>;
  fees(): Promise<Static<typeof PublicFees>>;
  withdrawals(): Promise<Static<typeof PublicWithdrawals>>;
  risk(): Promise<Static<typeof PublicRisk>>;
  control(): Promise<Static<typeof PublicControl>>;
}

export interface PublicDeps {
  store: Store;
  registry: RegistryPort;
  performance: PerformancePort;
  pool: PoolPort;
  oracle: OraclePort;
  /** The oracle's members, frames and fee (null: no oracle configured). */
  oracleConfig: OracleConfig | null;
  /** Deposit security: the guardians, the pause. */
  security: DepositSecurity;
  /** Governance (absent: no DAO configured). */
  governance?: GovernancePort;
  /** Unix seconds now (tests pin it). */
  now?: () => number;
}

/** Placeholders of figures this pool does not have (no oracle, no DAO configured). */
export const NOT_AVAILABLE = {
  governance: {
    available: false as const,
    reason: "no DAO is configured (GOVERNANCE_DAO_MEMBERS): the pool runs on its configuration",
  },
  noOracle: { available: false as const, reason: "no oracle is configured (ORACLE_MEMBERS)" },
};

const REPORTS = 10;
const HISTORY = 100;
const RECENT_ALERTS = 20;
const DAY_MS = 86_400_000;

export function publicPort(d: PublicDeps): PublicPort {
  const ledger = new PoolLedger(d.store);
  const now = d.now ?? (() => Math.floor(Date.now() / 1000));
  const at = () => new Date(now() * 1000).toISOString();

  return {
    async operators() {
      const [review, perf] = await Promise.all([d.registry.review(), d.performance.operators("7d")]);
      const byId = new Map(perf.operators.map((o) => [o.operatorId, o]));
      return {
        at: at(),
        window: perf.window,
        network: {
          effectiveness: perf.network.scores.effectiveness,
          csmPerformance: perf.network.scores.csmPerformance,
        },
        operators: review.operators.map((o) => {
          const p = byId.get(o.operatorId);
          return {
            operatorId: o.operatorId,
            name: o.name,
            active: o.active,
            validators: o.keys.active,
            staked: o.keys.staked,
            share: o.activeShare,
            effectiveness: p?.scores.effectiveness ?? null,
            csmPerformance: p?.scores.csmPerformance ?? null,
            vsNetwork: p?.vsNetwork.effectiveness ?? null,
          };
        }),
      };
    },

    async concentration() {
      const review = await d.registry.review();
      const holding = review.operators.filter((o) => o.keys.staked > 0);
      let staked = 0;
      for (const o of review.operators) staked += o.keys.staked;
      return {
        at: at(),
        validators: review.totals.active,
        staked,
        operators: holding.length,
        concentration: review.concentration,
        stakedConcentration: review.stakedConcentration,
        shares: holding
          .map((o) => ({
            operatorId: o.operatorId,
            name: o.name,
            share: o.activeShare,
            stakedShare: share(o.keys.staked, staked),
          }))
          .sort((a, b) => b.stakedShare - a.stakedShare || a.operatorId - b.operatorId),
      };
    },

    async token() {
      const [summary, history, reports] = await Promise.all([
        d.pool.summary(),
        d.pool.shareRateHistory({}),
        d.oracle.reports(REPORTS),
      ]);
      return {
        at: at(),
        shareRate: summary.shareRate,
        totalPooledEther: summary.totalPooledEther,
        totalShares: summary.totalShares,
        history: history.slice(-HISTORY),
        reports: reports.map((r) => ({
          refSlot: r.refSlot,
          status: r.status,
          reportHash: r.reportHash,
          decidedAt: r.decidedAt,
          sanityPassed: r.sanity.filter((c) => c.ok).length,
          sanityFailed: r.sanity.filter((c) => !c.ok).map((c) => c.check),
          isBunkerMode: r.report?.isBunkerMode ?? null,
          votes: r.votes.map((v) => ({ memberId: v.memberId, agrees: v.agrees, votedAt: v.votedAt })),
        })),
      };
    },

    async fees() {
      const f = d.oracleConfig?.fees;
      const reports = await ledger.reports(REPORTS);
      return {
        at: at(),
        fee:
          f === undefined
            ? NOT_AVAILABLE.noOracle
            : {
                totalFeeBP: f.totalFeeBP,
                operatorsFeeBP: f.operatorsFeeBP,
                treasuryFeeBP: f.totalFeeBP - f.operatorsFeeBP,
              },
        minted: reports.map(({ report: { input, outcome } }) => {
          let operators = 0n;
          let treasury = 0n;
          for (const m of outcome.mints) {
            if (m.operatorId === null) treasury += m.shares;
            else operators += m.shares;
          }
          return {
            refSlot: input.refSlot,
            timestamp: input.timestamp,
            rewardsWei: outcome.rewardsWei.toString(),
            feeWei: outcome.feeWei.toString(),
            operatorsShares: operators.toString(),
            treasuryShares: treasury.toString(),
            notMintedShares: outcome.sharesNotMinted.toString(),
          };
        }),
      };
    },

    async withdrawals() {
      const [state, reports] = await Promise.all([ledger.state(), d.oracle.reports(REPORTS)]);
      const lastApplied = reports.find((r) => r.status === "applied");
      const bunkerMode = lastApplied?.report?.isBunkerMode ?? false;
      const cfg = d.oracleConfig;
      let expectedWait: Static<typeof PublicWithdrawals>["expectedWait"];
      if (cfg === null) expectedWait = NOT_AVAILABLE.noOracle;
      else {
        const w = expectedWithdrawalWait({
          now: now(),
          frames: cfg.frames,
          requestTimestampMarginSeconds: (cfg.sanity ?? DEFAULT_SANITY_LIMITS).requestTimestampMarginSeconds,
          isBunkerMode: bunkerMode,
          demandWei: state.unfinalizedSteth,
          bufferWei: state.bufferedWei,
        });
        expectedWait = w.bunker
          ? { available: false, reason: "bunker mode: finalization waits for the bunker's borders" }
          : {
              seconds: w.seconds,
              finalizationSeconds: w.finalizationSeconds,
              exitSeconds: w.exitSeconds,
              validatorsToExit: w.validatorsToExit,
              nextReportRefSlot: w.nextReportRefSlot,
            };
      }
      return {
        at: at(),
        queue: {
          requests: state.lastRequestId - state.lastFinalizedRequestId,
          unfinalizedStETH: state.unfinalizedSteth.toString(),
          bufferedEther: state.bufferedWei.toString(),
        },
        bunkerMode,
        expectedWait,
      };
    },

    async risk() {
      const since = new Date(now() * 1000 - 30 * DAY_MS);
      const [review, perf, alerts] = await Promise.all([
        d.registry.review(),
        d.performance.operators("30d"),
        d.performance.alerts({ since, limit: LIMITS.listPage }),
      ]);
      let balance = 0n;
      let missedAttestations = 0;
      let missedProposals = 0;
      for (const o of perf.operators) {
        balance += BigInt(o.balanceChangeGwei);
        missedAttestations += o.duties.attestations.missed;
        missedProposals += o.duties.proposals.missed;
      }
      const byKind: Record<string, number> = Object.fromEntries(ALERT_KINDS.map((k) => [k, 0]));
      for (const a of alerts) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
      let slashed = 0;
      let late = 0;
      let triggered = 0;
      for (const o of review.operators) {
        slashed += o.keys.slashed;
        late += o.exits.late;
        triggered += o.exits.triggered;
      }
      return {
        at: at(),
        slashedValidators: slashed,
        penalties: { balanceChangeGwei: balance.toString(), missedAttestations, missedProposals },
        lateExits: late,
        triggeredExits: triggered,
        alerts30d: {
          total: alerts.length,
          byKind,
          recent: alerts.slice(0, RECENT_ALERTS).map((a) => ({
            kind: a.kind,
            operatorId: a.operatorId,
            epoch: a.epoch,
            createdAt: a.createdAt,
          })),
        },
        frontRunKeys: await frontRunKeyCount(d.store).then((f) => ({
          count: f.count,
          lastAt: f.lastAt === null ? null : f.lastAt.toISOString(),
        })),
      };
    },

    async control() {
      const cfg = d.oracleConfig;
      return {
        at: at(),
        oracle:
          cfg === null
            ? NOT_AVAILABLE.noOracle
            : { members: cfg.members.length, quorum: cfg.quorum, epochsPerFrame: cfg.frames.epochsPerFrame },
        deposits: await d.security.status().then((x) => ({
          guarded: x.guardians.length > 0,
          guardians: x.guardians.length,
          quorum: x.quorum,
          paused: x.paused,
          pausedBy: x.pausedBy,
          pausedAt: x.pausedAt,
          pauseReason: x.pauseReason,
          unpausedAt: x.unpausedAt,
          unpauseReason: x.unpauseReason,
        })),
        governance:
          d.governance === undefined ? NOT_AVAILABLE.governance : await governanceControl(d.governance),
      };
    },
  };
}

/** Who can change what, and what is waiting: the governance part of the control section. */
async function governanceControl(g: GovernancePort) {
  const p = await g.parameters();
  const open = [
    ...(await g.list({ limit: 50, status: "pending" })),
    ...(await g.list({ limit: 50, status: "approved" })),
  ];
  return {
    daoMembers: p.dao.members.length,
    quorum: p.dao.quorum,
    timelockSeconds: p.timelockSeconds,
    limitStep: p.limitStep,
    parameters: p.parameters.map((x) => ({ name: x.name, proposalId: x.proposalId, setAt: x.setAt })),
    pending: open
      .sort((a, b) => a.id - b.id)
      .map((x) => ({
        id: x.id,
        kind: x.kind,
        status: x.status,
        reason: x.reason,
        executableAt: x.executableAt,
      })),
  };
}
