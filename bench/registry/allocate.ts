/**
 * MinFirst allocation: 100,000 deposits over 1,000 operators (target ≤ 1 s).
 *   1. the pure algorithm (water-filling by levels) against a naive one-deposit-at-a-time loop and
 *      Lido's step-by-step loop, same inputs, results checked equal;
 *   2. registry.allocateDepositBatchRefs() through the database (PGlite in memory, and PostgreSQL when reachable
 *      at TEST_DATABASE_URL / postgres://postgres@127.0.0.1:5432/test): one transaction that locks,
 *      counts, allocates and deposits 100,000 keys (the batch row with their ids, key_states moved
 *      to deposited, counts, audit); then reading the batch's deposit data back (getDepositBatch), and
 *      allocateDepositBatch(1000) with its deposit data; against naive one-deposit-per-call allocation (a
 *      sample of calls, extrapolated); and the deposit statement with and without its check of
 *      every key against the pool's identity, alternating in the same run.
 * Run: node --import tsx bench/registry/allocate.ts [deposits] [operators]
 *
 * Imports the packages by path: the root package does not depend on the workspace packages.
 */
import { randomBytes } from "node:crypto";
import { loadNetwork } from "../../packages/core/src/index.js";
import { fundPool, keysWei } from "../../packages/ledger/src/testing.js";
import { allocateMinFirst, allocateMinFirstStepwise, Registry } from "../../packages/registry/src/index.js";
import {
  insertDepositBatch,
  insertKeys,
  openStore,
  type Store,
  setChangeContext,
} from "../../packages/store/src/index.js";
import { createTestDatabase } from "../../packages/store/src/testing.js";

const DEPOSITS = Number(process.argv[2] ?? 100_000);
const OPERATORS = Number(process.argv[3] ?? 1_000);
const NAIVE_CALLS = 200;

function ms(t0: number): number {
  return performance.now() - t0;
}

function best(runs: number, fn: () => void): number {
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    b = Math.min(b, ms(t0));
  }
  return b;
}

/** Deterministic pseudo-random (xorshift) so every run allocates the same thing. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** One deposit at a time: scan for the lowest fill with room, lower index on ties. */
function naiveLoop(fills: number[], caps: number[], n: number): number[] {
  const f = [...fills];
  for (let d = 0; d < n; d++) {
    let best = -1;
    for (let i = 0; i < f.length; i++) {
      if (f[i]! < caps[i]! && (best < 0 || f[i]! < f[best]!)) best = i;
    }
    if (best < 0) break;
    f[best]!++;
  }
  return f;
}

function pure(): void {
  const r = rng(42);
  // A realistic pool: a few big operators, many small ones; room of 0..250 each.
  const fills = Array.from({ length: OPERATORS }, (_, i) =>
    i < 20 ? 5000 + Math.floor(r() * 5000) : Math.floor(r() * 400),
  );
  const caps = fills.map((f) => f + Math.floor(r() * 250));
  let room = 0;
  for (let i = 0; i < OPERATORS; i++) room += caps[i]! - fills[i]!;
  const n = Math.min(DEPOSITS, room);
  const fast = allocateMinFirst(fills, caps, n).fills;
  const naive = naiveLoop(fills, caps, n);
  const lido = allocateMinFirstStepwise(fills, caps, n);
  const same = JSON.stringify(fast) === JSON.stringify(lido);
  const tFast = best(20, () => allocateMinFirst(fills, caps, n));
  const tNaive = best(3, () => naiveLoop(fills, caps, n));
  const tLido = best(3, () => allocateMinFirstStepwise(fills, caps, n));
  const naiveSame = JSON.stringify(naive) === JSON.stringify(fast);
  console.log(`\n== pure MinFirst: ${n} deposits over ${OPERATORS} operators (room ${room})`);
  console.log(`  allocateMinFirst (levels)      ${tFast.toFixed(2)} ms   (target ≤ 1000 ms)`);
  console.log(`  Lido step-by-step loop         ${tLido.toFixed(2)} ms   same result: ${same}`);
  console.log(`  naive one deposit at a time    ${tNaive.toFixed(2)} ms   same result: ${naiveSame}`);
  console.log(
    `  speed-up vs naive: ${(tNaive / tFast).toFixed(0)}x, vs Lido loop: ${(tLido / tFast).toFixed(0)}x`,
  );
  if (!same) throw new Error("allocateMinFirst differs from Lido's loop");
}

