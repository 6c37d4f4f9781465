/**
 * Key generation throughput: deposit entries/s and keystores/s, vs naive peers in the same run.
 * Prints figures; not a test.
 *
 * (a) Deposit entries per second, the `keys generate --no-keystores` path (generateKeys: seed and
 *     m/12381/3600 node once, EIP-2333 per index, native blst signing, worker pool, file written),
 *     against a naive loop over @chainsafe/bls-keygen `deriveKeyFromMnemonic` + sign in the same run.
 * (b) Keystores per second, pbkdf2 and scrypt at the real EIP-2335 parameters, against the bare KDF
 *     (node:crypto, same parameters, same concurrency) in the same run.
 *
 * Run: node --import tsx bench/keys/generate.ts [deposits=2000] [naive=100] [pbkdf2=72] [scrypt=6]
 * BENCH_ROUNDS=n (default 3) runs each measurement n times, interleaved: (a) prints the best run,
 * (b) the ratio over the summed times. This machine's speed drifts (a lone pbkdf2 took 52-78 ms
 * within one minute here), so single runs are noisy.
 * Imports the packages by path: the root package does not depend on the workspace packages.
 */
import { pbkdf2, randomBytes, scrypt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, freemem, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadNetwork } from "../../packages/core/src/index.js";
import {
  buildDepositData,
  defaultThreads,
  generateKeys,
  PBKDF2_DEFAULTS,
  pubkeyFromSecret,
  SCRYPT_DEFAULTS,
  withdrawalCredentials,
} from "../../packages/keys/src/index.js";

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const [DEPOSITS, NAIVE, PBKDF2_N, SCRYPT_N] = [2000, 100, 72, 6].map((d, i) =>
  Number(process.argv[2 + i] ?? d),
) as [number, number, number, number];
const MNEMONIC = "test test test test test test test test test test test waste";
const network = loadNetwork("mainnet");
const root = mkdtempSync(join(tmpdir(), "pk-bench-keys-"));
const rate = (n: number, ms: number) => (n / (ms / 1000)).toFixed(1);

/** CPU time (all threads of this process) of the last timed() call, in ms. */
let lastCpuMs = 0;

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = await f();
  const d = process.cpuUsage(c);
  lastCpuMs = (d.user + d.system) / 1000;
  return [r, performance.now() - t];
}

/** CPU ms of the best runs of the last best() call: [a, b]. */
const bestCpuMs: [number, number] = [0, 0];

/** Best (shortest) time of ROUNDS runs of each function, interleaved. */
async function best<A, B>(a: () => Promise<A>, b: () => Promise<B>): Promise<[A, number, B, number]> {
  let ra: A | undefined;
  let rb: B | undefined;
  let ta = Number.POSITIVE_INFINITY;
  let tb = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ROUNDS; i++) {
    const [x, tx] = await timed(a);
    if (tx < ta) [ra, ta, bestCpuMs[0]] = [x, tx, lastCpuMs];
    const [y, ty] = await timed(b);
    if (ty < tb) [rb, tb, bestCpuMs[1]] = [y, ty, lastCpuMs];
  }
  return [ra as A, ta, rb as B, tb];
}

let run = 0;
const out = () => join(root, `run-${run++}`);

