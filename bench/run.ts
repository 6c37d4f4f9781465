/**
 * Benchmark runner: runs every benchmark under bench/<area>/*.ts one after another, each as its own
 * `node --import tsx <file>` process with its default arguments, output streamed as it comes.
 *
 *   pnpm bench                          # all of them (long: several minutes; needs PostgreSQL)
 *   pnpm bench keys registry/upload     # a subset: by area, or by "area/name" prefix
 *   pnpm bench --list [filter...]       # list them with the first sentence of their leading comment
 *
 * Helper modules (a bench file that another bench file imports or spawns by relative path, such as
 * registry/api-support.ts or beacon/watcher-sim-server.ts) are not benchmarks and are not run.
 * The environment is passed through (TEST_DATABASE_URL, TEST_REDIS_URL, BENCH_ROUNDS, ...).
 * A benchmark that fails (non-zero exit or killed by a signal) is named, the others still run,
 * and the runner exits 1 at the end.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(BENCH_DIR);
/** --list keeps each description on one line of about 120 columns */
const DESCRIPTION_MAX = 96;

interface Bench {
  /** "area/name", e.g. "registry/upload" */
  id: string;
  file: string;
  description: string;
}

const USAGE = `usage: pnpm bench [--list] [filter...]
  filter: an area ("keys") or a prefix of "area/name" ("registry/upload", "registry/api");
          "bench/" and ".ts" are accepted and ignored. No filter: every benchmark.
  --list: print the benchmarks (after filtering) with a one-line description, run nothing.`;

/** Every .ts file directly under bench/<area>/ (sorted), as absolute paths. */
function benchFiles(): string[] {
  const files: string[] = [];
  for (const area of readdirSync(BENCH_DIR).sort()) {
    const dir = join(BENCH_DIR, area);
    if (area.startsWith(".") || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith(".ts") && !name.endsWith(".d.ts") && statSync(join(dir, name)).isFile()) {
        files.push(join(dir, name));
      }
    }
  }
  return files;
}

/**
 * Files that another bench file refers to by a quoted relative path ("./api-support.js",
 * new URL("./watcher-sim-server.ts", import.meta.url)): shared modules and child processes.
 * Paths in comments are not quoted, so a comment naming another benchmark does not count.
 */
