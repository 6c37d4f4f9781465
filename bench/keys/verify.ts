/**
 * Deposit-data verification throughput (what the registry runs on a 10,000-key upload).
 * Prints entries/s for poolkeeper's chunked verifyDepositData (several chunk sizes, sync and
 * async) against the launchpad's way in the same run: per entry, both roots recomputed and one
 * bls.verify. Run: node --import tsx bench/keys/verify.ts [entries]   (BENCH_ROUNDS=2: best of)
 *
 * Imports the packages by path: the root package does not depend on the workspace packages.
 */
import { randomBytes } from "node:crypto";
import {
  bytesEqual,
  fromHex,
  GWEI_PER_ETH,
  loadNetwork,
  parseAddress,
} from "../../packages/core/src/index.js";
import {
  bls,
  buildDepositData,
  computeDepositDomain,
  computeSigningRoot,
  DepositData,
  type DepositDataJson,
  DepositMessage,
  verifyDepositData,
  verifyDepositDataAsync,
  withdrawalCredentials,
} from "../../packages/keys/src/index.js";

const N = Number(process.argv[2] ?? 10_000);
const network = loadNetwork("hoodi");
const wc = withdrawalCredentials({
  type: 1,
  address: parseAddress("0x0f51bb10119727a7e5ea3538074fb341f56b09ad", "address"),
});

let t = performance.now();
const entries: DepositDataJson[] = [];
for (let i = 0; i < N; i++) {
  entries.push(
    buildDepositData({
      secretKey: bls.SecretKey.fromKeygen(randomBytes(32)).toBytes(),
      withdrawalCredentials: wc,
      amountGwei: 32n * GWEI_PER_ETH,
      network,
    }),
  );
}
const buildS = (performance.now() - t) / 1000;
// What the registry receives: a JSON upload.
const json = JSON.stringify(entries);
console.log(
  `built ${N} signed deposits in ${buildS.toFixed(2)} s (${Math.round(N / buildS)}/s); file ${(json.length / 1e6).toFixed(1)} MB`,
);

function report(name: string, seconds: number, cpuSeconds: number, ok: boolean): void {
  console.log(
    `${name.padEnd(46)} ${seconds.toFixed(2).padStart(6)} s  ${String(Math.round(N / seconds)).padStart(6)} entries/s  cpu ${((cpuSeconds / N) * 1e6).toFixed(0).padStart(5)} µs/entry  ${ok ? "all valid" : "FAILED"}`,
  );
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The launchpad's way: per entry, recompute both roots and verify one signature. */
function oneByOne(input: DepositDataJson[]): boolean {
  const domain = computeDepositDomain(network.genesisForkVersion);
  let ok = true;
  for (const e of input) {
    const pubkey = fromHex(e.pubkey, "pubkey", 48);
    const withdrawal = fromHex(e.withdrawal_credentials, "wc", 32);
    const signature = fromHex(e.signature, "signature", 96);
    const amount = BigInt(e.amount);
    const messageRoot = DepositMessage.hashTreeRoot({ pubkey, withdrawalCredentials: withdrawal, amount });
    const dataRoot = DepositData.hashTreeRoot({
      pubkey,
      withdrawalCredentials: withdrawal,
      amount,
      signature,
    });
    ok &&= bytesEqual(messageRoot, fromHex(e.deposit_message_root, "r", 32));
    ok &&= bytesEqual(dataRoot, fromHex(e.deposit_data_root, "r", 32));
    ok &&= bls.verify(pubkey, computeSigningRoot(messageRoot, domain), signature);
  }
  return ok;
}

// Warm-up (JIT, native binding) on a small slice.
verifyDepositData(JSON.parse(JSON.stringify(entries.slice(0, 200))), { network });
oneByOne(entries.slice(0, 200));

// Interleaved rounds, best of each: the machine is shared, so single runs are noisy.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const best = new Map<string, { s: number; cpu: number; ok: boolean }>();
function measure(name: string, fn: () => boolean): void {
  const t0 = performance.now();
  const c0 = cpuNow();
  const ok = fn();
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuNow() - c0;
  const prev = best.get(name);
  if (prev === undefined || s < prev.s) best.set(name, { s, cpu, ok: ok && (prev?.ok ?? true) });
}
for (let round = 0; round < ROUNDS; round++) {
  measure("one by one (launchpad way: roots + bls.verify)", () =>
    oneByOne(JSON.parse(json) as DepositDataJson[]),
  );
  for (const chunkSize of [64, 256, N]) {
    measure(`verifyDepositData, chunks of ${chunkSize}`, () => {
      const r = verifyDepositData(JSON.parse(json), { network, chunkSize });
      return r.failed === 0 && r.passed === N;
    });
  }
}
for (const [name, { s, cpu, ok }] of best) report(name, s, cpu, ok);

// The async form, measuring the longest event-loop stall while it runs.
let maxStall = 0;
const parsed: unknown = JSON.parse(json);
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  maxStall = Math.max(maxStall, now - last);
  last = now;
}, 1);
t = performance.now();
let c = cpuNow();
const ra = await verifyDepositDataAsync(parsed, { network });
const asyncS = (performance.now() - t) / 1000;
clearInterval(timer);
report("verifyDepositDataAsync, chunks of 64", asyncS, cpuNow() - c, ra.failed === 0 && ra.passed === N);
console.log(`  longest event-loop stall during the async run: ${maxStall.toFixed(0)} ms`);

// One bad signature in the middle: the failing chunk is re-checked entry by entry.
const tampered = JSON.parse(json) as DepositDataJson[];
const mid = Math.floor(N / 2);
tampered[mid] = { ...tampered[mid]!, signature: tampered[mid + 1]!.signature };
const sig = fromHex(tampered[mid]!.signature, "s", 96);
tampered[mid]!.deposit_data_root = Buffer.from(
  DepositData.hashTreeRoot({
    pubkey: fromHex(tampered[mid]!.pubkey, "p", 48),
    withdrawalCredentials: wc,
    amount: 32n * GWEI_PER_ETH,
    signature: sig,
  }),
).toString("hex");
t = performance.now();
c = cpuNow();
const rt = verifyDepositData(tampered, { network });
report(
  "verifyDepositData, 1 bad signature (found)",
  (performance.now() - t) / 1000,
  cpuNow() - c,
  rt.failed === 1 && rt.failures[0]?.index === mid,
);
