/**
 * Processing of one finalized epoch: the pool's validators and their duties from the beacon nodes,
 * stored in one transaction (an epoch is stored once, whoever processes it), then alerts, key state
 * changes and metrics.
 */
import {
  type BeaconNodePool,
  countsByValidator,
  csmPerformance,
  type DutyCounts,
  type EpochDuties,
  EpochDutiesReader,
  emptyAggregate,
  ratedScores,
  resolvePubkeys,
  scoreSet,
  type WindowName,
  windowEpochs,
} from "@poolkeeper/beacon";
import type { Logger } from "@poolkeeper/core";
import {
  type EpochRecord,
  insertWatcherAlert,
  isWatcherEpochProcessed,
  knownValidatorIndices,
  type NewAlert,
  offlineStreaksEndingAt,
  operatorPerformance,
  type Queryable,
  type Store,
  saveWatcherEpoch,
  type ValidatorEpochInput,
} from "@poolkeeper/store";
import type { WatcherMetrics } from "./metrics.js";
import { type KeyStateChange, keyStateFor, type PoolKey, type PoolSource } from "./pool-source.js";

export interface WatcherSettings {
  network: string;
  /** Alert when a validator missed this many attestations in a row (default 3). */
  offlineEpochs: number;
  /** Alert when an operator's 1-day CSM performance is below the network's minus this (default 0.05). */
  underperformanceMargin: number;
  /** Alerts are marked for webhook delivery. */
  webhook: boolean;
}

export interface ProcessorDeps {
  beacon: BeaconNodePool;
  store: Store;
  pool: PoolSource;
  logger?: Logger;
  metrics?: WatcherMetrics;
  /** Called with the ids of alerts stored for webhook delivery. */
  onAlerts?: (ids: number[]) => Promise<void>;
}

export interface EpochOutcome {
  epoch: number;
  saved: boolean;
  poolValidators: number;
  missedAttestations: number;
  missedProposals: number;
  alerts: number;
  keyStateChanges: number;
  checkpoint: number | null;
}

const ATT_SOURCE = 1;
const ATT_TARGET = 2;
const ATT_HEAD = 4;

export class EpochProcessor {
  private readonly reader: EpochDutiesReader;
  private readonly indexCache = new Map<string, number>();
  /** Validator indices known to be in watcher_validators (only new ones are written). */
  private readonly stored = new Set<number>();
  private storedLoaded = false;

  constructor(
    private readonly deps: ProcessorDeps,
    readonly settings: WatcherSettings,
  ) {
    this.reader = new EpochDutiesReader(deps.beacon);
  }

  /** pubkey → validator index for the pool's keys (known ones from the database, new ones from the chain). */
  async resolve(keys: readonly PoolKey[]): Promise<Map<string, number>> {
    if (!this.storedLoaded) {
      for (const [pk, i] of await knownValidatorIndices(this.deps.store, this.settings.network)) {
        this.indexCache.set(pk, i);
        this.stored.add(i);
      }
      this.storedLoaded = true;
    }
    const unknown = keys.filter((k) => !this.indexCache.has(k.pubkey)).map((k) => `0x${k.pubkey}`);
    if (unknown.length > 0) {
      const found = await resolvePubkeys(this.deps.beacon, unknown, { stateId: "finalized" });
      for (const [pk, i] of found) this.indexCache.set(pk.slice(2), i);
    }
    const out = new Map<string, number>();
    for (const k of keys) {
      const i = this.indexCache.get(k.pubkey);
      if (i !== undefined) out.set(k.pubkey, i);
    }
    return out;
  }

