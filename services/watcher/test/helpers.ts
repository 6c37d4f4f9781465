import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { BeaconNodePool, type ExecutionLayerAdapter } from "@poolkeeper/beacon";
import { createLogger, type Logger, loadNetwork, toHex0x } from "@poolkeeper/core";
import { buildDepositData, withdrawalCredentials } from "@poolkeeper/keys";
import { fundPool, keysWei } from "@poolkeeper/ledger/testing";
import { Registry } from "@poolkeeper/registry";
import { WATCHER_TRANSITIONS } from "@poolkeeper/store";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { type KeyStateChange, type PoolKey, type PoolSource, Watcher, WatcherMetrics } from "../src/index.js";

/** A logger whose JSON lines are kept in `logs` (to print on failure or to search for secrets). */
export function capturedLogger(level: "debug" | "info"): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  const logger = createLogger({
    level,
    destination: new Writable({
      write(c, _e, cb) {
        logs.push(String(c));
        cb();
      },
    }),
  });
  return { logger, logs };
}

export const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";

export function redisConn(): { url: string; prefix: string } {
  return { url: REDIS_URL, prefix: `pkw-${randomBytes(5).toString("hex")}` };
}

/** The pool: validators of the sim mapped to operators; key state changes recorded. */
export class StaticPool implements PoolSource {
  readonly changes: KeyStateChange[] = [];
  readonly states = new Map<string, string>();
  constructor(private readonly list: Array<{ pubkey: string; operatorId: number }>) {
    for (const k of list) this.states.set(k.pubkey, "deposited");
  }
  async keys(): Promise<PoolKey[]> {
    return this.list.map((k) => ({ ...k, keyState: this.states.get(k.pubkey) ?? "deposited" }));
  }
  async setKeyStates(changes: KeyStateChange[]): Promise<void> {
    // like the registry: one transition it does not allow refuses the whole call
    for (const c of changes) {
      const cur = this.states.get(c.pubkey) ?? "deposited";
      // the registry's rule: the lifecycle's watcher transitions
      if (cur !== c.to && !(WATCHER_TRANSITIONS[c.to] as readonly string[]).includes(cur))
        throw new Error(`${c.pubkey}: ${cur} → ${c.to} not allowed`);
    }
    for (const c of changes) {
      if (this.states.get(c.pubkey) === c.to) continue; // like the registry: already there, left alone
      this.changes.push(c);
      this.states.set(c.pubkey, c.to);
    }
  }
}

