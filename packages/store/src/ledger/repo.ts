/**
 * SQL of the pool ledger (migration 0030). The rules live in packages/ledger; these functions
 * only read and write rows. Amounts are bigint in and out (numeric(78,0) in the database);
 * the state and entry payloads are JSON with amounts as decimal strings, shaped by the ledger.
 */
import type { Queryable } from "../store.js";

export interface StoredLedgerEntry {
  seq: bigint;
  kind: string;
  account: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface StoredWithdrawalRequest {
  id: number;
  owner: string;
  steth: bigint;
  shares: bigint;
  cumulativeSteth: bigint;
  cumulativeShares: bigint;
  requestedAt: number;
  reportTimestamp: number;
  claimedWei: bigint | null;
}

export interface StoredCheckpoint {
  idx: number;
  fromRequestId: number;
  maxShareRate: bigint;
}

type StateRow = { lastSeq: bigint; data: Record<string, unknown> } | null;

async function selectState(q: Queryable, suffix: string): Promise<StateRow> {
  const r = await q.query<{ last_seq: bigint; data: Record<string, unknown> }>(
    `SELECT last_seq, data FROM ledger_state WHERE id = 1${suffix}`,
  );
  const row = r.rows[0];
  return row === undefined ? null : { lastSeq: BigInt(row.last_seq), data: row.data };
}

/** The ledger's state row, locked (every ledger write goes through it, one at a time); null before the first entry. */
export async function lockLedgerState(tx: Queryable): Promise<StateRow> {
  // the row may not exist yet: a transaction-level lock serialises the first insert too
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('poolkeeper.ledger'))");
  return selectState(tx, " FOR UPDATE");
}

export function readLedgerState(q: Queryable): Promise<StateRow> {
  return selectState(q, "");
}

/** Append one entry and store the state after it, in the caller's transaction; returns the entry's seq. */
export async function appendLedgerEntry(
  tx: Queryable,
  kind: string,
  account: string | null,
  data: Record<string, unknown>,
  stateAfter: Record<string, unknown>,
): Promise<bigint> {
  const r = await tx.query<{ seq: bigint }>(
    "INSERT INTO ledger_entries (kind, account, data) VALUES ($1, $2, $3::jsonb) RETURNING seq",
    [kind, account, JSON.stringify(data)],
  );
  const seq = BigInt(r.rows[0]!.seq);
  await tx.query(
    `INSERT INTO ledger_state (id, last_seq, data) VALUES (1, $1, $2::jsonb)
     ON CONFLICT (id) DO UPDATE SET last_seq = EXCLUDED.last_seq, data = EXCLUDED.data`,
    [seq.toString(), JSON.stringify(stateAfter)],
  );
  return seq;
}

interface EntryRow {
  seq: bigint;
  kind: string;
  account: string | null;
  data: Record<string, unknown>;
  created_at: Date | string;
}

function entryFromRow(x: EntryRow): StoredLedgerEntry {
  return {
    seq: BigInt(x.seq),
    kind: x.kind,
    account: x.account,
    data: x.data,
    createdAt: x.created_at instanceof Date ? x.created_at : new Date(x.created_at),
  };
}

/** Entries in order, from `afterSeq` (exclusive), at most `limit`. */
export async function listLedgerEntries(
  q: Queryable,
  afterSeq = 0n,
  limit = 10_000,
): Promise<StoredLedgerEntry[]> {
  const r = await q.query<{
    seq: bigint;
    kind: string;
    account: string | null;
    data: Record<string, unknown>;
    created_at: Date | string;
  }>("SELECT seq, kind, account, data, created_at FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2", [
    afterSeq.toString(),
    limit,
  ]);
  return r.rows.map((x) => ({
    seq: BigInt(x.seq),
    kind: x.kind,
    account: x.account,
    data: x.data,
    createdAt: x.created_at instanceof Date ? x.created_at : new Date(x.created_at),
  }));
}

