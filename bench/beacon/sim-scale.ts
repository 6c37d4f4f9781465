/**
 * beacon-sim at scale: start-up time and memory for N validators (default 1,000,000, mainnet
 * preset), epoch production time, SSZ state serve time over HTTP, streamed JSON validator list,
 * pubkey → index lookups; compared with the naive ways (one object per validator serialized by
 * the SSZ type; JSON.stringify of the whole list).
 *
 *   node --import tsx bench/beacon/sim-scale.ts [validators] [preset]
 */
const n = Number(process.argv[2] ?? 1_000_000);
const preset = process.argv[3] ?? "mainnet";
process.env.LODESTAR_PRESET = preset;
const { startBeaconSim, serializeState, BeaconStateType } = await import(
  "../../packages/beacon-sim/src/index.js"
);

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const rss = () => mb(process.memoryUsage().rss);
const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(2)} s`;

console.log(
  `beacon-sim scale bench: ${n.toLocaleString()} validators, ${preset} preset, node ${process.version}`,
);
const { existsSync } = await import("node:fs");
const { tmpdir } = await import("node:os");
const cached = existsSync(`${tmpdir()}/poolkeeper-beacon-sim/beacon-sim-pubkeys-v1.bin`);
let t = performance.now();
const sim = await startBeaconSim({ validators: n });
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
for (const round of ["first", "second"]) {
  const sszGet = await timedGet(`${sim.url}/eth/v2/debug/beacon/states/head`, "application/octet-stream");
  console.log(
    `SSZ state over HTTP (separate client process, ${round} request): ${mb(sszGet.bytes)}, first byte ${(sszGet.firstByteMs / 1000).toFixed(2)} s, complete ${(sszGet.totalMs / 1000).toFixed(2)} s (status ${sszGet.status}); RSS ${rss()}`,
  );
}
t = performance.now();
const state = BeaconStateType.deserialize(serializeState(chain, chain.headSlot));
console.log(
  `  (decoding it with @lodestar/types takes ${secs(t)} more; ${state.validators.length.toLocaleString()} validators)`,
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