  async process(epoch: number): Promise<EpochOutcome> {
    const { store, logger, metrics } = this.deps;
    const network = this.settings.network;
    const skipped: EpochOutcome = {
      epoch,
      saved: false,
      poolValidators: 0,
      missedAttestations: 0,
      missedProposals: 0,
      alerts: 0,
      keyStateChanges: 0,
      checkpoint: null,
    };
    if (await isWatcherEpochProcessed(store, network, epoch)) return skipped;
    const t0 = performance.now();

    const keys = await this.deps.pool.keys();
    const indexOf = await this.resolve(keys);
    const byIndex = new Map<number, PoolKey>();
    for (const k of keys) {
      const i = indexOf.get(k.pubkey);
      if (i !== undefined) byIndex.set(i, k);
    }
    const indices = [...byIndex.keys()].sort((a, b) => a - b);
    // rewards only where the attestation was not perfect: only those rows are stored
    const duties = await this.reader.epochDuties(epoch, { validators: indices, rewards: "exceptions" });
    const rec = this.record(epoch, duties, byIndex);
    const res = await saveWatcherEpoch(store, rec, {
      onCheckpointAdvance: (tx, from, to) => this.offlineAlerts(tx, from, to),
    });
    for (const v of rec.newValidators) this.stored.add(v.validatorIndex);
    if (!res.saved) return { ...skipped, checkpoint: res.checkpoint };

    // after the epoch is stored: operator vs network over one day, key states, webhooks, metrics
    const alertIds = [...res.alertIds];
    alertIds.push(...(await this.operatorAlerts(epoch)));
    const changes = await this.applyKeyStates(duties, byIndex);
    if (this.settings.webhook && alertIds.length > 0) await this.deps.onAlerts?.(alertIds);

    const missedAtt = duties.attestations.filter((a) => !a.included);
    const missedProp = duties.proposals.filter((p) => p.status !== "proposed");
    if (metrics !== undefined) {
      metrics.epochSeconds.observe((performance.now() - t0) / 1000);
      metrics.epochsProcessed.inc();
      metrics.lastProcessedEpoch.set(
        Math.max(epoch, (await metrics.lastProcessedEpoch.get()).values[0]?.value ?? 0),
      );
      if (res.checkpoint !== null) metrics.checkpointEpoch.set(res.checkpoint);
      metrics.poolValidators.set(duties.attestations.length);
      for (const a of missedAtt)
        metrics.missedAttestations.inc({ operator: String(byIndex.get(a.validatorIndex)?.operatorId) });
      for (const p of missedProp)
        metrics.missedProposals.inc({ operator: String(byIndex.get(p.validatorIndex)?.operatorId) });
      for (const a of rec.alerts) metrics.alerts.inc({ kind: a.kind });
    }
    logger?.info(
      {
        epoch,
        validators: indices.length,
        missedAttestations: missedAtt.length,
        missedProposals: missedProp.length,
        alerts: alertIds.length,
      },
      "epoch processed",
    );
    return {
      epoch,
      saved: true,
      poolValidators: indices.length,
      missedAttestations: missedAtt.length,
      missedProposals: missedProp.length,
      alerts: alertIds.length,
      keyStateChanges: changes.length,
      checkpoint: res.checkpoint,
    };
  }

