/**
 * beacon-sim at scale, per fork (Deneb and Fulu by default, each in a process of its own so that
 * each has its own peak RSS): start-up time and memory for N validators (default 1,000,000, mainnet
 * preset), epoch production time, SSZ state serve time over HTTP and the peak RSS it brings,
 * streamed JSON validator list, pubkey → index lookups; compared with the naive ways (one object
 * per validator serialized by the SSZ type; JSON.stringify of the whole list). Ends with the forks'
 * SSZ state figures side by side.
 *
 *   node --import tsx bench/beacon/sim-scale.ts [validators] [preset] [forks=deneb,fulu]
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const n = Number(process.argv[2] ?? 1_000_000);
const preset = process.argv[3] ?? "mainnet";
const forks = (process.argv[4] ?? "deneb,fulu").split(",");
const SUMMARY = "SUMMARY ";

if (forks.length > 1) {
  // one child per fork; its lines are passed on, its summary line kept for the comparison
  const summaries: Array<Record<string, number | string>> = [];
  for (const fork of forks) {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), String(n), preset, fork],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    createInterface({ input: child.stdout }).on("line", (l) => {
      if (l.startsWith(SUMMARY)) summaries.push(JSON.parse(l.slice(SUMMARY.length)));
      else console.log(`[${fork}] ${l}`);
    });
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    if (code !== 0) throw new Error(`${fork} run exited with ${code}`);
  }
  console.log(`\nSSZ state of ${n.toLocaleString()} validators (${preset}), forks side by side:`);
  for (const s of summaries) {
    console.log(
      `  ${String(s.fork).padEnd(6)} ${s.stateMiB} MiB; serializeState ${s.serializeSeconds} s; over HTTP complete ` +
        `${s.serveSeconds} s (first byte ${s.firstByteSeconds} s); sim peak RSS ${s.peakBeforeMiB} MiB before serving, ` +
        `${s.peakAfterMiB} MiB after two requests`,
    );
  }
  process.exit(0);
}

const fork = forks[0] as "deneb" | "electra" | "fulu";
process.env.LODESTAR_PRESET = preset;
const { startBeaconSim, serializeState, beaconStateType } = await import(
  "../../packages/beacon-sim/src/index.js"
);
const BeaconStateType = beaconStateType(fork) as unknown as {
  // biome-ignore lint/suspicious/noExplicitAny: the fork's state value, rebuilt field by field below
  deserialize(bytes: Uint8Array): any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  serialize(value: any): Uint8Array;
};

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const rss = () => mb(process.memoryUsage().rss);
const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(2)} s`;

console.log(
  `beacon-sim scale bench: ${n.toLocaleString()} validators, ${preset} preset, fork ${fork}, node ${process.version}`,
);
const { existsSync } = await import("node:fs");
const { tmpdir } = await import("node:os");
const cached = existsSync(`${tmpdir()}/poolkeeper-beacon-sim/beacon-sim-pubkeys-v1.bin`);
let t = performance.now();
// every request serializes the state (servedStatesKept 0): the first and second requests measure
// the serving itself, not the sim's kept bytes
const sim = await startBeaconSim({ validators: n, fork, servedStatesKept: 0 });
console.log(
  `start-up (keys, registry, genesis; pubkey cache ${cached ? "present" : "absent: keys derived, then cached"}): ${secs(t)}; RSS ${rss()}; heap ${mb(process.memoryUsage().heapUsed)}`,
);
const chain = sim.chain;

t = performance.now();
chain.advanceEpochs(1);
console.log(`first epoch (${chain.slotsPerEpoch} slots, blocks with attestations): ${secs(t)}`);
t = performance.now();
chain.advanceEpochs(3);
console.log(
  `next 3 epochs: ${secs(t)}; head slot ${chain.headSlot}; finalized epoch ${chain.currentFinality().finalized.epoch}; RSS ${rss()}`,
);

// SSZ state over HTTP, fetched by a separate process (so client work does not share the server's event loop).
const { execFile } = await import("node:child_process");
const { promisify } = await import("node:util");
const execFileAsync = promisify(execFile);
const CLIENT = `const t = performance.now(); const r = await fetch(process.argv[1], { headers: { accept: process.argv[2] } });
let bytes = 0; const first = { ms: 0 }; const reader = r.body.getReader();
for (;;) { const { value, done } = await reader.read(); if (done) break; if (bytes === 0) first.ms = performance.now() - t; bytes += value.length; }
console.log(JSON.stringify({ status: r.status, bytes, firstByteMs: first.ms, totalMs: performance.now() - t }));`;
/** The server shares this process: the client runs in a child, awaited asynchronously. */
async function timedGet(
  url: string,
  accept: string,
): Promise<{ status: number; bytes: number; firstByteMs: number; totalMs: number }> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ["--input-type=module", "-e", CLIENT, url, accept],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout) as { status: number; bytes: number; firstByteMs: number; totalMs: number };
}
const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const peakBeforeMiB = peakMiB();
const served: Array<{ bytes: number; firstByteMs: number; totalMs: number }> = [];
for (const round of ["first", "second"]) {
  const sszGet = await timedGet(`${sim.url}/eth/v2/debug/beacon/states/head`, "application/octet-stream");
  served.push(sszGet);
  console.log(
    `SSZ state over HTTP (separate client process, ${round} request): ${mb(sszGet.bytes)}, first byte ${(sszGet.firstByteMs / 1000).toFixed(2)} s, complete ${(sszGet.totalMs / 1000).toFixed(2)} s (status ${sszGet.status}); RSS ${rss()}`,
  );
}
const peakAfterMiB = peakMiB();
console.log(`sim peak RSS: ${peakBeforeMiB} MiB before serving the state, ${peakAfterMiB} MiB after`);
t = performance.now();
const serialized = serializeState(chain, chain.headSlot);
const serializeSeconds = (performance.now() - t) / 1000;
t = performance.now();
const state = BeaconStateType.deserialize(serialized);
console.log(
  `  (serializeState ${serializeSeconds.toFixed(2)} s; decoding it with @lodestar/types takes ${secs(t)} more; ${state.validators.length.toLocaleString()} validators)`,
);
console.log(
  `${SUMMARY}${JSON.stringify({
    fork,
    stateMiB: Math.round(serialized.length / 1048576),
    serializeSeconds: serializeSeconds.toFixed(2),
    // both requests: the first one of a state pays what the sim computes once (caches)
    serveSeconds: served.map((r) => (r.totalMs / 1000).toFixed(2)).join(" / "),
    firstByteSeconds: served.map((r) => (r.firstByteMs / 1000).toFixed(2)).join(" / "),
    peakBeforeMiB,
    peakAfterMiB,
  })}`,
);

