/**
 * Governance (migration 0040): proposals, DAO approvals, and the governed parameters with their
 * append-only history. Rows only; the rules (who may approve, the quorum, the timelock, each
 * parameter's schema) are @poolkeeper/governance's.
 */
import type { Queryable } from "../store.js";

export type ProposalStatus = "pending" | "approved" | "executed" | "cancelled";

export interface ProposalRow {
  id: number;
  kind: string;
  value: unknown;
  changeHash: string;
  reason: string;
  author: string;
  status: ProposalStatus;
  createdAt: Date;
  approvedAt: Date | null;
  executableAt: Date | null;
  executedAt: Date | null;
  executedBy: string | null;
  cancelledAt: Date | null;
  cancelledBy: string | null;
}

export interface ApprovalRow {
  proposalId: number;
  memberId: string;
  signature: string;
  approvedAt: Date;
}

export interface GovernedValueRow {
  name: string;
  value: unknown;
  /** Null: the genesis value (from the configuration at the first start). */
  proposalId: number | null;
  seq: number;
  at: Date;
}

const PROPOSAL_COLUMNS = `id, kind, value, change_hash, reason, author, status, created_at, approved_at,
  executable_at, executed_at, executed_by, cancelled_at, cancelled_by`;

type Raw = Record<string, unknown>;
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

function proposalOf(r: Raw): ProposalRow {
  return {
    id: Number(r.id),
    kind: r.kind as string,
    value: r.value,
    changeHash: r.change_hash as string,
    reason: r.reason as string,
    author: r.author as string,
    status: r.status as ProposalStatus,
    createdAt: date(r.created_at)!,
    approvedAt: date(r.approved_at),
    executableAt: date(r.executable_at),
    executedAt: date(r.executed_at),
    executedBy: (r.executed_by as string | null) ?? null,
    cancelledAt: date(r.cancelled_at),
    cancelledBy: (r.cancelled_by as string | null) ?? null,
  };
}

/** Serialises the genesis of the governed parameters (the first start of several processes). */
export async function lockGovernance(tx: Queryable): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('poolkeeper.governance'))");
}

export async function insertProposal(
  q: Queryable,
  p: { kind: string; value: unknown; changeHash: string; reason: string; author: string; createdAt: Date },
): Promise<ProposalRow> {
  const { rows } = await q.query<Raw>(
    `INSERT INTO governance_proposals (kind, value, change_hash, reason, author, created_at)
     VALUES ($1, $2::jsonb, $3, $4, $5, $6) RETURNING ${PROPOSAL_COLUMNS}`,
    [p.kind, JSON.stringify(p.value), p.changeHash, p.reason, p.author, p.createdAt.toISOString()],
  );
  return proposalOf(rows[0]!);
}

