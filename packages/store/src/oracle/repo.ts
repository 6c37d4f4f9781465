/** SQL of the oracle (migration 0031): members' votes and the decision on each ref slot. */
import type { Queryable } from "../store.js";

export interface StoredVote {
  refSlot: number;
  memberId: string;
  /** How the member read the consensus layer (null: not said). */
  source: "ssz" | "json" | null;
  consensusVersion: number;
  reportHash: string;
  signature: string;
  report: Uint8Array;
  votedAt: Date;
}

export interface StoredOracleReport {
  refSlot: number;
  reportHash: string;
  report: Uint8Array;
  status: "applied" | "refused";
  sanity: unknown;
  historyPoint: unknown;
  ledgerSeq: bigint | null;
  decidedAt: Date;
}

const date = (v: Date | string) => (v instanceof Date ? v : new Date(v));

/** Serialise deciding on one ref slot (transaction-scoped). */
export async function lockRefSlot(tx: Queryable, refSlot: number): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('poolkeeper.oracle'), $1::int)", [refSlot % 2 ** 31]);
}

/** Store a member's vote, replacing its earlier one for the ref slot. */
export async function upsertVote(tx: Queryable, v: Omit<StoredVote, "votedAt">): Promise<void> {
  await tx.query(
    `INSERT INTO oracle_votes (ref_slot, member_id, consensus_version, report_hash, signature, report, source)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (ref_slot, member_id) DO UPDATE SET consensus_version = EXCLUDED.consensus_version,
       report_hash = EXCLUDED.report_hash, signature = EXCLUDED.signature, report = EXCLUDED.report,
       source = EXCLUDED.source, voted_at = now()`,
    [v.refSlot, v.memberId, v.consensusVersion, v.reportHash, v.signature, v.report, v.source],
  );
}

interface VoteRow {
  ref_slot: bigint;
  member_id: string;
  consensus_version: number;
  report_hash: string;
  signature: string;
  report: Uint8Array;
  source: "ssz" | "json" | null;
  voted_at: Date | string;
}

export async function votesFor(q: Queryable, refSlot: number): Promise<StoredVote[]> {
  const r = await q.query<VoteRow>(
    "SELECT ref_slot, member_id, consensus_version, report_hash, signature, report, source, voted_at FROM oracle_votes WHERE ref_slot = $1 ORDER BY member_id",
    [refSlot],
  );
  return r.rows.map((x) => ({
    refSlot: Number(x.ref_slot),
    memberId: x.member_id,
    source: x.source,
    consensusVersion: x.consensus_version,
    reportHash: x.report_hash,
    signature: x.signature,
    report: new Uint8Array(x.report),
    votedAt: date(x.voted_at),
  }));
}

export async function insertOracleReport(
  tx: Queryable,
  r: Omit<StoredOracleReport, "decidedAt">,
): Promise<void> {
  await tx.query(
    `INSERT INTO oracle_reports (ref_slot, report_hash, report, status, sanity, history_point, ledger_seq)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)`,
    [
      r.refSlot,
      r.reportHash,
      r.report,
      r.status,
      JSON.stringify(r.sanity),
      r.historyPoint === null ? null : JSON.stringify(r.historyPoint),
      r.ledgerSeq === null ? null : r.ledgerSeq.toString(),
    ],
  );
}

interface ReportRow {
  ref_slot: bigint;
  report_hash: string;
  report: Uint8Array;
  status: "applied" | "refused";
  sanity: unknown;
  history_point: unknown;
  ledger_seq: bigint | null;
  decided_at: Date | string;
}

function reportFromRow(x: ReportRow): StoredOracleReport {
  return {
    refSlot: Number(x.ref_slot),
    reportHash: x.report_hash,
    report: new Uint8Array(x.report),
    status: x.status,
    sanity: x.sanity,
    historyPoint: x.history_point,
    ledgerSeq: x.ledger_seq === null ? null : BigInt(x.ledger_seq),
    decidedAt: date(x.decided_at),
  };
}

const REPORT_COLUMNS = "ref_slot, report_hash, report, status, sanity, history_point, ledger_seq, decided_at";

export async function oracleReport(q: Queryable, refSlot: number): Promise<StoredOracleReport | null> {
  const r = await q.query<ReportRow>(`SELECT ${REPORT_COLUMNS} FROM oracle_reports WHERE ref_slot = $1`, [
    refSlot,
  ]);
  return r.rows[0] === undefined ? null : reportFromRow(r.rows[0]);
}

/** Decided reports, newest first; `before`: ref slots below it only. */
export async function listOracleReports(
  q: Queryable,
  limit: number,
  before?: number,
): Promise<StoredOracleReport[]> {
  const r = await q.query<ReportRow>(
    `SELECT ${REPORT_COLUMNS} FROM oracle_reports WHERE ($2::bigint IS NULL OR ref_slot < $2) ORDER BY ref_slot DESC LIMIT $1`,
    [limit, before ?? null],
  );
  return r.rows.map(reportFromRow);
}

/** The hashes of the applied reports among `refSlots`, by ref slot. */
export async function appliedReportHashes(
  q: Queryable,
  refSlots: readonly number[],
): Promise<Map<number, string>> {
  if (refSlots.length === 0) return new Map();
  const r = await q.query<{ ref_slot: bigint; report_hash: string }>(
    "SELECT ref_slot, report_hash FROM oracle_reports WHERE status = 'applied' AND ref_slot = ANY($1::bigint[])",
    [refSlots],
  );
  return new Map(r.rows.map((x) => [Number(x.ref_slot), x.report_hash]));
}

