/**
 * The watcher's work for one finalized epoch at scale, per fork (Deneb and Fulu by default, in the
 * same run): a 1,000,000-validator beacon-sim per fork (mainnet preset, each in a child process)
 * and a pool of 500,000 of its validators. Each epoch is read by a client in a child process of its
 * own, so its peak RSS is that epoch's alone, with blocks as SSZ and, as the peer, as JSON (the
 * order alternates by round). Prints wall time, client CPU, client peak RSS, the sim's CPU for the
 * same epoch, and the phases. Target (issue 11): the Fulu epoch ≤ 1.5 s and ≤ 400 MiB client peak
 * RSS. `--pubkeys` adds the pubkey → index resolution (chunked POST vs one GET per key, sampled).
 *
 *   node --import tsx bench/beacon/watcher-epoch.ts [simValidators=1000000] [pool=500000] [forks=deneb,fulu] [--pubkeys]
 *   BENCH_ROUNDS=3 ...   (rounds per fork and wire format; best and range printed)
 *   BENCH_WIRES=ssz,before ...   (only these clients; default all)
 *   BENCH_CLIENT_PROF=/tmp/prof ...   (a CPU profile of each client, for `node --cpu-prof` readers)
 *   BENCH_BASELINE_SRC=/tmp/base/packages/beacon/src/index.ts ...   (adds a "before" client per fork:
 *     another checkout's packages/beacon, e.g. `git archive <rev> packages/beacon | tar -x -C /tmp/base`
 *     with its node_modules linked to this checkout's)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const withPubkeys = process.argv.includes("--pubkeys");
const simN = Number(args[0] ?? 1_000_000);
const poolSize = Number(args[1] ?? 500_000);
const forks = (args[2] ?? "deneb,fulu").split(",");
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const preset = "mainnet";
const baseline = process.env.BENCH_BASELINE_SRC;
/** Client variants: SSZ blocks, JSON blocks (the peer), and the "before" checkout when given. */
const WIRES = (baseline === undefined ? ["ssz", "json"] : ["ssz", "json", "before"]).filter(
  (w) => process.env.BENCH_WIRES === undefined || process.env.BENCH_WIRES.split(",").includes(w),
);
/** BENCH_CLIENT_PROF=<dir>: each client writes a V8 CPU profile there (node --cpu-prof). */
const profDir = process.env.BENCH_CLIENT_PROF;

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

interface Sim {
  fork: string;
  child: ChildProcess;
  url: string;
  epoch: number;
  startSeconds: number;
  rssMiB: number;
  /** The sim's CPU time and peak RSS so far (asked over its stdin). */
  usage(): Promise<{ cpuMs: number; peakRssMiB: number }>;
}

function startSim(fork: string): Promise<Sim> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", here("./watcher-sim-server.ts"), String(simN), preset, fork],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout! }).on("line", (l) => waiting.shift()?.(l));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${fork} sim exited with ${code}`)));
    void nextLine().then((l) => {
      const r = JSON.parse(l) as { url: string; epoch: number; startSeconds: number; rssMiB: number };
      resolve({
        fork,
        child,
        ...r,
        usage: async () => {
          const p = nextLine();
          child.stdin!.write("usage\n");
          return JSON.parse(await p);
        },
      });
    });
  });
}

function runClient(argv: string[], beaconSrc?: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const prof = profDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profDir}`];
    const child = spawn(
      process.execPath,
      [...prof, "--import", "tsx", here("./watcher-epoch-client.ts"), ...argv],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: beaconSrc === undefined ? process.env : { ...process.env, WATCHER_BENCH_BEACON_SRC: beaconSrc },
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`client ${argv.join(" ")} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}"));
    });
  });
}

interface EpochRun {
  wallMs: number;
  cpuMs: number;
  /** The next epoch in the same client (effective balances and start balances cached, as for the watcher's next epochs). */
  warmWallMs: number;
  warmCpuMs: number;
  peakRssMiB: number;
  importRssMiB: number;
  simCpuMs: number;
  phases: Array<[string, number]>;
  duties: number;
  missed: number;
  proposals: number;
  sync: number;
  sources: { committees: string; proposers: string };
  poolCsm: number;
  networkCsm: number;
}

