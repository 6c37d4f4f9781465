/**
 * Child process of watcher-epoch.ts: the watcher's client for one finalized epoch of a sim, in a
 * process of its own so that its peak RSS is this epoch's alone. Prints one JSON line.
 *
 *   node --import tsx bench/beacon/watcher-epoch-client.ts epoch <url> <epoch> <simN> <pool> <ssz|json>
 *   node --import tsx bench/beacon/watcher-epoch-client.ts pubkeys <url> <pool>
 *
 * WATCHER_BENCH_BEACON_SRC=<dir>/packages/beacon/src/index.ts runs another checkout's client (the
 * "before" of a change; its node_modules linked to this one's).
 */
const [mode, url = "", ...rest] = process.argv.slice(2);
const preset = "mainnet";
process.env.LODESTAR_PRESET = preset;
const beacon = (await import(
  process.env.WATCHER_BENCH_BEACON_SRC ?? "../../packages/beacon/src/index.js"
)) as typeof import("../../packages/beacon/src/index.js");
const rssAfterImports = process.memoryUsage().rss;
const pool = await beacon.BeaconNodePool.init({ urls: [url], preset, timeoutMs: 120_000 });
const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

if (mode === "epoch") {
  const [epoch, simN, size, wire] = [Number(rest[0]), Number(rest[1]), Number(rest[2]), rest[3]];
  const indices = Array.from({ length: size }, (_, i) => i * Math.floor(simN / size));
  const reader = new beacon.EpochDutiesReader(pool);
  const phases: Array<[string, number]> = [];
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  // as the watcher asks: rewards only for the attestations that were not perfect (what it stores)
  const d = await reader.epochDuties(epoch, {
    validators: indices,
    rewards: "exceptions",
    blockWireFormat: wire === "json" ? "json" : "ssz",
    onPhase: (name, ms) => phases.push([name, ms]),
  });
  const wallMs = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  const epochPeakMiB = peakMiB(); // before the scores below (the bench's own summary)
  // the next epoch with this reader, as the watcher's next one: from Electra on its effective
  // balances are cached (the watcher reads the state for them once per
  // EFFECTIVE_BALANCE_MAX_AGE_EPOCHS epochs), its start balances are the first epoch's end ones
  const tWarm = performance.now();
  const cpuWarm0 = process.cpuUsage();
  await reader.epochDuties(epoch + 1, {
    validators: indices,
    rewards: "exceptions",
    blockWireFormat: wire === "json" ? "json" : "ssz",
  });
  const warmWallMs = performance.now() - tWarm;
  const cpuWarm = process.cpuUsage(cpuWarm0);
  const perValidator = beacon.countsByValidator(d);
  let agg = beacon.emptyAggregate();
  for (const c of perValidator.values()) agg = beacon.addCounts(agg, c);
  process.stdout.write(
    `${JSON.stringify({
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      warmWallMs,
      warmCpuMs: (cpuWarm.user + cpuWarm.system) / 1000,
      peakRssMiB: epochPeakMiB,
      importRssMiB: Math.round(rssAfterImports / 1048576),
      phases,
      duties: d.attestations.length,
      missed: d.attestations.filter((a) => !a.included).length,
      proposals: d.proposals.length,
      sync: d.sync.length,
      sources: d.sources,
      poolCsm: beacon.scoreSet(agg).csm,
      networkCsm: beacon.scoreSet(d.network).csm,
    })}\n`,
  );
} else if (mode === "pubkeys") {
  // pubkey → index: chunked POST vs one GET per key (sampled, extrapolated)
  const size = Number(rest[0]);
  const ids = Array.from({ length: size }, (_, i) => i);
  let t = performance.now();
  const infos = await beacon.getValidators(pool, ids, { chunkSize: 2000, concurrency: 4 });
  const pubkeys = infos.map((v) => v.pubkey);
  const readMs = performance.now() - t;
  t = performance.now();
  const m = await beacon.resolvePubkeys(pool, pubkeys, { chunkSize: 2000, concurrency: 4 });
  const chunkedMs = performance.now() - t;
  const sample = pubkeys.slice(0, 1000);
  t = performance.now();
  for (const pk of sample) {
    const r = await fetch(`${url}/eth/v1/beacon/states/finalized/validators/${pk}`);
    await r.arrayBuffer();
  }
  const naiveMs = ((performance.now() - t) / sample.length) * size;
  process.stdout.write(
    `${JSON.stringify({ read: pubkeys.length, readMs, resolved: m.size, chunkedMs, naiveMs, peakRssMiB: peakMiB() })}\n`,
  );
} else {
  throw new Error(`mode: "${mode}" is not epoch or pubkeys`);
}
process.exit(0);
