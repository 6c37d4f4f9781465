/**
 * The watcher's work for one finalized epoch, at scale: a 1,000,000-validator beacon-sim (mainnet
 * preset, in a child process so that server and client each have a core) and pools of 100,000 and
 * 500,000 validators. Prints the time of each part and the client's peak RSS; compares the chunked
 * POST pubkey → index resolution with the naive one-GET-per-key way (sampled, extrapolated).
 *
 *   node --import tsx bench/beacon/watcher-epoch.ts [simValidators=1000000] [pools=100000,500000]
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const simN = Number(process.argv[2] ?? 1_000_000);
const pools = (process.argv[3] ?? "100000,500000").split(",").map(Number);
const preset = "mainnet";
process.env.LODESTAR_PRESET = preset;
const {
  BeaconNodePool,
  EpochDutiesReader,
  getValidators,
  resolvePubkeys,
  countsByValidator,
  scoreSet,
  emptyAggregate,
  addCounts,
} = await import("../../packages/beacon/src/index.js");

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const peakRss = () => `${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`;

console.log(
  `watcher epoch bench: sim of ${simN.toLocaleString()} validators (${preset}), pools ${pools.join(", ")}; node ${process.version}`,
);
const child = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    fileURLToPath(new URL("./watcher-sim-server.ts", import.meta.url)),
    String(simN),
    preset,
  ],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
const ready = await new Promise<{ url: string; epoch: number; startSeconds: number; rssMiB: number }>(
  (resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once("line", (l) => resolve(JSON.parse(l)));
    child.once("exit", (code) => reject(new Error(`sim exited with ${code}`)));
  },
);
console.log(
  `sim ready in ${ready.startSeconds.toFixed(1)} s (RSS ${ready.rssMiB} MiB); processing epoch ${ready.epoch}`,
);

try {
  const pool = await BeaconNodePool.init({ urls: [ready.url], preset, timeoutMs: 120_000 });
  for (const size of pools) {
    const indices = Array.from({ length: size }, (_, i) => i * Math.floor(simN / size));
    const reader = new EpochDutiesReader(pool);
    const t = performance.now();
    const cpu0 = process.cpuUsage();
    const phases: string[] = [];
    // as the watcher asks: rewards only for the attestations that were not perfect (what it stores)
    const d = await reader.epochDuties(ready.epoch, {
      validators: indices,
      rewards: "exceptions",
      onPhase: (name, ms) => phases.push(`${name} ${(ms / 1000).toFixed(2)}`),
    });
    const total = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    const perValidator = countsByValidator(d);
    let agg = emptyAggregate();
    for (const c of perValidator.values()) agg = addCounts(agg, c);
    const s = scoreSet(agg);
    const n = scoreSet(d.network);
    console.log(
      `pool ${size.toLocaleString()}: epoch processed in ${secs(total)} (target ≤ 10 s for 500,000); ` +
        `${d.attestations.length.toLocaleString()} attestation duties, ${d.attestations.filter((a) => !a.included).length.toLocaleString()} missed, ` +
        `${d.proposals.length} proposals, ${d.sync.length} sync members; pool CSM ${s.csm?.toFixed(4)} vs network ${n.csm?.toFixed(4)}; ` +
        `sources ${d.sources.committees}/${d.sources.proposers}; client peak RSS ${peakRss()}`,
    );
    console.log(`  phases (s): ${phases.join(", ")}`);
    console.log(
      `  client CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s of ${secs(total)} wall (the rest: waiting for the node)`,
    );
  }

  // pubkey → index: chunked POST vs one GET per key
  const size = Math.max(...pools);
  const ids = Array.from({ length: size }, (_, i) => i);
  let t = performance.now();
  const infos = await getValidators(pool, ids, { chunkSize: 2000, concurrency: 4 });
  const pubkeys = infos.map((v) => v.pubkey);
  console.log(
    `(setup) ${pubkeys.length.toLocaleString()} pubkeys read by index in ${secs(performance.now() - t)}`,
  );
  t = performance.now();
  const m = await resolvePubkeys(pool, pubkeys, { chunkSize: 2000, concurrency: 4 });
  const chunked = performance.now() - t;
  console.log(
    `pubkey → index, POST in chunks of 2000: ${m.size.toLocaleString()} keys in ${secs(chunked)} (${Math.round(m.size / (chunked / 1000)).toLocaleString()}/s); peak RSS ${peakRss()}`,
  );
  const sample = pubkeys.slice(0, 1000);
  t = performance.now();
  for (const pk of sample) {
    const r = await fetch(`${ready.url}/eth/v1/beacon/states/finalized/validators/${pk}`);
    await r.arrayBuffer();
  }
  const naive = ((performance.now() - t) / sample.length) * size;
  console.log(
    `naive: one GET per key (1,000 sampled) → ${secs(naive)} for ${size.toLocaleString()} keys (${(naive / chunked).toFixed(1)}× slower)`,
  );
} finally {
  child.kill("SIGTERM");
}
