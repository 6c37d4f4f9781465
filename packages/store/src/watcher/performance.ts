import { ATT_FLAG, decodeAttFlags } from "../registry/lifecycle.js";
import type { Queryable } from "../store.js";
import {
  ALERT_COLS,
  ALERT_KINDS,
  type AlertKind,
  alertFromDb,
  type DutyCountsRow,
  type WatcherAlertRow,
} from "./repo.js";

/**
 * Read side of the watcher's tables, for the admin API and the CLI: duty counts per operator and
 * for the network over a window of epochs, one validator's epoch history and counts, and alerts.
 * Scores (Rated effectiveness, CSM performance) are computed from these counts by
 * @poolkeeper/beacon's `scoreSet`, so one formula serves the watcher, the API and the tests.
 */

export interface EpochRange {
  /** First and last epoch (inclusive) of the window actually covered, null when nothing processed. */
  fromEpoch: number;
  toEpoch: number;
  processedEpochs: number;
}

export interface OperatorWindowCounts {
  operatorId: number;
  /** Validators the operator had in the last processed epoch of the window. */
  validators: number;
  counts: DutyCountsRow;
  balanceDeltaGwei: bigint;
}

export interface PerformanceWindow {
  range: EpochRange | null;
  network: DutyCountsRow;
  operators: OperatorWindowCounts[];
}

const COUNT_SUMS = `COALESCE(sum(att_assigned), 0) AS att_assigned, COALESCE(sum(att_included), 0) AS att_included,
  COALESCE(sum(att_weight_assigned), 0) AS att_weight_assigned, COALESCE(sum(att_weight_included), 0) AS att_weight_included,
  COALESCE(sum(att_correctness_sum), 0) AS att_correctness_sum, COALESCE(sum(att_delay_score_sum), 0) AS att_delay_score_sum,
  COALESCE(sum(att_effectiveness_sum), 0) AS att_effectiveness_sum, COALESCE(sum(proposals_assigned), 0) AS proposals_assigned,
  COALESCE(sum(proposals_made), 0) AS proposals_made, COALESCE(sum(sync_assigned), 0) AS sync_assigned,
  COALESCE(sum(sync_included), 0) AS sync_included`;

interface CountSumsRow {
  att_assigned: bigint | string | number;
  att_included: bigint | string | number;
  att_weight_assigned: number | string;
  att_weight_included: number | string;
  att_correctness_sum: number | string;
  att_delay_score_sum: number | string;
  att_effectiveness_sum: number | string;
  proposals_assigned: bigint | string | number;
  proposals_made: bigint | string | number;
  sync_assigned: bigint | string | number;
  sync_included: bigint | string | number;
}

function countsFrom(r: CountSumsRow | undefined): DutyCountsRow {
  const n = (v: unknown): number => (v === undefined || v === null ? 0 : Number(v));
  return {
    attAssigned: n(r?.att_assigned),
    attIncluded: n(r?.att_included),
    attWeightAssigned: n(r?.att_weight_assigned),
    attWeightIncluded: n(r?.att_weight_included),
    attCorrectnessSum: n(r?.att_correctness_sum),
    attDelayScoreSum: n(r?.att_delay_score_sum),
    attEffectivenessSum: n(r?.att_effectiveness_sum),
    proposalsAssigned: n(r?.proposals_assigned),
    proposalsMade: n(r?.proposals_made),
    syncAssigned: n(r?.sync_assigned),
    syncIncluded: n(r?.sync_included),
  };
}

/** The last `windowEpochs` epochs up to `toEpoch` (default: the last processed one). */
export async function windowRange(
  q: Queryable,
  network: string,
  windowEpochs: number,
  toEpoch?: number,
): Promise<EpochRange | null> {
  if (!Number.isInteger(windowEpochs) || windowEpochs <= 0)
    throw new RangeError("windowEpochs must be a positive integer");
  let to = toEpoch;
  if (to === undefined) {
    const r = await q.query<{ m: bigint | null }>(
      "SELECT max(epoch) AS m FROM watcher_network_epochs WHERE network = $1",
      [network],
    );
    const m = r.rows[0]?.m;
    if (m === null || m === undefined) return null;
    to = Number(m);
  }
  const from = Math.max(0, to - windowEpochs + 1);
  const c = await q.query<{ n: bigint }>(
    "SELECT count(*) AS n FROM watcher_network_epochs WHERE network = $1 AND epoch BETWEEN $2 AND $3",
    [network, from, to],
  );
  return { fromEpoch: from, toEpoch: to, processedEpochs: Number(c.rows[0]?.n ?? 0n) };
}