function helperFiles(files: string[], sources: Map<string, string>): Set<string> {
  const known = new Set(files);
  const helpers = new Set<string>();
  const specifier = /["'`](\.{1,2}\/[^"'`\s]+)["'`]/g;
  for (const file of files) {
    for (const m of (sources.get(file) ?? "").matchAll(specifier)) {
      const target = resolve(dirname(file), m[1] ?? "");
      for (const candidate of [target, target.replace(/\.js$/, ".ts")]) {
        if (candidate !== file && known.has(candidate)) helpers.add(candidate);
      }
    }
  }
  return helpers;
}

/** The first sentence of the file's leading comment (block or line comments), on one line. */
function describe(source: string): string {
  const text = source.replace(/^#!.*\n/, "").trimStart();
  let body: string;
  if (text.startsWith("/*")) {
    const end = text.indexOf("*/");
    body = text.slice(2, end < 0 ? undefined : end).replace(/^\*/, "");
  } else if (text.startsWith("//")) {
    body = (text.match(/^(?:\/\/.*(?:\n|$))+/)?.[0] ?? "").replace(/^\/\/ ?/gm, "");
  } else {
    return "(no leading comment)";
  }
  const lines = body.split("\n").map((l) => l.replace(/^\s*\* ?/, "").trim());
  // first paragraph only: up to a blank line or the "Run:" / command line
  const paragraph: string[] = [];
  for (const line of lines) {
    if (line === "") {
      if (paragraph.length > 0) break;
      continue;
    }
    if (/^(Run:|node |pnpm )/.test(line)) break;
    paragraph.push(line);
  }
  const joined = paragraph.join(" ");
  if (joined === "") return "(empty leading comment)";
  // first sentence: up to the first "." followed by a space or the end, outside parentheses
  let sentence = joined;
  let depth = 0;
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (c === "." && depth === 0 && (i + 1 === joined.length || joined[i + 1] === " ")) {
      sentence = joined.slice(0, i + 1);
      break;
    }
  }
  if (sentence.length <= DESCRIPTION_MAX) return sentence;
  const cut = sentence.slice(0, DESCRIPTION_MAX);
  return `${cut.slice(0, cut.lastIndexOf(" ") > 0 ? cut.lastIndexOf(" ") : cut.length).replace(/[,;:]$/, "")}…`;
}

function discover(): Bench[] {
  const files = benchFiles();
  const sources = new Map(files.map((f) => [f, readFileSync(f, "utf8")]));
  const helpers = helperFiles(files, sources);
  return files
    .filter((f) => !helpers.has(f))
    .map((file) => ({
      id: relative(BENCH_DIR, file).split(sep).join("/").replace(/\.ts$/, ""),
      file,
      description: describe(sources.get(file) ?? ""),
    }));
}

function normalizeFilter(filter: string): string {
  return filter
    .replace(/\\/g, "/")
    .replace(/^(\.\/)?bench\//, "")
    .replace(/\.ts$/, "")
    .replace(/\/$/, "");
}

function select(all: Bench[], filters: string[]): Bench[] {
  if (filters.length === 0) return all;
  const chosen = new Set<Bench>();
  const unmatched: string[] = [];
  for (const raw of filters) {
    const f = normalizeFilter(raw);
    const hits = all.filter((b) => f !== "" && b.id.startsWith(f));
    if (hits.length === 0) unmatched.push(raw);
    for (const b of hits) chosen.add(b);
  }
  if (unmatched.length > 0) {
    console.error(
      `bench: no benchmark matches ${unmatched.map((u) => JSON.stringify(u)).join(", ")}; ` +
        `known: ${all.map((b) => b.id).join(", ")}`,
    );
    process.exit(2);
  }
  return all.filter((b) => chosen.has(b)); // discovery order, no duplicates
}

interface Outcome {
  bench: Bench;
  seconds: number;
  /** null when it succeeded */
  failure: string | null;
}

let current: ReturnType<typeof spawn> | null = null;
let interrupted: NodeJS.Signals | null = null;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // Ctrl-C reaches the child too (same process group); SIGTERM may come to the runner only
    interrupted = signal;
    if (current && current.exitCode === null && current.signalCode === null) current.kill(signal);
  });
}

function runOne(bench: Bench): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", bench.file], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: "inherit",
    });
    current = child;
    const finish = (failure: string | null) => {
      current = null;
      done({ bench, seconds: (performance.now() - t0) / 1000, failure });
    };
    child.once("error", (err) => finish(`could not start: ${err.message}`));
    child.once("exit", (code, signal) => {
      if (signal !== null) finish(`killed by ${signal}`);
      else if (code !== 0) finish(`exit code ${code}`);
      else finish(null);
    });
  });
}

async function main(argv: string[]): Promise<number> {
  let list = false;
  const filters: string[] = [];
  for (const arg of argv) {
    if (arg === "--list" || arg === "-l") list = true;
    else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      return 0;
    } else if (arg === "--") continue;
    else if (arg.startsWith("-")) {
      console.error(`bench: unknown option ${arg}\n${USAGE}`);
      return 2;
    } else filters.push(arg);
  }
  const benches = select(discover(), filters);

  if (list) {
    const width = Math.max(...benches.map((b) => b.id.length));
    for (const b of benches) console.log(`${b.id.padEnd(width)}  ${b.description}`);
    return 0;
  }

  const outcomes: Outcome[] = [];
  for (const [i, bench] of benches.entries()) {
    if (interrupted) break;
    const rel = relative(REPO_ROOT, bench.file).split(sep).join("/");
    console.log(`\n=== [${i + 1}/${benches.length}] ${bench.id}: node --import tsx ${rel}`);
    const outcome = await runOne(bench);
    outcomes.push(outcome);
    const took = `${outcome.seconds.toFixed(1)} s`;
    console.log(
      outcome.failure === null
        ? `=== ${bench.id}: ok (${took})`
        : `=== ${bench.id}: FAILED, ${outcome.failure} (${took})`,
    );
  }

  const failed = outcomes.filter((o) => o.failure !== null);
  const notRun = benches.length - outcomes.length;
  console.log(
    `\nbench: ${outcomes.length - failed.length} of ${benches.length} ok` +
      (failed.length > 0 ? `; failed: ${failed.map((o) => `${o.bench.id} (${o.failure})`).join(", ")}` : "") +
      (notRun > 0 ? `; ${notRun} not run (${interrupted})` : ""),
  );
  if (interrupted) return 130;
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
