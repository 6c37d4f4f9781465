import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, freemem } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { type KeyTask, type KeyTaskResult, runKeyTask, runKeyTaskAsync } from "./key-task.js";
import { type KdfSettings, SCRYPT_DEFAULTS } from "./keystore.js";

export * from "./key-task.js";

/**
 * The CPU-heavy part of key generation and where it runs.
 *
 * - EIP-2333 derivation and BLS signing are JavaScript/N-API work on the calling thread: bulk
 *   runs go to a piscina worker_threads pool (generate.ts: cores - 1 workers, the main thread
 *   working too), small ones run inline.
 * - The keystore KDFs (scrypt, PBKDF2) are native code: they run through node:crypto's async API
 *   on libuv's thread pool, never on the event loop, with a concurrency that follows cores and
 *   free memory (defaultThreads). Measured here: this reaches the bare KDF's own throughput,
 *   while a worker pool first pays its start-up (each worker loads its modules)
 *   for no gain, since the KDF does not run faster in a worker.
 * `runKeyTask` (worker or inline) can also encrypt synchronously: for callers that run it on a
 * worker of their own.
 */

/** Memory one scrypt job needs (V = 128·N·r bytes, plus working room). */
export function scryptJobBytes(n: number = SCRYPT_DEFAULTS.n, r: number = SCRYPT_DEFAULTS.r): number {
  return 128 * n * r + 32 * 1024 * 1024;
}

/** Threads in libuv's pool, where node:crypto runs async KDFs (UV_THREADPOOL_SIZE, default 4). */
export function uvThreadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4;
}

/**
 * How many jobs to run at once. Derivation and signing (no kdf): one per core. Keystores: no more
 * than libuv's pool has threads, and
 * - PBKDF2: one more than there are cores. The main thread derives and signs each key and writes
 *   each file while the KDFs run; with one KDF per core, a core idles whenever a KDF has ended and
 *   its successor waits for the main thread, and at the end of a run while the last KDF finishes
 *   alone. Measured on this project's 2-core machine (36 and 72 keystores, interleaved runs): 3 at
 *   once made 0.4-6% more keystores/s than 2 at once, in each of 4 comparisons.
 * - scrypt: one per core, no more than half of the free memory allows (256 MiB per job at n=2^18).
 *   scrypt is bound by memory bandwidth: a third job on 2 cores did not help. Two concurrent
 *   scrypt jobs did 2.3 keystores/s against 1.2 for one: memory, not a fixed 1, is the limit.
 */
export function defaultThreads(
  kdf: KdfSettings | undefined,
  opts: { cores?: number; freeBytes?: number; uvThreads?: number } = {},
): number {
  const cores = Math.max(1, opts.cores ?? availableParallelism());
  if (kdf === undefined) return cores;
  const uvThreads = opts.uvThreads ?? uvThreadpoolSize();
  if (kdf.function !== "scrypt") return Math.max(1, Math.min(cores + 1, uvThreads));
  const budget = (opts.freeBytes ?? freemem()) / 2;
  const byMemory = Math.floor(budget / scryptJobBytes(kdf.cost ?? SCRYPT_DEFAULTS.n));
  return Math.max(1, Math.min(cores, uvThreads, byMemory));
}

export interface KeyPool {
  readonly threads: number;
  /**
   * Start the worker threads now (their entry is bundled first when its inputs changed, else
   * reused: see bundledWorkerEntry). Optional: run() starts them too.
   */
  start(): Promise<void>;
  run(task: KeyTask): Promise<KeyTaskResult[]>;
  close(): Promise<void>;
}

/** Where bundled worker entries are kept (ignored by git, like the rest of node_modules). */
const WORKER_CACHE = new URL("../node_modules/.cache/poolkeeper-keys/", import.meta.url);
const TSX_WORKER = new URL("./pool-worker.mjs", import.meta.url).href;

/** Packages with a native binding: a worker imports them from node_modules, by resolved path. */
const NATIVE_PACKAGES = /^@chainsafe\/(blst|hashtree)(\/|-|$)/;

/**
 * The worker's entry: key-task.ts with everything it imports bundled by esbuild into one plain
 * JavaScript module, but for the packages with a native binding (imported by their resolved
 * paths), stored under node_modules/.cache by content hash. A worker then loads no TypeScript
 * loader and a handful of modules instead of many: the ESM loader's per-module resolution was most
 * of a worker's start-up (more so through tsx). @poolkeeper/core declares
 * `sideEffects: false`, so that what the worker does not use (the logger and pino) is left out.
 * esbuild runs in its own process while the main thread already derives keys. When bundling is
 * not possible (esbuild missing, a read-only directory), the worker registers tsx itself
 * (pool-worker.mjs): slower to start, same results.
 */