const NETWORK = loadNetwork("hoodi");
const WC = new Uint8Array(32);
WC[0] = 1;
WC.fill(7, 12);

/** 1,000 operators with vetted keys (fake but well-formed deposit data: allocation does not verify). */
async function seed(store: Store, keysPerOperator: number): Promise<void> {
  const t0 = performance.now();
  const r = rng(7);
  const reward = Buffer.from("0f51bb10119727a7e5ea3538074fb341f56b09ad", "hex");
  await store.transaction(async (tx) => {
    await setChangeContext(tx, "bench", "seed");
    const names = Array.from({ length: OPERATORS }, (_, i) => `bench-${i}`);
    await tx.query(
      `INSERT INTO operators (name, reward_address, vetted_limit)
       SELECT n, decode($2, 'hex'), $3 FROM unnest($1::text[]) AS n`,
      [names, reward.toString("hex"), keysPerOperator],
    );
    const ops = (await tx.query<{ id: number }>("SELECT id FROM operators ORDER BY id")).rows;
    const rows = [];
    for (const op of ops) {
      // Uneven room: between half and all of keysPerOperator.
      const n = Math.floor(keysPerOperator * (0.5 + r() / 2));
      for (let k = 0; k < n; k++) {
        rows.push({
          pubkey: randomBytes(48),
          withdrawalCredentials: WC,
          amountGwei: 32_000_000_000n,
          signature: randomBytes(96),
          depositMessageRoot: randomBytes(32),
          depositDataRoot: randomBytes(32),
          forkVersion: NETWORK.genesisForkVersion,
          networkName: NETWORK.name,
          depositCliVersion: "2.7.0",
        });
      }
      await insertKeys(tx, op.id, rows);
      rows.length = 0;
    }
    await tx.query("UPDATE key_states SET state = 'vetted', prev_state = state, updated_at = now()");
  });
  const n = (await store.query<{ n: bigint }>("SELECT count(*) AS n FROM keys WHERE state = 'vetted'"))
    .rows[0]!.n;
  console.log(`  seeded ${OPERATORS} operators, ${n} vetted keys in ${(ms(t0) / 1000).toFixed(1)} s`);
}

/**
 * What the pool-identity check costs the statement that picks and deposits the keys: the same
 * insertDepositBatch of every key still vetted, with and without the check, in the order
 * without, with, with, without, … (a drift in time weighs on both), each rolled back and followed
 * by a VACUUM so that every run starts from the same table; the best of 3 each.
 */