/** The newest report entries, newest first, with ref slots in [fromRefSlot, toRefSlot] when given. */
export async function listReportEntries(
  q: Queryable,
  limit: number,
  range: { fromRefSlot?: number; toRefSlot?: number } = {},
): Promise<StoredLedgerEntry[]> {
  const r = await q.query<EntryRow>(
    `SELECT seq, kind, account, data, created_at FROM ledger_entries
     WHERE kind = 'report'
       AND ($2::bigint IS NULL OR (data -> 'input' ->> 'refSlot')::bigint >= $2)
       AND ($3::bigint IS NULL OR (data -> 'input' ->> 'refSlot')::bigint <= $3)
     ORDER BY seq DESC LIMIT $1`,
    [limit, range.fromRefSlot ?? null, range.toRefSlot ?? null],
  );
  return r.rows.map(entryFromRow);
}

/**
 * The report entries that list operator `operatorId` in their input (`input.operators`), newest
 * first, with ref slots below `beforeRefSlot` when given: a JSONB containment filter, read in
 * ref-slot order along the one-report-per-ref-slot index, so a page reads only its window.
 */
export async function listOperatorReportEntries(
  q: Queryable,
  operatorId: string,
  limit: number,
  beforeRefSlot?: number,
): Promise<StoredLedgerEntry[]> {
  const r = await q.query<EntryRow>(
    `SELECT seq, kind, account, data, created_at FROM ledger_entries
     WHERE kind = 'report'
       AND data -> 'input' -> 'operators' @> $1::jsonb
       AND ($3::bigint IS NULL OR (data -> 'input' ->> 'refSlot')::bigint < $3)
     ORDER BY (data -> 'input' ->> 'refSlot')::bigint DESC LIMIT $2`,
    [JSON.stringify([{ operatorId }]), limit, beforeRefSlot ?? null],
  );
  return r.rows.map(entryFromRow);
}

/** The fee shares all report entries minted for operator `operatorId` (`outcome.mints`), summed in SQL. */
export async function operatorMintedShares(q: Queryable, operatorId: string): Promise<bigint> {
  const r = await q.query<{ shares: string }>(
    `SELECT COALESCE(SUM((m ->> 'shares')::numeric), 0)::text AS shares
     FROM ledger_entries e CROSS JOIN LATERAL jsonb_array_elements(e.data -> 'outcome' -> 'mints') AS m
     WHERE e.kind = 'report' AND m ->> 'operatorId' = $1`,
    [operatorId],
  );
  return BigInt(r.rows[0]?.shares ?? "0");
}

export async function accountShares(q: Queryable, account: string): Promise<bigint> {
  const r = await q.query<{ shares: string }>(
    "SELECT shares::text AS shares FROM ledger_accounts WHERE account = $1",
    [account],
  );
  return BigInt(r.rows[0]?.shares ?? "0");
}

/** Add `delta` (may be negative) to an account's shares; the CHECK refuses a negative result. */
export async function addAccountShares(tx: Queryable, account: string, delta: bigint): Promise<void> {
  // the caller holds the ledger's lock, so the row cannot appear between the two statements
  const r = await tx.query("UPDATE ledger_accounts SET shares = shares + $2::numeric WHERE account = $1", [
    account,
    delta.toString(),
  ]);
  if (r.rowCount === 0)
    await tx.query("INSERT INTO ledger_accounts (account, shares) VALUES ($1, $2::numeric)", [
      account,
      delta.toString(),
    ]);
}

export async function listAccountShares(q: Queryable): Promise<Map<string, bigint>> {
  const r = await q.query<{ account: string; shares: string }>(
    "SELECT account, shares::text AS shares FROM ledger_accounts ORDER BY account",
  );
  return new Map(r.rows.map((x) => [x.account, BigInt(x.shares)]));
}

interface RequestRow {
  id: bigint;
  owner: string;
  steth: string;
  shares: string;
  cumulative_steth: string;
  cumulative_shares: string;
  requested_at: bigint;
  report_timestamp: bigint;
  claimed_wei: string | null;
}

