import { defineErrorCodes, PoolkeeperError } from "@poolkeeper/core";
import { isUniqueViolation } from "../registry/repo.js";
import type { Queryable } from "../store.js";

/**
 * Exit requests and their history (migration 0035): plain functions over a Queryable, so that
 * the oracle's decider records a report's requests in its own transaction. Every state change
 * writes an exit_request_events row in the same statement batch.
 */

export const EXIT_ERRORS = defineErrorCodes({
  /** The validator has an open exit request already, or is exiting or exited. */
  EXIT_REQUESTED: { code: "ERR_EXIT_REQUESTED", kind: "conflict" },
  /** The key is no validator on the chain yet (not deposited, or its deposit not yet seen). */
  NOT_ON_CHAIN: { code: "ERR_NOT_ON_CHAIN", kind: "conflict" },
  /** The request is not in a state that allows the change (e.g. progress on an exited one). */
  EXIT_STATE: { code: "ERR_EXIT_STATE", kind: "conflict" },
});

export type ExitRequestReason = "withdrawals" | "dao" | "admin";
export type ExitRequestState =
  | "requested"
  | "signed"
  | "submitted"
  | "late"
  | "triggered"
  | "exiting"
  | "exited";

/** States waiting for the chain to show an exit epoch (the partial unique index's). */
export const EXIT_OPEN_STATES: readonly ExitRequestState[] = [
  "requested",
  "signed",
  "submitted",
  "late",
  "triggered",
];

export interface ExitRequestRow {
  id: number;
  operatorId: number;
  keyId: number;
  /** Lowercase hex, no 0x. */
  pubkey: string;
  validatorIndex: number;
  reason: ExitRequestReason;
  note: string | null;
  refSlot: number | null;
  requestedEpoch: number;
  deadlineEpoch: number;
  state: ExitRequestState;
  exitedBy: "voluntary" | "triggered" | null;
  exitEpoch: number | null;
  triggeredAt: Date | null;
  triggeredBy: string | null;
  requestedAt: Date;
}

export interface ExitEventRow {
  state: string;
  actor: string;
  detail: string | null;
  at: Date;
}

interface DbRow {
  id: number;
  operator_id: number;
  key_id: number;
  pk: string;
  validator_index: number;
  reason: ExitRequestReason;
  note: string | null;
  ref_slot: string | number | null;
  requested_epoch: string | number;
  deadline_epoch: string | number;
  state: ExitRequestState;
  exited_by: "voluntary" | "triggered" | null;
  exit_epoch: string | number | null;
  triggered_at: Date | null;
  triggered_by: string | null;
  requested_at: Date;
}

const COLS = `r.id, r.operator_id, r.key_id, encode(d.pubkey, 'hex') AS pk, r.validator_index, r.reason, r.note,
  r.ref_slot, r.requested_epoch, r.deadline_epoch, r.state, r.exited_by, r.exit_epoch, r.triggered_at,
  r.triggered_by, r.requested_at`;
const FROM = "exit_requests r JOIN key_data d ON d.id = r.key_id";

const num = (v: string | number): number => Number(v);
const numOrNull = (v: string | number | null): number | null => (v === null ? null : Number(v));

function fromRow(r: DbRow): ExitRequestRow {
  return {
    id: r.id,
    operatorId: r.operator_id,
    keyId: r.key_id,
    pubkey: r.pk,
    validatorIndex: r.validator_index,
    reason: r.reason,
    note: r.note,
    refSlot: numOrNull(r.ref_slot),
    requestedEpoch: num(r.requested_epoch),
    deadlineEpoch: num(r.deadline_epoch),
    state: r.state,
    exitedBy: r.exited_by,
    exitEpoch: numOrNull(r.exit_epoch),
    triggeredAt: r.triggered_at,
    triggeredBy: r.triggered_by,
    requestedAt: r.requested_at,
  };
}

export interface NewExitRequest {
  operatorId: number;
  keyId: number;
  validatorIndex: number;
  reason: ExitRequestReason;
  note: string | null;
  refSlot: number | null;
  requestedEpoch: number;
  deadlineEpoch: number;
  actor: string;
}

async function addEvent(db: Queryable, id: number, state: string, actor: string, detail: string | null) {
  await db.query(
    "INSERT INTO exit_request_events (request_id, state, actor, detail) VALUES ($1, $2, $3, $4)",
    [id, state, actor, detail],
  );
}

/**
 * Record a request (state requested) and its first history entry. A validator with an open
 * request already: ERR_EXIT_REQUESTED (the partial unique index decides, so two concurrent
 * requests never both succeed). Run it inside a transaction when it must not be half-applied.
 */