/** Every operator's duty counts over the window, and the network's over the same epochs. */
export async function operatorPerformance(
  q: Queryable,
  network: string,
  windowEpochs: number,
  opts: { toEpoch?: number; operatorId?: number } = {},
): Promise<PerformanceWindow> {
  const range = await windowRange(q, network, windowEpochs, opts.toEpoch);
  if (range === null) return { range: null, network: countsFrom(undefined), operators: [] };
  const net = await q.query<CountSumsRow>(
    `SELECT ${COUNT_SUMS} FROM watcher_network_epochs WHERE network = $1 AND epoch BETWEEN $2 AND $3`,
    [network, range.fromEpoch, range.toEpoch],
  );
  const ops = await q.query<
    CountSumsRow & { operator_id: number; validators: number; balance_delta: string | null }
  >(
    `SELECT operator_id, ${COUNT_SUMS},
       (array_agg(validators ORDER BY epoch DESC))[1] AS validators,
       COALESCE(sum(balance_delta_gwei), 0)::text AS balance_delta
     FROM watcher_operator_epochs
     WHERE network = $1 AND epoch BETWEEN $2 AND $3 AND ($4::int IS NULL OR operator_id = $4)
     GROUP BY operator_id ORDER BY operator_id`,
    [network, range.fromEpoch, range.toEpoch, opts.operatorId ?? null],
  );
  return {
    range,
    network: countsFrom(net.rows[0]),
    operators: ops.rows.map((r) => ({
      operatorId: r.operator_id,
      validators: Number(r.validators),
      counts: countsFrom(r),
      balanceDeltaGwei: BigInt(r.balance_delta ?? "0"),
    })),
  };
}

export interface ValidatorRef {
  validatorIndex?: number;
  /** 48 bytes, or hex with or without 0x. */
  pubkey?: Uint8Array | string;
}

export interface WatchedValidator {
  validatorIndex: number;
  pubkey: Uint8Array;
  operatorId: number;
  /** First epoch with duties seen by the watcher. */
  firstEpoch: number;
  /** Last epoch with duties when the chain has set an exit (exit epoch - 1), else null. */
  lastEpoch: number | null;
  /** Latest status seen other than active_ongoing (null: active_ongoing or not yet seen). */
  status: string | null;
}

function pubkeyHex(p: Uint8Array | string): string {
  if (typeof p !== "string") return Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString("hex");
  const h = p.startsWith("0x") ? p.slice(2) : p;
  if (!/^[0-9a-fA-F]{96}$/.test(h)) throw new RangeError("pubkey: expected 48 bytes of hex");
  return h.toLowerCase();
}

export async function findWatchedValidator(
  q: Queryable,
  network: string,
  ref: ValidatorRef,
): Promise<WatchedValidator | null> {
  const r = await q.query<{
    validator_index: number;
    pubkey: Uint8Array;
    operator_id: number;
    first_epoch: bigint;
    exit_epoch: bigint | null;
    status: string | null;
  }>(
    `SELECT validator_index, pubkey, operator_id, first_epoch, exit_epoch, status FROM watcher_validators
     WHERE network = $1 AND (($2::int IS NOT NULL AND validator_index = $2) OR ($3::text IS NOT NULL AND pubkey = decode($3, 'hex')))`,
    [network, ref.validatorIndex ?? null, ref.pubkey === undefined ? null : pubkeyHex(ref.pubkey)],
  );
  const row = r.rows[0];
  if (row === undefined) return null;
  return {
    validatorIndex: row.validator_index,
    pubkey: new Uint8Array(row.pubkey),
    operatorId: row.operator_id,
    firstEpoch: Number(row.first_epoch),
    lastEpoch: row.exit_epoch === null ? null : Number(row.exit_epoch) - 1,
    status: row.status,
  };
}