const REQUEST_COLUMNS =
  "id, owner, steth::text AS steth, shares::text AS shares, cumulative_steth::text AS cumulative_steth, cumulative_shares::text AS cumulative_shares, requested_at, report_timestamp, claimed_wei::text AS claimed_wei";

function requestFromRow(x: RequestRow): StoredWithdrawalRequest {
  return {
    id: Number(x.id),
    owner: x.owner,
    steth: BigInt(x.steth),
    shares: BigInt(x.shares),
    cumulativeSteth: BigInt(x.cumulative_steth),
    cumulativeShares: BigInt(x.cumulative_shares),
    requestedAt: Number(x.requested_at),
    reportTimestamp: Number(x.report_timestamp),
    claimedWei: x.claimed_wei === null ? null : BigInt(x.claimed_wei),
  };
}

export async function insertWithdrawalRequest(
  tx: Queryable,
  r: Omit<StoredWithdrawalRequest, "claimedWei">,
): Promise<void> {
  await tx.query(
    `INSERT INTO withdrawal_requests (id, owner, steth, shares, cumulative_steth, cumulative_shares, requested_at, report_timestamp)
     VALUES ($1, $2, $3::numeric, $4::numeric, $5::numeric, $6::numeric, $7, $8)`,
    [
      r.id,
      r.owner,
      r.steth.toString(),
      r.shares.toString(),
      r.cumulativeSteth.toString(),
      r.cumulativeShares.toString(),
      r.requestedAt,
      r.reportTimestamp,
    ],
  );
}

/** Requests with ids in [fromId, toId] (toId default: all), in id order. */
export async function listWithdrawalRequests(
  q: Queryable,
  fromId: number,
  toId: number = Number.MAX_SAFE_INTEGER,
): Promise<StoredWithdrawalRequest[]> {
  const r = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM withdrawal_requests WHERE id BETWEEN $1 AND $2 ORDER BY id`,
    [fromId, toId],
  );
  return r.rows.map(requestFromRow);
}

export async function withdrawalRequestsOf(q: Queryable, owner: string): Promise<StoredWithdrawalRequest[]> {
  const r = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM withdrawal_requests WHERE owner = $1 ORDER BY id`,
    [owner],
  );
  return r.rows.map(requestFromRow);
}

/** Mark a request claimed; false when it was already (nothing changes then). */
export async function markWithdrawalClaimed(
  tx: Queryable,
  id: number,
  wei: bigint,
  seq: bigint,
): Promise<boolean> {
  const r = await tx.query(
    "UPDATE withdrawal_requests SET claimed_wei = $2::numeric, claimed_seq = $3 WHERE id = $1 AND claimed_wei IS NULL",
    [id, wei.toString(), seq.toString()],
  );
  return r.rowCount === 1;
}

export async function insertWithdrawalCheckpoint(
  tx: Queryable,
  fromRequestId: number,
  maxShareRate: bigint,
  seq: bigint,
): Promise<void> {
  await tx.query(
    `INSERT INTO withdrawal_checkpoints (idx, from_request_id, max_share_rate, seq)
     SELECT COALESCE(MAX(idx), 0) + 1, $1, $2::numeric, $3 FROM withdrawal_checkpoints`,
    [fromRequestId, maxShareRate.toString(), seq.toString()],
  );
}

/** The checkpoint a finalized request was paid under (the last one starting at or before it). */
export async function checkpointForRequest(
  q: Queryable,
  requestId: number,
): Promise<StoredCheckpoint | null> {
  const r = await q.query<{ idx: bigint; from_request_id: bigint; max_share_rate: string }>(
    `SELECT idx, from_request_id, max_share_rate::text AS max_share_rate FROM withdrawal_checkpoints
     WHERE from_request_id <= $1 ORDER BY from_request_id DESC LIMIT 1`,
    [requestId],
  );
  const x = r.rows[0];
  return x === undefined
    ? null
    : {
        idx: Number(x.idx),
        fromRequestId: Number(x.from_request_id),
        maxShareRate: BigInt(x.max_share_rate),
      };
}