/** Wait for `cond`; on time-out the error adds `context()` (a process's last output). */
export async function until(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 45_000,
  context?: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${context === undefined ? "" : `: ${context()}`}`);
}

/** A webhook receiver that fails the first `failFirst` requests with 500. */
export async function webhookReceiver(
  failFirst: number,
): Promise<{ url: string; received: unknown[]; hits: () => number; close(): Promise<void> }> {
  const received: unknown[] = [];
  let hits = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hits++;
      if (hits <= failFirst) {
        res.writeHead(500);
        res.end();
        return;
      }
      received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=hooksecret123`,
    received,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/**
 * The watcher process as an operator starts it (`node --import tsx services/watcher/src/main.ts`),
 * with only `env` (and PATH); its stdout and stderr kept together in `output()`.
 */
export function spawnWatcher(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<string>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  const keep = (d: Buffer) => void chunks.push(d.toString());
  for (const stream of [child.stdout, child.stderr]) stream?.on("data", keep);
  const exited = new Promise<string>((r) => child.once("exit", (code, signal) => r(signal ?? String(code))));
  return { child, output: () => chunks.join(""), exited };
}

/** The watcher's environment for the process tests (a network file for the sim; PostgreSQL). */
export function watcherEnv(o: {
  beaconUrl: string;
  redisUrl: string;
  prefix: string;
  databaseUrl: string;
  networkFile: string;
}): Record<string, string> {
  return {
    BEACON_URLS: o.beaconUrl,
    REDIS_URL: o.redisUrl,
    REDIS_PREFIX: o.prefix,
    DATABASE_URL: o.databaseUrl,
    POOLKEEPER_NETWORK: o.networkFile,
    POOLKEEPER_WITHDRAWAL_CREDENTIALS: toHex0x(POOL_WC),
    WATCHER_PRESET: "minimal",
    WATCHER_START_EPOCH: "1",
    METRICS_PORT: "0",
    LOG_LEVEL: "info",
  };
}

/** The pool's withdrawal credentials in the process tests. */
export const POOL_WC = withdrawalCredentials({ type: 1, address: new Uint8Array(20).fill(0xb9) });
const REWARD = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";

/**
 * A database whose registry has the sim's validators 0..2n-1 deposited: operator op-a has 0..n-1,
 * op-b n..2n-1 (`serverUrl`: another PostgreSQL server than the shared test one).
 */
export async function registryPoolDatabase(
  chain: { secretKeyOfValidator(i: number): unknown },
  networkFile: string,
  opts: { perOperator: number; serverUrl?: string },
): Promise<TestStore> {
  const n = opts.perOperator;
  const store = await createTestStore(
    "postgres",
    opts.serverUrl === undefined ? {} : { serverUrl: opts.serverUrl },
  );
  const network = loadNetwork(networkFile);
  // stakers first: the batch below is paid from the pool's buffer
  const payer = await fundPool(store, keysWei(2 * n));
  const registry = new Registry({ store, payer }, { network, withdrawalCredentials: POOL_WC });
  for (const [name, from] of [
    ["op-a", 0],
    ["op-b", n],
  ] as const) {
    const op = await registry.createOperator({ name, rewardAddress: REWARD, vettedLimit: n }, "test:dao");
    const data = Array.from({ length: n }, (_, k) =>
      buildDepositData({
        secretKey: chain.secretKeyOfValidator(from + k) as Uint8Array,
        withdrawalCredentials: POOL_WC,
        amountGwei: 32_000_000_000n,
        network,
      }),
    );
    await registry.uploadKeys(op.id, data, "test:operator");
    await registry.vetKeys(op.id, "test:dao");
  }
  await registry.allocateDepositBatch(2 * n, "test:allocator");
  return store;
}

/**
 * A watcher on one beacon-sim node from epoch 1 on the "minimal" network, polling fast, no webhook
 * (not started).
 */
export async function simWatcher(o: {
  simUrl: string;
  store: TestStore;
  pool: PoolSource;
  logger: Logger;
  /** The pool's EIP-7002 requests for late exits. */
  execution?: Pick<ExecutionLayerAdapter, "submitWithdrawalRequest">;
}): Promise<Watcher> {
  const beacon = await BeaconNodePool.init(
    { urls: [o.simUrl], preset: "minimal", retries: 1, retryBaseMs: 20 },
    { logger: o.logger },
  );
  return new Watcher(
    {
      beacon,
      store: o.store,
      pool: o.pool,
      logger: o.logger,
      metrics: new WatcherMetrics(),
      ...(o.execution !== undefined ? { execution: o.execution } : {}),
    },
    {
      settings: { network: "minimal", offlineEpochs: 3, underperformanceMargin: 0.05, webhook: false },
      redis: redisConn(),
      startEpoch: 1,
      follower: { events: false, fallbackPollIntervalMs: 50, pollIntervalMs: 50 },
      attempts: 6,
      backoffMs: 50,
    },
  );
}

/** Stop a test's watcher (and empty its queue), then close its sim and store. */
export async function closeSimWatcher(o: {
  watcher?: Watcher;
  sim?: { close(): Promise<void> };
  store?: TestStore;
}): Promise<void> {
  await o.watcher?.stop().catch(() => undefined);
  await o.watcher?.epochQueue.obliterate().catch(() => undefined);
  await o.sim?.close();
  await o.store?.dispose();
}