export interface ValidatorEpochHistoryRow {
  epoch: number;
  /** null: no attestation duty recorded for this epoch. */
  attestation: {
    slot: number | null;
    included: boolean;
    inclusionDelay: number | null;
    optimalDelay: number | null;
    sourceCorrect: boolean;
    targetCorrect: boolean;
    headCorrect: boolean;
    rewardsGwei: { source: bigint; target: bigint; head: bigint } | null;
  } | null;
  proposals: { assigned: number; made: number; slots: number[] };
  sync: { assigned: number; included: number };
  balanceDeltaGwei: bigint | null;
  status: string | null;
  events: string[];
}

/**
 * One validator's epochs, newest first: processed epochs while it was in the pool, each either its
 * stored row or (no row) a perfect attestation.
 */
export async function validatorEpochHistory(
  q: Queryable,
  network: string,
  ref: ValidatorRef,
  opts: { fromEpoch?: number; toEpoch?: number; limit?: number } = {},
): Promise<{ validator: WatchedValidator; epochs: ValidatorEpochHistoryRow[] } | null> {
  const v = await findWatchedValidator(q, network, ref);
  if (v === null) return null;
  const from = Math.max(v.firstEpoch, opts.fromEpoch ?? 0);
  const to = Math.min(v.lastEpoch ?? Number.MAX_SAFE_INTEGER, opts.toEpoch ?? Number.MAX_SAFE_INTEGER);
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 10_000);
  const r = await q.query<{
    epoch: bigint;
    has_row: boolean;
    att_slot: bigint | null;
    att_included: boolean | null;
    att_delay: number | null;
    att_optimal_delay: number | null;
    att_flags: number | null;
    reward_source_gwei: bigint | null;
    reward_target_gwei: bigint | null;
    reward_head_gwei: bigint | null;
    proposals_assigned: number | null;
    proposals_made: number | null;
    proposal_slots: Array<bigint | string | number> | null;
    sync_assigned: number | null;
    sync_included: number | null;
    balance_delta_gwei: bigint | null;
    status: string | null;
    events: string[] | null;
  }>(
    `SELECT n.epoch, (e.epoch IS NOT NULL) AS has_row, e.att_slot, e.att_included, e.att_delay, e.att_optimal_delay,
       e.att_flags, e.reward_source_gwei, e.reward_target_gwei, e.reward_head_gwei, e.proposals_assigned,
       e.proposals_made, e.proposal_slots, e.sync_assigned, e.sync_included, e.balance_delta_gwei, e.status, e.events
     FROM watcher_network_epochs n
     LEFT JOIN watcher_validator_epochs e
       ON e.network = n.network AND e.epoch = n.epoch AND e.validator_index = $2
     WHERE n.network = $1 AND n.epoch BETWEEN $3 AND $4
     ORDER BY n.epoch DESC LIMIT $5`,
    [network, v.validatorIndex, from, to, limit],
  );
  const epochs = r.rows.map((x): ValidatorEpochHistoryRow => {
    if (!x.has_row) {
      return {
        epoch: Number(x.epoch),
        attestation: {
          slot: null,
          included: true,
          inclusionDelay: null,
          optimalDelay: 1,
          sourceCorrect: true,
          targetCorrect: true,
          headCorrect: true,
          rewardsGwei: null,
        },
        proposals: { assigned: 0, made: 0, slots: [] },
        sync: { assigned: 0, included: 0 },
        balanceDeltaGwei: null,
        status: null,
        events: [],
      };
    }
    const flags = x.att_flags ?? 0;
    return {
      epoch: Number(x.epoch),
      attestation:
        x.att_slot === null
          ? null
          : {
              slot: Number(x.att_slot),
              included: x.att_included === true,
              inclusionDelay: x.att_delay,
              optimalDelay: x.att_optimal_delay,
              ...decodeAttFlags(flags),
              rewardsGwei:
                x.reward_source_gwei === null
                  ? null
                  : {
                      source: BigInt(x.reward_source_gwei),
                      target: BigInt(x.reward_target_gwei ?? 0n),
                      head: BigInt(x.reward_head_gwei ?? 0n),
                    },
            },
      proposals: {
        assigned: x.proposals_assigned ?? 0,
        made: x.proposals_made ?? 0,
        slots: (x.proposal_slots ?? []).map(Number),
      },
      sync: { assigned: x.sync_assigned ?? 0, included: x.sync_included ?? 0 },
      balanceDeltaGwei: x.balance_delta_gwei === null ? null : BigInt(x.balance_delta_gwei),
      status: x.status,
      events: x.events ?? [],
    };
  });
  return { validator: v, epochs };
}

