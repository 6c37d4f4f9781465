/** The devnet's summary: the chain, the watcher's progress and each operator's attestations and alerts. */
import type { BeaconSim } from "@poolkeeper/beacon-sim";
import {
  type AlertKind,
  getWatcherCheckpoint,
  listWatcherAlerts,
  operatorPerformance,
  type Store,
} from "@poolkeeper/store";
import type { DevnetOperator, DevnetSummary } from "./context.js";

export interface SummarySource {
  chain: BeaconSim["chain"];
  store: Store;
  /** The network's name (watcher rows are keyed by it). */
  network: string;
  operators: readonly DevnetOperator[];
  poolIndices: readonly number[];
}

export async function devnetSummary(s: SummarySource): Promise<DevnetSummary> {
  const { chain, store, network, operators, poolIndices } = s;
  const head = chain.epochOf(chain.headSlot);
  const perf = await operatorPerformance(store, network, 1_000_000);
  const alerts = await listWatcherAlerts(store, network, { limit: 1000 });
  let poolActive = 0;
  for (const i of poolIndices) if (chain.isActiveAt(i, head)) poolActive++;
  return {
    headEpoch: head,
    finalizedEpoch: chain.currentFinality().finalized.epoch,
    watcherEpoch: await getWatcherCheckpoint(store, network),
    poolActive,
    poolDeposited: poolIndices.length,
    operators: operators.map((op) => {
      const p = perf.operators.find((x) => x.operatorId === op.id);
      const a: Partial<Record<AlertKind, number>> = {};
      for (const al of alerts) if (al.operatorId === op.id) a[al.kind] = (a[al.kind] ?? 0) + 1;
      return {
        id: op.id,
        name: op.name,
        validators: op.validators.length,
        attAssigned: p?.counts.attAssigned ?? 0,
        attIncluded: p?.counts.attIncluded ?? 0,
        alerts: a,
      };
    }),
  };
}

function pct(included: number, assigned: number): string {
  return assigned === 0 ? "     -" : `${((100 * included) / assigned).toFixed(1).padStart(5)}%`;
}

/** The summary as printed: one line for the pool, one per operator. */
export function summaryLines(s: DevnetSummary): string[] {
  const lines = [
    `epoch ${s.headEpoch} (finalized ${s.finalizedEpoch}, watcher at ${s.watcherEpoch ?? "-"}): ` +
      `${s.poolActive}/${s.poolDeposited} pool validators active`,
  ];
  for (const op of s.operators) {
    const kinds = Object.entries(op.alerts).map(([k, n]) => `${k} ${n}`);
    lines.push(
      `  operator ${op.id} ${op.name.padEnd(18)} ${String(op.validators).padStart(3)} validators  ` +
        `attestations ${`${op.attIncluded}/${op.attAssigned}`.padStart(9)} ${pct(op.attIncluded, op.attAssigned)}  ` +
        `alerts ${kinds.length === 0 ? "0" : kinds.join(", ")}`,
    );
  }
  return lines;
}
