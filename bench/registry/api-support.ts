/**
 * Shared set-up of the admin-API benchmarks (not a benchmark itself): a scratch PostgreSQL
 * database filled with plain SQL through psql, and the real admin-api process started from
 * services/admin-api/src/main.ts, so that the figures (and its peak RSS) are the server's own.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SERVER_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";
export const POOL_WC = "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f";

export interface AutocannonResult {
  latency: { p50: number; p99: number; average: number; max: number };
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** autocannon (CommonJS, no types of its own), typed for what the benchmarks use. */
export const autocannon = createRequire(import.meta.url)("autocannon") as (opts: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => Promise<AutocannonResult>;

export function psql(url: string, sql: string): string {
  const r = spawnSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-f", "-"], {
    input: sql,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return r.stdout.trim();
}

export interface BenchDatabase {
  url: string;
  drop(): void;
}

export function createBenchDatabase(): BenchDatabase {
  const name = `pk_bench_${randomBytes(5).toString("hex")}`;
  psql(SERVER_URL, `CREATE DATABASE ${name}`);
  const u = new URL(SERVER_URL);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => psql(SERVER_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string;
  pid: number;
  /** Current resident set size of the server process, MiB. */
  rssMiB(): number;
  /** Peak resident set size so far (VmHWM), MiB. */
  peakRssMiB(): number;
  /** CPU seconds (user + system) the server process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

function procStatusKiB(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? 0 : Number(m[1]);
}

/** Start services/admin-api/src/main.ts on a free loopback port and wait until /health/ready. */
export async function startServer(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "services/admin-api/src/main.ts", "--port", String(port)],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        POOLKEEPER_NETWORK: "hoodi",
        POOLKEEPER_WITHDRAWAL_CREDENTIALS: POOL_WC,
        LOG_LEVEL: "warn",
        HOST: "127.0.0.1",
        API_RATE_LIMIT_PER_MINUTE: "100000000",
        ...env,
      },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const pid = child.pid;
  if (pid === undefined) throw new Error("admin-api did not start");
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error("admin-api exited during start-up (see its log above)");
    try {
      const r = await fetch(`${url}/health/ready`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error("admin-api not ready after 60 s");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid,
    rssMiB: () => procStatusKiB(pid, "VmRSS") / 1024,
    peakRssMiB: () => procStatusKiB(pid, "VmHWM") / 1024,
    cpuSeconds: () => {
      // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks of 1/100 s.
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
  };
}

/** An API token inserted straight into api_tokens (same format and hash as `poolkeeper tokens create`). */
export function insertToken(databaseUrl: string, role: "admin" | "dao"): string {
  const token = `pk_${randomBytes(32).toString("base64url")}`;
  const hash = createHash("sha256").update(token).digest("hex");
  psql(
    databaseUrl,
    `INSERT INTO api_tokens (token_hash, role, label) VALUES ('${hash}', '${role}', 'bench')`,
  );
  return token;
}

/** `n` active operators with generous limits, named bench-1..n. */
export function seedOperators(databaseUrl: string, n: number, vettedLimit: number): void {
  psql(
    databaseUrl,
    `INSERT INTO operators (name, reward_address, vetted_limit)
     SELECT 'bench-' || i, decode(lpad(to_hex(i), 40, '0'), 'hex'), ${vettedLimit}
     FROM generate_series(1, ${n}) AS i`,
  );
}

/**
 * `count` synthetic keys spread round-robin over operators 1..operators, inserted with
 * INSERT … SELECT generate_series in batches (the key_events trigger runs as in production).
 * Pubkeys are distinct 48-byte values, not real BLS keys: the streaming path does not verify.
 */
export function seedKeys(databaseUrl: string, count: number, operators: number, batch = 100_000): void {
  for (let from = 1; from <= count; from += batch) {
    const to = Math.min(count, from + batch - 1);
    psql(
      databaseUrl,
      `BEGIN;
       SELECT set_config('poolkeeper.actor', 'bench-seed', true);
       INSERT INTO key_data (operator_id, pubkey, withdrawal_credentials, amount_gwei, signature,
                         deposit_message_root, deposit_data_root, fork_version, network_name, deposit_cli_version)
       SELECT (i % ${operators}) + 1,
              decode(lpad(to_hex(i), 96, '0'), 'hex'),
              decode('${POOL_WC.slice(2)}', 'hex'),
              32000000000,
              decode(repeat(lpad(to_hex(i), 8, '0'), 24), 'hex'),
              sha256(int8send(i)),
              sha256(int8send(-i)),
              decode('10000910', 'hex'),
              'hoodi', '2.7.0'
       FROM generate_series(${from}, ${to}) AS i;
       COMMIT;`,
    );
  }
}

/** Half of the keys vetted, a quarter of all keys deposited in one batch: a review with figures. */
export function seedReviewStates(url: string): void {
  psql(
    url,
    `BEGIN;
     SELECT set_config('poolkeeper.actor', 'bench-seed', true);
     UPDATE key_states SET state = 'vetted', prev_state = state, updated_at = now() WHERE key_id % 2 = 0;
     INSERT INTO deposit_batches (key_count, actor, key_ids)
       SELECT count(*), 'bench-seed', array_agg(id ORDER BY id) FROM key_data WHERE id % 4 = 0;
     -- a batch is paid in its transaction (migration 0032); the seed writes the ledger's entry
     -- only, not its state: these routes read the registry
     INSERT INTO ledger_entries (kind, data)
       SELECT 'deposit', jsonb_build_object('batchId', b.id::text, 'validators', b.key_count,
         'wei', (SELECT (sum(d.amount_gwei) * 1000000000)::text FROM key_data d WHERE d.id = ANY (b.key_ids)))
       FROM deposit_batches b;
     COMMIT;`,
  );
}