/** One proposal; `forUpdate` locks its row until the transaction ends (approve, cancel, execute). */
export async function findProposal(q: Queryable, id: number, forUpdate = false): Promise<ProposalRow | null> {
  const { rows } = await q.query<Raw>(
    `SELECT ${PROPOSAL_COLUMNS} FROM governance_proposals WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0] === undefined ? null : proposalOf(rows[0]);
}

/** Newest first, ids below `before`, optionally one status. */
export async function listProposals(
  q: Queryable,
  opts: { limit: number; before?: number; status?: ProposalStatus },
): Promise<ProposalRow[]> {
  const { rows } = await q.query<Raw>(
    `SELECT ${PROPOSAL_COLUMNS} FROM governance_proposals
     WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR status = $2)
     ORDER BY id DESC LIMIT $3`,
    [opts.before ?? null, opts.status ?? null, opts.limit],
  );
  return rows.map(proposalOf);
}

export async function approvalsOf(q: Queryable, ids: readonly number[]): Promise<Map<number, ApprovalRow[]>> {
  const out = new Map<number, ApprovalRow[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const { rows } = await q.query<Raw>(
    `SELECT proposal_id, member_id, signature, approved_at FROM governance_approvals
     WHERE proposal_id = ANY($1::bigint[]) ORDER BY approved_at, member_id`,
    [ids.map(String)],
  );
  for (const r of rows)
    out.get(Number(r.proposal_id))?.push({
      proposalId: Number(r.proposal_id),
      memberId: r.member_id as string,
      signature: r.signature as string,
      approvedAt: date(r.approved_at)!,
    });
  return out;
}

export async function insertApproval(q: Queryable, a: ApprovalRow): Promise<void> {
  await q.query(
    "INSERT INTO governance_approvals (proposal_id, member_id, signature, approved_at) VALUES ($1, $2, $3, $4)",
    [a.proposalId, a.memberId, a.signature, a.approvedAt.toISOString()],
  );
}

export async function markProposalApproved(
  q: Queryable,
  id: number,
  approvedAt: Date,
  executableAt: Date,
): Promise<void> {
  await q.query(
    `UPDATE governance_proposals SET status = 'approved', approved_at = $2, executable_at = $3
     WHERE id = $1 AND status = 'pending'`,
    [id, approvedAt.toISOString(), executableAt.toISOString()],
  );
}

/** Executed once: the update matches only an approved proposal (false when it was not). */
export async function markProposalExecuted(q: Queryable, id: number, at: Date, by: string): Promise<boolean> {
  const r = await q.query(
    `UPDATE governance_proposals SET status = 'executed', executed_at = $2, executed_by = $3
     WHERE id = $1 AND status = 'approved'`,
    [id, at.toISOString(), by],
  );
  return r.rowCount === 1;
}

export async function markProposalCancelled(
  q: Queryable,
  id: number,
  at: Date,
  by: string,
): Promise<boolean> {
  const r = await q.query(
    `UPDATE governance_proposals SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3
     WHERE id = $1 AND status IN ('pending', 'approved')`,
    [id, at.toISOString(), by],
  );
  return r.rowCount === 1;
}

/** A parameter's new value: a history row and the current value, in the caller's transaction. */
export async function recordGovernedValue(
  tx: Queryable,
  v: { name: string; value: unknown; proposalId: number | null },
): Promise<GovernedValueRow> {
  const { rows } = await tx.query<Raw>(
    `INSERT INTO governance_history (name, value, proposal_id) VALUES ($1, $2::jsonb, $3)
     RETURNING seq, name, value, proposal_id, recorded_at`,
    [v.name, JSON.stringify(v.value), v.proposalId],
  );
  const row = governedValueOf(rows[0]!);
  await tx.query(
    `INSERT INTO governance_parameters (name, value, proposal_id, history_seq, set_at)
     VALUES ($1, $2::jsonb, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, proposal_id = EXCLUDED.proposal_id,
       history_seq = EXCLUDED.history_seq, set_at = EXCLUDED.set_at`,
    [v.name, JSON.stringify(v.value), v.proposalId, row.seq, row.at.toISOString()],
  );
  return row;
}

function governedValueOf(r: Raw): GovernedValueRow {
  return {
    name: r.name as string,
    value: r.value,
    proposalId: r.proposal_id === null ? null : Number(r.proposal_id),
    seq: Number(r.seq ?? r.history_seq),
    at: date(r.recorded_at ?? r.set_at)!,
  };
}

/** The current value of every governed parameter, by name. */
export async function governedValues(q: Queryable): Promise<GovernedValueRow[]> {
  const { rows } = await q.query<Raw>(
    "SELECT name, value, proposal_id, history_seq, set_at FROM governance_parameters ORDER BY name",
  );
  return rows.map(governedValueOf);
}

/** Every value ever recorded, in order (replaying it gives `governedValues`). */
export async function governanceHistory(q: Queryable): Promise<GovernedValueRow[]> {
  const { rows } = await q.query<Raw>(
    "SELECT seq, name, value, proposal_id, recorded_at FROM governance_history ORDER BY seq",
  );
  return rows.map(governedValueOf);
}
