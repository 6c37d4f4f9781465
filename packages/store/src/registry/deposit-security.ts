/**
 * Deposit security's rows (migration 0037): each batch's release status, the guardian messages
 * the API accepted, the evidence of front-run keys, the pause, and each guardian's last report.
 * Plain reads and writes; the rules (signatures, quorum, freshness) are @poolkeeper/deposit-security's.
 */
import type { Queryable } from "../store.js";

export type BatchReleaseStatus = "pending" | "released" | "refused";
export type BatchReleaseMode = "guardians" | "unguarded" | "legacy";
export type GuardianMessageKind = "release" | "refuse" | "pause" | "heartbeat";

export interface BatchSecurityRow {
  batchId: number;
  status: BatchReleaseStatus;
  releaseMode: BatchReleaseMode | null;
  releaseBlockRoot: string | null;
  releaseSlot: number | null;
  releaseSigners: string[];
  releasedAt: Date | null;
  refusedBy: string | null;
  refusedReason: string | null;
  refusedAt: Date | null;
}

interface BatchSecurityDb {
  batch_id: number;
  status: BatchReleaseStatus;
  release_mode: BatchReleaseMode | null;
  release_block_root: string | null;
  release_slot: string | number | null;
  release_signers: string[] | null;
  released_at: Date | null;
  refused_by: string | null;
  refused_reason: string | null;
  refused_at: Date | null;
}

const SECURITY_COLS =
  "batch_id, status, release_mode, release_block_root, release_slot, release_signers, released_at, refused_by, refused_reason, refused_at";

function securityFromDb(r: BatchSecurityDb): BatchSecurityRow {
  return {
    batchId: Number(r.batch_id),
    status: r.status,
    releaseMode: r.release_mode,
    releaseBlockRoot: r.release_block_root,
    releaseSlot: r.release_slot === null ? null : Number(r.release_slot),
    releaseSigners: r.release_signers ?? [],
    releasedAt: r.released_at,
    refusedBy: r.refused_by,
    refusedReason: r.refused_reason,
    refusedAt: r.refused_at,
  };
}

/** A batch's release status; `forUpdate` locks its row until the transaction ends. */
export async function findBatchSecurity(
  db: Queryable,
  batchId: number,
  forUpdate = false,
): Promise<BatchSecurityRow | undefined> {
  const r = await db.query<BatchSecurityDb>(
    `SELECT ${SECURITY_COLS} FROM deposit_batch_security WHERE batch_id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [batchId],
  );
  const row = r.rows[0];
  return row === undefined ? undefined : securityFromDb(row);
}

/** Batches awaiting release, oldest first. */
export async function pendingBatchIds(db: Queryable, limit: number): Promise<number[]> {
  const r = await db.query<{ batch_id: number }>(
    "SELECT batch_id FROM deposit_batch_security WHERE status = 'pending' ORDER BY batch_id LIMIT $1",
    [limit],
  );
  return r.rows.map((x) => Number(x.batch_id));
}

export async function markBatchReleased(
  db: Queryable,
  batchId: number,
  r: { mode: BatchReleaseMode; blockRoot: string | null; slot: number | null; signers: readonly string[] },
): Promise<boolean> {
  const u = await db.query(
    `UPDATE deposit_batch_security SET status = 'released', release_mode = $2, release_block_root = $3,
       release_slot = $4, release_signers = $5::text[], released_at = now()
     WHERE batch_id = $1 AND status = 'pending'`,
    [batchId, r.mode, r.blockRoot, r.slot, [...r.signers]],
  );
  return u.rowCount === 1;
}

export async function markBatchRefused(
  db: Queryable,
  batchId: number,
  by: string,
  reason: string,
): Promise<boolean> {
  const u = await db.query(
    `UPDATE deposit_batch_security SET status = 'refused', refused_by = $2, refused_reason = $3, refused_at = now()
     WHERE batch_id = $1 AND status = 'pending'`,
    [batchId, by, reason.slice(0, 1000)],
  );
  return u.rowCount === 1;
}

export interface GuardianMessageRow {
  id: number;
  kind: GuardianMessageKind;
  guardianId: string;
  batchId: number | null;
  slot: number;
  blockRoot: string | null;
  signature: string;
  checks: Record<string, unknown>;
  receivedAt: Date;
}

/** Record an accepted message; false when the same guardian's release over the same block is there already. */
export async function insertGuardianMessage(
  db: Queryable,
  m: Omit<GuardianMessageRow, "id" | "receivedAt">,
): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO deposit_guardian_messages (kind, guardian_id, batch_id, slot, block_root, signature, checks)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT DO NOTHING`,
    [m.kind, m.guardianId, m.batchId, m.slot, m.blockRoot, m.signature, JSON.stringify(m.checks)],
  );
  return r.rowCount === 1;
}

