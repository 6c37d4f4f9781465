/**
 * Upload + validate 10,000 deposit-data entries for one operator (target ≤ 5 s):
 * registry.uploadKeys() end to end (launchpad checks, chunked BLS verification on the signature
 * worker, known-key lookup, bulk insert with history rows in one transaction) on PGlite and on
 * PostgreSQL when reachable, each split into validation and database time (the registry's
 * "keys uploaded" log line), with wall and CPU time (CPU of this process, all threads: the
 * PostgreSQL server's own CPU is not in it). Peers in the same run: validation on the calling
 * thread (verifyDepositData, sync), and one-by-one verification (chunk size 1).
 * The entries are generated first (not timed) from cheap interop-style secret keys
 * (sha256(i) mod r), signed with native blst.
 * Run: node --import tsx bench/registry/upload.ts [entries]   (BENCH_ROUNDS=3: best of 3)
 *
 * Imports the packages by path: the root package does not depend on the workspace packages.
 */
import { createHash } from "node:crypto";
import { loadavg } from "node:os";
import { Writable } from "node:stream";
import { createLogger, fromHex, loadNetwork } from "../../packages/core/src/index.js";
import {
  buildDepositData,
  type DepositDataJson,
  verifyDepositData,
  withdrawalCredentials,
} from "../../packages/keys/src/index.js";
import { checkUpload, Registry } from "../../packages/registry/src/index.js";
import { openStore, type Store } from "../../packages/store/src/index.js";
import { createTestDatabase } from "../../packages/store/src/testing.js";

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

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));

interface Timing {
  wallMs: number;
  cpuMs: number;
  /** Of an upload: validation (checkUpload) and the rest (known-key lookup, insert, commit). */
  validationMs?: number;
  dbMs?: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function measure(f: () => Promise<unknown> | unknown): Promise<Timing> {
  const c = cpuMs();
  const t = performance.now();
  await f();
  return { wallMs: performance.now() - t, cpuMs: cpuMs() - c };
}

async function best(f: () => Promise<Timing>): Promise<Timing> {
  let b: Timing | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    const t = await f();
    if (b === undefined || t.wallMs < b.wallMs) b = t;
  }
  return b as Timing;
}

async function timedUpload(store: Store, data: unknown, verifyChunkSize?: number): Promise<Timing> {
  let validationMs: number | undefined;
  const logger = createLogger({
    name: "bench",
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        const line = JSON.parse(chunk.toString()) as { msg?: string; validationMs?: number };
        if (line.msg === "keys uploaded") validationMs = line.validationMs;
        done();
      },
    }),
  });
  const registry = new Registry(
    { store, logger },
    { network: NETWORK, withdrawalCredentials: WC },
    verifyChunkSize === undefined ? {} : { verifyChunkSize },
  );
  const op = await registry.createOperator({ name: "bench", rewardAddress: REWARD }, "bench");
  let count = 0;
  const t = await measure(async () => {
    count = (await registry.uploadKeys(op.id, data, "bench")).count;
  });
  if (count !== N) throw new Error(`stored ${count} of ${N}`);
  await new Promise((r) => setImmediate(r)); // the log line is written
  if (validationMs === undefined) throw new Error("no 'keys uploaded' log line");
  return { ...t, validationMs, dbMs: t.wallMs - validationMs };
}

async function onPglite(data: unknown, verifyChunkSize?: number): Promise<Timing> {
  const store = await openStore({ inMemory: true });
  try {
    return await timedUpload(store, data, verifyChunkSize);
  } finally {
    await store.close();
  }
}

async function onPostgres(data: unknown): Promise<Timing | undefined> {
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
  const load0 = loadavg();

  const opts = { network: NETWORK, withdrawalCredentials: WC };
  const vChunked = await best(() => measure(() => checkUpload(data, opts)));
  const vSync = await best(() =>
    measure(() => verifyDepositData(data, { network: NETWORK, expectedWithdrawalCredentials: WC })),
  );
  const vOne = await measure(() => checkUpload(data, { ...opts, chunkSize: 1 }));

  const lite = await best(() => onPglite(data));
  const pg = await onPostgres(data);
  const pgBest =
    pg === undefined ? undefined : ROUNDS === 1 ? pg : await best(async () => (await onPostgres(data)) ?? pg);
  const liteOne = await onPglite(data, 1);
  const load1 = loadavg();

  const s = (ms: number) => `${(ms / 1000).toFixed(2).padStart(6)} s`;
  const row = (name: string, t: Timing) =>
    console.log(
      `  ${name.padEnd(40)} wall ${s(t.wallMs)} (${String(Math.round((N * 1000) / t.wallMs)).padStart(5)} keys/s)  cpu ${s(t.cpuMs)}` +
        (t.validationMs === undefined ? "" : `  = validation ${s(t.validationMs)} + db ${s(t.dbMs ?? 0)}`),
    );
  console.log(
    `\n== upload + validate ${N} keys for one operator (target ≤ 5 s wall)${ROUNDS > 1 ? `, best of ${ROUNDS}` : ""}`,
  );
  console.log(
    `  load average ${load0.map((l) => l.toFixed(2)).join(" ")} at start, ${load1.map((l) => l.toFixed(2)).join(" ")} at end (2 cores)`,
  );
  row("uploadKeys, PGlite, chunked BLS", lite);
  if (pgBest !== undefined) row("uploadKeys, PostgreSQL, chunked BLS", pgBest);
  row("uploadKeys, PGlite, one-by-one BLS", liteOne);
  row("validation, chunked (signature worker)", vChunked);
  row("validation, chunked on the caller (sync)", vSync);
  row("validation, one by one", vOne);
  console.log(
    `  chunked vs one-by-one: validation ${(vOne.wallMs / vChunked.wallMs).toFixed(1)}x faster; upload end to end ${(liteOne.wallMs / lite.wallMs).toFixed(1)}x`,
  );
}

await main();