export async function bundledWorkerEntry(): Promise<string> {
  const esbuild = await import("esbuild");
  const entry = fileURLToPath(new URL("./key-task.ts", import.meta.url));
  const reusable = reusableBundle(esbuild.version, entry);
  if (reusable !== undefined) return reusable;
  const started = Date.now();
  const nativeExternal = {
    name: "native-external",
    setup(b: import("esbuild").PluginBuild) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.path.startsWith("node:")) return { path: args.path, external: true };
        if (args.pluginData === "inner" || !NATIVE_PACKAGES.test(args.path)) return undefined;
        const r = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: "inner",
        });
        if (r.errors.length > 0) return { errors: r.errors };
        return { path: r.path, external: true };
      });
    },
  };
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "silent",
    plugins: [nativeExternal],
    metafile: true,
    absWorkingDir: BUNDLE_BASE,
    // Bundled CommonJS packages call require() for Node's built-in modules.
    banner: {
      js: 'import { createRequire as __poolkeeperRequire } from "node:module"; const require = __poolkeeperRequire(import.meta.url);',
    },
  });
  const code = out.outputFiles[0]!.text;
  const name = `key-task-${sha256Hex(code).slice(0, 16)}.mjs`;
  const file = new URL(name, WORKER_CACHE);
  mkdirSync(WORKER_CACHE, { recursive: true, mode: 0o700 });
  const manifest: BundleManifest = { esbuild: esbuild.version, entry, bundle: name, inputs: {} };
  let settled = true;
  for (const input of Object.keys(out.metafile.inputs)) {
    const path = resolve(BUNDLE_BASE, input);
    const st = statSync(path);
    manifest.inputs[path] = [st.size, st.mtimeMs];
    // Changed while esbuild read it: the bundle may hold the old text, so it is not recorded.
    if (st.mtimeMs >= started) settled = false;
  }
  writeCacheFile(file, code);
  if (settled) writeCacheFile(BUNDLE_MANIFEST, JSON.stringify(manifest));
  return file.href;
}

/** What the cached bundle was made from: each input file's size and modification time. */
interface BundleManifest {
  esbuild: string;
  entry: string;
  bundle: string;
  inputs: Record<string, [size: number, mtimeMs: number]>;
}

const BUNDLE_BASE = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE_MANIFEST = new URL("key-task.json", WORKER_CACHE);

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function writeCacheFile(file: URL, text: string): void {
  const tmp = new URL(`${file.href}.${process.pid}.tmp`);
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * The cached bundle, when none of its inputs has changed since it was made (same size and
 * modification time, same esbuild) and its content still matches its name: a stat of each input
 * instead of a build (far cheaper than esbuild's CPU time).
 */
function reusableBundle(esbuildVersion: string, entry: string): string | undefined {
  try {
    const m = JSON.parse(readFileSync(BUNDLE_MANIFEST, "utf8")) as BundleManifest;
    if (m.esbuild !== esbuildVersion || m.entry !== entry) return undefined;
    for (const [path, [size, mtimeMs]] of Object.entries(m.inputs)) {
      const st = statSync(path);
      if (st.size !== size || st.mtimeMs !== mtimeMs) return undefined;
    }
    const file = new URL(m.bundle, WORKER_CACHE);
    if (!m.bundle.startsWith(`key-task-${sha256Hex(readFileSync(file, "utf8")).slice(0, 16)}`))
      return undefined;
    return file.href;
  } catch {
    return undefined; // no manifest yet, an input gone, an unreadable bundle: build again
  }
}

/** The process's Node options without the module loaders (`--import X`, `--loader X`, ...). */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (/^(--import|--loader|--experimental-loader|--require|-r)$/.test(a)) i++;
    else if (!/^--(import|loader|experimental-loader|require)=/.test(a)) out.push(a);
  }
  return out;
}

/**
 * Runs KeyTasks: with a keystore, on the calling thread with the KDF on libuv's pool; without,
 * on `threads` worker threads (started on first use, from the bundled entry when it can be
 * made, see bundledWorkerEntry), or inline when `threads` is 0.
 */
export function createKeyPool(threads: number, opts: { workerEntry?: "bundled" | "tsx" } = {}): KeyPool {
  if (!Number.isInteger(threads) || threads < 0) throw new RangeError("threads must be an integer >= 0");
  let piscina: Promise<Piscina> | undefined;
  const start = async (): Promise<Piscina> => {
    const filename =
      opts.workerEntry === "tsx" ? TSX_WORKER : await bundledWorkerEntry().catch(() => TSX_WORKER);
    return new Piscina({
      filename,
      // Workers inherit the process's Node options by default: under `node --import tsx` each
      // would load tsx (and start its loader thread) for a plain JavaScript entry, which slows
      // every worker's start. The bundle needs none; the fallback entry registers tsx itself.
      execArgv: workerExecArgv(process.execArgv),
      name: "runKeyTask",
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 1000,
      // A second task waits on the worker's own port, so a worker never idles while the main
      // thread (which also derives keys) is too busy to hand it the next one.
      concurrentTasksPerWorker: 2,
    });
  };
  return {
    threads,
    start: async () => {
      if (threads === 0) return;
      piscina ??= start();
      await piscina;
    },
    run: async (task) => {
      if (task.keystore !== undefined) return runKeyTaskAsync(task);
      if (threads === 0) return runKeyTask(task);
      piscina ??= start();
      return (await (await piscina).run(task)) as KeyTaskResult[];
    },
    close: async () => {
      await (await piscina)?.destroy();
    },
  };
}
