import type { Queryable } from "../store.js";
import { KEY_STATES, type KeyStateName } from "./lifecycle.js";

/**
 * The registry's SQL: operators, keys, deposit batches, key history and the audit log. Plain
 * functions over a Queryable, so they run inside `store.transaction` as well as outside.
 * Bytes are Uint8Array both ways (passed to SQL as hex text, which reads the same on pg and PGlite).
 */

export interface OperatorRow {
  id: number;
  name: string;
  rewardAddress: Uint8Array;
  active: boolean;
  vettedLimit: number;
  targetLimit: number | null;
  targetLimitMode: "soft" | "hard" | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DepositDataRow {
  pubkey: Uint8Array;
  withdrawalCredentials: Uint8Array;
  amountGwei: bigint;
  signature: Uint8Array;
  depositMessageRoot: Uint8Array;
  depositDataRoot: Uint8Array;
  forkVersion: Uint8Array;
  networkName: string;
  depositCliVersion: string;
}

export interface KeyRow {
  id: number;
  operatorId: number;
  state: KeyStateName;
  depositData: DepositDataRow;
  depositBatchId: number | null;
  depositPosition: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface KeyEventRow {
  /** key_events id as a decimal string, or "batch:<id>" for the deposit (its deposit batch row). */
  id: string;
  keyId: number;
  fromState: KeyStateName | null;
  toState: KeyStateName;
  actor: string;
  reason: string | null;
  at: Date;
}

export interface AuditRow {
  id: bigint;
  actor: string;
  action: string;
  target: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
  at: Date;
}

export interface DepositBatchRow {
  id: number;
  keyCount: number;
  actor: string;
  createdAt: Date;
}

/** Counts of an operator's keys by state. */
export type KeyStateCounts = Record<KeyStateName, number>;

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const bytes = (v: Uint8Array): Uint8Array => (Buffer.isBuffer(v) ? new Uint8Array(v) : v);

/** PostgreSQL error code, if `e` is a database error (pg and PGlite both set `code`). */
export function sqlErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A unique-constraint violation (optionally of one named constraint). */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  if (sqlErrorCode(e) !== "23505") return false;
  if (constraint === undefined) return true;
  const c = (e as { constraint?: unknown }).constraint;
  return c === constraint || (e instanceof Error && e.message.includes(constraint));
}

/** An exception raised by one of the schema's own triggers (RAISE EXCEPTION, SQLSTATE P0001). */
export function isRuleViolation(e: unknown): boolean {
  return sqlErrorCode(e) === "P0001";
}

/**
 * Who and why for every key change in this transaction: the key triggers write them into
 * key_events. Must run inside store.transaction (the settings are transaction-local).
 */
export async function setChangeContext(db: Queryable, actor: string, reason: string | null): Promise<void> {
  await db.query(
    "SELECT set_config('poolkeeper.actor', $1, true), set_config('poolkeeper.reason', $2, true)",
    [actor, reason ?? ""],
  );
}

// ------------------------------------------------------------------ operators

interface OperatorDbRow {
  id: number;
  name: string;
  reward_address: Uint8Array;
  active: boolean;
  vetted_limit: number;
  target_limit: number | null;
  target_limit_mode: "soft" | "hard" | null;
  created_at: Date;
  updated_at: Date;
}

const OPERATOR_COLS =
  "id, name, reward_address, active, vetted_limit, target_limit, target_limit_mode, created_at, updated_at";

function operatorFromRow(r: OperatorDbRow): OperatorRow {
  return {
    id: r.id,
    name: r.name,
    rewardAddress: bytes(r.reward_address),
    active: r.active,
    vettedLimit: r.vetted_limit,
    targetLimit: r.target_limit,
    targetLimitMode: r.target_limit_mode,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface OperatorFields {
  name: string;
  rewardAddress: Uint8Array;
  active: boolean;
  vettedLimit: number;
  targetLimit: number | null;
  targetLimitMode: "soft" | "hard" | null;
}

export async function insertOperator(db: Queryable, f: OperatorFields): Promise<OperatorRow> {
  const r = await db.query<OperatorDbRow>(
    `INSERT INTO operators (name, reward_address, active, vetted_limit, target_limit, target_limit_mode)
     VALUES ($1, decode($2, 'hex'), $3, $4, $5, $6) RETURNING ${OPERATOR_COLS}`,
    [f.name, hex(f.rewardAddress), f.active, f.vettedLimit, f.targetLimit, f.targetLimitMode],
  );
  return operatorFromRow(r.rows[0]!);
}

export async function updateOperatorRow(db: Queryable, id: number, f: OperatorFields): Promise<OperatorRow> {
  const r = await db.query<OperatorDbRow>(
    `UPDATE operators SET name = $2, reward_address = decode($3, 'hex'), active = $4, vetted_limit = $5,
       target_limit = $6, target_limit_mode = $7
     WHERE id = $1 RETURNING ${OPERATOR_COLS}`,
    [id, f.name, hex(f.rewardAddress), f.active, f.vettedLimit, f.targetLimit, f.targetLimitMode],
  );
  return operatorFromRow(r.rows[0]!);
}

/** One operator; `forUpdate` locks its row until the transaction ends. */
export async function findOperator(
  db: Queryable,
  id: number,
  forUpdate = false,
): Promise<OperatorRow | undefined> {
  const r = await db.query<OperatorDbRow>(
    `SELECT ${OPERATOR_COLS} FROM operators WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  const row = r.rows[0];
  return row === undefined ? undefined : operatorFromRow(row);
}

/** Every operator in id order; `forUpdate` locks them all (allocation). */
export async function listOperatorRows(db: Queryable, forUpdate = false): Promise<OperatorRow[]> {
  const r = await db.query<OperatorDbRow>(
    `SELECT ${OPERATOR_COLS} FROM operators ORDER BY id${forUpdate ? " FOR UPDATE" : ""}`,
  );
  return r.rows.map(operatorFromRow);
}

export function emptyCounts(): KeyStateCounts {
  return Object.fromEntries(KEY_STATES.map((s) => [s, 0])) as KeyStateCounts;
}

/**
 * Key counts by state for the given operators (all when omitted), from operator_key_counts,
 * which the key triggers keep in step with every change: O(operators), not O(keys).
 */
export async function keyCountsByOperator(
  db: Queryable,
  operatorIds?: readonly number[],
): Promise<Map<number, KeyStateCounts>> {
  const r = await db.query<{ operator_id: number; state: KeyStateName; n: number }>(
    operatorIds === undefined
      ? "SELECT operator_id, state, n FROM operator_key_counts WHERE n > 0"
      : "SELECT operator_id, state, n FROM operator_key_counts WHERE n > 0 AND operator_id = ANY($1::int[])",
    operatorIds === undefined ? [] : [operatorIds],
  );
  const out = new Map<number, KeyStateCounts>();
  for (const id of operatorIds ?? []) out.set(id, emptyCounts());
  for (const row of r.rows) {
    let c = out.get(row.operator_id);
    if (c === undefined) {
      c = emptyCounts();
      out.set(row.operator_id, c);
    }
    c[row.state] = row.n;
  }
  return out;
}

// ------------------------------------------------------------------ keys

/** A key row as read: bytea columns come as hex text (PGlite parses text faster than bytea). */
interface KeyDbRow {
  id: number;
  operator_id: number;
  state: KeyStateName;
  pubkey: string;
  withdrawal_credentials: string;
  amount_gwei: bigint;
  signature: string;
  deposit_message_root: string;
  deposit_data_root: string;
  fork_version: string;
  network_name: string;
  deposit_cli_version: string;
  deposit_batch_id: number | null;
  deposit_position: number | null;
  created_at: Date;
  updated_at: Date;
}

const BYTEA_COLS = new Set([
  "pubkey",
  "withdrawal_credentials",
  "signature",
  "deposit_message_root",
  "deposit_data_root",
  "fork_version",
]);

/** The select list of a key row (the keys view's columns, byte columns as hex). */
const KEY_COLS = [
  "id",
  "operator_id",
  "state",
  "pubkey",
  "withdrawal_credentials",
  "amount_gwei",
  "signature",
  "deposit_message_root",
  "deposit_data_root",
  "fork_version",
  "network_name",
  "deposit_cli_version",
  "deposit_batch_id",
  "deposit_position",
  "created_at",
  "updated_at",
]
  .map((c) => (BYTEA_COLS.has(c) ? `encode(${c}, 'hex') AS ${c}` : c))
  .join(", ");

function unhex(h: string): Uint8Array {
  const b = Buffer.from(h, "hex");
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function keyFromRow(r: KeyDbRow): KeyRow {
  return {
    id: r.id,
    operatorId: r.operator_id,
    state: r.state,
    depositData: {
      pubkey: unhex(r.pubkey),
      withdrawalCredentials: unhex(r.withdrawal_credentials),
      amountGwei: BigInt(r.amount_gwei),
      signature: unhex(r.signature),
      depositMessageRoot: unhex(r.deposit_message_root),
      depositDataRoot: unhex(r.deposit_data_root),
      forkVersion: unhex(r.fork_version),
      networkName: r.network_name,
      depositCliVersion: r.deposit_cli_version,
    },
    depositBatchId: r.deposit_batch_id,
    depositPosition: r.deposit_position,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Rows per INSERT statement of an upload. */
export const KEY_INSERT_CHUNK = 1000;

/**
 * Insert an operator's keys in upload order (ids ascend with the order given), one statement per
 * KEY_INSERT_CHUNK rows. Call inside a transaction after setChangeContext.
 */
export async function insertKeys(
  db: Queryable,
  operatorId: number,
  rows: readonly DepositDataRow[],
): Promise<{ firstId: number; lastId: number }> {
  let firstId = 0;
  let lastId = 0;
  for (let start = 0; start < rows.length; start += KEY_INSERT_CHUNK) {
    const chunk = rows.slice(start, start + KEY_INSERT_CHUNK);
    const r = await db.query<{ first: number; last: number }>(
      `WITH ins AS (
         INSERT INTO key_data (operator_id, pubkey, withdrawal_credentials, amount_gwei, signature,
           deposit_message_root, deposit_data_root, fork_version, network_name, deposit_cli_version)
         SELECT $1, decode(u.pk, 'hex'), decode(u.wc, 'hex'), u.amount, decode(u.sig, 'hex'),
           decode(u.dmr, 'hex'), decode(u.ddr, 'hex'), decode(u.fv, 'hex'), u.net, u.cli
         FROM unnest($2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
           WITH ORDINALITY AS u(pk, wc, amount, sig, dmr, ddr, fv, net, cli, ord)
         ORDER BY u.ord
         RETURNING id)
       SELECT min(id) AS first, max(id) AS last FROM ins`,
      [
        operatorId,
        chunk.map((d) => hex(d.pubkey)),
        chunk.map((d) => hex(d.withdrawalCredentials)),
        chunk.map((d) => d.amountGwei.toString()),
        chunk.map((d) => hex(d.signature)),
        chunk.map((d) => hex(d.depositMessageRoot)),
        chunk.map((d) => hex(d.depositDataRoot)),
        chunk.map((d) => hex(d.forkVersion)),
        chunk.map((d) => d.networkName),
        chunk.map((d) => d.depositCliVersion),
      ],
    );
    if (start === 0) firstId = r.rows[0]!.first;
    lastId = r.rows[0]!.last;
  }
  return { firstId, lastId };
}

/** Which of these pubkeys are already stored (any operator, any state): one query. */
export async function findKnownPubkeys(
  db: Queryable,
  pubkeys: readonly Uint8Array[],
): Promise<Map<string, { operatorId: number; state: KeyStateName }>> {
  const out = new Map<string, { operatorId: number; state: KeyStateName }>();
  if (pubkeys.length === 0) return out;
  const r = await db.query<{ pk: string; operator_id: number; state: KeyStateName }>(
    `SELECT encode(k.pubkey, 'hex') AS pk, k.operator_id, k.state
     FROM keys k WHERE k.pubkey IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)`,
    [pubkeys.map(hex)],
  );
  for (const row of r.rows) out.set(row.pk, { operatorId: row.operator_id, state: row.state });
  return out;
}

export async function findKeyByPubkey(
  db: Queryable,
  pubkey: Uint8Array,
  forUpdate = false,
): Promise<KeyRow | undefined> {
  if (forUpdate) {
    await db.query(
      "SELECT 1 FROM key_states WHERE key_id = (SELECT id FROM key_data WHERE pubkey = decode($1, 'hex')) FOR UPDATE",
      [hex(pubkey)],
    );
  }
  const r = await db.query<KeyDbRow>(`SELECT ${KEY_COLS} FROM keys WHERE pubkey = decode($1, 'hex')`, [
    hex(pubkey),
  ]);
  const row = r.rows[0];
  return row === undefined ? undefined : keyFromRow(row);
}

/**
 * A key's history, oldest first: its key_events rows and, when it was deposited, its deposit batch
 * (the vetted → deposited transition, by the batch's actor at the batch's time). Rows a
 * database from before migration 0006 holds for that transition in key_events are left out for
 * the batch row. Ties in time follow the lifecycle order.
 */
export async function keyHistory(db: Queryable, keyId: number): Promise<KeyEventRow[]> {
  const r = await db.query<{
    id: string;
    key_id: number;
    from_state: KeyStateName | null;
    to_state: KeyStateName;
    actor: string;
    reason: string | null;
    at: Date;
  }>(
    `SELECT id, key_id, from_state, to_state, actor, reason, at FROM (
       SELECT e.id::text AS id, e.key_id, e.from_state, e.to_state, e.actor, e.reason, e.at, e.id AS seq
       FROM key_events e
       WHERE e.key_id = $1 AND NOT (e.from_state = 'vetted' AND e.to_state = 'deposited')
       UNION ALL
       SELECT 'batch:' || b.id, s.key_id, 'vetted', 'deposited', b.actor, 'deposit batch ' || b.id, b.created_at, NULL
       FROM key_states s JOIN deposit_batches b ON b.id = s.deposit_batch_id
       WHERE s.key_id = $1
     ) h
     ORDER BY at, array_position($2::text[], to_state), seq`,
    [keyId, KEY_STATES],
  );
  return r.rows.map((e) => ({
    id: e.id,
    keyId: e.key_id,
    fromState: e.from_state,
    toState: e.to_state,
    actor: e.actor,
    reason: e.reason,
    at: e.at,
  }));
}

export interface KeysPageQuery {
  operatorId?: number;
  state?: KeyStateName;
  /** Keys with id > afterId. */
  afterId?: number;
  limit: number;
}

/** One page of keys in id order (keyset pagination: each page is an index range scan). */
export async function keysPage(db: Queryable, q: KeysPageQuery): Promise<KeyRow[]> {
  const where: string[] = ["id > $1"];
  const params: unknown[] = [q.afterId ?? 0];
  if (q.operatorId !== undefined) {
    params.push(q.operatorId);
    where.push(`operator_id = $${params.length}`);
  }
  if (q.state !== undefined) {
    params.push(q.state);
    where.push(`state = $${params.length}`);
  }
  params.push(q.limit);
  // The keys view with id > $1 on both of its tables: the planner does not carry a range across
  // the join, and a merge join would otherwise read key_states from its first row for every page.
  const r = await db.query<KeyDbRow>(
    `SELECT ${KEY_COLS} FROM (
       SELECT d.*, s.state, s.deposit_batch_id, s.deposit_position, s.updated_at
       FROM key_data d JOIN key_states s ON s.key_id = d.id
       WHERE d.id > $1 AND s.key_id > $1
     ) k WHERE ${where.join(" AND ")} ORDER BY id LIMIT $${params.length}`,
    params,
  );
  return r.rows.map(keyFromRow);
}

/** Vet up to `count` of the operator's submitted keys, oldest first. Returns how many. */
export async function vetOldestSubmitted(db: Queryable, operatorId: number, count: number): Promise<number> {
  if (count <= 0) return 0;
  const r = await db.query(
    `UPDATE key_states SET state = 'vetted', prev_state = state, updated_at = now() WHERE key_id IN (
       SELECT d.id FROM key_data d JOIN key_states s ON s.key_id = d.id
       WHERE d.operator_id = $1 AND s.state = 'submitted' ORDER BY d.id LIMIT $2)`,
    [operatorId, count],
  );
  return r.rowCount;
}

/** Return the operator's `count` newest vetted keys to submitted (a lowered vetted limit). */
export async function unvetNewestVetted(db: Queryable, operatorId: number, count: number): Promise<number> {
  if (count <= 0) return 0;
  const r = await db.query(
    `UPDATE key_states SET state = 'submitted', prev_state = state, updated_at = now() WHERE key_id IN (
       SELECT d.id FROM key_data d JOIN key_states s ON s.key_id = d.id
       WHERE d.operator_id = $1 AND s.state = 'vetted' ORDER BY d.id DESC LIMIT $2)`,
    [operatorId, count],
  );
  return r.rowCount;
}

/**
 * Move keys (by id) from one of `from` states to `to`. Returns the ids actually changed; keys
 * in another state are left alone (the caller compares).
 */
export async function transitionKeys(
  db: Queryable,
  keyIds: readonly number[],
  from: readonly KeyStateName[],
  to: KeyStateName,
): Promise<number[]> {
  if (keyIds.length === 0) return [];
  const r = await db.query<{ id: number }>(
    `UPDATE key_states SET state = $3, prev_state = state, updated_at = now()
     WHERE key_id = ANY($1::int[]) AND state = ANY($2::text[]) AND state <> $3 RETURNING key_id AS id`,
    [keyIds, from, to],
  );
  return r.rows.map((x) => x.id);
}

/** Keys by pubkey (one query), with id, operator and state. */
export async function findKeysByPubkeys(
  db: Queryable,
  pubkeys: readonly Uint8Array[],
  forUpdate = false,
): Promise<{ id: number; operatorId: number; state: KeyStateName; pubkey: string }[]> {
  if (pubkeys.length === 0) return [];
  const r = await db.query<{ id: number; operator_id: number; state: KeyStateName; pk: string }>(
    `SELECT d.id, d.operator_id, s.state, encode(d.pubkey, 'hex') AS pk
     FROM key_data d JOIN key_states s ON s.key_id = d.id
     WHERE d.pubkey IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x) ORDER BY d.id${forUpdate ? " FOR UPDATE OF s" : ""}`,
    [pubkeys.map(hex)],
  );
  return r.rows.map((x) => ({ id: x.id, operatorId: x.operator_id, state: x.state, pubkey: x.pk }));
}

// ------------------------------------------------------------------ deposit batches

/** Pool-wide transaction lock taken by every allocation ("pkalloc" in ASCII). */
export const ALLOCATION_LOCK_KEY = "31644298773701475";

export async function lockAllocation(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(${ALLOCATION_LOCK_KEY})`);
}

/** A key of a deposit batch, without its deposit data (depositBatchKeys reads that). */
export interface DepositedKeyRef {
  keyId: number;
  operatorId: number;
  position: number;
}

/** What every key of a deposit batch must carry: the pool's identity (pool_identity). */
export interface DepositIdentity {
  withdrawalCredentials: Uint8Array;
  forkVersion: Uint8Array;
  networkName: string;
}

/** The deposit-data fields checked against the pool's identity, as deposit_data.json names them. */
export type DepositIdentityField = "withdrawal_credentials" | "fork_version" | "network_name";

/** A key picked for a batch whose deposit data is not the pool's: the batch was not inserted. */
export interface DepositIdentityMismatch {
  keyId: number;
  pubkey: Uint8Array;
  field: DepositIdentityField;
  /** The key's value: 0x hex, or the network name. */
  value: string;
}

/**
 * Create a deposit batch of the oldest vetted keys of each operator: `counts[i]` keys of
 * `operatorIds[i]`, positions in operator order then upload order. One statement: it picks the
 * keys (from each operator's deposit cursor, in upload order) and inserts the batch with their ids,
 * whose trigger moves exactly those keys to deposited, all or nothing. Returns undefined, and
 * creates nothing, when fewer keys than asked are vetted (another writer got there first).
 * `fromStart` ignores the operators' deposit cursors and searches all of their keys (slower; the
 * cursor is only a shortcut). With `identity`, the same statement compares every picked key's
 * withdrawal credentials, fork version and network name with it (on the rows it reads anyway) and
 * inserts nothing when one differs: `mismatch` names the first such key in batch order. With
 * `maxWei` (what the pool's buffer may pay), it inserts nothing when the picked keys' deposit
 * amounts add up to more: `unpaid` gives their sum. A batch returns its keys' total `amountGwei`.
 */
export async function insertDepositBatch(
  db: Queryable,
  actor: string,
  operatorIds: readonly number[],
  counts: readonly number[],
  fromStart = false,
  identity?: DepositIdentity,
  maxWei?: bigint,
): Promise<
  | (DepositBatchRow & {
      keys: DepositedKeyRef[];
      amountGwei: bigint;
      mismatch?: undefined;
      unpaid?: undefined;
    })
  | { mismatch: DepositIdentityMismatch; keys?: undefined; unpaid?: undefined }
  | { unpaid: { amountGwei: bigint }; keys?: undefined; mismatch?: undefined }
  | undefined
> {
  const total = counts.reduce((a, b) => a + b, 0);
  const r = await db.query<{
    id: number | null;
    key_count: number;
    actor: string;
    created_at: Date;
    key_ids: string;
    bad_id: number | null;
    bad_field: DepositIdentityField | null;
    bad_value: string | null;
    bad_pubkey: string | null;
    picked: number | null;
    gwei: string | null;
  }>(
    `WITH picked AS (
       SELECT array_agg(s.key_id ORDER BY a.ord, s.key_id) AS ids,
              sum(s.amount_gwei) AS gwei,
              min((a.ord << 32) | s.key_id) FILTER (WHERE s.other) & 4294967295 AS bad_id
       FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS a(op, n, ord)
       CROSS JOIN LATERAL (
         SELECT d.id AS key_id, d.amount_gwei,
                d.withdrawal_credentials <> decode($5, 'hex') OR d.fork_version <> decode($6, 'hex')
                  OR d.network_name <> $7 AS other
         FROM key_data d JOIN key_states ks ON ks.key_id = d.id
         WHERE d.operator_id = a.op AND ks.state = 'vetted'
           AND d.id > ${fromStart ? "0" : "coalesce((SELECT c.last_key_id FROM operator_deposit_cursors c WHERE c.operator_id = a.op), 0)"}
         ORDER BY d.id LIMIT a.n
       ) s
     ), ins AS (
       INSERT INTO deposit_batches (key_count, actor, key_ids)
       SELECT $3, $4, p.ids FROM picked p WHERE cardinality(p.ids) = $3 AND p.bad_id IS NULL
         AND ($8::numeric IS NULL OR p.gwei * 1000000000 <= $8::numeric)
       RETURNING id, key_count, actor, created_at, array_to_string(key_ids, ',') AS key_ids
     ), bad AS (
       SELECT d.id, encode(d.pubkey, 'hex') AS pubkey,
              CASE WHEN d.withdrawal_credentials <> decode($5, 'hex') THEN 'withdrawal_credentials'
                   WHEN d.fork_version <> decode($6, 'hex') THEN 'fork_version'
                   ELSE 'network_name' END AS field,
              CASE WHEN d.withdrawal_credentials <> decode($5, 'hex') THEN '0x' || encode(d.withdrawal_credentials, 'hex')
                   WHEN d.fork_version <> decode($6, 'hex') THEN '0x' || encode(d.fork_version, 'hex')
                   ELSE d.network_name END AS value
       FROM picked p JOIN key_data d ON d.id = p.bad_id
     )
     SELECT i.id, i.key_count, i.actor, i.created_at, i.key_ids,
            b.id AS bad_id, b.field AS bad_field, b.value AS bad_value, b.pubkey AS bad_pubkey,
            cardinality(p.ids) AS picked, p.gwei::text AS gwei
     FROM picked p LEFT JOIN ins i ON true LEFT JOIN bad b ON true`,
    [
      operatorIds,
      counts,
      total,
      actor,
      identity === undefined ? null : hex(identity.withdrawalCredentials),
      identity === undefined ? null : hex(identity.forkVersion),
      identity?.networkName ?? null,
      maxWei === undefined ? null : maxWei.toString(),
    ],
  );
  const b = r.rows[0];
  if (b?.bad_id != null && b.bad_field !== null && b.bad_pubkey !== null) {
    return {
      mismatch: {
        keyId: b.bad_id,
        pubkey: new Uint8Array(Buffer.from(b.bad_pubkey, "hex")),
        field: b.bad_field,
        value: b.bad_value ?? "",
      },
    };
  }
  if (b !== undefined && b.id === null && b.picked === total && b.gwei !== null)
    return { unpaid: { amountGwei: BigInt(b.gwei) } };
  if (b === undefined || b.id === null || b.gwei === null) return undefined;
  const ids = b.key_ids.split(",").map(Number);
  const keys: DepositedKeyRef[] = new Array(ids.length);
  let position = 0;
  operatorIds.forEach((operatorId, i) => {
    for (let k = 0; k < counts[i]!; k++, position++) {
      keys[position] = { keyId: ids[position]!, operatorId, position };
    }
  });
  return {
    id: b.id,
    keyCount: b.key_count,
    actor: b.actor,
    createdAt: b.created_at,
    keys,
    amountGwei: BigInt(b.gwei),
  };
}

export async function findDepositBatch(db: Queryable, id: number): Promise<DepositBatchRow | undefined> {
  const r = await db.query<{ id: number; key_count: number; actor: string; created_at: Date }>(
    "SELECT id, key_count, actor, created_at FROM deposit_batches WHERE id = $1",
    [id],
  );
  const b = r.rows[0];
  return b === undefined
    ? undefined
    : { id: b.id, keyCount: b.key_count, actor: b.actor, createdAt: b.created_at };
}

/** A key of a deposit batch with its deposit data. */
export interface DepositBatchKeyRow {
  position: number;
  keyId: number;
  operatorId: number;
  depositData: DepositDataRow;
}

/** Bytes of the fixed-size deposit data fields, in the order depositBatchKeys reads them. */
const DEPOSIT_FIELD_BYTES = [48, 32, 96, 32, 32, 4] as const;

/**
 * A batch's keys with their deposit data, in batch order. The six byte fields come as one hex
 * string per key (one decode, then views into it), faster for large batches than six columns.
 */
export async function depositBatchKeys(db: Queryable, batchId: number): Promise<DepositBatchKeyRow[]> {
  const r = await db.query<{
    pos: number;
    id: number;
    operator_id: number;
    blob: string;
    amount_gwei: string;
    network_name: string;
    deposit_cli_version: string;
  }>(
    `SELECT (u.pos - 1)::int AS pos, d.id, d.operator_id,
       encode(d.pubkey || d.withdrawal_credentials || d.signature || d.deposit_message_root
              || d.deposit_data_root || d.fork_version, 'hex') AS blob,
       d.amount_gwei::text AS amount_gwei, d.network_name, d.deposit_cli_version
     FROM deposit_batches b
     CROSS JOIN unnest(b.key_ids) WITH ORDINALITY AS u(id, pos)
     JOIN key_data d ON d.id = u.id
     WHERE b.id = $1 ORDER BY u.pos`,
    [batchId],
  );
  return r.rows.map((x) => {
    const b = Buffer.from(x.blob, "hex");
    const f: Uint8Array[] = [];
    let at = 0;
    for (const n of DEPOSIT_FIELD_BYTES) {
      f.push(new Uint8Array(b.buffer, b.byteOffset + at, n));
      at += n;
    }
    return {
      position: x.pos,
      keyId: x.id,
      operatorId: x.operator_id,
      depositData: {
        pubkey: f[0]!,
        withdrawalCredentials: f[1]!,
        amountGwei: BigInt(x.amount_gwei),
        signature: f[2]!,
        depositMessageRoot: f[3]!,
        depositDataRoot: f[4]!,
        forkVersion: f[5]!,
        networkName: x.network_name,
        depositCliVersion: x.deposit_cli_version,
      },
    };
  });
}

/** Newest first; `beforeId` exclusive. */
export async function listDepositBatchRows(
  db: Queryable,
  beforeId: number | undefined,
  limit: number,
): Promise<DepositBatchRow[]> {
  const r = await db.query<{ id: number; key_count: number; actor: string; created_at: Date }>(
    `SELECT id, key_count, actor, created_at FROM deposit_batches
     ${beforeId === undefined ? "" : "WHERE id < $2"} ORDER BY id DESC LIMIT $1`,
    beforeId === undefined ? [limit] : [limit, beforeId],
  );
  return r.rows.map((b) => ({ id: b.id, keyCount: b.key_count, actor: b.actor, createdAt: b.created_at }));
}

// ------------------------------------------------------------------ audit log

/**
 * Every action the audit log records, `<resource>.<verb>`: the resource is plural when one entry
 * covers several (a file of keys, the keys one vetting moves, a deposit batch) and singular when it
 * covers exactly one (an operator, a removed key).
 */
export const AUDIT_ACTIONS = [
  "operator.create",
  "operator.update",
  "keys.upload",
  "keys.vet",
  "keys.unvet",
  "key.remove",
  "deposits.allocate",
  "exit.request",
  "deposits.release",
  "deposits.refuse",
  "deposits.pause",
  "deposits.unpause",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditInput {
  actor: string;
  action: AuditAction;
  target: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
}

export async function appendAudit(db: Queryable, a: AuditInput): Promise<void> {
  await db.query(
    "INSERT INTO audit_log (actor, action, target, reason, before, after) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
    [
      a.actor,
      a.action,
      a.target,
      a.reason,
      a.before === undefined || a.before === null ? null : JSON.stringify(a.before),
      a.after === undefined || a.after === null ? null : JSON.stringify(a.after),
    ],
  );
}

/** Newest first; `beforeId` exclusive; optionally one target (e.g. "operator:3"). */
export async function listAuditRows(
  db: Queryable,
  q: { beforeId?: bigint; limit: number; target?: string },
): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [q.limit];
  if (q.beforeId !== undefined) {
    params.push(q.beforeId.toString());
    where.push(`id < $${params.length}::int8`);
  }
  if (q.target !== undefined) {
    params.push(q.target);
    where.push(`target = $${params.length}`);
  }
  const r = await db.query<{
    id: bigint;
    actor: string;
    action: string;
    target: string | null;
    reason: string | null;
    before: unknown;
    after: unknown;
    at: Date;
  }>(
    `SELECT id, actor, action, target, reason, before, after, at FROM audit_log
     ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`} ORDER BY id DESC LIMIT $1`,
    params,
  );
  return r.rows.map((x) => ({ ...x, id: BigInt(x.id) }));
}
