import type { AlertKind } from "@poolkeeper/core";
import { sqlStateList, WATCHED_STATES } from "../registry/lifecycle.js";
import type { Queryable, Store } from "../store.js";

/**
 * The watcher's SQL (migration 0020): one transaction per processed epoch, the checkpoint, the
 * pool's validators as seen on chain, and alerts with their webhook state. Plain functions over a
 * Queryable or a Store. Bytes go to SQL as hex text (reads the same on pg and PGlite).
 */

/** @poolkeeper/beacon's DutyAggregate as stored (attestation weights: effective balance / 32 ETH). */
export interface DutyCountsRow {
  attAssigned: number;
  attIncluded: number;
  attWeightAssigned: number;
  attWeightIncluded: number;
  attCorrectnessSum: number;
  attDelayScoreSum: number;
  attEffectivenessSum: number;
  proposalsAssigned: number;
  proposalsMade: number;
  syncAssigned: number;
  syncIncluded: number;
}

export interface OperatorEpochInput {
  operatorId: number;
  validators: number;
  counts: DutyCountsRow;
  balanceDeltaGwei: bigint | null;
}

export interface PoolValidatorInput {
  validatorIndex: number;
  pubkey: Uint8Array;
  operatorId: number;
}

/** A validator whose status is not active_ongoing at the end of the epoch (a small list). */
export interface ValidatorStatusInput {
  validatorIndex: number;
  status: string;
  /** The chain's exit epoch once set (its last epoch with duties is exit_epoch - 1). */
  exitEpoch: number | null;
}

/** One validator's epoch when it was not a plain perfect attestation. */
export interface ValidatorEpochInput {
  validatorIndex: number;
  operatorId: number;
  attSlot: number | null;
  attIncluded: boolean | null;
  attDelay: number | null;
  attOptimalDelay: number | null;
  /** bit 0 source, bit 1 target, bit 2 head correct. */
  attFlags: number | null;
  rewardSourceGwei: bigint | null;
  rewardTargetGwei: bigint | null;
  rewardHeadGwei: bigint | null;
  proposalsAssigned: number;
  proposalsMade: number;
  proposalSlots: number[];
  syncAssigned: number;
  syncIncluded: number;
  balanceDeltaGwei: bigint | null;
  status: string | null;
  events: string[];
}

/** The alert kinds are defined in core (vocabulary.ts). */
export { ALERT_KINDS, type AlertKind } from "@poolkeeper/core";

export interface NewAlert {
  kind: AlertKind;
  /** Alerts with the same key are stored once (per network). */
  dedupKey: string;
  operatorId: number | null;
  validatorIndex: number | null;
  epoch: number | null;
  message: string;
  details?: Record<string, unknown>;
  /** Mark for webhook delivery. */
  webhook?: boolean;
}

export interface EpochRecord {
  network: string;
  epoch: number;
  networkCounts: DutyCountsRow;
  operators: OperatorEpochInput[];
  /** How many pool validators had duties in the epoch. */
  poolValidators: number;
  /** Every pool validator with a duty in the epoch (indices). */
  dutyIndices: readonly number[];
  /** Pool validators not stored yet (the processor knows which it has stored). */
  newValidators: PoolValidatorInput[];
  /** Statuses other than active_ongoing at the end of the epoch. */
  statuses: ValidatorStatusInput[];
  exceptions: ValidatorEpochInput[];
  alerts: NewAlert[];
}

const BATCH = 5000;