console.log(
  `cores ${availableParallelism()}, free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
);

// ---- (a) deposit entries ----
console.log(
  `\n(a) deposit entries, ${DEPOSITS} keys, 0x00 credentials (withdrawal key derived too), mainnet`,
);
const inlineN = DEPOSITS;
const [pooled, pooledMs, , inlineMs] = await best(
  () =>
    generateKeys({
      mnemonic: MNEMONIC,
      network,
      startIndex: 0,
      count: DEPOSITS,
      noKeystores: true,
      outDir: out(),
    }),
  () =>
    generateKeys({
      mnemonic: MNEMONIC,
      network,
      startIndex: 0,
      count: inlineN,
      noKeystores: true,
      outDir: out(),
      threads: 0,
    }),
);
console.log(
  `  poolkeeper generateKeys, default (${pooled.threads} worker thread(s) + main thread): ${rate(DEPOSITS, pooledMs)} entries/s (${pooledMs.toFixed(0)} ms, worker start-up included)`,
);
console.log(
  `  poolkeeper generateKeys, inline (no workers), ${inlineN} keys: ${rate(inlineN, inlineMs)} entries/s`,
);
const [poolCpu, inlineCpu] = bestCpuMs;
console.log(
  `  CPU time per entry: ${(poolCpu / DEPOSITS).toFixed(2)} ms with workers (start-up included), ${(inlineCpu / inlineN).toFixed(2)} ms inline` +
    ` -> ${rate(availableParallelism(), inlineCpu / inlineN)} entries/s if all ${availableParallelism()} cores were free`,
);

const keygenPath = createRequire(new URL("../../packages/keys/package.json", import.meta.url)).resolve(
  "@chainsafe/bls-keygen",
);
const { deriveKeyFromMnemonic } = (await import(pathToFileURL(keygenPath).href)) as {
  deriveKeyFromMnemonic: (mnemonic: string, path?: string) => Uint8Array;
};
const [naive, naiveMs] = await timed(async () => {
  const entries = [];
  for (let i = 0; i < NAIVE; i++) {
    const signing = deriveKeyFromMnemonic(MNEMONIC, `m/12381/3600/${i}/0/0`);
    const withdrawal = deriveKeyFromMnemonic(MNEMONIC, `m/12381/3600/${i}/0`);
    const wc = withdrawalCredentials({ type: 0, withdrawalPubkey: pubkeyFromSecret(withdrawal) });
    entries.push(
      buildDepositData({
        secretKey: signing,
        withdrawalCredentials: wc,
        amountGwei: 32_000_000_000n,
        network,
      }),
    );
  }
  return entries;
});
const naiveCpu = lastCpuMs;
const same = naive.every((e, i) => JSON.stringify(e) === JSON.stringify(pooled.deposits[i]));
console.log(
  `  naive bls-keygen deriveKeyFromMnemonic + sign, ${NAIVE} keys: ${rate(NAIVE, naiveMs)} entries/s (same entries: ${same})`,
);
console.log(`  naive CPU time per entry: ${(naiveCpu / NAIVE).toFixed(2)} ms`);
console.log(`  speed-up: ${(DEPOSITS / pooledMs / (NAIVE / naiveMs)).toFixed(1)}x`);

// ---- (b) keystores ----
async function bareKdf(kind: "pbkdf2" | "scrypt", n: number, concurrency: number): Promise<void> {
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const salt = randomBytes(32);
      const done = (err: Error | null) => (err === null ? resolve() : reject(err));
      if (kind === "pbkdf2") pbkdf2("password", salt, PBKDF2_DEFAULTS.c, 32, "sha256", done);
      else {
        const { n: N, r, p } = SCRYPT_DEFAULTS;
        scrypt("password", salt, 32, { N, r, p, maxmem: 128 * N * r + 32 * 2 ** 20 }, done);
      }
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        await one();
      }
    }),
  );
}

/**
 * Keystores: the pipeline and the bare KDF alternate, in turn first, ROUNDS times each, so that a
 * slower or faster spell of this shared machine hits both sides alike; the ratio is taken over the
 * summed times, and each round's own ratio is printed for the spread.
 */
for (const [kind, n] of [
  ["pbkdf2", PBKDF2_N],
  ["scrypt", SCRYPT_N],
] as const) {
  const threads = defaultThreads({ function: kind });
  const perCore = Math.min(threads, availableParallelism());
  console.log(
    `\n(b) ${kind} keystores (${kind === "pbkdf2" ? "c=262144" : "n=262144 r=8 p=1"}), ${n} keys, ${threads} at once, ${ROUNDS} interleaved rounds`,
  );
  const sides: [string, () => Promise<unknown>][] = [
    [
      "pipeline",
      () =>
        generateKeys({
          mnemonic: MNEMONIC,
          network,
          startIndex: 0,
          count: n,
          kdf: { function: kind },
          keystorePassword: "benchmark password",
          outDir: out(),
        }),
    ],
    ["bare", () => bareKdf(kind, n, threads)],
  ];
  if (perCore !== threads) sides.push(["bare per core", () => bareKdf(kind, n, perCore)]);
  const total = new Map<string, number>(sides.map(([k]) => [k, 0]));
  const cpu = new Map<string, number>(sides.map(([k]) => [k, 0]));
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const ms = new Map<string, number>();
    for (const [k, f] of round % 2 === 0 ? sides : [...sides].reverse()) {
      const [, t] = await timed(f);
      ms.set(k, t);
      total.set(k, total.get(k)! + t);
      cpu.set(k, cpu.get(k)! + lastCpuMs);
    }
    ratios.push(ms.get("bare")! / ms.get("pipeline")!);
  }
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const keys = n * ROUNDS;
  console.log(
    `  poolkeeper generateKeys (keystore + deposit entry + atomic write): ${rate(keys, total.get("pipeline")!)} keystores/s`,
  );
  console.log(`  bare node:crypto ${kind}, concurrency ${threads}: ${rate(keys, total.get("bare")!)} KDFs/s`);
  if (perCore !== threads) {
    console.log(
      `  bare node:crypto ${kind}, concurrency ${perCore} (one per core): ${rate(keys, total.get("bare per core")!)} KDFs/s` +
        ` -> the pipeline does ${pct(total.get("bare per core")! / total.get("pipeline")!)} of that`,
    );
  }
  ratios.sort((a, b) => a - b);
  console.log(
    `  ratio: ${pct(total.get("bare")! / total.get("pipeline")!)} of the bare KDF's throughput at the same concurrency` +
      ` (rounds: ${ratios.map(pct).join(" ")})`,
  );
  console.log(
    `  CPU time per keystore: ${(cpu.get("pipeline")! / keys).toFixed(1)} ms, bare KDF ${(cpu.get("bare")! / keys).toFixed(1)} ms: the KDF is ${pct(cpu.get("bare")! / cpu.get("pipeline")!)} of the work`,
  );
}

rmSync(root, { recursive: true, force: true });