/**
 * One validator's duty counts over a window, rebuilt from its stored rows (no row = perfect). Its
 * duties weigh 1 each (its rows keep no effective balance; its scores are ratios of its own duties).
 */
export async function validatorWindowCounts(
  q: Queryable,
  network: string,
  ref: ValidatorRef,
  windowEpochs: number,
  toEpoch?: number,
): Promise<{ validator: WatchedValidator; range: EpochRange | null; counts: DutyCountsRow } | null> {
  const v = await findWatchedValidator(q, network, ref);
  if (v === null) return null;
  const range = await windowRange(q, network, windowEpochs, toEpoch);
  if (range === null) return { validator: v, range: null, counts: countsFrom(undefined) };
  const from = Math.max(range.fromEpoch, v.firstEpoch);
  const to = Math.min(range.toEpoch, v.lastEpoch ?? Number.MAX_SAFE_INTEGER);
  const r = await q.query<{
    epochs: bigint;
    rows_att: bigint;
    inc: bigint;
    corr: number | null;
    delay: number | null;
    eff: number | null;
    pa: bigint | null;
    pm: bigint | null;
    sa: bigint | null;
    si: bigint | null;
  }>(
    `WITH e AS (
       SELECT * FROM watcher_validator_epochs WHERE network = $1 AND validator_index = $2 AND epoch BETWEEN $3 AND $4
     ), f AS (
       SELECT *, ((sign(att_flags & ${ATT_FLAG.source}) + sign(att_flags & ${ATT_FLAG.target}) + sign(att_flags & ${ATT_FLAG.head}))::float8 / 3) AS c FROM e
       WHERE att_slot IS NOT NULL
     )
     SELECT
       (SELECT count(*) FROM watcher_network_epochs WHERE network = $1 AND epoch BETWEEN $3 AND $4) AS epochs,
       (SELECT count(*) FROM f) AS rows_att,
       (SELECT count(*) FROM f WHERE att_included) AS inc,
       (SELECT sum(c) FROM f WHERE att_included) AS corr,
       (SELECT sum(1.0 / GREATEST(att_optimal_delay, 1)) FROM f WHERE att_included) AS delay,
       (SELECT sum(c / GREATEST(att_optimal_delay, 1)) FROM f WHERE att_included) AS eff,
       (SELECT sum(proposals_assigned) FROM e) AS pa, (SELECT sum(proposals_made) FROM e) AS pm,
       (SELECT sum(sync_assigned) FROM e) AS sa, (SELECT sum(sync_included) FROM e) AS si`,
    [network, v.validatorIndex, from, to],
  );
  const x = r.rows[0];
  const epochs = to < from ? 0 : Number(x?.epochs ?? 0n);
  const perfect = Math.max(0, epochs - Number(x?.rows_att ?? 0n));
  return {
    validator: v,
    range,
    counts: {
      attAssigned: epochs,
      attIncluded: perfect + Number(x?.inc ?? 0n),
      attWeightAssigned: epochs,
      attWeightIncluded: perfect + Number(x?.inc ?? 0n),
      attCorrectnessSum: perfect + Number(x?.corr ?? 0),
      attDelayScoreSum: perfect + Number(x?.delay ?? 0),
      attEffectivenessSum: perfect + Number(x?.eff ?? 0),
      proposalsAssigned: Number(x?.pa ?? 0n),
      proposalsMade: Number(x?.pm ?? 0n),
      syncAssigned: Number(x?.sa ?? 0n),
      syncIncluded: Number(x?.si ?? 0n),
    },
  };
}

export interface AlertFilter {
  operatorId?: number;
  kind?: AlertKind;
  /** Only alerts created at or after. */
  since?: Date;
  /** Page: alerts with id below this (newest first). */
  beforeId?: number;
  limit?: number;
}

