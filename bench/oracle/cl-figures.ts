/**
 * The oracle's consensus-layer figures (readClFigures) end to end at scale: 500,000 pool validators
 * of a 1,000,000-validator Fulu beacon-sim (mainnet preset), by the SSZ state against the bulk JSON
 * routes in the same run. The sim runs in a child process; each path runs in a client process of
 * its own (so its peak RSS is its own), timed from the first request to the figures (state
 * download, decode, aggregation, then the report built and hashed). Prints wall time, CPU and peak RSS per path, the figures, and
 * whether the two paths agree. Target (issue 16): SSZ ≤ 10 s and ≤ 1 GiB.
 *
 *   node --import tsx bench/oracle/cl-figures.ts [simValidators=1000000] [pool=500000] [fork=fulu]
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lines, serveUsage, spawnRole } from "../support/processes.js";

const SELF = fileURLToPath(import.meta.url);
const mode = ["sim", "client"].includes(process.argv[2] ?? "") ? process.argv[2] : "main";
const rest = process.argv.slice(3);
const POOL_WC = `0x01${"00".repeat(11)}${"aa".repeat(20)}`;
const OPERATORS = 200;
/** New pool keys with a deposit pending at the ref slot (every hundredth with a bad signature). */
const NEW_KEYS = 1000;
const mib = (bytes: number) => Math.round(bytes / 1048576);
const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

function child(args: string[], stdin: "pipe" | "ignore" = "ignore"): ChildProcess {
  return spawnRole(SELF, args, stdin);
}

