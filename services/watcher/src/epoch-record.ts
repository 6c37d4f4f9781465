/**
 * Record building: the stored form of one epoch (`EpochRecord`, saved in one transaction by
 * `saveWatcherEpoch`) from the duties the beacon nodes reported. Pure: no Redis, no database.
 */
import {
  countsByValidator,
  type DutyCounts,
  type EpochDuties,
  emptyAggregate,
  isPerfectAttestation,
} from "@poolkeeper/beacon";
import { type EpochRecord, encodeAttFlags, type NewAlert, type ValidatorEpochInput } from "@poolkeeper/store";
import type { PoolKey } from "./pool-source.js";

export interface EpochRecordInput {
  network: string;
  duties: EpochDuties;
  /** The pool's validators by index. */
  byIndex: ReadonlyMap<number, PoolKey>;
  /** Validator indices already in watcher_validators (only new ones are written). */
  stored: ReadonlySet<number>;
  /** Alerts stored with the epoch. */
  alerts: NewAlert[];
}

/** The stored form of an epoch: operator counts, the pool's validators, and non-perfect rows. */
export function buildEpochRecord({
  network,
  duties: d,
  byIndex,
  stored,
  alerts,
}: EpochRecordInput): EpochRecord {
  const epoch = d.epoch;
  const perValidator = countsByValidator(d);
  const opCounts = new Map<number, { validators: number; counts: DutyCounts; balance: bigint | null }>();
  const state = new Map(d.validators.map((v) => [v.validatorIndex, v]));
  const attBy = new Map(d.attestations.map((a) => [a.validatorIndex, a]));
  const propBy = new Map<number, typeof d.proposals>();
  for (const p of d.proposals) propBy.set(p.validatorIndex, [...(propBy.get(p.validatorIndex) ?? []), p]);
  const syncBy = new Map(d.sync.map((s) => [s.validatorIndex, s]));
  const eventsBy = new Map<number, string[]>();
  for (const e of d.events)
    eventsBy.set(e.validatorIndex, [...(eventsBy.get(e.validatorIndex) ?? []), e.kind]);

  const newValidators: EpochRecord["newValidators"] = [];
  const dutyIndices: number[] = [];
  const exceptions: ValidatorEpochInput[] = [];
  const withDuty = new Set<number>([...attBy.keys(), ...propBy.keys(), ...syncBy.keys()]);
  for (const v of [...withDuty].sort((a, b) => a - b)) {
    const key = byIndex.get(v);
    if (key === undefined) continue;
    const st = state.get(v);
    const delta =
      st?.balanceStart !== null && st?.balanceStart !== undefined && st.balanceEnd !== null
        ? st.balanceEnd - st.balanceStart
        : null;
    let op = opCounts.get(key.operatorId);
    if (op === undefined) {
      op = { validators: 0, counts: emptyAggregate(), balance: null };
      opCounts.set(key.operatorId, op);
    }
    op.validators++;
    const c = perValidator.get(v);
    if (c !== undefined) for (const k of Object.keys(c) as (keyof DutyCounts)[]) op.counts[k] += c[k];
    if (delta !== null) op.balance = (op.balance ?? 0n) + delta;
    dutyIndices.push(v);
    if (!stored.has(v)) {
      newValidators.push({
        validatorIndex: v,
        pubkey: Buffer.from(key.pubkey, "hex"),
        operatorId: key.operatorId,
      });
    }

    const a = attBy.get(v);
    const props = propBy.get(v) ?? [];
    const sync = syncBy.get(v);
    const events = eventsBy.get(v) ?? [];
    const flags = a === undefined ? null : encodeAttFlags(a);
    const notable =
      a === undefined ||
      !isPerfectAttestation(a) ||
      props.length > 0 ||
      sync !== undefined ||
      events.length > 0 ||
      (st?.status !== null && st?.status !== undefined && st.status !== "active_ongoing") ||
      st?.slashed === true;
    if (!notable) continue;
    exceptions.push({
      validatorIndex: v,
      operatorId: key.operatorId,
      attSlot: a?.slot ?? null,
      attIncluded: a?.included ?? null,
      attDelay: a?.inclusionDelay ?? null,
      attOptimalDelay: a?.optimalDelay ?? null,
      attFlags: flags,
      rewardSourceGwei: a?.rewards?.source ?? null,
      rewardTargetGwei: a?.rewards?.target ?? null,
      rewardHeadGwei: a?.rewards?.head ?? null,
      proposalsAssigned: props.length,
      proposalsMade: props.filter((p) => p.status === "proposed").length,
      proposalSlots: props.map((p) => p.slot),
      syncAssigned: sync?.assigned ?? 0,
      syncIncluded: sync?.included ?? 0,
      balanceDeltaGwei: delta,
      status: st?.status ?? null,
      events,
    });
  }

  return {
    network,
    epoch,
    networkCounts: d.network,
    operators: [...opCounts.entries()].map(([operatorId, o]) => ({
      operatorId,
      validators: o.validators,
      counts: o.counts,
      balanceDeltaGwei: o.balance,
    })),
    poolValidators: dutyIndices.length,
    dutyIndices,
    newValidators,
    statuses: d.validators
      .filter((v) => v.status !== null && v.status !== "active_ongoing" && byIndex.has(v.validatorIndex))
      .map((v) => ({
        validatorIndex: v.validatorIndex,
        status: v.status as string,
        exitEpoch: v.exitEpoch,
      })),
    exceptions,
    alerts,
  };
}