function chunks<T>(xs: readonly T[], n = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const big = (v: bigint | null): string | null => (v === null ? null : v.toString());

/**
 * Store one processed epoch in one transaction. Returns saved=false (and writes nothing) when the
 * epoch was already stored: processing an epoch twice never counts it twice.
 */
export async function saveWatcherEpoch(
  store: Store,
  rec: EpochRecord,
  opts: {
    /**
     * Called in the same transaction when the checkpoint moves from `from - 1` to `to`: every epoch
     * in [from, to] is then stored, in order; alerts that need history are decided here, once.
     */
    onCheckpointAdvance?: (tx: Queryable, from: number, to: number) => Promise<NewAlert[]>;
  } = {},
): Promise<{ saved: boolean; alertIds: number[]; checkpoint: number | null }> {
  return store.transaction(async (tx) => {
    const n = rec.networkCounts;
    const ins = await tx.query(
      `INSERT INTO watcher_network_epochs (network, epoch, att_assigned, att_included, att_correctness_sum,
         att_delay_score_sum, att_effectiveness_sum, proposals_assigned, proposals_made, sync_assigned,
         sync_included, pool_validators, att_weight_assigned, att_weight_included)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (network, epoch) DO NOTHING`,
      [
        rec.network,
        rec.epoch,
        n.attAssigned,
        n.attIncluded,
        n.attCorrectnessSum,
        n.attDelayScoreSum,
        n.attEffectivenessSum,
        n.proposalsAssigned,
        n.proposalsMade,
        n.syncAssigned,
        n.syncIncluded,
        rec.poolValidators,
        n.attWeightAssigned,
        n.attWeightIncluded,
      ],
    );
    if (ins.rowCount === 0)
      return { saved: false, alertIds: [], checkpoint: await getWatcherCheckpoint(tx, rec.network) };

    for (const c of chunks(rec.operators)) {
      await tx.query(
        `INSERT INTO watcher_operator_epochs (network, epoch, operator_id, validators, att_assigned, att_included,
           att_correctness_sum, att_delay_score_sum, att_effectiveness_sum, proposals_assigned, proposals_made,
           sync_assigned, sync_included, balance_delta_gwei, att_weight_assigned, att_weight_included)
         SELECT $1, $2, u.* FROM unnest($3::int[], $4::int[], $5::int[], $6::int[], $7::float8[], $8::float8[],
           $9::float8[], $10::int[], $11::int[], $12::int[], $13::int[], $14::int8[], $15::float8[],
           $16::float8[]) AS u`,
        [
          rec.network,
          rec.epoch,
          c.map((o) => o.operatorId),
          c.map((o) => o.validators),
          c.map((o) => o.counts.attAssigned),
          c.map((o) => o.counts.attIncluded),
          c.map((o) => o.counts.attCorrectnessSum),
          c.map((o) => o.counts.attDelayScoreSum),
          c.map((o) => o.counts.attEffectivenessSum),
          c.map((o) => o.counts.proposalsAssigned),
          c.map((o) => o.counts.proposalsMade),
          c.map((o) => o.counts.syncAssigned),
          c.map((o) => o.counts.syncIncluded),
          c.map((o) => big(o.balanceDeltaGwei)),
          c.map((o) => o.counts.attWeightAssigned),
          c.map((o) => o.counts.attWeightIncluded),
        ],
      );
    }

    // new validators only (no write per validator per epoch)
    for (const c of chunks(rec.newValidators)) {
      await tx.query(
        `INSERT INTO watcher_validators (network, validator_index, pubkey, operator_id, first_epoch)
         SELECT $1, u.idx, decode(u.pk, 'hex'), u.op, $2
         FROM unnest($3::int[], $4::text[], $5::int[]) AS u(idx, pk, op)
         ON CONFLICT (network, validator_index) DO UPDATE SET
           first_epoch = LEAST(watcher_validators.first_epoch, EXCLUDED.first_epoch),
           operator_id = EXCLUDED.operator_id`,
        [
          rec.network,
          rec.epoch,
          c.map((v) => v.validatorIndex),
          c.map((v) => hex(v.pubkey)),
          c.map((v) => v.operatorId),
        ],
      );
    }
    // an earlier epoch processed late: move first_epoch back for those with a duty in it
    const later = await tx.query<{ validator_index: number }>(
      "SELECT validator_index FROM watcher_validators WHERE network = $1 AND first_epoch > $2",
      [rec.network, rec.epoch],
    );
    if (later.rows.length > 0) {
      const duty = new Set(rec.dutyIndices);
      const back = later.rows.map((r) => r.validator_index).filter((v) => duty.has(v));
      if (back.length > 0) {
        await tx.query(
          "UPDATE watcher_validators SET first_epoch = $2 WHERE network = $1 AND first_epoch > $2 AND validator_index = ANY($3::int[])",
          [rec.network, rec.epoch, back],
        );
      }
    }
    for (const c of chunks(rec.statuses)) {
      await tx.query(
        `UPDATE watcher_validators w SET status = u.st, status_epoch = $2, exit_epoch = COALESCE(u.ex, w.exit_epoch)
         FROM unnest($3::int[], $4::text[], $5::int8[]) AS u(idx, st, ex)
         WHERE w.network = $1 AND w.validator_index = u.idx AND (w.status_epoch IS NULL OR w.status_epoch <= $2)`,
        [
          rec.network,
          rec.epoch,
          c.map((v) => v.validatorIndex),
          c.map((v) => v.status),
          c.map((v) => v.exitEpoch),
        ],
      );
    }

    for (const c of chunks(rec.exceptions, 2000)) {
      await tx.query(
        `INSERT INTO watcher_validator_epochs (network, epoch, validator_index, operator_id, att_slot, att_included,
           att_delay, att_optimal_delay, att_flags, reward_source_gwei, reward_target_gwei, reward_head_gwei,
           proposals_assigned, proposals_made, proposal_slots, sync_assigned, sync_included, balance_delta_gwei,
           status, events)
         SELECT $1, $2, u.idx, u.op, u.slot, u.inc, u.delay, u.opt, u.flags, u.rs, u.rt, u.rh, u.pa, u.pm,
           CASE WHEN u.ps = '' THEN NULL ELSE string_to_array(u.ps, ',')::bigint[] END,
           u.sa, u.si, u.bd, u.st,
           CASE WHEN u.ev = '' THEN NULL ELSE string_to_array(u.ev, ',') END
         FROM unnest($3::int[], $4::int[], $5::int8[], $6::bool[], $7::int2[], $8::int2[], $9::int2[], $10::int8[],
           $11::int8[], $12::int8[], $13::int2[], $14::int2[], $15::text[], $16::int2[], $17::int2[], $18::int8[],
           $19::text[], $20::text[])
           AS u(idx, op, slot, inc, delay, opt, flags, rs, rt, rh, pa, pm, ps, sa, si, bd, st, ev)`,
        [
          rec.network,
          rec.epoch,
          c.map((v) => v.validatorIndex),
          c.map((v) => v.operatorId),
          c.map((v) => v.attSlot),
          c.map((v) => v.attIncluded),
          c.map((v) => v.attDelay),
          c.map((v) => v.attOptimalDelay),
          c.map((v) => v.attFlags),
          c.map((v) => big(v.rewardSourceGwei)),
          c.map((v) => big(v.rewardTargetGwei)),
          c.map((v) => big(v.rewardHeadGwei)),
          c.map((v) => v.proposalsAssigned),
          c.map((v) => v.proposalsMade),
          c.map((v) => v.proposalSlots.join(",")),
          c.map((v) => v.syncAssigned),
          c.map((v) => v.syncIncluded),
          c.map((v) => big(v.balanceDeltaGwei)),
          c.map((v) => v.status),
          c.map((v) => v.events.join(",")),
        ],
      );
    }

    const alertIds: number[] = [];
    const adv = await advanceWatcherCheckpointLocked(tx, rec.network, rec.epoch - 1);
    const alerts = [...rec.alerts];
    if (
      adv.after !== null &&
      (adv.before === null || adv.after > adv.before) &&
      opts.onCheckpointAdvance !== undefined
    ) {
      alerts.push(
        ...(await opts.onCheckpointAdvance(
          tx,
          (adv.before ?? adv.after) + (adv.before === null ? 0 : 1),
          adv.after,
        )),
      );
    }
    for (const a of alerts) {
      const id = await insertWatcherAlert(tx, rec.network, a);
      if (id !== null) alertIds.push(id);
    }
    return { saved: true, alertIds, checkpoint: adv.after };
  });
}

/**
 * Lock the network's checkpoint row (creating it at `initial` if missing), then move it to the end
 * of the contiguous run of processed epochs. Concurrent savers are serialised on the row, so each
 * advance is seen by exactly one transaction.
 */
export async function advanceWatcherCheckpointLocked(
  q: Queryable,
  network: string,
  initial: number,
): Promise<{ before: number | null; after: number | null }> {
  await q.query(
    "INSERT INTO watcher_checkpoint (network, last_epoch) VALUES ($1, $2) ON CONFLICT (network) DO NOTHING",
    [network, initial],
  );
  const r = await q.query<{ last_epoch: bigint }>(
    "SELECT last_epoch FROM watcher_checkpoint WHERE network = $1 FOR UPDATE",
    [network],
  );
  const before = r.rows[0] === undefined ? null : Number(r.rows[0].last_epoch);
  const after = await advanceWatcherCheckpoint(q, network);
  return { before, after };
}

/** Move the checkpoint to the last epoch of the contiguous run of processed epochs. */
export async function advanceWatcherCheckpoint(q: Queryable, network: string): Promise<number | null> {
  const r = await q.query<{ last: bigint | null }>(
    `WITH base AS (
       SELECT COALESCE((SELECT last_epoch FROM watcher_checkpoint WHERE network = $1),
                       (SELECT min(epoch) - 1 FROM watcher_network_epochs WHERE network = $1)) AS b),
     run AS (
       SELECT w.epoch, w.epoch - row_number() OVER (ORDER BY w.epoch) AS grp
       FROM watcher_network_epochs w, base WHERE w.network = $1 AND w.epoch > base.b)
     SELECT max(run.epoch) AS last FROM run, base WHERE run.grp = base.b`,
    [network],
  );
  const last = r.rows[0]?.last;
  if (last !== null && last !== undefined) {
    await q.query(
      `INSERT INTO watcher_checkpoint (network, last_epoch) VALUES ($1, $2)
       ON CONFLICT (network) DO UPDATE SET last_epoch = GREATEST(watcher_checkpoint.last_epoch, EXCLUDED.last_epoch), updated_at = now()`,
      [network, last.toString()],
    );
  }
  return getWatcherCheckpoint(q, network);
}

export async function getWatcherCheckpoint(q: Queryable, network: string): Promise<number | null> {
  const r = await q.query<{ last_epoch: bigint }>(
    "SELECT last_epoch FROM watcher_checkpoint WHERE network = $1",
    [network],
  );
  const v = r.rows[0]?.last_epoch;
  return v === undefined ? null : Number(v);
}

/** Epochs in [from, to] not yet processed, ascending. */
export async function missingWatcherEpochs(
  q: Queryable,
  network: string,
  from: number,
  to: number,
): Promise<number[]> {
  if (to < from) return [];
  const r = await q.query<{ e: bigint }>(
    `SELECT g.e FROM generate_series($2::bigint, $3::bigint) AS g(e)
     WHERE NOT EXISTS (SELECT 1 FROM watcher_network_epochs w WHERE w.network = $1 AND w.epoch = g.e)
     ORDER BY g.e`,
    [network, from, to],
  );
  return r.rows.map((x) => Number(x.e));
}

export async function isWatcherEpochProcessed(
  q: Queryable,
  network: string,
  epoch: number,
): Promise<boolean> {
  const r = await q.query("SELECT 1 FROM watcher_network_epochs WHERE network = $1 AND epoch = $2", [
    network,
    epoch,
  ]);
  return r.rows.length > 0;
}

/** Insert an alert unless one with the same dedup key exists; returns its id or null. */
export async function insertWatcherAlert(q: Queryable, network: string, a: NewAlert): Promise<number | null> {
  const r = await q.query<{ id: bigint }>(
    `INSERT INTO watcher_alerts (network, kind, dedup_key, operator_id, validator_index, epoch, message, details, webhook_state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
     ON CONFLICT (network, dedup_key) DO NOTHING RETURNING id`,
    [
      network,
      a.kind,
      a.dedupKey,
      a.operatorId,
      a.validatorIndex,
      a.epoch,
      a.message.slice(0, 2000),
      JSON.stringify(a.details ?? {}),
      a.webhook === true ? "pending" : "none",
    ],
  );
  const id = r.rows[0]?.id;
  return id === undefined ? null : Number(id);
}

export interface WatcherAlertRow {
  id: number;
  network: string;
  kind: AlertKind;
  operatorId: number | null;
  validatorIndex: number | null;
  epoch: number | null;
  message: string;
  details: Record<string, unknown>;
  createdAt: Date;
  webhookState: "none" | "pending" | "delivered" | "failed";
  webhookAttempts: number;
}

interface AlertDbRow {
  id: bigint;
  network: string;
  kind: AlertKind;
  operator_id: number | null;
  validator_index: number | null;
  epoch: bigint | null;
  message: string;
  details: Record<string, unknown>;
  created_at: Date;
  webhook_state: WatcherAlertRow["webhookState"];
  webhook_attempts: number;
}

export const ALERT_COLS =
  "id, network, kind, operator_id, validator_index, epoch, message, details, created_at, webhook_state, webhook_attempts";

export function alertFromDb(r: AlertDbRow): WatcherAlertRow {
  return {
    id: Number(r.id),
    network: r.network,
    kind: r.kind,
    operatorId: r.operator_id,
    validatorIndex: r.validator_index,
    epoch: r.epoch === null ? null : Number(r.epoch),
    message: r.message,
    details: r.details,
    createdAt: r.created_at,
    webhookState: r.webhook_state,
    webhookAttempts: r.webhook_attempts,
  };
}

export async function getWatcherAlert(q: Queryable, id: number): Promise<WatcherAlertRow | null> {
  const r = await q.query<AlertDbRow>(`SELECT ${ALERT_COLS} FROM watcher_alerts WHERE id = $1`, [id]);
  const row = r.rows[0];
  return row === undefined ? null : alertFromDb(row);
}

export async function recordWebhookAttempt(
  q: Queryable,
  id: number,
  delivered: boolean,
  final: boolean,
): Promise<void> {
  await q.query(
    `UPDATE watcher_alerts SET webhook_attempts = webhook_attempts + 1,
       webhook_state = CASE WHEN $2 THEN 'delivered' WHEN $3 THEN 'failed' ELSE webhook_state END,
       delivered_at = CASE WHEN $2 THEN now() ELSE delivered_at END
     WHERE id = $1`,
    [id, delivered, final],
  );
}

/** Attestations missed by each of `indices` in [fromEpoch, toEpoch] (for "offline N epochs"). */
export async function missedAttestationCounts(
  q: Queryable,
  network: string,
  indices: readonly number[],
  fromEpoch: number,
  toEpoch: number,
): Promise<Map<number, number>> {
  if (indices.length === 0) return new Map();
  const r = await q.query<{ validator_index: number; n: bigint }>(
    `SELECT validator_index, count(*) AS n FROM watcher_validator_epochs
     WHERE network = $1 AND validator_index = ANY($2::int[]) AND epoch BETWEEN $3 AND $4
       AND att_slot IS NOT NULL AND att_included = false
     GROUP BY validator_index`,
    [network, indices, fromEpoch, toEpoch],
  );
  return new Map(r.rows.map((x) => [x.validator_index, Number(x.n)]));
}

/** Processed epochs in [fromEpoch, toEpoch]. */
export async function processedWatcherEpochCount(
  q: Queryable,
  network: string,
  fromEpoch: number,
  toEpoch: number,
): Promise<number> {
  const r = await q.query<{ n: bigint }>(
    "SELECT count(*) AS n FROM watcher_network_epochs WHERE network = $1 AND epoch BETWEEN $2 AND $3",
    [network, fromEpoch, toEpoch],
  );
  return Number(r.rows[0]?.n ?? 0n);
}

/** Known pubkey → index resolutions (so only new keys are asked of the beacon node). */
export async function knownValidatorIndices(q: Queryable, network: string): Promise<Map<string, number>> {
  const r = await q.query<{ pk: string; validator_index: number }>(
    "SELECT encode(pubkey, 'hex') AS pk, validator_index FROM watcher_validators WHERE network = $1",
    [network],
  );
  return new Map(r.rows.map((x) => [x.pk, x.validator_index]));
}

/** The pool's keys that can have duties: deposited and later, with their operator. */
export async function poolKeysForWatcher(
  q: Queryable,
): Promise<Array<{ pubkey: string; operatorId: number; state: string; chainDepositSeen: boolean }>> {
  const r = await q.query<{ pk: string; operator_id: number; state: string; seen: boolean }>(
    `SELECT encode(k.pubkey, 'hex') AS pk, k.operator_id, k.state, (c.key_id IS NOT NULL) AS seen
     FROM keys k LEFT JOIN key_chain_deposits c ON c.key_id = k.id
     WHERE k.state IN ${sqlStateList(WATCHED_STATES)} ORDER BY k.id`,
  );
  return r.rows.map((x) => ({
    pubkey: x.pk,
    operatorId: x.operator_id,
    state: x.state,
    chainDepositSeen: x.seen,
  }));
}

/** A key's deposit as the chain first showed it (a pending deposit, Electra and later). */
export interface ChainDepositRow {
  /** Slot of the block that carried the deposit request. */
  slot: number;
  amountGwei: bigint;
  /** The chain's credentials (may differ from the key's uploaded ones: a front-run deposit). */
  withdrawalCredentials: Uint8Array;
  /** The epoch whose finalized state showed it first. */
  seenEpoch: number;
}

/**
 * Record the chain's deposits of registry keys (pubkey: hex without 0x), each once: the first
 * record of a key stays. Pubkeys not in the registry are skipped. Returns the keys recorded now.
 */
export async function recordKeyChainDeposits(
  q: Queryable,
  deposits: ReadonlyArray<ChainDepositRow & { pubkey: string }>,
): Promise<number> {
  if (deposits.length === 0) return 0;
  const r = await q.query(
    `INSERT INTO key_chain_deposits (key_id, slot, amount_gwei, withdrawal_credentials, seen_epoch)
     SELECT k.id, u.slot, u.amount, decode(u.wc, 'hex'), u.epoch
     FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::int8[]) AS u(pk, slot, amount, wc, epoch)
     JOIN keys k ON k.pubkey = decode(u.pk, 'hex')
     ON CONFLICT (key_id) DO NOTHING`,
    [
      deposits.map((d) => d.pubkey),
      deposits.map((d) => d.slot),
      deposits.map((d) => d.amountGwei.toString()),
      deposits.map((d) => Buffer.from(d.withdrawalCredentials).toString("hex")),
      deposits.map((d) => d.seenEpoch),
    ],
  );
  return r.rowCount ?? 0;
}

/** The chain's deposit of a key, if seen. */
export async function keyChainDeposit(q: Queryable, keyId: number): Promise<ChainDepositRow | null> {
  const r = await q.query<{ slot: bigint; amount_gwei: bigint; wc: string; seen_epoch: bigint }>(
    `SELECT slot, amount_gwei, encode(withdrawal_credentials, 'hex') AS wc, seen_epoch
     FROM key_chain_deposits WHERE key_id = $1`,
    [keyId],
  );
  const x = r.rows[0];
  if (x === undefined) return null;
  return {
    slot: Number(x.slot),
    amountGwei: BigInt(x.amount_gwei),
    withdrawalCredentials: new Uint8Array(Buffer.from(x.wc, "hex")),
    seenEpoch: Number(x.seen_epoch),
  };
}

/** Start a network's checkpoint just before `epoch` unless it already has one. */
export async function initWatcherCheckpoint(q: Queryable, network: string, epoch: number): Promise<number> {
  await q.query(
    "INSERT INTO watcher_checkpoint (network, last_epoch) VALUES ($1, $2) ON CONFLICT (network) DO NOTHING",
    [network, epoch - 1],
  );
  return (await getWatcherCheckpoint(q, network)) ?? epoch - 1;
}

/**
 * Validators whose attestation at `epoch` was the `n`-th missed in a row (missed at epoch-n+1 ..
 * epoch, not at epoch-n): "offline for n epochs", decided once per streak.
 */
export async function offlineStreaksEndingAt(
  q: Queryable,
  network: string,
  epoch: number,
  n: number,
): Promise<Array<{ validatorIndex: number; operatorId: number }>> {
  const r = await q.query<{ validator_index: number; operator_id: number }>(
    `SELECT m.validator_index, m.operator_id FROM watcher_validator_epochs m
     WHERE m.network = $1 AND m.epoch = $2 AND m.att_slot IS NOT NULL AND m.att_included = false
       AND (SELECT count(*) FROM watcher_validator_epochs p
            WHERE p.network = $1 AND p.validator_index = m.validator_index AND p.epoch BETWEEN $2 - $3 + 1 AND $2
              AND p.att_slot IS NOT NULL AND p.att_included = false) = $3
       AND NOT EXISTS (SELECT 1 FROM watcher_validator_epochs x
            WHERE x.network = $1 AND x.validator_index = m.validator_index AND x.epoch = $2 - $3
              AND x.att_slot IS NOT NULL AND x.att_included = false)
     ORDER BY m.validator_index`,
    [network, epoch, n],
  );
  return r.rows.map((x) => ({ validatorIndex: x.validator_index, operatorId: x.operator_id }));
}

/** Alerts waiting for webhook delivery (their job may never have been queued after a crash). */
export async function pendingWebhookAlertIds(q: Queryable, network: string, limit = 500): Promise<number[]> {
  const r = await q.query<{ id: bigint }>(
    "SELECT id FROM watcher_alerts WHERE network = $1 AND webhook_state = 'pending' ORDER BY id LIMIT $2",
    [network, limit],
  );
  return r.rows.map((x) => Number(x.id));
}