if (mode === "sim") {
  // ---------------------------------------------------------------- the beacon node
  const [n, poolSize, fork, keysFile] = rest as [string, string, "deneb" | "fulu", string];
  process.env.LODESTAR_PRESET = "mainnet";
  const { signedDeposit, startBeaconSim } = await import("../../packages/beacon-sim/src/index.js");
  const N = Number(n);
  const P = Number(poolSize);
  const t0 = performance.now();
  // every other validator is the pool's (spread over the registry); some exits and slashings
  const sim = await startBeaconSim({
    validators: N,
    fork,
    seed: "oracle-bench",
    scenario: {
      withdrawalCredentials: POOL_WC,
      exits: Array.from({ length: 100 }, (_, k) => ({ validator: 2 + 2 * k * 997, epoch: 1 })),
      slashings: Array.from({ length: 10 }, (_, k) => ({ validator: k * 7919, epoch: 2 })),
    },
  });
  const c = sim.chain;
  const refEpoch = 7;
  // deposits still pending at the ref slot (the queue waits for finality): new pool keys, each
  // with a valid signature (one BLS verification each on the oracle's side), some with a bad one
  // (dropped), and top-ups of pool validators
  c.advanceTo((refEpoch - 1) * c.slotsPerEpoch + 1);
  const wc = Buffer.from(POOL_WC.slice(2), "hex");
  const fresh: Uint8Array[] = [];
  for (let k = 0; k < NEW_KEYS; k++) {
    const d = signedDeposit(c, N + k, wc, 32_000_000_000);
    if (k % 100 === 99) d.signature = signedDeposit(c, N + k, wc, 31_000_000_000).signature;
    c.requestDeposit(d);
    fresh.push(d.pubkey);
  }
  c.addValidators(
    Array.from({ length: 100 }, (_, k) => c.pubkeyOf(4 * k).slice()),
    undefined,
    1_000_000_000,
  );
  while (c.currentFinality().finalized.epoch < refEpoch + 1) c.advanceEpochs(1);
  const refSlot = (refEpoch + 1) * c.slotsPerEpoch - 1;
  const keys = Buffer.alloc((P + NEW_KEYS) * 48);
  for (let k = 0; k < P; k++) keys.set(c.pubkeyOf(2 * k), k * 48);
  for (const [k, pk] of fresh.entries()) keys.set(pk, (P + k) * 48);
  writeFileSync(keysFile, keys);
  // the node's first answer of a state computes what it caches (the proposer lookahead): warmed
  await (
    await fetch(`${sim.url}/eth/v2/debug/beacon/states/${refSlot}`, {
      headers: { accept: "application/octet-stream" },
    })
  ).arrayBuffer();
  process.stdout.write(
    `${JSON.stringify({ url: sim.url, refSlot, refEpoch, startSeconds: (performance.now() - t0) / 1000, rssMiB: mib(process.memoryUsage().rss) })}\n`,
  );
  serveUsage(sim);
} else if (mode === "client") {
  // ---------------------------------------------------------------- one path, one process
  const [path, url, refSlotS, refEpochS, keysFile, outFile] = rest as [
    "ssz" | "json",
    string,
    string,
    string,
    string,
    string,
  ];
  const { BeaconNodePool } = await import("../../packages/beacon/src/index.js");
  const { readClFigures, buildReport, reportHash, DEFAULT_SANITY_LIMITS } = await import(
    "../../packages/oracle/src/index.js"
  );
  const { EMPTY_LEDGER } = await import("../../packages/ledger/src/index.js");
  const beacon = await BeaconNodePool.init({ urls: [url], preset: "mainnet", timeoutMs: 300_000 });
  const raw = readFileSync(keysFile);
  const keys = Array.from({ length: raw.length / 48 }, (_, k) => ({
    pubkey: `0x${raw.subarray(k * 48, k * 48 + 48).toString("hex")}`,
    operatorId: k % OPERATORS,
    depositGwei: 32_000_000_000n,
  }));
  const refEpoch = Number(refEpochS);
  const before = { rss: mib(process.memoryUsage().rss), peak: peakMiB() };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const f = await readClFigures(beacon, {
    refSlot: Number(refSlotS),
    frame: { firstEpoch: Math.max(0, refEpoch - 2), lastEpoch: refEpoch },
    keys,
    withdrawalCredentials: POOL_WC,
    path,
    genesisForkVersion: `0x${Buffer.from(beacon.config.GENESIS_FORK_VERSION).toString("hex")}`,
  });
  const clMs = performance.now() - t0;
  // the report from the figures and its hash (the pool's ledger before its first report)
  const deposited = BigInt(keys.length) * 32n * 10n ** 18n;
  const report = buildReport(
    {
      refSlot: f.refSlot,
      frame: {
        index: 0,
        firstEpoch: 0,
        lastEpoch: refEpoch,
        refSlot: f.refSlot,
        refTimestamp: 1_700_000_000,
      },
      consensusVersion: 1,
      ledgerSeq: 1n,
      ledger: {
        ...EMPTY_LEDGER,
        totalShares: deposited,
        depositedValidators: keys.length,
        depositedWei: deposited,
      },
      queue: [],
      maxBatchId: 1,
      fees: { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: `0x${"ee".repeat(20)}` },
      maxPositiveTokenRebase: DEFAULT_SANITY_LIMITS.maxPositiveTokenRebase,
      requestTimestampMarginSeconds: 7680,
      bunkerLimits: DEFAULT_SANITY_LIMITS,
      bunkerSince: null,
      previousRefTimestamp: 1_699_913_600,
      performance: {
        complete: true,
        watcherEpoch: refEpoch,
        networkPerformance: 1,
        threshold: 0.95,
        underperforming: [],
      },
      exits: { operators: [], requested: [], maxExitWei: 19_200n * 10n ** 18n },
      decision: null,
      votes: [],
    },
    f,
    { withdrawalVaultWei: 0n, elRewardsVaultWei: 0n },
    { isBunkerMode: false, finalizationMaxTimestamp: 1_700_000_000 },
  );
  const hash = reportHash(report);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const { source: _, ...figures } = f;
  const text = JSON.stringify(figures, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  writeFileSync(outFile, text);
  process.stdout.write(
    `${JSON.stringify({
      path,
      wallMs,
      clMs,
      reportHash: hash,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMiB: peakMiB(),
      rssBeforeMiB: before.rss,
      peakBeforeMiB: before.peak,
      sha256: createHash("sha256").update(text).digest("hex"),
      summary: {
        fork: f.fork,
        refSlot: f.refSlot,
        clValidators: f.clValidators,
        clDepositedGwei: String(f.clDepositedGwei),
        clBalanceGwei: String(f.clBalanceGwei),
        clPendingBalanceGwei: String(f.clPendingBalanceGwei),
        exitedValidators: f.exitedValidators,
        operators: f.operators.length,
        activeValidators: f.operators.reduce((a, o) => a + o.activeValidators, 0),
        poolSlashed: f.poolSlashed.length,
        totalActiveBalanceGwei: String(f.network.totalActiveBalanceGwei),
        networkSlashed: f.network.slashedNotWithdrawable.length,
      },
    })}\n`,
  );
  process.exit(0);
} else {
  // ---------------------------------------------------------------- main
  const args = process.argv.slice(2);
  const n = Number(args[0] ?? 1_000_000);
  const poolSize = Number(args[1] ?? 500_000);
  const fork = args[2] ?? "fulu";
  const keysFile = join(tmpdir(), `poolkeeper-oracle-bench-keys-${process.pid}.bin`);
  console.log(
    `oracle CL figures bench: ${poolSize.toLocaleString()} pool validators of a ${n.toLocaleString()}-validator ${fork} beacon-sim (mainnet preset), node ${process.version}`,
  );
  const sim = child(["sim", String(n), String(poolSize), fork, keysFile], "pipe");
  const next = lines(sim);
  const ready = JSON.parse(await next()) as {
    url: string;
    refSlot: number;
    refEpoch: number;
    startSeconds: number;
    rssMiB: number;
  };
  console.log(
    `sim ready in ${ready.startSeconds.toFixed(1)} s (RSS ${ready.rssMiB} MiB); ref slot ${ready.refSlot} (epoch ${ready.refEpoch}), finalized`,
  );
  const usage = async () => {
    const p = next();
    sim.stdin!.write("usage\n");
    return JSON.parse(await p) as { cpuMs: number; peakRssMiB: number };
  };
  const results: Array<Record<string, unknown>> = [];
  for (const path of ["ssz", "json"] as const) {
    const u0 = await usage();
    const out = `${keysFile}.${path}.json`;
    const c = child([
      "client",
      path,
      ready.url,
      String(ready.refSlot),
      String(ready.refEpoch),
      keysFile,
      out,
    ]);
    const r = JSON.parse(await lines(c)()) as Record<string, unknown> & {
      wallMs: number;
      clMs: number;
      reportHash: string;
      cpuMs: number;
      peakRssMiB: number;
      rssBeforeMiB: number;
    };
    await new Promise((res) => c.once("exit", res));
    const u1 = await usage();
    results.push(r);
    console.log(
      `${path.toUpperCase().padEnd(4)}: ${(r.wallMs / 1000).toFixed(2)} s wall (figures ${(r.clMs / 1000).toFixed(2)} s, then the report and its hash ${r.reportHash.slice(0, 12)}…), client CPU ${(r.cpuMs / 1000).toFixed(2)} s, ` +
        `client peak RSS ${r.peakRssMiB} MiB (${r.rssBeforeMiB} MiB before the call, keys loaded); sim CPU ${((u1.cpuMs - u0.cpuMs) / 1000).toFixed(2)} s`,
    );
  }
  const [ssz, json] = results as Array<{
    sha256: string;
    summary: unknown;
    wallMs: number;
    peakRssMiB: number;
  }>;
  console.log("figures:", JSON.stringify(ssz?.summary));
  const same = ssz?.sha256 === json?.sha256;
  console.log(
    `SSZ and JSON figures (all fields but source, every operator's indices): ${same ? "identical" : "DIFFERENT"}`,
  );
  if (!same) console.log("json:", JSON.stringify(json?.summary));
  console.log(
    `target SSZ ≤ 10 s and ≤ 1024 MiB: ${(ssz?.wallMs ?? Infinity) <= 10_000 && (ssz?.peakRssMiB ?? Infinity) <= 1024 ? "met" : "missed"}`,
  );
  sim.kill("SIGTERM");
  await new Promise((res) => sim.once("exit", res));
  for (const f of [keysFile, `${keysFile}.ssz.json`, `${keysFile}.json.json`]) {
    try {
      (await import("node:fs")).unlinkSync(f);
    } catch {
      /* gone */
    }
  }
  if (!same) process.exit(1);
}
