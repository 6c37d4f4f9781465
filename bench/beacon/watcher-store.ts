/**
 * Storing one processed epoch for a large pool (default 500,000 validators, 2% of them with a
 * non-perfect duty): the watcher's design (counts per operator, rows only for what was not
 * perfect, validators written once) against the naive one (an upsert of every validator every
 * epoch), on PostgreSQL (TEST_DATABASE_URL) and PGlite.
 *
 *   node --import tsx bench/beacon/watcher-store.ts [validators] [kinds=postgres,pglite]
 */
import { type EpochRecord, type StoreKind, saveWatcherEpoch } from "../../packages/store/src/index.js";
import { createTestStore } from "../../packages/store/src/testing.js";

const n = Number(process.argv[2] ?? 500_000);
const kinds = (process.argv[3] ?? "postgres,pglite").split(",") as StoreKind[];
const exceptionsPerEpoch = Math.floor(n / 50);
const secs = (t: number) => `${((performance.now() - t) / 1000).toFixed(2)} s`;
const counts = {
  attAssigned: n,
  attIncluded: n - exceptionsPerEpoch,
  attWeightAssigned: n,
  attWeightIncluded: n - exceptionsPerEpoch,
  attCorrectnessSum: n,
  attDelayScoreSum: n,
  attEffectivenessSum: n,
  proposalsAssigned: 32,
  proposalsMade: 32,
  syncAssigned: 0,
  syncIncluded: 0,
};
const all = Array.from({ length: n }, (_, i) => {
  const pk = new Uint8Array(48);
  new DataView(pk.buffer).setUint32(0, i);
  return { validatorIndex: i, pubkey: pk, operatorId: i % 100 };
});
const dutyIndices = all.map((v) => v.validatorIndex);

function record(epoch: number, first: boolean): EpochRecord {
  return {
    network: "bench",
    epoch,
    networkCounts: counts,
    operators: Array.from({ length: 100 }, (_, o) => ({
      operatorId: o,
      validators: n / 100,
      counts,
      balanceDeltaGwei: 1n,
    })),
    poolValidators: n,
    dutyIndices,
    newValidators: first ? all : [],
    statuses: [],
    exceptions: Array.from({ length: exceptionsPerEpoch }, (_, i) => ({
      validatorIndex: i * 50,
      operatorId: (i * 50) % 100,
      attSlot: epoch * 32,
      attIncluded: false,
      attDelay: null,
      attOptimalDelay: null,
      attFlags: 0,
      rewardSourceGwei: -1n,
      rewardTargetGwei: -1n,
      rewardHeadGwei: 0n,
      proposalsAssigned: 0,
      proposalsMade: 0,
      proposalSlots: [],
      syncAssigned: 0,
      syncIncluded: 0,
      balanceDeltaGwei: -5n,
      status: "active_ongoing",
      events: [],
    })),
    alerts: [],
  };
}

console.log(
  `watcher store bench: ${n.toLocaleString()} pool validators, ${exceptionsPerEpoch.toLocaleString()} non-perfect per epoch`,
);
for (const kind of kinds) {
  const store = await createTestStore(kind);
  try {
    let t = performance.now();
    await saveWatcherEpoch(store, record(10, true));
    console.log(`${kind}: first epoch (every validator seen for the first time): ${secs(t)}`);
    t = performance.now();
    for (const e of [11, 12, 13]) await saveWatcherEpoch(store, record(e, false));
    console.log(`${kind}: next epochs: ${((performance.now() - t) / 3000).toFixed(2)} s each`);
    // naive peer: every validator upserted every epoch (a two-column table: a lower bound of its cost)
    await store.exec("CREATE TABLE IF NOT EXISTS naive_validators (idx int PRIMARY KEY, last_epoch bigint)");
    t = performance.now();
    for (const e of [11, 12]) {
      for (let i = 0; i < n; i += 5000) {
        const c = dutyIndices.slice(i, i + 5000);
        await store.query(
          `INSERT INTO naive_validators (idx, last_epoch) SELECT u, $2 FROM unnest($1::int[]) AS u
           ON CONFLICT (idx) DO UPDATE SET last_epoch = EXCLUDED.last_epoch`,
          [c, e],
        );
      }
    }
    console.log(
      `${kind}: naive (upsert every validator every epoch): ${((performance.now() - t) / 2000).toFixed(2)} s each`,
    );
  } finally {
    await store.dispose();
  }
}
