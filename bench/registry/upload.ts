/**
 * Upload + validate 10,000 deposit-data entries for one operator (target ≤ 5 s):
 * registry.uploadKeys() end to end (launchpad checks, batched BLS verification, known-key lookup,
 * bulk insert with history rows in one transaction) on PGlite and on PostgreSQL when reachable;
 * against the same upload with one-by-one signature verification (batch size 1), same run.
 * The entries are generated first (not timed) from cheap interop-style secret keys
 * (sha256(i) mod r), signed with native blst.
 * Run: node --import tsx bench/registry/upload.ts [entries]
 *
 * Imports the packages by path: the root package does not depend on the workspace packages.
 */
import { createHash } from "node:crypto";
import { fromHex, loadNetwork } from "../../packages/core/src/index.js";
import {
  buildDepositData,
  type DepositDataJson,
  withdrawalCredentials,
} from "../../packages/keys/src/index.js";
import { checkUpload, Registry } from "../../packages/registry/src/index.js";
import { createTestDatabase, openStore, type Store } from "../../packages/store/src/index.js";

const N = Number(process.argv[2] ?? 10_000);
const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
const NETWORK = loadNetwork("hoodi");
const WC = withdrawalCredentials({
  type: 1,
  address: fromHex("0f51bb10119727a7e5ea3538074fb341f56b09ad", "address", 20),
});
const REWARD = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";

function secretKey(i: number): Uint8Array {
  const v = (BigInt(`0x${createHash("sha256").update(`upload-bench:${i}`).digest("hex")}`) % (R - 1n)) + 1n;
  return fromHex(v.toString(16).padStart(64, "0"), "secretKey", 32);
}

function generate(n: number): DepositDataJson[] {
  const out: DepositDataJson[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      buildDepositData({
        secretKey: secretKey(i),
        withdrawalCredentials: WC,
        amountGwei: 32_000_000_000n,
        network: NETWORK,
      }),
    );
  }
  return out;
}

async function timedUpload(store: Store, data: unknown, verifyBatchSize?: number): Promise<number> {
  const registry = new Registry(
    { store },
    { network: NETWORK, withdrawalCredentials: WC },
    verifyBatchSize === undefined ? {} : { verifyBatchSize },
  );
  const op = await registry.createOperator({ name: "bench", rewardAddress: REWARD }, "bench");
  const t0 = performance.now();
  const r = await registry.uploadKeys(op.id, data, "bench");
  const t = performance.now() - t0;
  if (r.count !== N) throw new Error(`stored ${r.count} of ${N}`);
  return t;
}

async function onPglite(data: unknown, verifyBatchSize?: number): Promise<number> {
  const store = await openStore({ inMemory: true });
  try {
    return await timedUpload(store, data, verifyBatchSize);
  } finally {
    await store.close();
  }
}

async function onPostgres(data: unknown): Promise<number | undefined> {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  try {
    db = await createTestDatabase();
  } catch (e) {
    console.log(`(PostgreSQL not reachable, skipped: ${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
  const store = await openStore({ databaseUrl: db.url });
  try {
    return await timedUpload(store, data);
  } finally {
    await store.close();
    await db.drop();
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const data = JSON.parse(JSON.stringify(generate(N))) as unknown;
  console.log(
    `generated ${N} deposit-data entries in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed below)`,
  );

  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s (${Math.round((N * 1000) / ms)} keys/s)`;
  const opts = { network: NETWORK, withdrawalCredentials: WC };
  let t = performance.now();
  await checkUpload(data, opts);
  const vBatch = performance.now() - t;
  t = performance.now();
  await checkUpload(data, { ...opts, batchSize: 1 });
  const vOne = performance.now() - t;

  const lite = await onPglite(data);
  const liteOne = await onPglite(data, 1);
  const pg = await onPostgres(data);

  console.log(`\n== upload + validate ${N} keys for one operator (target ≤ 5 s)`);
  console.log(`  uploadKeys, PGlite, batched BLS          ${s(lite)}`);
  if (pg !== undefined) console.log(`  uploadKeys, PostgreSQL, batched BLS      ${s(pg)}`);
  console.log(`  uploadKeys, PGlite, one-by-one BLS       ${s(liteOne)}`);
  console.log(`  validation only, batched (256/batch)     ${s(vBatch)}`);
  console.log(`  validation only, one by one              ${s(vOne)}`);
  console.log(
    `  batched vs one-by-one validation: ${(vOne / vBatch).toFixed(1)}x faster; upload end to end ${(liteOne / lite).toFixed(1)}x`,
  );
}

await main();
