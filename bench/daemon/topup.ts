/**
 * The operator daemon: (a) the time from a deposit batch that consumes 1,000 of an operator's keys
 * to its supply being topped up again (derive, pbkdf2 keystores at the EIP-2335 cost, deposit data,
 * keystores delivered in Teku's layout, upload with the registry's checks; vetting not counted),
 * against `poolkeeper keys generate` (generateKeys, in process) for the same 1,000 indices of the
 * same mnemonic in the same run: target ≤ 110%. (b) The time from an exit request (POST /v1/exits)
 * to the signed exit accepted by beacon-sim (in its pool), p50 and worst of 100.
 * Needs PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 *
 *   node --import tsx bench/daemon/topup.ts [keys=1000] [exits=100]
 *
 * Imports the daemon's test harness by path (the admin API on a socket, beacon-sim, an operator).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiClient } from "../../packages/contract/src/index.js";
import { generateKeys } from "../../packages/keys/src/index.js";
import { readState, startOperatorDaemon } from "../../services/operator-daemon/src/index.js";
import { daemonSettings, initTestDaemon, pubkeysOf } from "../../services/operator-daemon/test/fixtures.js";
import { activate, Captured, POOL_WC, startPool } from "../../services/operator-daemon/test/harness.js";

const [KEYS, EXITS] = [1000, 100].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number];
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const pool = await startPool();
const out = mkdtempSync(join(tmpdir(), "pk-bench-daemon-"));
try {
  const d = await initTestDaemon(pool, { lowWater: KEYS, batchSize: KEYS });
  const logs = new Captured();
  const daemon = await startOperatorDaemon(
    await daemonSettings(d.dir, {
      DAEMON_KDF_COST: "0", // EIP-2335's pbkdf2 c = 262144
      DAEMON_POLL_SECONDS: "0.05",
      LOG_LEVEL: "info",
      BEACON_URLS: pool.sim.url,
      DAEMON_PRESET: "minimal",
    }),
    { logger: logs.logger("daemon") },
  );
  const admin = createApiClient({ baseUrl: pool.apiUrl, token: pool.admin });
  const supply = async () => {
    const k = (await admin.getOperator({ params: { id: d.operatorId } })).data.keys;
    return (k.submitted ?? 0) + (k.vetted ?? 0);
  };
  const until = async (check: () => Promise<boolean>, ms = 10) => {
    while (!(await check())) await new Promise((r) => setTimeout(r, ms));
  };
  process.stdout.write(`daemon topup: first fill of ${KEYS} keys…\n`);
  await until(async () => (await supply()) >= KEYS, 50);

  // (a) a batch consumes KEYS keys; the daemon tops up
  await admin.vetKeys({ params: { id: d.operatorId }, body: {} });
  await admin.submitToPool({
    body: {
      account: "0x5afe000000000000000000000000000000005afe",
      amount: (BigInt(KEYS) * 32n * 10n ** 18n).toString(),
    },
  });
  const t0 = performance.now();
  await admin.allocateDepositBatch({ body: { count: KEYS } });
  await until(async () => (await supply()) >= KEYS && (await readState(d.dir)).pending === null, 100);
  const topup = performance.now() - t0;

  // the same indices with `keys generate`'s code path (pbkdf2 at the same cost)
  const g0 = performance.now();
  await generateKeys({
    mnemonic: d.mnemonic,
    network: pool.network,
    startIndex: KEYS,
    count: KEYS,
    withdrawalAddress: POOL_WC.slice(12),
    kdf: { function: "pbkdf2" },
    keystorePassword: "bench keystore password",
    outDir: join(out, "generate"),
  });
  const generate = performance.now() - g0;
  process.stdout.write(
    `daemon topup: ${KEYS} keys consumed → topped up in ${secs(topup)}; keys generate for the same ${KEYS}: ${secs(generate)}; ratio ${((100 * topup) / generate).toFixed(1)}% (target ≤ 110%)\n`,
  );

  // (b) exit requests → the signed exit in beacon-sim's pool
  const pks = pubkeysOf(d.mnemonic, EXITS);
  const idx = pool.sim.chain.addValidators(
    pks.map((p) => Uint8Array.from(Buffer.from(p, "hex"))),
    POOL_WC,
  );
  activate(pool, idx, 1024);
  for (const [k, i] of idx.entries()) await pool.recordValidator(i, pks[k]!, d.operatorId);
  const times: number[] = [];
  for (const v of idx) {
    const s0 = performance.now();
    await admin.createExit({ body: { validatorIndex: v, reason: "bench" } });
    await until(async () => pool.sim.chain.pendingPoolExits().some((e) => e.message.validatorIndex === v), 1);
    times.push(performance.now() - s0);
  }
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor((times.length - 1) / 2)]!;
  process.stdout.write(
    `daemon exits: request → signed exit accepted by beacon-sim, ${times.length} requests: p50 ${p50.toFixed(1)} ms, worst ${times.at(-1)!.toFixed(1)} ms\n`,
  );
  if (process.env.BENCH_DEBUG)
    process.stdout.write(
      logs
        .text()
        .split("\n")
        .filter((l) => l.includes("batch done"))
        .join("\n"),
    );
  await daemon.close();
} finally {
  await pool.close();
  rmSync(out, { recursive: true, force: true });
}
