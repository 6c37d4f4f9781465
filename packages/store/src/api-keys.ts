import { ValidationError } from "@poolkeeper/core";
import { EVER_DEPOSITED_STATES, KEY_STATES } from "./lifecycle.js";
import type { Queryable } from "./store.js";

/**
 * The admin API's key list (GET /v1/keys), read for streaming: only the columns the list shows,
 * hex-encoded by the database, turned into JSON text per page. Every field has a fixed format
 * (integers, hex, a state from the table's CHECK set), so nothing needs escaping. This keeps a
 * 1,000,000-key stream fast and its memory at one page.
 *
 * One key: {"id":1,"key":"0x…","depositSignature":"0x…","operatorId":1,"state":"vetted","used":false}
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

export interface KeyListPage {
  /** The page's keys as JSON objects joined by commas (no brackets). */
  json: string;
  count: number;
  lastId: number;
}

interface Row {
  id: number;
  operator_id: number;
  state: string;
  pubkey: string;
  signature: string;
}

const USED: ReadonlySet<string> = new Set(EVER_DEPOSITED_STATES);
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
    const r = await db.query<Row>(sql, params);
    const rows = r.rows;
    if (rows.length === 0) return;
    const parts = new Array<string>(rows.length);
    for (let k = 0; k < rows.length; k++) {
      const x = rows[k]!;
      parts[k] =
        `{"id":${x.id},"key":"0x${x.pubkey}","depositSignature":"0x${x.signature}","operatorId":${x.operator_id},` +
        `"state":"${x.state}","used":${USED.has(x.state)}}`;
    }
    const lastId = Number(rows[rows.length - 1]!.id);
    yield { json: parts.join(","), count: rows.length, lastId };
    left -= rows.length;
    after = lastId;
    if (rows.length < want) return;
  }
}
