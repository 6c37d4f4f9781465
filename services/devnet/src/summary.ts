/** The devnet's summary: the chain, the watcher's progress and each operator's attestations and alerts. */
import { scoreSet } from "@poolkeeper/beacon";
import type { BeaconSim } from "@poolkeeper/beacon-sim";
import { etherByShares, PoolLedger } from "@poolkeeper/ledger";
import { OracleReportReader } from "@poolkeeper/oracle";
import {
  type AlertKind,
  approvalsOf,
  getWatcherCheckpoint,
  governanceHistory,
  listExitRequests,
  listProposals,
  listWatcherAlerts,
  operatorPerformance,
  type Store,
} from "@poolkeeper/store";
import type {
  BatchSummary,
  DevnetOperator,
  DevnetSummary,
  ExecutedProposal,
  ExitSummary,
  FeeSummary,
  FeeValue,
  OracleSummary,
} from "./context.js";

export interface SummarySource {
  chain: BeaconSim["chain"];
  store: Store;
  /** The network's name (watcher rows are keyed by it). */
  network: string;
  operators: readonly DevnetOperator[];
  poolIndices: readonly number[];
  /** The run's deposit batches with their guardians' verdicts (filled as they are decided). */
  batches: readonly BatchSummary[];
}

export async function devnetSummary(s: SummarySource): Promise<DevnetSummary> {
  const { chain, store, network, operators, poolIndices } = s;
  const head = chain.epochOf(chain.headSlot);
  const perf = await operatorPerformance(store, network, 1_000_000);
  const alerts = await listWatcherAlerts(store, network, { limit: 1000 });
  let poolActive = 0;
  for (const i of poolIndices) if (chain.isActiveAt(i, head)) poolActive++;
  return {
    headEpoch: head,
    finalizedEpoch: chain.currentFinality().finalized.epoch,
    watcherEpoch: await getWatcherCheckpoint(store, network),
    poolActive,
    poolDeposited: poolIndices.length,
    operators: operators.map((op) => {
      const p = perf.operators.find((x) => x.operatorId === op.id);
      const a: Partial<Record<AlertKind, number>> = {};
      for (const al of alerts) if (al.operatorId === op.id) a[al.kind] = (a[al.kind] ?? 0) + 1;
      return {
        id: op.id,
        name: op.name,
        validators: op.validators.length,
        deposited: op.deposited,
        attAssigned: p?.counts.attAssigned ?? 0,
        attIncluded: p?.counts.attIncluded ?? 0,
        csmPerformance: p === undefined ? null : scoreSet(p.counts).csm,
        alerts: a,
      };
    }),
    oracle: await oracleSummary(store),
    exits: await exitsSummary(store),
    batches: s.batches.map((b) => ({ ...b, signers: [...b.signers] })),
    ...(await governanceSummary(store)),
  };
}

/** The governed parameter the fee is (@poolkeeper/oracle's FEE_PARAMETER). */
const FEE = "fee";

const sameFee = (a: FeeValue, b: FeeValue) =>
  a.totalFeeBP === b.totalFeeBP &&
  a.operatorsFeeBP === b.operatorsFeeBP &&
  a.treasury.toLowerCase() === b.treasury.toLowerCase();

/**
 * Governance's part, from the store: the executed proposals (oldest first, with their approvals)
 * and the fee (genesis, now, the first applied report that used the value now once it was set).
 */
export async function governanceSummary(
  store: Store,
): Promise<{ proposalsExecuted: ExecutedProposal[]; fee: FeeSummary | null }> {
  const rows = (await listProposals(store, { limit: 1000, status: "executed" })).reverse();
  const approvals = await approvalsOf(
    store,
    rows.map((r) => r.id),
  );
  const proposalsExecuted = rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    value: r.value,
    approvals: (approvals.get(r.id) ?? []).map((a) => a.memberId),
    approvedAt: r.approvedAt?.toISOString() ?? null,
    executedAt: r.executedAt?.toISOString() ?? null,
  }));
  const fees = (await governanceHistory(store)).filter((h) => h.name === FEE);
  const first = fees[0];
  const last = fees.at(-1);
  if (first === undefined || last === undefined) return { proposalsExecuted, fee: null };
  const after = last.value as FeeValue;
  let firstReportRefSlot: number | null = null;
  if (last.proposalId !== null)
    for (const r of (await new PoolLedger(store).reports(1000)).reverse())
      if (r.createdAt >= last.at && sameFee(r.report.fees, after)) {
        firstReportRefSlot = r.report.input.refSlot;
        break;
      }
  return {
    proposalsExecuted,
    fee: { before: first.value as FeeValue, after, proposalId: last.proposalId, firstReportRefSlot },
  };
}

/** A fee as a line: "10 % (operators 5 %, treasury 0x3e40…)". */
export function feeText(f: FeeValue): string {
  return `${f.totalFeeBP / 100} % (operators ${f.operatorsFeeBP / 100} %, treasury ${f.treasury.slice(0, 6)}…)`;
}