  /** The stored form of an epoch: operator counts, the pool's validators, and non-perfect rows. */
  record(epoch: number, d: EpochDuties, byIndex: Map<number, PoolKey>): EpochRecord {
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
      if (!this.stored.has(v)) {
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
      const flags =
        a === undefined
          ? null
          : (a.sourceCorrect ? ATT_SOURCE : 0) |
            (a.targetCorrect ? ATT_TARGET : 0) |
            (a.headCorrect ? ATT_HEAD : 0);
      const perfect = a?.included && flags === 7 && a.optimalDelay === 1;
      const notable =
        !perfect ||
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

    const alerts: NewAlert[] = [];
    const webhook = this.settings.webhook;
    for (const p of d.proposals) {
      if (p.status === "proposed") continue;
      const key = byIndex.get(p.validatorIndex);
      alerts.push({
        kind: "missed_proposal",
        dedupKey: `missed_proposal:${p.slot}`,
        operatorId: key?.operatorId ?? null,
        validatorIndex: p.validatorIndex,
        epoch,
        message: `validator ${p.validatorIndex} ${p.status === "orphaned" ? "had its block orphaned" : "missed its proposal"} at slot ${p.slot}`,
        details: { slot: p.slot, status: p.status },
        webhook,
      });
    }
    const slashedSeen = new Set<number>();
    for (const e of d.events) if (e.kind !== "voluntary_exit") slashedSeen.add(e.validatorIndex);
    for (const v of d.validators) if (v.slashed === true) slashedSeen.add(v.validatorIndex);
    for (const v of slashedSeen) {
      const key = byIndex.get(v);
      alerts.push({
        kind: "slashed",
        dedupKey: `slashed:${v}`,
        operatorId: key?.operatorId ?? null,
        validatorIndex: v,
        epoch,
        message: `validator ${v} was slashed`,
        webhook,
      });
    }

    return {
      network: this.settings.network,
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

  /** "offline for N epochs": decided when the checkpoint passes an epoch, once per streak. */
  private async offlineAlerts(tx: Queryable, from: number, to: number): Promise<NewAlert[]> {
    const N = this.settings.offlineEpochs;
    const out: NewAlert[] = [];
    for (let e = Math.max(from, N - 1); e <= to; e++) {
      for (const s of await offlineStreaksEndingAt(tx, this.settings.network, e, N)) {
        out.push({
          kind: "validator_offline",
          dedupKey: `validator_offline:${s.validatorIndex}:${e - N + 1}`,
          operatorId: s.operatorId,
          validatorIndex: s.validatorIndex,
          epoch: e,
          message: `validator ${s.validatorIndex} missed ${N} attestations in a row (epochs ${e - N + 1}..${e})`,
          details: { fromEpoch: e - N + 1, toEpoch: e },
          webhook: this.settings.webhook,
        });
      }
    }
    return out;
  }

  /** Operators whose 1-day CSM performance is below the network's minus the margin. */
  private async operatorAlerts(epoch: number): Promise<number[]> {
    const spec = this.deps.beacon.spec;
    const window: WindowName = "1d";
    const w = windowEpochs(window, spec.secondsPerSlot, spec.slotsPerEpoch);
    const perf = await operatorPerformance(this.deps.store, this.settings.network, w, { toEpoch: epoch });
    const net = csmPerformance(perf.network);
    const ids: number[] = [];
    const m = this.deps.metrics;
    if (net !== null) m?.networkCsmPerformance.set({ window }, net);
    for (const o of perf.operators) {
      const s = scoreSet(o.counts);
      if (m !== undefined) {
        if (s.csm !== null) m.operatorCsmPerformance.set({ operator: String(o.operatorId), window }, s.csm);
        const eff = ratedScores(o.counts).effectiveness;
        if (eff !== null) m.operatorEffectiveness.set({ operator: String(o.operatorId), window }, eff);
      }
      if (net === null || s.csm === null || s.csm >= net - this.settings.underperformanceMargin) continue;
      const id = await insertWatcherAlert(this.deps.store, this.settings.network, {
        kind: "operator_underperforming",
        // once per operator per window length of epochs
        dedupKey: `operator_underperforming:${o.operatorId}:${Math.floor(epoch / w)}`,
        operatorId: o.operatorId,
        validatorIndex: null,
        epoch,
        message: `operator ${o.operatorId}: CSM performance ${s.csm.toFixed(4)} below the network's ${net.toFixed(4)} minus ${this.settings.underperformanceMargin} over ${window}`,
        details: { window, operator: s.csm, network: net, margin: this.settings.underperformanceMargin },
        webhook: this.settings.webhook,
      });
      if (id !== null) {
        ids.push(id);
        m?.alerts.inc({ kind: "operator_underperforming" });
      }
    }
    return ids;
  }

  /**
   * Move registry key states to what the epoch's statuses call for. The states are read again just
   * before (another worker may have moved them meanwhile, and the registry refuses a whole call
   * with one transition it does not allow); a refusal is retried on fresh states. The epoch is
   * already stored: a failure here is logged, and the next epoch's statuses make up for it.
   */
  private async applyKeyStates(d: EpochDuties, byIndex: Map<number, PoolKey>): Promise<KeyStateChange[]> {
    if (
      d.validators.every((v) => v.status === null || v.status === "active_ongoing") &&
      [...byIndex.values()].every((k) => k.keyState === "active")
    ) {
      return [];
    }
    for (let attempt = 0; ; attempt++) {
      const fresh = new Map((await this.deps.pool.keys()).map((k) => [k.pubkey, k.keyState]));
      for (const k of byIndex.values()) k.keyState = fresh.get(k.pubkey) ?? k.keyState;
      const changes = this.keyStateChanges(d, byIndex);
      if (changes.length === 0) return changes;
      try {
        await this.deps.pool.setKeyStates(changes);
        return changes;
      } catch (e) {
        if (attempt >= 2) {
          this.deps.logger?.warn(
            { epoch: d.epoch, err: e instanceof Error ? e.message : String(e) },
            "key states not updated; the next epoch will retry",
          );
          return [];
        }
      }
    }
  }

  private keyStateChanges(d: EpochDuties, byIndex: Map<number, PoolKey>): KeyStateChange[] {
    const out: KeyStateChange[] = [];
    for (const v of d.validators) {
      const key = byIndex.get(v.validatorIndex);
      if (key === undefined || v.status === null) continue;
      const to = keyStateFor(v.status, v.slashed === true, key.keyState);
      if (to !== null) {
        out.push({
          pubkey: key.pubkey,
          to,
          reason: `beacon status ${v.status} at the end of epoch ${d.epoch}`,
        });
      }
    }
    return out;
  }
}

/** Store an alert that the beacon nodes could not be reached (once per node per hour). */
export async function nodeUnreachableAlert(
  store: Store,
  network: string,
  url: string,
  error: string,
  webhook: boolean,
): Promise<number | null> {
  const hour = Math.floor(Date.now() / 3_600_000);
  return insertWatcherAlert(store, network, {
    kind: "beacon_node_unreachable",
    dedupKey: `beacon_node_unreachable:${url}:${hour}`,
    operatorId: null,
    validatorIndex: null,
    epoch: null,
    message: `beacon node ${url} unreachable: ${error.slice(0, 500)}`,
    details: { url },
    webhook,
  });
}
