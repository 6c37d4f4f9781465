/**
 * The watcher's alert rules, as pure functions: what calls for an alert, its dedup key (an alert
 * with the same key is stored once per network), its message and details. No Redis, no database:
 * the processor reads what the rules need and stores what they return.
 */
import {
  csmPerformance,
  type DutyCounts,
  type EpochDuties,
  SLASHING_EVENT_KINDS,
  scoreSet,
  type WindowName,
} from "@poolkeeper/beacon";
import type { NewAlert } from "@poolkeeper/store";
import type { PoolKey } from "./pool-source.js";

/** A missed or orphaned block proposal of a pool validator: one alert per slot. */
export function missedProposalAlerts(
  d: Pick<EpochDuties, "epoch" | "proposals">,
  byIndex: ReadonlyMap<number, PoolKey>,
  webhook: boolean,
): NewAlert[] {
  const alerts: NewAlert[] = [];
  for (const p of d.proposals) {
    if (p.status === "proposed") continue;
    const key = byIndex.get(p.validatorIndex);
    alerts.push({
      kind: "missed_proposal",
      dedupKey: `missed_proposal:${p.slot}`,
      operatorId: key?.operatorId ?? null,
      validatorIndex: p.validatorIndex,
      epoch: d.epoch,
      message: `validator ${p.validatorIndex} ${p.status === "orphaned" ? "had its block orphaned" : "missed its proposal"} at slot ${p.slot}`,
      details: { slot: p.slot, status: p.status },
      webhook,
    });
  }
  return alerts;
}

/** A validator seen slashed (a slashing included in a block, or its state): once per validator. */
export function slashedAlerts(
  d: Pick<EpochDuties, "epoch" | "events" | "validators">,
  byIndex: ReadonlyMap<number, PoolKey>,
  webhook: boolean,
): NewAlert[] {
  const slashedSeen = new Set<number>();
  // only a slashing is a slashing: an exit (signed, or requested by the withdrawal address) is not
  for (const e of d.events) if (SLASHING_EVENT_KINDS.includes(e.kind)) slashedSeen.add(e.validatorIndex);
  for (const v of d.validators) if (v.slashed === true) slashedSeen.add(v.validatorIndex);
  return [...slashedSeen].map((v) => ({
    kind: "slashed",
    dedupKey: `slashed:${v}`,
    operatorId: byIndex.get(v)?.operatorId ?? null,
    validatorIndex: v,
    epoch: d.epoch,
    message: `validator ${v} was slashed`,
    webhook,
  }));
}

/** The alerts an epoch's duties call for by themselves (stored with the epoch). */
export function epochAlerts(
  d: EpochDuties,
  byIndex: ReadonlyMap<number, PoolKey>,
  webhook: boolean,
): NewAlert[] {
  return [...missedProposalAlerts(d, byIndex, webhook), ...slashedAlerts(d, byIndex, webhook)];
}

/**
 * "Offline for N epochs": a validator that missed its attestation in each of the N epochs ending
 * at `endEpoch`; once per streak (the dedup key names the streak's first epoch).
 */
export function validatorOfflineAlert(
  streak: { validatorIndex: number; operatorId: number },
  endEpoch: number,
  offlineEpochs: number,
  webhook: boolean,
): NewAlert {
  const fromEpoch = endEpoch - offlineEpochs + 1;
  return {
    kind: "validator_offline",
    dedupKey: `validator_offline:${streak.validatorIndex}:${fromEpoch}`,
    operatorId: streak.operatorId,
    validatorIndex: streak.validatorIndex,
    epoch: endEpoch,
    message: `validator ${streak.validatorIndex} missed ${offlineEpochs} attestations in a row (epochs ${fromEpoch}..${endEpoch})`,
    details: { fromEpoch, toEpoch: endEpoch },
    webhook,
  };
}

/** The first epoch that can end a streak of `offlineEpochs` (epochs before it have too few behind). */
export function firstOfflineEpoch(from: number, offlineEpochs: number): number {
  return Math.max(from, offlineEpochs - 1);
}

export interface UnderperformanceRule {
  /** The epoch processed (the window ends there). */
  epoch: number;
  window: WindowName;
  /** The window's length in epochs: one alert per operator per this many epochs. */
  windowEpochs: number;
  /** Alert below the network's CSM performance minus this. */
  margin: number;
  webhook: boolean;
}

/**
 * Operators whose CSM performance over the window is below the network's minus the margin. No
 * alert while the network or the operator has no score (no duties in the window).
 */
export function underperformingOperatorAlerts(
  perf: { network: DutyCounts; operators: ReadonlyArray<{ operatorId: number; counts: DutyCounts }> },
  rule: UnderperformanceRule,
): NewAlert[] {
  const net = csmPerformance(perf.network);
  if (net === null) return [];
  const alerts: NewAlert[] = [];
  for (const o of perf.operators) {
    const csm = scoreSet(o.counts).csm;
    if (csm === null || csm >= net - rule.margin) continue;
    alerts.push({
      kind: "operator_underperforming",
      // once per operator per window length of epochs
      dedupKey: `operator_underperforming:${o.operatorId}:${Math.floor(rule.epoch / rule.windowEpochs)}`,
      operatorId: o.operatorId,
      validatorIndex: null,
      epoch: rule.epoch,
      message: `operator ${o.operatorId}: CSM performance ${csm.toFixed(4)} below the network's ${net.toFixed(4)} minus ${rule.margin} over ${rule.window}`,
      details: { window: rule.window, operator: csm, network: net, margin: rule.margin },
      webhook: rule.webhook,
    });
  }
  return alerts;
}

/** A beacon node that could not be reached: once per node per hour (`nowMs`: the time of the error). */
export function beaconNodeUnreachableAlert(
  url: string,
  error: string,
  nowMs: number,
  webhook: boolean,
): NewAlert {
  const hour = Math.floor(nowMs / 3_600_000);
  return {
    kind: "beacon_node_unreachable",
    dedupKey: `beacon_node_unreachable:${url}:${hour}`,
    operatorId: null,
    validatorIndex: null,
    epoch: null,
    message: `beacon node ${url} unreachable: ${error.slice(0, 500)}`,
    details: { url },
    webhook,
  };
}