/** The history points of applied reports, oldest first. */
export async function appliedHistoryPoints(q: Queryable): Promise<unknown[]> {
  const r = await q.query<{ history_point: unknown }>(
    "SELECT history_point FROM oracle_reports WHERE status = 'applied' ORDER BY ref_slot",
  );
  return r.rows.map((x) => x.history_point);
}

/** Every operator's reward address, 0x-hex, by id. */
export async function operatorRewardAddresses(q: Queryable): Promise<Map<number, string>> {
  const r = await q.query<{ id: number; addr: string }>(
    "SELECT id, '0x' || encode(reward_address, 'hex') AS addr FROM operators",
  );
  return new Map(r.rows.map((x) => [Number(x.id), x.addr]));
}

/** A frame's pinned ledger and key set (migration 0033). */
export interface FrameSnapshot {
  refSlot: number;
  ledgerSeq: bigint;
  /** The ledger state JSON as `ledger_state.data` held it (null before the first ledger entry). */
  ledgerState: unknown;
  maxBatchId: number;
  /** The operators' target limits and the validators with an open exit request at the pin (null: pinned before 0036). */
  exits: FrameExitsSnapshot | null;
  /**
   * The governed values pinned with it, by name (the names the caller asked for, as
   * governance_parameters held them; migration 0041); null without governance.
   */
  governed: Record<string, unknown> | null;
  pinnedAt: Date;
}

export interface FrameExitsSnapshot {
  operators: { operatorId: number; targetLimit: number | null; targetLimitMode: "soft" | "hard" | null }[];
  /** Validator indices with an open exit request (not yet exiting on the chain), ascending. */
  requested: number[];
}

/**
 * The frame's snapshot: pinned now from the ledger's state row and the last deposit batch if no
 * member asked before, else the one pinned then (one statement: members racing pin one row).
 */
export async function pinFrameSnapshot(
  q: Queryable,
  refSlot: number,
  /** Governed parameters to pin with it (governance_parameters names): the report's fee and limits. */
  governedNames: readonly string[] = [],
): Promise<FrameSnapshot> {
  await q.query(
    `INSERT INTO oracle_frame_snapshots (ref_slot, ledger_seq, ledger_state, max_batch_id, exits, governed)
     SELECT $1, COALESCE((SELECT last_seq FROM ledger_state WHERE id = 1), 0),
            COALESCE((SELECT data FROM ledger_state WHERE id = 1), 'null'::jsonb),
            COALESCE((SELECT max(id) FROM deposit_batches), 0),
            jsonb_build_object(
              'operators', COALESCE((SELECT jsonb_agg(jsonb_build_object('operatorId', id, 'targetLimit', target_limit,
                  'targetLimitMode', target_limit_mode) ORDER BY id) FROM operators), '[]'::jsonb),
              'requested', COALESCE((SELECT jsonb_agg(validator_index ORDER BY validator_index) FROM exit_requests
                  WHERE state IN ('requested', 'signed', 'submitted', 'late', 'triggered')), '[]'::jsonb)),
            (SELECT jsonb_object_agg(name, value) FROM governance_parameters WHERE name = ANY($2::text[]))
     ON CONFLICT (ref_slot) DO NOTHING`,
    [refSlot, [...governedNames]],
  );
  return (await frameSnapshot(q, refSlot))!;
}

/** A frame's snapshot if a member asked for the frame already (pinned), else null. */
export async function frameSnapshot(q: Queryable, refSlot: number): Promise<FrameSnapshot | null> {
  const r = await q.query<{
    ledger_seq: string | bigint;
    ledger_state: unknown;
    max_batch_id: number;
    exits: FrameExitsSnapshot | string | null;
    governed: Record<string, unknown> | string | null;
    pinned_at: Date | string;
  }>(
    "SELECT ledger_seq, ledger_state, max_batch_id, exits, governed, pinned_at FROM oracle_frame_snapshots WHERE ref_slot = $1",
    [refSlot],
  );
  const x = r.rows[0];
  if (x === undefined) return null;
  return {
    refSlot,
    ledgerSeq: BigInt(x.ledger_seq),
    ledgerState: x.ledger_state,
    maxBatchId: x.max_batch_id,
    exits: typeof x.exits === "string" ? (JSON.parse(x.exits) as FrameExitsSnapshot) : x.exits,
    governed:
      typeof x.governed === "string"
        ? (JSON.parse(x.governed) as Record<string, unknown>)
        : (x.governed ?? null),
    pinnedAt: date(x.pinned_at),
  };
}

/** A pool key of a frame: deposited in a batch up to the snapshot's. */
export interface FrameKeyRow {
  id: number;
  pubkey: string;
  operatorId: number;
  amountGwei: bigint;
}

/** Keys of deposit batches up to `maxBatchId`, by key id after `afterId`, at most `limit`. */
export async function frameKeys(
  q: Queryable,
  maxBatchId: number,
  afterId: number,
  limit: number,
): Promise<FrameKeyRow[]> {
  const r = await q.query<{ id: number; pk: string; operator_id: number; amount_gwei: string | bigint }>(
    `SELECT id, encode(pubkey, 'hex') AS pk, operator_id, amount_gwei FROM keys
     WHERE deposit_batch_id IS NOT NULL AND deposit_batch_id <= $1 AND id > $2 ORDER BY id LIMIT $3`,
    [maxBatchId, afterId, limit],
  );
  return r.rows.map((x) => ({
    id: x.id,
    pubkey: `0x${x.pk}`,
    operatorId: x.operator_id,
    amountGwei: BigInt(x.amount_gwei),
  }));
}