/** The pool's exit requests, oldest first: who, why, how it went (voluntary or triggered) and when. */
export async function exitsSummary(store: Store): Promise<ExitSummary[]> {
  const rows = await listExitRequests(store, { limit: 1000 });
  return rows.reverse().map((r) => ({
    validator: { index: r.validatorIndex, pubkey: `0x${r.pubkey}` },
    operator: r.operatorId,
    reason: r.reason,
    state: r.state,
    by: r.exitedBy,
    requestedEpoch: r.requestedEpoch,
    deadlineEpoch: r.deadlineEpoch,
    exitedEpoch: r.state === "exited" ? r.exitEpoch : null,
  }));
}

/**
 * The oracle's part: every decided report (ref slot, hash, each member's vote), the share rate
 * before the first applied report and now (1e27 precision, decimal strings), the fee shares
 * minted per recipient and what they are worth now, and the pool's totals.
 */
export async function oracleSummary(store: Store): Promise<OracleSummary> {
  const ledger = new PoolLedger(store);
  const [decided, applied, pool] = await Promise.all([
    new OracleReportReader(store).reports(1000),
    ledger.reports(1000),
    ledger.summary(),
  ]);
  const oldest = applied.at(-1);
  const minted = new Map<string, { operatorId: string | null; shares: bigint }>();
  for (const r of [...applied].reverse())
    for (const m of r.report.outcome.mints) {
      const got = minted.get(m.account) ?? { operatorId: m.operatorId, shares: 0n };
      got.shares += m.shares;
      minted.set(m.account, got);
    }
  const totals = { totalPooledEther: pool.totalPooledEther, totalShares: pool.totalShares };
  return {
    reportsApplied: decided.filter((r) => r.status === "applied").length,
    reports: [...decided].reverse().map((r) => ({
      refSlot: r.refSlot,
      status: r.status as "applied" | "refused",
      hash: r.reportHash ?? "",
      votes: Object.fromEntries(r.votes.map((v) => [v.memberId, v.reportHash])),
      failedChecks: r.sanity.filter((c) => !c.ok).map((c) => c.check),
    })),
    shareRate: {
      before: (oldest?.report.outcome.preShareRate ?? pool.shareRate).toString(),
      after: pool.shareRate.toString(),
    },
    feesMinted: [...minted].map(([account, m]) => ({
      account,
      operatorId: m.operatorId,
      shares: m.shares.toString(),
      wei: etherByShares(m.shares, totals).toString(),
    })),
    totalPooledEther: pool.totalPooledEther.toString(),
    totalShares: pool.totalShares.toString(),
    bufferedWei: pool.bufferedWei.toString(),
  };
}

function pct(included: number, assigned: number): string {
  return assigned === 0 ? "     -" : `${((100 * included) / assigned).toFixed(1).padStart(5)}%`;
}

/** The summary as printed: one line for the pool, one per operator. */
export function summaryLines(s: DevnetSummary): string[] {
  const lines = [
    `epoch ${s.headEpoch} (finalized ${s.finalizedEpoch}, watcher at ${s.watcherEpoch ?? "-"}): ` +
      `${s.poolActive}/${s.poolDeposited} pool validators active`,
  ];
  for (const op of s.operators) {
    const kinds = Object.entries(op.alerts).map(([k, n]) => `${k} ${n}`);
    lines.push(
      `  operator ${op.id} ${op.name.padEnd(18)} ${String(op.validators).padStart(3)} validators  ` +
        `attestations ${`${op.attIncluded}/${op.attAssigned}`.padStart(9)} ${pct(op.attIncluded, op.attAssigned)}  ` +
        `alerts ${kinds.length === 0 ? "0" : kinds.join(", ")}`,
    );
  }
  const o = s.oracle;
  const last = o.reports.at(-1);
  lines.push(
    `  oracle: ${o.reportsApplied} reports applied` +
      (last === undefined
        ? ""
        : `, last ref slot ${last.refSlot} ${last.status} (${last.hash.slice(0, 10)}…)`) +
      `, share rate ${o.shareRate.after}`,
  );
  for (const b of s.batches)
    lines.push(
      `  deposit batch ${b.id}: ${b.keys} keys ${b.status}` +
        (b.signers.length === 0 ? "" : ` (signed by ${b.signers.join(", ")})`),
    );
  for (const e of s.exits) lines.push(`  exit: ${exitLine(e)}`);
  if (s.fee !== null)
    lines.push(
      `  fee: ${feeText(s.fee.after)}` +
        (s.fee.proposalId === null
          ? " (genesis)"
          : ` since proposal ${s.fee.proposalId}, was ${feeText(s.fee.before)}; ` +
            (s.fee.firstReportRefSlot === null
              ? "no report has used it yet"
              : `first used by the report at ref slot ${s.fee.firstReportRefSlot}`)),
    );
  return lines;
}

/** One exit request in a line: the validator, its operator, why, when asked, the deadline, how it went. */
export function exitLine(e: ExitSummary): string {
  return (
    `validator ${e.validator.index} (operator ${e.operator}, ${e.reason}, requested at epoch ${e.requestedEpoch}, deadline ${e.deadlineEpoch}): ${e.state}` +
    (e.by === null ? "" : ` (${e.by})`) +
    (e.exitedEpoch === null ? "" : ` at epoch ${e.exitedEpoch}`)
  );
}
