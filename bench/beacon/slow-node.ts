/**
 * A slow beacon node first in a fleet of three: the watcher's epoch work (every duty of every
 * validator, rewards of the imperfect ones, balances) through the node pool, healthy-only fleet vs
 * slow node first with latency ranking and hedging (now) vs slow node first ranked by reachability
 * only (before: `adaptive: false`). Prints seconds per epoch, which node served the requests, and
 * the lag behind the healthy-only fleet.
 *
 *   node --import tsx bench/beacon/slow-node.ts [slowMs=3000] [epochs=6] [validators=256]
 */
process.env.LODESTAR_PRESET = "minimal";
const slowMs = Number(process.argv[2] ?? 3000);
const epochs = Number(process.argv[3] ?? 6);
const validators = Number(process.argv[4] ?? 256);
const { BeaconNodePool, EpochDutiesReader, loadLodestar } = await import(
  "../../packages/beacon/src/index.js"
);
const { startFleet } = await import("../../packages/beacon-sim/src/index.js");
await loadLodestar("minimal");

const fleet = await startFleet(3, { validators, seed: "slow-node-bench" });
fleet.chain.advanceEpochs(epochs + 6);
const urls = fleet.sims.map((s) => s.url);
const all = Array.from({ length: validators }, (_, i) => i);
const slotsPerEpoch = fleet.chain.slotsPerEpoch;

interface Run {
  name: string;
  startS: number;
  perEpochS: number;
  epochs: number;
  share: string;
  hedged: number;
}

async function run(name: string, list: string[], adaptive: boolean, count: number): Promise<Run> {
  let t = performance.now();
  const pool = await BeaconNodePool.init({ urls: list, preset: "minimal", adaptive });
  const startS = (performance.now() - t) / 1000;
  const reader = new EpochDutiesReader(pool);
  t = performance.now();
  for (let e = 2; e < 2 + count; e++) await reader.epochDuties(e, { validators: all, rewards: "exceptions" });
  const perEpochS = (performance.now() - t) / 1000 / count;
  const st = pool.stats();
  const total = Object.values(st.sent).reduce((a, b) => a + b, 0);
  const share = list
    .map((u) => `${u === urls[0] ? "slow" : "fast"} ${(((st.sent[u] ?? 0) / total) * 100).toFixed(0)}%`)
    .join(", ");
  return { name, startS, perEpochS, epochs: count, share, hedged: st.hedged };
}

console.log(
  `slow-node bench: 3 beacon-sims over one chain (${validators} validators, minimal preset, ${slotsPerEpoch} slots/epoch), node 0 answers every request after ${slowMs} ms, node ${process.version}`,
);
// warm-up (the sim caches states and blocks as they are first asked for): not measured
await run("warm-up", [urls[1], urls[2]] as string[], true, epochs);
const healthy = await run("healthy-only fleet (nodes 1, 2)", [urls[1], urls[2]] as string[], true, epochs);
fleet.sims[0]?.node.addFault({ kind: "slow", delayMs: slowMs });
const after = await run("slow first, latency ranking + hedging (now)", urls, true, epochs);
fleet.sims[0]?.node.clearFaults();
// healthy-only again, after the others: its mean is the reference (the machine's noise cancels)
const healthy2 = await run("healthy-only fleet (nodes 1, 2)", [urls[1], urls[2]] as string[], true, epochs);
healthy.perEpochS = (healthy.perEpochS + healthy2.perEpochS) / 2;
healthy.epochs += healthy2.epochs;
fleet.sims[0]?.node.addFault({ kind: "slow", delayMs: slowMs });
// before: every request waits for the slow node; one epoch is enough to see it
const before = await run("slow first, reachability order only (before)", urls, false, 1);
await fleet.close();

console.log("");
for (const r of [healthy, after, before]) {
  const lag = r.perEpochS - healthy.perEpochS;
  console.log(
    `${r.name.padEnd(46)} start ${r.startS.toFixed(2)} s  ${r.perEpochS.toFixed(3)} s/epoch over ${r.epochs}  ` +
      `behind healthy-only by ${lag.toFixed(3)} s per epoch  hedged ${r.hedged}  requests: ${r.share}`,
  );
}
const mainnetEpochS = 12 * 32;
console.log(
  `\nper finalized epoch, the slow node costs the watcher ${(after.perEpochS - healthy.perEpochS).toFixed(3)} s now ` +
    `vs ${(before.perEpochS - healthy.perEpochS).toFixed(1)} s before (an epoch lasts ${mainnetEpochS} s on mainnet, ` +
    `${slotsPerEpoch * 2} s on the devnet)`,
);