export async function insertExitRequest(db: Queryable, n: NewExitRequest): Promise<ExitRequestRow> {
  let id: number;
  try {
    const r = await db.query<{ id: number }>(
      `INSERT INTO exit_requests (operator_id, key_id, validator_index, reason, note, ref_slot, requested_epoch,
         deadline_epoch)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        n.operatorId,
        n.keyId,
        n.validatorIndex,
        n.reason,
        n.note,
        n.refSlot,
        n.requestedEpoch,
        n.deadlineEpoch,
      ],
    );
    id = r.rows[0]!.id;
  } catch (e) {
    if (isUniqueViolation(e, "exit_requests_one_open") || isUniqueViolation(e, "exit_requests_report_key")) {
      throw new PoolkeeperError(
        EXIT_ERRORS.EXIT_REQUESTED,
        `validator ${n.validatorIndex} has an open exit request already`,
        { validatorIndex: n.validatorIndex },
      );
    }
    throw e;
  }
  await addEvent(db, id, "requested", n.actor, n.note);
  return (await findExitRequest(db, id))!;
}

export async function findExitRequest(db: Queryable, id: number): Promise<ExitRequestRow | undefined> {
  const r = await db.query<DbRow>(`SELECT ${COLS} FROM ${FROM} WHERE r.id = $1`, [id]);
  const row = r.rows[0];
  return row === undefined ? undefined : fromRow(row);
}

export async function exitRequestHistory(db: Queryable, id: number): Promise<ExitEventRow[]> {
  const r = await db.query<ExitEventRow>(
    "SELECT state, actor, detail, at FROM exit_request_events WHERE request_id = $1 ORDER BY id",
    [id],
  );
  return r.rows.map((e) => ({ state: e.state, actor: e.actor, detail: e.detail, at: e.at }));
}

export interface ExitListQuery {
  operatorId?: number;
  state?: ExitRequestState;
  limit: number;
  /** Only ids below this one (the page's cursor). */
  beforeId?: number;
}

/** Newest first. */
export async function listExitRequests(db: Queryable, q: ExitListQuery): Promise<ExitRequestRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.operatorId !== undefined) where.push(`r.operator_id = $${args.push(q.operatorId)}`);
  if (q.state !== undefined) where.push(`r.state = $${args.push(q.state)}`);
  if (q.beforeId !== undefined) where.push(`r.id < $${args.push(q.beforeId)}`);
  const r = await db.query<DbRow>(
    `SELECT ${COLS} FROM ${FROM} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY r.id DESC LIMIT $${args.push(q.limit)}`,
    args,
  );
  return r.rows.map(fromRow);
}

/**
 * An operator's requests still waiting for the operator (requested, signed, submitted, late)
 * with an id above `afterId`, oldest first: what its exits stream sends.
 */
export async function operatorOpenExitsAfter(
  db: Queryable,
  operatorId: number,
  afterId: number,
  limit = 1000,
): Promise<ExitRequestRow[]> {
  const r = await db.query<DbRow>(
    `SELECT ${COLS} FROM ${FROM}
     WHERE r.operator_id = $1 AND r.id > $2 AND r.state IN ('requested', 'signed', 'submitted', 'late')
     ORDER BY r.id LIMIT $3`,
    [operatorId, afterId, limit],
  );
  return r.rows.map(fromRow);
}

/** Every request the chain has not finished (open, or exiting): what the watcher follows. */
export async function unfinishedExitRequests(db: Queryable): Promise<ExitRequestRow[]> {
  const r = await db.query<DbRow>(
    `SELECT ${COLS} FROM ${FROM}
     WHERE r.state IN ('requested', 'signed', 'submitted', 'late', 'triggered', 'exiting') ORDER BY r.id`,
  );
  return r.rows.map(fromRow);
}

export interface ExitMove {
  to: ExitRequestState;
  /** The states the request may be in; otherwise ERR_EXIT_STATE (nothing changes). */
  from: readonly ExitRequestState[];
  actor: string;
  detail?: string | null;
  exitEpoch?: number;
  exitedBy?: "voluntary" | "triggered";
  /** Set triggered_at/triggered_by (the pool sent the EIP-7002 request). */
  triggered?: boolean;
}

/** Move a request from one of `m.from` to `m.to`, with its history entry. */
export async function moveExitRequest(db: Queryable, id: number, m: ExitMove): Promise<ExitRequestRow> {
  const r = await db.query<{ id: number }>(
    `UPDATE exit_requests SET state = $2, updated_at = now(),
       exit_epoch = COALESCE($4::bigint, exit_epoch),
       exited_by = COALESCE($5::text, exited_by),
       triggered_at = CASE WHEN $6::boolean THEN now() ELSE triggered_at END,
       triggered_by = CASE WHEN $6::boolean THEN $7 ELSE triggered_by END
     WHERE id = $1 AND state = ANY($3::text[]) RETURNING id`,
    [id, m.to, [...m.from], m.exitEpoch ?? null, m.exitedBy ?? null, m.triggered === true, m.actor],
  );
  if (r.rows.length === 0) {
    const now = await findExitRequest(db, id);
    throw new PoolkeeperError(
      EXIT_ERRORS.EXIT_STATE,
      `exit request ${id} is ${now?.state ?? "unknown"}: it cannot become ${m.to}`,
      { id, state: now?.state ?? null, to: m.to },
    );
  }
  await addEvent(db, id, m.to, m.actor, m.detail ?? null);
  return (await findExitRequest(db, id))!;
}

/** A history entry without a state change (an operator's failed attempt). */
export async function noteExitRequest(
  db: Queryable,
  id: number,
  state: string,
  actor: string,
  detail: string | null,
) {
  await addEvent(db, id, state, actor, detail);
}

export interface PoolValidator {
  keyId: number;
  operatorId: number;
  /** Lowercase hex, no 0x. */
  pubkey: string;
  keyState: string;
  /** null: the watcher has not seen it on the chain. */
  validatorIndex: number | null;
  exitEpoch: number | null;
}

/** A pool key by pubkey (hex, no 0x) or by its validator index on `network` (the watcher's table). */
export async function findPoolValidator(
  db: Queryable,
  network: string,
  by: { pubkey: string } | { validatorIndex: number },
): Promise<PoolValidator | undefined> {
  const byPubkey = "pubkey" in by;
  const r = await db.query<{
    key_id: number;
    operator_id: number;
    pk: string;
    state: string;
    validator_index: number | null;
    exit_epoch: string | number | null;
  }>(
    `SELECT k.id AS key_id, k.operator_id, encode(k.pubkey, 'hex') AS pk, k.state, v.validator_index, v.exit_epoch
     FROM keys k LEFT JOIN watcher_validators v ON v.network = $1 AND v.pubkey = k.pubkey
     WHERE ${byPubkey ? "k.pubkey = decode($2, 'hex')" : "v.validator_index = $2::int"}`,
    [network, byPubkey ? by.pubkey : by.validatorIndex],
  );
  const row = r.rows[0];
  if (row === undefined) return undefined;
  return {
    keyId: row.key_id,
    operatorId: row.operator_id,
    pubkey: row.pk,
    keyState: row.state,
    validatorIndex: row.validator_index,
    exitEpoch: numOrNull(row.exit_epoch),
  };
}

export interface OperatorExitFigures {
  operatorId: number;
  requested: number;
  open: number;
  /** Requests that passed their deadline (late, and those the pool then triggered). */
  late: number;
  triggered: number;
  lastTriggeredAt: Date | null;
}

/** Per operator with any request: counts for the DAO review. */
export async function exitFiguresByOperator(db: Queryable): Promise<OperatorExitFigures[]> {
  const r = await db.query<{
    operator_id: number;
    requested: string | number;
    open: string | number;
    late: string | number;
    triggered: string | number;
    last_triggered: Date | null;
  }>(
    `SELECT operator_id, count(*) AS requested,
       count(*) FILTER (WHERE state IN ('requested', 'signed', 'submitted', 'late', 'triggered')) AS open,
       count(*) FILTER (WHERE state = 'late' OR triggered_at IS NOT NULL) AS late,
       count(*) FILTER (WHERE triggered_at IS NOT NULL) AS triggered,
       max(triggered_at) AS last_triggered
     FROM exit_requests GROUP BY operator_id ORDER BY operator_id`,
  );
  return r.rows.map((x) => ({
    operatorId: x.operator_id,
    requested: Number(x.requested),
    open: Number(x.open),
    late: Number(x.late),
    triggered: Number(x.triggered),
    lastTriggeredAt: x.last_triggered,
  }));
}

export interface ReportExitRequests {
  refSlot: number;
  requestedEpoch: number;
  deadlineEpoch: number;
  validators: readonly { operatorId: number; validatorIndex: number }[];
  actor: string;
}

/**
 * An applied report's validatorsToExit as requests (reason withdrawals), in the decider's
 * transaction: each validator the watcher knows on `network` as that operator's pool key, unless
 * it has an open request already (the partial unique index; the report's own pair is unique too,
 * so a report is recorded once). The number of requests made.
 */
export async function recordReportExitRequests(
  db: Queryable,
  network: string,
  r: ReportExitRequests,
): Promise<number> {
  if (r.validators.length === 0) return 0;
  const res = await db.query<{ n: string | number }>(
    `WITH v AS (
       SELECT * FROM unnest($2::int[], $3::int[]) AS x(validator_index, operator_id)
     ), ins AS (
       INSERT INTO exit_requests (operator_id, key_id, validator_index, reason, ref_slot, requested_epoch, deadline_epoch)
       SELECT k.operator_id, k.id, v.validator_index, 'withdrawals', $4, $5, $6
       FROM v JOIN watcher_validators w ON w.network = $1 AND w.validator_index = v.validator_index
              JOIN key_data k ON k.pubkey = w.pubkey AND k.operator_id = v.operator_id
       ORDER BY v.validator_index
       ON CONFLICT DO NOTHING
       RETURNING id
     ), ev AS (
       INSERT INTO exit_request_events (request_id, state, actor, detail)
       SELECT id, 'requested', $7, $8 FROM ins
     )
     SELECT count(*) AS n FROM ins`,
    [
      network,
      r.validators.map((v) => v.validatorIndex),
      r.validators.map((v) => v.operatorId),
      r.refSlot,
      r.requestedEpoch,
      r.deadlineEpoch,
      r.actor,
      `oracle report of ref slot ${r.refSlot}: withdrawals`,
    ],
  );
  return Number(res.rows[0]?.n ?? 0);
}