console.log(
  `watcher epoch bench: sims of ${simN.toLocaleString()} validators (${preset}) for ${forks.join(", ")}, pool ${poolSize.toLocaleString()}, ${rounds} round(s); node ${process.version}`,
);
const sims: Sim[] = [];
try {
  // the sims start one after another (each start is CPU-bound; two at once only slow each other)
  for (const fork of forks) {
    const s = await startSim(fork);
    sims.push(s);
    console.log(
      `${fork} sim ready in ${s.startSeconds.toFixed(1)} s (RSS ${s.rssMiB} MiB); processing epoch ${s.epoch}`,
    );
  }
  const runs = new Map<string, EpochRun[]>();
  for (let round = 0; round < rounds; round++) {
    for (const s of sims) {
      const order = round % 2 === 0 ? WIRES : [...WIRES].reverse();
      for (const wire of order) {
        const before = await s.usage();
        const r = (await runClient(
          ["epoch", s.url, String(s.epoch), String(simN), String(poolSize), wire === "before" ? "ssz" : wire],
          wire === "before" ? baseline : undefined,
        )) as unknown as EpochRun;
        r.simCpuMs = (await s.usage()).cpuMs - before.cpuMs;
        const key = `${s.fork} ${wire}`;
        runs.set(key, [...(runs.get(key) ?? []), r]);
        console.log(
          `${key.padEnd(12)} ${secs(r.wallMs)} wall, client CPU ${secs(r.cpuMs)}, client peak RSS ${r.peakRssMiB} MiB ` +
            `(${r.importRssMiB} MiB after imports), sim CPU ${secs(r.simCpuMs)} (both epochs); the next epoch with the reader's caches: ${secs(r.warmWallMs)} wall, CPU ${secs(r.warmCpuMs)}; ` +
            `${r.duties.toLocaleString()} duties, ${r.missed.toLocaleString()} missed, ${r.proposals} proposals, ${r.sync} sync members, ` +
            `pool CSM ${r.poolCsm.toFixed(4)} vs network ${r.networkCsm.toFixed(4)}, sources ${r.sources.committees}/${r.sources.proposers}`,
        );
        console.log(
          `             phases (s): ${r.phases.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(2)}`).join(", ")}`,
        );
      }
    }
  }
  console.log("\nsummary (best of rounds; range):");
  const range = (xs: number[], f: (x: number) => string) =>
    `${f(Math.min(...xs))}${xs.length > 1 ? ` (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : ""}`;
  for (const s of sims) {
    const ssz = runs.get(`${s.fork} ssz`) ?? [];
    const json = runs.get(`${s.fork} json`) ?? [];
    const line = (rs: EpochRun[]) =>
      `${range(
        rs.map((r) => r.wallMs),
        secs,
      )} wall, CPU ${range(
        rs.map((r) => r.cpuMs),
        secs,
      )}, peak RSS ${range(
        rs.map((r) => r.peakRssMiB),
        (x) => `${x} MiB`,
      )}; next epoch ${range(
        rs.map((r) => r.warmWallMs),
        secs,
      )} wall, CPU ${range(
        rs.map((r) => r.warmCpuMs),
        secs,
      )}`;
    const before = runs.get(`${s.fork} before`);
    console.log(
      `  ${s.fork}: ${(
        [
          ["SSZ blocks", ssz],
          ["JSON blocks (peer)", json],
          [`before (${baseline})`, before ?? []],
        ] as Array<[string, EpochRun[]]>
      )
        .filter(([, rs]) => rs.length > 0)
        .map(([name, rs]) => `${name} ${line(rs)}`)
        .join(" | ")}`,
    );
    if (s.fork === "fulu" && ssz.length > 0) {
      const w = Math.min(...ssz.map((r) => r.wallMs));
      const m = Math.min(...ssz.map((r) => r.peakRssMiB));
      console.log(
        `  fulu target ≤ 1.5 s and ≤ 400 MiB: ${w <= 1500 ? "met" : "missed"} (${secs(w)}), ${m <= 400 ? "met" : "missed"} (${m} MiB)`,
      );
    }
  }

  const last = sims[sims.length - 1];
  if (withPubkeys && last !== undefined) {
    const p = (await runClient(["pubkeys", last.url, String(poolSize)])) as {
      read: number;
      readMs: number;
      resolved: number;
      chunkedMs: number;
      naiveMs: number;
      peakRssMiB: number;
    };
    console.log(
      `\n(setup) ${p.read.toLocaleString()} pubkeys read by index in ${secs(p.readMs)}\n` +
        `pubkey → index, POST in chunks of 2000: ${p.resolved.toLocaleString()} keys in ${secs(p.chunkedMs)} ` +
        `(${Math.round(p.resolved / (p.chunkedMs / 1000)).toLocaleString()}/s); client peak RSS ${p.peakRssMiB} MiB\n` +
        `naive: one GET per key (1,000 sampled) → ${secs(p.naiveMs)} for ${poolSize.toLocaleString()} keys ` +
        `(${(p.naiveMs / p.chunkedMs).toFixed(1)}× slower)`,
    );
  }
} finally {
  for (const s of sims) s.child.kill("SIGTERM");
}
