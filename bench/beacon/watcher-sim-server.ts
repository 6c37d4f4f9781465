/**
 * Child process of watcher-epoch.ts: a beacon-sim of one fork with N validators (mainnet preset),
 * advanced until an epoch and the next are processable (finalized ≥ epoch + 3), serving over HTTP until killed.
 * Prints one JSON line {url, epoch, validators, fork, startSeconds, rssMiB} when ready, and on
 * each line read from stdin one line {cpuMs, peakRssMiB}: the sim's CPU time and peak RSS so far
 * (the bench reads it before and after each client run: the node's side of the work).
 *
 *   node --import tsx bench/beacon/watcher-sim-server.ts [validators] [preset] [fork]
 */
import { createInterface } from "node:readline";

const n = Number(process.argv[2] ?? 1_000_000);
process.env.LODESTAR_PRESET = process.argv[3] ?? "mainnet";
const fork = (process.argv[4] ?? "fulu") as "deneb" | "electra" | "fulu";
const { startBeaconSim } = await import("../../packages/beacon-sim/src/index.js");
const t0 = performance.now();
const sim = await startBeaconSim({
  validators: n,
  fork,
  seed: "watcher-bench",
  // the three states the clients read (each epoch's first state and the next epoch's) kept once
  // served, as a node's state caches keep its recent states
  servedStatesKept: 3,
  // some misses so the results are not all perfect: 1% offline, 1% late
  scenario: {
    behaviours: [
      { validators: `0-${Math.floor(n / 100) - 1}`, behaviour: "offline" },
      { validators: `${Math.floor(n / 100)}-${Math.floor(n / 50) - 1}`, behaviour: "late", delay: 2 },
    ],
  },
});
// the epoch and the next one processable (the client reads both: the watcher's first and next epochs)
while (sim.chain.currentFinality().finalized.epoch < 5) sim.chain.advanceEpochs(1);
const epoch = sim.chain.currentFinality().finalized.epoch - 3;
// the states the clients read (the first slots of both epochs and of the epoch after) served
// once before the clients come: the sim computes what a node's state already holds (the next sync
// committee, Fulu's proposer lookahead) on the first request, and keeps the bytes as a node's
// state cache would
for (const e of [epoch, epoch + 1, epoch + 2]) {
  const r = await fetch(`${sim.url}/eth/v2/debug/beacon/states/${e * sim.chain.slotsPerEpoch}`, {
    headers: { accept: "application/octet-stream" },
  });
  await r.arrayBuffer();
}
process.stdout.write(
  `${JSON.stringify({ url: sim.url, epoch, validators: n, fork, startSeconds: (performance.now() - t0) / 1000, rssMiB: Math.round(process.memoryUsage().rss / 1048576) })}\n`,
);
createInterface({ input: process.stdin }).on("line", () => {
  const cpu = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
  );
});
process.on("SIGTERM", () => {
  void sim.close().then(() => process.exit(0));
});