export async function listWatcherAlerts(
  q: Queryable,
  network: string,
  f: AlertFilter = {},
): Promise<WatcherAlertRow[]> {
  if (f.kind !== undefined && !ALERT_KINDS.includes(f.kind))
    throw new RangeError(`kind: must be one of ${ALERT_KINDS.join(", ")}`);
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const r = await q.query<Parameters<typeof alertFromDb>[0]>(
    `SELECT ${ALERT_COLS} FROM watcher_alerts
     WHERE network = $1 AND ($2::int IS NULL OR operator_id = $2) AND ($3::text IS NULL OR kind = $3)
       AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::bigint IS NULL OR id < $5)
     ORDER BY id DESC LIMIT $6`,
    [network, f.operatorId ?? null, f.kind ?? null, f.since ?? null, f.beforeId ?? null, limit],
  );
  return r.rows.map(alertFromDb);
}

/** A validator's duty counts over an oracle frame (frameDutyShortfalls). */
export interface FrameValidatorCounts {
  validatorIndex: number;
  operatorId: number;
  counts: DutyCountsRow;
}

/**
 * For an oracle frame [fromEpoch, toEpoch]: the epochs the watcher processed in it, the
 * network's counts, and the counts of the pool validators that fell short in it (a missed
 * attestation, proposal or sync duty). A validator without such a row was perfect (the watcher
 * writes rows only for imperfect epochs and events); attestations are counted over the epochs of
 * the frame it had duties in, weighing 1 each (a validator's ratio is of its own duties).
 */
export async function frameDutyShortfalls(
  q: Queryable,
  network: string,
  fromEpoch: number,
  toEpoch: number,
): Promise<{ processedEpochs: number; network: DutyCountsRow; validators: FrameValidatorCounts[] }> {
  const net = await q.query<CountSumsRow & { epochs: bigint | string }>(
    `SELECT count(*) AS epochs, ${COUNT_SUMS} FROM watcher_network_epochs WHERE network = $1 AND epoch BETWEEN $2 AND $3`,
    [network, fromEpoch, toEpoch],
  );
  const r = await q.query<{
    validator_index: number;
    operator_id: number;
    epochs: string | number;
    missed: string | number;
    pa: string | number;
    pm: string | number;
    sa: string | number;
    si: string | number;
  }>(
    `SELECT e.validator_index, e.operator_id,
       (LEAST($3::bigint, COALESCE(v.exit_epoch - 1, $3::bigint)) - GREATEST($2::bigint, v.first_epoch) + 1) AS epochs,
       count(*) FILTER (WHERE e.att_slot IS NOT NULL AND NOT e.att_included) AS missed,
       COALESCE(sum(e.proposals_assigned), 0) AS pa, COALESCE(sum(e.proposals_made), 0) AS pm,
       COALESCE(sum(e.sync_assigned), 0) AS sa, COALESCE(sum(e.sync_included), 0) AS si
     FROM watcher_validator_epochs e
     JOIN watcher_validators v ON v.network = e.network AND v.validator_index = e.validator_index
     WHERE e.network = $1 AND e.epoch BETWEEN $2 AND $3
     GROUP BY e.validator_index, e.operator_id, v.first_epoch, v.exit_epoch
     HAVING count(*) FILTER (WHERE e.att_slot IS NOT NULL AND NOT e.att_included) > 0
        OR sum(e.proposals_made) < sum(e.proposals_assigned) OR sum(e.sync_included) < sum(e.sync_assigned)
     ORDER BY e.validator_index`,
    [network, fromEpoch, toEpoch],
  );
  return {
    processedEpochs: Number(net.rows[0]?.epochs ?? 0),
    network: countsFrom(net.rows[0]),
    validators: r.rows.map((x) => {
      const assigned = Math.max(Number(x.epochs), Number(x.missed));
      const included = assigned - Number(x.missed);
      return {
        validatorIndex: x.validator_index,
        operatorId: x.operator_id,
        counts: {
          ...countsFrom(undefined),
          attAssigned: assigned,
          attIncluded: included,
          attWeightAssigned: assigned,
          attWeightIncluded: included,
          proposalsAssigned: Number(x.pa),
          proposalsMade: Number(x.pm),
          syncAssigned: Number(x.sa),
          syncIncluded: Number(x.si),
        },
      };
    }),
  };
}
