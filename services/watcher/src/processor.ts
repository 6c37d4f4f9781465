/**
 * Processing of one finalized epoch: the pool's validators and their duties from the beacon nodes,
 * stored in one transaction (an epoch is stored once, whoever processes it), then alerts, key state
 * changes and metrics. The parts: record building (epoch-record.ts), the alert rules
 * (alert-rules.ts) and key-state sync (key-state-sync.ts); this module reads and stores.
 */
import {
  type BeaconNodePool,
  csmPerformance,
  EpochDutiesReader,
  type ExecutionLayerAdapter,
  getPendingDeposits,
  ratedScores,
  resolvePubkeys,
  scoreSet,
  type WindowName,
  windowEpochs,
} from "@poolkeeper/beacon";
import { fromHex, type Logger } from "@poolkeeper/core";
import {
  insertWatcherAlert,
  isWatcherEpochProcessed,
  knownValidatorIndices,
  type NewAlert,
  offlineStreaksEndingAt,
  operatorPerformance,
  type Queryable,
  type Store,
  saveWatcherEpoch,
} from "@poolkeeper/store";
import {
  beaconNodeUnreachableAlert,
  epochAlerts,
  firstOfflineEpoch,
  underperformingOperatorAlerts,
  validatorOfflineAlert,
} from "./alert-rules.js";
import { buildEpochRecord } from "./epoch-record.js";
import { followExitRequests } from "./exit-follow.js";
import { syncKeyStates } from "./key-state-sync.js";
import type { WatcherMetrics } from "./metrics.js";
import type { ChainDepositSeen, PoolKey, PoolSource } from "./pool-source.js";

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
  /** Sends the pool's EIP-7002 withdrawal requests for late exits (ORACLE_EL_ENV). */
  execution?: Pick<ExecutionLayerAdapter, "submitWithdrawalRequest">;
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
    const rec = buildEpochRecord({
      network,
      duties,
      byIndex,
      stored: this.stored,
      alerts: epochAlerts(duties, byIndex, this.settings.webhook),
    });
    const res = await saveWatcherEpoch(store, rec, {
      onCheckpointAdvance: (tx, from, to) => this.offlineAlerts(tx, from, to),
    });
    for (const v of rec.newValidators) this.stored.add(v.validatorIndex);
    if (!res.saved) return { ...skipped, checkpoint: res.checkpoint };

    // after the epoch is stored: operator vs network over one day, key states, webhooks, metrics
    const alertIds = [...res.alertIds];
    alertIds.push(...(await this.operatorAlerts(epoch)));
    const changes = await syncKeyStates(this.deps.pool, duties, byIndex, logger);
    await followExitRequests({ store, execution: this.deps.execution, logger }, duties);
    await this.recordPendingDeposits(epoch, keys, indexOf);
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

  /**
   * Deposited keys with no validator yet whose deposit waits in the finalized state's
   * pending_deposits (Electra and later): recorded on the key once, the first pending deposit of
   * its pubkey (the one the chain keeps the credentials of). Read only while such keys exist; a
   * failure is logged (the next epoch tries again), as the epoch is already stored.
   */
  private async recordPendingDeposits(
    epoch: number,
    keys: readonly PoolKey[],
    indexOf: ReadonlyMap<string, number>,
  ): Promise<number> {
    const { pool, beacon, logger } = this.deps;
    if (pool.recordChainDeposits === undefined) return 0;
    // the finalized state (at or after epoch + 2) has pending deposits from Electra on
    if (epoch + 2 < beacon.config.ELECTRA_FORK_EPOCH) return 0;
    const waiting = new Set(
      keys
        .filter((k) => k.keyState === "deposited" && k.chainDepositSeen !== true && !indexOf.has(k.pubkey))
        .map((k) => k.pubkey),
    );
    if (waiting.size === 0) return 0;
    try {
      const list = await getPendingDeposits(beacon, { stateId: "finalized" });
      const seen = new Map<string, ChainDepositSeen>();
      for (const d of list?.items ?? []) {
        const pk = d.pubkey.slice(2);
        if (!waiting.has(pk) || seen.has(pk)) continue;
        seen.set(pk, {
          pubkey: pk,
          slot: d.slot,
          amountGwei: d.amount,
          withdrawalCredentials: fromHex(d.withdrawalCredentials, "withdrawalCredentials", 32),
          seenEpoch: epoch,
        });
      }
      if (seen.size > 0) {
        await pool.recordChainDeposits([...seen.values()]);
        for (const k of keys) if (seen.has(k.pubkey)) k.chainDepositSeen = true;
        logger?.info({ epoch, keys: seen.size }, "pending deposits of pool keys seen on chain");
      }
      return seen.size;
    } catch (e) {
      logger?.warn(
        { epoch, err: e instanceof Error ? e.message : String(e) },
        "pending deposits not read; the next epoch will retry",
      );
      return 0;
    }
  }

  /** "offline for N epochs": decided when the checkpoint passes an epoch, once per streak. */
  private async offlineAlerts(tx: Queryable, from: number, to: number): Promise<NewAlert[]> {
    const N = this.settings.offlineEpochs;
    const out: NewAlert[] = [];
    for (let e = firstOfflineEpoch(from, N); e <= to; e++) {
      for (const s of await offlineStreaksEndingAt(tx, this.settings.network, e, N)) {
        out.push(validatorOfflineAlert(s, e, N, this.settings.webhook));
      }
    }
    return out;
  }

  /** Operators whose 1-day CSM performance is below the network's minus the margin; scores as metrics. */
  private async operatorAlerts(epoch: number): Promise<number[]> {
    const spec = this.deps.beacon.spec;
    const window: WindowName = "1d";
    const w = windowEpochs(window, spec.secondsPerSlot, spec.slotsPerEpoch);
    const perf = await operatorPerformance(this.deps.store, this.settings.network, w, { toEpoch: epoch });
    const m = this.deps.metrics;
    if (m !== undefined) {
      const net = csmPerformance(perf.network);
      if (net !== null) m.networkCsmPerformance.set({ window }, net);
      for (const o of perf.operators) {
        const operator = String(o.operatorId);
        const csm = scoreSet(o.counts).csm;
        if (csm !== null) m.operatorCsmPerformance.set({ operator, window }, csm);
        const eff = ratedScores(o.counts).effectiveness;
        if (eff !== null) m.operatorEffectiveness.set({ operator, window }, eff);
      }
    }
    const alerts = underperformingOperatorAlerts(perf, {
      epoch,
      window,
      windowEpochs: w,
      margin: this.settings.underperformanceMargin,
      webhook: this.settings.webhook,
    });
    const ids: number[] = [];
    for (const alert of alerts) {
      const id = await insertWatcherAlert(this.deps.store, this.settings.network, alert);
      if (id !== null) {
        ids.push(id);
        m?.alerts.inc({ kind: alert.kind });
      }
    }
    return ids;
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
  return insertWatcherAlert(store, network, beaconNodeUnreachableAlert(url, error, Date.now(), webhook));
}
