/**
 * Child process of watcher-epoch.ts: a beacon-sim with N validators (mainnet preset), advanced
 * until an epoch is processable (finalized ≥ epoch + 2), serving over HTTP until killed.
 * Prints one JSON line {url, epoch, validators, startSeconds} when ready.
 *
 *   node --import tsx bench/beacon/watcher-sim-server.ts [validators] [preset]
 */
const n = Number(process.argv[2] ?? 1_000_000);
process.env.LODESTAR_PRESET = process.argv[3] ?? "mainnet";
const { startBeaconSim } = await import("../../packages/beacon-sim/src/index.js");
const t0 = performance.now();
const sim = await startBeaconSim({
  validators: n,
  seed: "watcher-bench",
  // some misses so the results are not all perfect: 1% offline, 1% late
  scenario: {
    behaviours: [
      { validators: `0-${Math.floor(n / 100) - 1}`, behaviour: "offline" },
      { validators: `${Math.floor(n / 100)}-${Math.floor(n / 50) - 1}`, behaviour: "late", delay: 2 },
    ],
  },
});
while (sim.chain.currentFinality().finalized.epoch < 4) sim.chain.advanceEpochs(1);
const epoch = sim.chain.currentFinality().finalized.epoch - 2;
process.stdout.write(
  `${JSON.stringify({ url: sim.url, epoch, validators: n, startSeconds: (performance.now() - t0) / 1000, rssMiB: Math.round(process.memoryUsage().rss / 1048576) })}\n`,
);
process.on("SIGTERM", () => {
  void sim.close().then(() => process.exit(0));
});