async function identityCheckCost(store: Store): Promise<void> {
  const vetted = (
    await store.query<{ operator_id: number; n: bigint }>(
      "SELECT operator_id, count(*) AS n FROM keys WHERE state = 'vetted' GROUP BY operator_id ORDER BY operator_id",
    )
  ).rows;
  const ops = vetted.map((r) => r.operator_id);
  const counts = vetted.map((r) => Number(r.n));
  const total = counts.reduce((a, b) => a + b, 0);
  const identity = {
    withdrawalCredentials: WC,
    forkVersion: NETWORK.genesisForkVersion,
    networkName: NETWORK.name,
  };
  const fastest = { without: Number.POSITIVE_INFINITY, with: Number.POSITIVE_INFINITY };
  await store.exec("VACUUM");
  for (const mode of ["without", "with", "with", "without", "without", "with"] as const) {
    await store
      .transaction(async (tx) => {
        await setChangeContext(tx, "bench", "identity check cost");
        const t0 = performance.now();
        const r = await insertDepositBatch(
          tx,
          "bench",
          ops,
          counts,
          false,
          mode === "with" ? identity : undefined,
        );
        fastest[mode] = Math.min(fastest[mode], ms(t0));
        if (r?.keys?.length !== total) throw new Error("identity check bench: batch not inserted");
        throw new Error("rollback");
      })
      .catch((e: Error) => {
        if (e.message !== "rollback") throw e;
      });
    await store.exec("VACUUM");
  }
  console.log(
    `  deposit statement for the ${total} keys left: ${fastest.without.toFixed(0)} ms without the pool-identity check, ${fastest.with.toFixed(0)} ms with it (best of 3 each)`,
  );
}

async function throughDb(label: string, store: Store): Promise<void> {
  console.log(`\n== registry allocation on ${label}: ${DEPOSITS} deposits over ${OPERATORS} operators`);
  const perOp = Math.ceil((DEPOSITS * 2.2) / OPERATORS);
  await seed(store, perOp);
  await store.exec("ANALYZE");
  // every batch is paid from the pool's buffer: stake for all of them first
  const payer = await fundPool(store, keysWei(NAIVE_CALLS + DEPOSITS + 1000));
  const registry = new Registry({ store, payer }, { network: NETWORK, withdrawalCredentials: WC });

  // Naive: one deposit per call (each its own transaction, lock and count), sampled.
  const t1 = performance.now();
  for (let i = 0; i < NAIVE_CALLS; i++) await registry.allocateDepositBatch(1, "bench-naive");
  const perCall = ms(t1) / NAIVE_CALLS;

  const t0 = performance.now();
  const batch = await registry.allocateDepositBatchRefs(DEPOSITS, "bench");
  const tBatch = ms(t0);
  const ids = new Set(batch.keys.map((k) => k.keyId));
  const t3 = performance.now();
  const read = await registry.getDepositBatch(batch.id);
  const tRead = ms(t3);
  const t2 = performance.now();
  const small = await registry.allocateDepositBatch(1000, "bench");
  const tSmall = ms(t2);
  console.log(
    `  allocateDepositBatchRefs(${DEPOSITS})  ${tBatch.toFixed(0)} ms   (${batch.perOperator.length} operators, ${ids.size} distinct keys; target ≤ 1000 ms)`,
  );
  console.log(
    `  getDepositBatch (read its ${read.keys.length} keys' deposit data back) ${tRead.toFixed(0)} ms`,
  );
  console.log(
    `  allocateDepositBatch(1000) with deposit data ${tSmall.toFixed(0)} ms   (${small.perOperator.length} operators)`,
  );
  console.log(
    `  naive allocateDepositBatch(1) × ${NAIVE_CALLS}          ${perCall.toFixed(1)} ms per deposit → ${((perCall * DEPOSITS) / 1000).toFixed(0)} s for ${DEPOSITS} (extrapolated)`,
  );
  console.log(`  speed-up vs naive: ${((perCall * DEPOSITS) / tBatch).toFixed(0)}x`);
  await identityCheckCost(store);
}

async function main(): Promise<void> {
  pure();
  const lite = await openStore({ inMemory: true });
  try {
    await throughDb("PGlite (in memory)", lite);
  } finally {
    await lite.close();
  }
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  try {
    db = await createTestDatabase();
  } catch (e) {
    console.log(`\n(PostgreSQL not reachable, skipped: ${e instanceof Error ? e.message : String(e)})`);
  }
  if (db !== undefined) {
    const pg = await openStore({ databaseUrl: db.url });
    try {
      await throughDb("PostgreSQL 15 (loopback)", pg);
    } finally {
      await pg.close();
      await db.drop();
    }
  }
}

await main();