// Naive peer: build the state as a value (one object per validator) and serialize it with the SSZ type.
t = performance.now();
const direct = serializeState(chain, chain.headSlot);
const directTime = performance.now() - t;
t = performance.now();
const value = BeaconStateType.deserialize(direct); // every non-registry field, already built
const epochNow = chain.epochOf(chain.headSlot);
const tValues = performance.now();
value.validators = Array.from({ length: n }, (_, i) => {
  const v = chain.validatorAt(i, epochNow);
  return { ...v, pubkey: v.pubkey.slice(), withdrawalCredentials: v.withdrawalCredentials.slice() };
});
value.balances = Array.from({ length: n }, (_, i) => chain.balanceAt(i, epochNow));
BeaconStateType.serialize(value);
const naiveTime = performance.now() - tValues;
console.log(
  `state SSZ: serializeState from typed arrays ${(directTime / 1000).toFixed(2)} s vs objects + SSZ type ${(naiveTime / 1000).toFixed(2)} s; RSS ${rss()}`,
);

// JSON validator list: streamed vs the plain Lodestar handler (one JSON.stringify).
const jsonGet = await timedGet(`${sim.url}/eth/v1/beacon/states/head/validators`, "application/json");
console.log(
  `GET validators (JSON, streamed, separate client): ${mb(jsonGet.bytes)}, first byte ${(jsonGet.firstByteMs / 1000).toFixed(2)} s, complete ${(jsonGet.totalMs / 1000).toFixed(2)} s; RSS ${rss()}`,
);
if (n <= 500_000) {
  const plain = await startBeaconSim({ chain, streamThreshold: Number.POSITIVE_INFINITY });
  const plainGet = await timedGet(`${plain.url}/eth/v1/beacon/states/head/validators`, "application/json");
  console.log(
    `same GET through the plain Lodestar handler: status ${plainGet.status}, ${mb(plainGet.bytes)}, first byte ${(plainGet.firstByteMs / 1000).toFixed(2)} s, complete ${(plainGet.totalMs / 1000).toFixed(2)} s`,
  );
  await plain.close();
} else {
  // At 1M the plain handler builds one ~450 MB string: 52-103 s in earlier runs, and it can exhaust
  // the default 4 GB heap next to the rest of this bench (fatal, so it is not attempted here).
  console.log(
    "same GET through the plain Lodestar handler: skipped above 500,000 validators (one ~450 MB string; see README)",
  );
}

// pubkey → index through POST validators, 1000 keys per request.
const keys = Array.from(
  { length: 10_000 },
  (_, k) => `0x${Buffer.from(chain.pubkeyOf((k * 7919) % n)).toString("hex")}`,
);
t = performance.now();
let found = 0;
for (let k = 0; k < keys.length; k += 1000) {
  const pr = await fetch(`${sim.url}/eth/v1/beacon/states/head/validators`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ids: keys.slice(k, k + 1000) }),
  });
  found += ((await pr.json()) as { data: unknown[] }).data.length;
}
console.log(
  `POST validators by pubkey: ${found.toLocaleString()} of ${keys.length.toLocaleString()} resolved in ${secs(t)}`,
);
console.log(`peak RSS so far: ${mb(process.resourceUsage().maxRSS * 1024)}`);
await sim.close();