export async function batchGuardianMessages(db: Queryable, batchId: number): Promise<GuardianMessageRow[]> {
  const r = await db.query<{
    id: string | number;
    kind: GuardianMessageKind;
    guardian_id: string;
    batch_id: number | null;
    slot: string | number;
    block_root: string | null;
    signature: string;
    checks: Record<string, unknown>;
    received_at: Date;
  }>(
    `SELECT id, kind, guardian_id, batch_id, slot, block_root, signature, checks, received_at
     FROM deposit_guardian_messages WHERE batch_id = $1 ORDER BY id`,
    [batchId],
  );
  return r.rows.map((x) => ({
    id: Number(x.id),
    kind: x.kind,
    guardianId: x.guardian_id,
    batchId: x.batch_id === null ? null : Number(x.batch_id),
    slot: Number(x.slot),
    blockRoot: x.block_root,
    signature: x.signature,
    checks: x.checks,
    receivedAt: x.received_at,
  }));
}

export interface KeyEvidenceRow {
  keyId: number;
  batchId: number;
  guardianId: string;
  source: "validator" | "pending_deposit" | "el_deposit";
  view: string;
  slot: number;
  credentials: string;
  amountGwei: bigint;
  validatorIndex: number | null;
  depositIndex: number | null;
}

export async function insertKeyEvidence(db: Queryable, rows: readonly KeyEvidenceRow[]): Promise<void> {
  for (const e of rows)
    await db.query(
      `INSERT INTO deposit_key_evidence (key_id, batch_id, guardian_id, source, view, slot, credentials, amount_gwei, validator_index, deposit_index)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        e.keyId,
        e.batchId,
        e.guardianId,
        e.source,
        e.view,
        e.slot,
        e.credentials,
        e.amountGwei.toString(),
        e.validatorIndex,
        e.depositIndex,
      ],
    );
}

export async function batchKeyEvidence(db: Queryable, batchId: number): Promise<KeyEvidenceRow[]> {
  const r = await db.query<{
    key_id: number;
    batch_id: number;
    guardian_id: string;
    source: KeyEvidenceRow["source"];
    view: string;
    slot: string | number;
    credentials: string;
    amount_gwei: string | number;
    validator_index: string | number | null;
    deposit_index: string | number | null;
  }>(
    `SELECT key_id, batch_id, guardian_id, source, view, slot, credentials, amount_gwei, validator_index, deposit_index
     FROM deposit_key_evidence WHERE batch_id = $1 ORDER BY key_id`,
    [batchId],
  );
  return r.rows.map((x) => ({
    keyId: Number(x.key_id),
    batchId: Number(x.batch_id),
    guardianId: x.guardian_id,
    source: x.source,
    view: x.view,
    slot: Number(x.slot),
    credentials: x.credentials,
    amountGwei: BigInt(x.amount_gwei),
    validatorIndex: x.validator_index === null ? null : Number(x.validator_index),
    depositIndex: x.deposit_index === null ? null : Number(x.deposit_index),
  }));
}

export interface DepositSecurityStateRow {
  paused: boolean;
  pausedBy: string | null;
  pauseSlot: number | null;
  pauseReason: string | null;
  pausedAt: Date | null;
  lastUnpauseSlot: number | null;
  unpausedBy: string | null;
  unpauseReason: string | null;
  unpausedAt: Date | null;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/** The pause state; `forUpdate` locks it until the transaction ends (pause, unpause, release, allocation). */
export async function readDepositSecurityState(
  db: Queryable,
  forUpdate = false,
): Promise<DepositSecurityStateRow> {
  const r = await db.query<{
    paused: boolean;
    paused_by: string | null;
    pause_slot: string | number | null;
    pause_reason: string | null;
    paused_at: Date | null;
    last_unpause_slot: string | number | null;
    unpaused_by: string | null;
    unpause_reason: string | null;
    unpaused_at: Date | null;
  }>(`SELECT * FROM deposit_security_state WHERE id = 1${forUpdate ? " FOR UPDATE" : ""}`);
  const x = r.rows[0];
  if (x === undefined) throw new Error("deposit_security_state has no row (migration 0037)");
  return {
    paused: x.paused,
    pausedBy: x.paused_by,
    pauseSlot: num(x.pause_slot),
    pauseReason: x.pause_reason,
    pausedAt: x.paused_at,
    lastUnpauseSlot: num(x.last_unpause_slot),
    unpausedBy: x.unpaused_by,
    unpauseReason: x.unpause_reason,
    unpausedAt: x.unpaused_at,
  };
}

export async function setDepositsPaused(
  db: Queryable,
  by: string,
  slot: number,
  reason: string,
): Promise<void> {
  await db.query(
    `UPDATE deposit_security_state SET paused = true, paused_by = $1, pause_slot = $2, pause_reason = $3, paused_at = now()
     WHERE id = 1`,
    [by, slot, reason.slice(0, 1000)],
  );
}

export async function setDepositsUnpaused(
  db: Queryable,
  by: string,
  slot: number,
  reason: string,
): Promise<void> {
  await db.query(
    `UPDATE deposit_security_state SET paused = false, last_unpause_slot = $2, unpaused_by = $1,
       unpause_reason = $3, unpaused_at = now() WHERE id = 1`,
    [by, slot, reason.slice(0, 1000)],
  );
}

/** Whether deposits are paused (allocation reads it in its transaction). */
export async function depositsPaused(db: Queryable): Promise<boolean> {
  const r = await db.query<{ paused: boolean }>("SELECT paused FROM deposit_security_state WHERE id = 1");
  return r.rows[0]?.paused === true;
}

export async function touchGuardian(db: Queryable, guardianId: string, slot: number): Promise<void> {
  await db.query(
    `INSERT INTO deposit_guardians_seen (guardian_id, last_slot) VALUES ($1, $2)
     ON CONFLICT (guardian_id) DO UPDATE SET last_slot = greatest(deposit_guardians_seen.last_slot, excluded.last_slot),
       last_seen_at = now()`,
    [guardianId, slot],
  );
}

export async function guardiansSeen(
  db: Queryable,
): Promise<Map<string, { lastSlot: number; lastSeenAt: Date }>> {
  const r = await db.query<{ guardian_id: string; last_slot: string | number; last_seen_at: Date }>(
    "SELECT guardian_id, last_slot, last_seen_at FROM deposit_guardians_seen",
  );
  return new Map(
    r.rows.map((x) => [x.guardian_id, { lastSlot: Number(x.last_slot), lastSeenAt: x.last_seen_at }]),
  );
}

/** Keys found front-run, ever, and the latest refusal's time (the public risk figure). */
export async function frontRunKeyCount(db: Queryable): Promise<{ count: number; lastAt: Date | null }> {
  const r = await db.query<{ n: string; last_at: Date | null }>(
    "SELECT count(*)::text AS n, max(s.updated_at) AS last_at FROM key_states s WHERE s.state = 'front_run'",
  );
  return { count: Number(r.rows[0]?.n ?? 0), lastAt: r.rows[0]?.last_at ?? null };
}
