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
let t = performance.now();
const sim = await startBeaconSim({ validators: n });
console.log(
  `start-up (keys, registry, genesis): ${secs(t)}; RSS ${rss()}; heap ${mb(process.memoryUsage().heapUsed)}`,
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

// SSZ state over HTTP (what a client downloads).
t = performance.now();
const r = await fetch(`${sim.url}/eth/v2/debug/beacon/states/head`, {
  headers: { accept: "application/octet-stream" },
});
const body = new Uint8Array(await r.arrayBuffer());
console.log(`SSZ state over HTTP: ${mb(body.length)} in ${secs(t)} (status ${r.status}); RSS ${rss()}`);
t = performance.now();
const state = BeaconStateType.deserialize(body);
console.log(
  `  (client side decode with @lodestar/types: ${secs(t)}; ${state.validators.length.toLocaleString()} validators)`,
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

// JSON validator list: streamed vs one JSON.stringify.
t = performance.now();
const vr = await fetch(`${sim.url}/eth/v1/beacon/states/head/validators`);
let bytes = 0;
const reader = vr.body?.getReader();
for (;;) {
  if (reader === undefined) break;
  const { value: chunk, done } = await reader.read();
  if (done) break;
  bytes += chunk.length;
}
console.log(`GET validators (JSON, streamed): ${mb(bytes)} in ${secs(t)}; RSS ${rss()}`);
const plain = await startBeaconSim({ chain, streamThreshold: Number.POSITIVE_INFINITY });
t = performance.now();
const pr0 = await fetch(`${plain.url}/eth/v1/beacon/states/head/validators`);
const text = await pr0.text();
console.log(
  `same GET through the plain Lodestar handler (one JSON.stringify): status ${pr0.status}, ${mb(text.length)} in ${secs(t)}${pr0.status !== 200 ? `: ${text.slice(0, 120)}` : ""}`,
);
await plain.close();

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
