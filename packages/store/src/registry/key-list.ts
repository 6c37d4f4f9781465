import { ValidationError } from "@poolkeeper/core";
import type { Queryable } from "../store.js";
import { KEY_STATES, type KeyStateName } from "./lifecycle.js";

/**
 * The key list read for streaming, page by page in id order: only the columns a list shows, hex
 * encoded by the database (no Buffer per row), so that a caller can write a very long list fast
 * and in one page of memory. The admin API turns the rows into its own JSON.
 */

export interface KeyListQuery {
  operatorId?: number;
  state?: string;
  /** Keys with id > afterId (the previous page's last id). */
  afterId?: number;
  /** Stop after this many keys (default: all). */
  limit?: number;
  /** Keys per database round trip (default 5000). */
  pageSize?: number;
}

/** One key of the list; `pubkey` and `signature` are lowercase hex without 0x. */
export interface KeyListRow {
  id: number;
  operator_id: number;
  state: KeyStateName;
  pubkey: string;
  signature: string;
}

export interface KeyListPage {
  rows: KeyListRow[];
  lastId: number;
}
const KNOWN_STATES: ReadonlySet<string> = new Set(KEY_STATES);

function checkInt(v: number, field: string, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new ValidationError(field, `must be an integer >= ${min}`);
  return v;
}

/** Pages of the key list in id order (keyset pagination over the primary key). */
export async function* keyListPages(db: Queryable, q: KeyListQuery = {}): AsyncGenerator<KeyListPage> {
  const pageSize = checkInt(q.pageSize ?? 5000, "pageSize", 1);
  let left = q.limit === undefined ? Number.POSITIVE_INFINITY : checkInt(q.limit, "limit", 1);
  let after = checkInt(q.afterId ?? 0, "cursor", 0);
  // id > $1 on both tables: the planner does not carry a range across the join, and a merge join
  // would otherwise read key_states from its first row for every page.
  const where: string[] = ["d.id > $1", "s.key_id > $1"];
  const params: unknown[] = [0];
  if (q.operatorId !== undefined) {
    params.push(checkInt(q.operatorId, "operator", 0));
    where.push(`d.operator_id = $${params.length}`);
  }
  if (q.state !== undefined) {
    if (!KNOWN_STATES.has(q.state)) throw new ValidationError("state", `"${q.state}" is not a key state`);
    params.push(q.state);
    where.push(`s.state = $${params.length}`);
  }
  params.push(0);
  const sql = `SELECT d.id, d.operator_id, s.state, encode(d.pubkey, 'hex') AS pubkey, encode(d.signature, 'hex') AS signature
    FROM key_data d JOIN key_states s ON s.key_id = d.id
    WHERE ${where.join(" AND ")} ORDER BY d.id LIMIT $${params.length}`;
  while (left > 0) {
    params[0] = after;
    const want = Math.min(pageSize, left);
    params[params.length - 1] = want;
    const r = await db.query<KeyListRow>(sql, params);
    const rows = r.rows;
    if (rows.length === 0) return;
    const lastId = Number(rows[rows.length - 1]!.id);
    yield { rows, lastId };
    left -= rows.length;
    after = lastId;
    if (rows.length < want) return;
  }
}
