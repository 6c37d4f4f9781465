/**
 * `poolkeeper devnet`: the whole main job on one machine, from real components.
 *
 *   beacon-sim (HTTP, minimal preset)  ◀── watcher (BullMQ on Redis) ──▶ store (PGlite or PostgreSQL)
 *        ▲ deposits                                                        ▲
 *        └──────────── devnet ── HTTP + bearer token ──▶ admin API ────────┘
 *
 * Keys are generated per operator from a fresh mnemonic that stays in memory; only deposit data is
 * written (no keystores). Operators, uploads, vetting and the deposit batch all go through the
 * admin API over HTTP, as an admin would do them.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startAdminApi } from "@poolkeeper/admin-api";
import { BeaconNodePool } from "@poolkeeper/beacon";
import { type BeaconSim, FAR, startBeaconSim } from "@poolkeeper/beacon-sim";
import {
  ConfigError,
  createLogger,
  fromHex,
  type Logger,
  loadNetwork,
  type Network,
  PoolkeeperError,
  safeUrl,
  toChecksumAddress,
  toHex,
  toHex0x,
} from "@poolkeeper/core";
import { generateKeys, generateMnemonic, withdrawalCredentials, writeFileAtomic } from "@poolkeeper/keys";
import { createRegistry } from "@poolkeeper/registry";
import {
  type AlertKind,
  acquireDataDirLock,
  createApiToken,
  getWatcherCheckpoint,
  listWatcherAlerts,
  openStore,
  operatorPerformance,
  type Store,
} from "@poolkeeper/store";
import { registryPoolSource, Watcher } from "@poolkeeper/watcher";
import { Redis } from "ioredis";
import { AdminApiClient, type ApiDepositBatch } from "./api-client.js";
import { DEVNET_ERRORS } from "./errors.js";
import type { DevnetSettings } from "./options.js";

export const DEVNET_NETWORK_NAME = "devnet";

export interface DevnetOptions extends DevnetSettings {
  /** "wall" (default): the sim follows real time; "manual": the caller moves it (tests). */
  clock?: "wall" | "manual";
  /** Where the summary and the start-up lines go (default: stdout). */
  out?: (line: string) => void;
  /** Log level of devnet.log (default info). */
  logLevel?: string;
  /** How often the devnet looks for news to print (default 1000 ms). */
  pollMs?: number;
}

export interface DevnetOperator {
  id: number;
  name: string;
  uploaded: number;
  vetted: number;
  deposited: number;
  /** Beacon-chain indices of its deposited validators. */
  validators: number[];
}

export interface OperatorSummary {
  id: number;
  name: string;
  validators: number;
  attAssigned: number;
  attIncluded: number;
  alerts: Partial<Record<AlertKind, number>>;
}

export interface DevnetSummary {
  headEpoch: number;
  finalizedEpoch: number;
  /** Last epoch the watcher has processed (null: none yet). */
  watcherEpoch: number | null;
  poolActive: number;
  poolDeposited: number;
  operators: OperatorSummary[];
}

export interface Devnet {
  sim: BeaconSim;
  apiUrl: string;
  network: Network;
  networkFile: string;
  dataDir: string;
  tokenFile: string;
  logFile: string;
  store: Store;
  operators: DevnetOperator[];
  batch: ApiDepositBatch;
  /** The operator taken offline and when (epochs [from, to)), once its validators are active. */
  offline: { operatorId: number; fromEpoch: number | null; toEpoch: number | null } | null;
  summary(): Promise<DevnetSummary>;
  printSummary(): Promise<void>;
  close(): Promise<void>;
}

/** Fails with one line saying how to start Redis when it does not answer. */
export async function checkRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (e) {
    redis.disconnect();
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(
      `--redis-url: cannot reach Redis at ${safeUrl(url)} (${code}); start one with "redis-server" or ` +
        `"docker run -d -p 6379:6379 redis:7", or pass --redis-url`,
    );
  }
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}

/** Runs cleanup steps in reverse order of registration; every step runs even if one fails. */
class Closer {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];
  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      try {
        await step?.();
      } catch {
        // keep closing the rest
      }
    }
  }
}

/** A taken port as one line naming the flag. */
async function portInUse<T>(flag: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new ConfigError(`${flag}: port ${port} is in use; pick another (${flag} 0: any free port)`);
    throw e;
  }
}

function pct(included: number, assigned: number): string {
  return assigned === 0 ? "     -" : `${((100 * included) / assigned).toFixed(1).padStart(5)}%`;
}

export async function startDevnet(o: DevnetOptions): Promise<Devnet> {
  const out = o.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const closer = new Closer();
  const sc = o.scenario;
  const dataDir = resolve(o.dataDir);
  try {
    // Redis first: without it nothing else is worth starting.
    const redis = await checkRedis(o.redisUrl);
    const redisPrefix = `pk-devnet-${randomBytes(4).toString("hex")}`;
    closer.add(() => redis.quit());
    closer.add(() => deleteKeys(redis, redisPrefix));

    // One devnet per --data-dir (0700): a second one would overwrite the first's token, log and
    // network file, and remove its database.
    const dirLock = acquireDataDirLock(dataDir, { hint: "stop it or pick another --data-dir" });
    closer.add(() => dirLock.release());
    const dbDir = join(dataDir, "db");
    const keysDir = join(dataDir, "keys");
    // every run is a new chain: the registry and the watcher's data of an older run mean nothing on it
    rmSync(keysDir, { recursive: true, force: true });
    if (o.databaseUrl === undefined) {
      // not from under a process that has it open (an admin API started on it by hand)
      const dbLock = acquireDataDirLock(dbDir, {
        hint: "stop it; the devnet starts a new database in <data-dir>/db each run",
      });
      rmSync(dbDir, { recursive: true, force: true });
      dbLock.release();
    }
    const logFile = join(dataDir, "devnet.log");
    rmSync(logFile, { force: true }); // created anew: 0600 even if an older one was not
    const logStream = createWriteStream(logFile, { flags: "wx", mode: 0o600 });
    closer.add(() => new Promise<void>((r) => logStream.end(r)));
    const logger: Logger = createLogger({
      name: "devnet",
      level: o.logLevel ?? "info",
      destination: logStream,
    });

    // 1. beacon-sim: minimal preset, genesis validators outside the pool
    const sim = await portInUse("--sim-port", o.simPort, () =>
      startBeaconSim({
        validators: sc.genesisValidators,
        seed: sc.seed,
        secondsPerSlot: o.secondsPerSlot,
        scenario: sc.sim,
        port: o.simPort,
        clock: o.clock ?? "wall",
        ...(o.clock === "manual" ? {} : { genesisTime: Math.floor(Date.now() / 1000) }),
      }),
    );
    closer.add(() => sim.close());
    const chain = sim.chain;
    chain.on("clock_error", (e: unknown) =>
      logger.error({ err: e instanceof Error ? e.message : String(e) }, "beacon-sim clock error"),
    );

    // the pool's network: the sim's fork versions and genesis validators root
    const networkFile = join(dataDir, "network.json");
    await writeFileAtomic(
      networkFile,
      `${JSON.stringify(
        chain.networkJson(DEVNET_NETWORK_NAME, {
          contractAddress: "0x4242424242424242424242424242424242424242",
          chainId: 32382,
        }),
        null,
        2,
      )}\n`,
    );
    const network = loadNetwork(networkFile);
    const address = fromHex(sc.withdrawalAddress, "withdrawalAddress", 20);
    const wc = withdrawalCredentials({ type: 1, address });

    // 2. the store, an admin token (file 0600, never printed) and the admin API over it
    const store = await openStore(
      o.databaseUrl === undefined ? { dataDir: dbDir, logger } : { databaseUrl: o.databaseUrl, logger },
    );
    closer.add(() => store.close());
    if (o.databaseUrl !== undefined) {
      const r = await store.query<{ n: bigint }>("SELECT count(*) AS n FROM operators");
      if ((r.rows[0]?.n ?? 0n) > 0n)
        throw new ConfigError(
          `--database-url: ${safeUrl(o.databaseUrl)} already holds operators; the devnet needs an empty database (a new chain each run)`,
        );
    }
    const { token } = await createApiToken(store, { role: "admin", label: "devnet" });
    const tokenFile = join(dataDir, "admin-token");
    rmSync(tokenFile, { force: true });
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    chmodSync(tokenFile, 0o600);
    const api = await portInUse("--api-port", o.apiPort, () =>
      startAdminApi(
        {
          POOLKEEPER_NETWORK: networkFile,
          POOLKEEPER_WITHDRAWAL_CREDENTIALS: toHex0x(wc),
          ...(o.databaseUrl === undefined ? { POOLKEEPER_DATA_DIR: dbDir } : { DATABASE_URL: o.databaseUrl }),
          HOST: "127.0.0.1",
          LOG_LEVEL: o.logLevel ?? "info",
          API_RATE_LIMIT_PER_MINUTE: "100000",
        },
        { port: o.apiPort, logger: logger.child({ name: "admin-api" }) },
      ),
    );
    closer.add(() => api.close());
    const apiUrl = api.url.replace("://0.0.0.0", "://127.0.0.1");
    out(`admin API   ${apiUrl}  (docs: ${apiUrl}/docs)`);
    out(
      `beacon-sim  ${sim.url}  (${sc.genesisValidators} genesis validators, ${chain.secondsPerSlot} s slots)`,
    );
    out(`admin token ${tokenFile} (mode 0600; send it as "Authorization: Bearer <token>")`);
    out(`logs        ${logFile}`);
    out(`redis       ${safeUrl(o.redisUrl)}, keys ${redisPrefix}:* (removed at exit)`);

    // 3. keys per operator, then operators, uploads and vetting through the API
    const client = new AdminApiClient(apiUrl, token);
    const operators: DevnetOperator[] = [];
    for (let k = 1; k <= o.operators; k++) {
      const mnemonic = generateMnemonic(); // in memory only
      const gen = await generateKeys({
        mnemonic,
        network,
        startIndex: 0,
        count: o.keysPerOperator,
        withdrawalAddress: address,
        noKeystores: true,
        outDir: join(keysDir, `operator-${k}`),
        threads: 0,
      });
      const reward = createHash("sha256").update(`${sc.seed}/operator/${k}`).digest().subarray(0, 20);
      const vettedLimit = sc.vettedLimits.find((v) => v.operator === k)?.limit ?? o.keysPerOperator;
      const op = await client.createOperator({
        name: `devnet-operator-${k}`,
        rewardAddress: toChecksumAddress(reward),
        vettedLimit,
      });
      const up = await client.uploadKeys(op.id, gen.deposits);
      const vet = await client.vetKeys(op.id);
      operators.push({
        id: op.id,
        name: op.name,
        uploaded: up.count,
        vetted: vet.vetted,
        deposited: 0,
        validators: [],
      });
      logger.info({ operatorId: op.id, uploaded: up.count, vetted: vet.vetted }, "operator ready");
    }
    const vettedTotal = operators.reduce((s, x) => s + x.vetted, 0);
    if (vettedTotal === 0)
      throw new ConfigError("scenario.vettedLimits: no key is vetted, nothing to deposit");
    const count = Math.max(1, Math.floor(vettedTotal * sc.depositShare));
    const batch = await client.allocate(count);
    out(
      `deposit batch ${batch.id}: ${batch.keyCount} keys (MinFirst) — ` +
        batch.perOperator.map((p) => `operator ${p.operatorId}: ${p.count}`).join(", "),
    );

    // 4. the batch's deposits on the chain, in batch order
    const keys = [...batch.keys].sort((a, b) => a.position - b.position);
    for (const k of keys) {
      if (k.depositData.withdrawal_credentials !== toHex(wc))
        throw new PoolkeeperError(
          DEVNET_ERRORS.RUN,
          `batch key ${k.keyId}: withdrawal credentials are not the pool's`,
        );
    }
    const indices = chain.addValidators(
      keys.map((k) => fromHex(k.depositData.pubkey, "pubkey", 48)),
      wc,
    );
    const byId = new Map(operators.map((op) => [op.id, op]));
    keys.forEach((k, j) => {
      const op = byId.get(k.operatorId);
      const index = indices[j];
      if (op !== undefined && index !== undefined) {
        op.validators.push(index);
        op.deposited++;
      }
    });
    const poolIndices = operators.flatMap((op) => op.validators);

    // the scenario's offline operator: offline once all its validators are active
    const offlineOp = sc.offline === null ? undefined : operators[sc.offline.operator - 1];
    const offline =
      offlineOp === undefined || sc.offline === null
        ? null
        : { operatorId: offlineOp.id, fromEpoch: null as number | null, toEpoch: null as number | null };
    let activationAnnounced = false;
    const announceActivation = () => {
      let lo = FAR;
      let hi = 0;
      for (const i of poolIndices) {
        const a = chain.activationEpoch[i] ?? FAR;
        if (a === FAR) return;
        lo = Math.min(lo, a);
        hi = Math.max(hi, a);
      }
      activationAnnounced = true;
      out(`deposits activate at epochs ${lo}..${hi} (the sim is at epoch ${chain.epochOf(chain.headSlot)})`);
    };
    const onSlot = () => {
      if (!activationAnnounced && poolIndices.length > 0) announceActivation();
      if (offline === null || offlineOp === undefined || sc.offline === null || offline.fromEpoch !== null)
        return;
      if (offlineOp.validators.length === 0) return;
      let last = 0;
      for (const i of offlineOp.validators) {
        const a = chain.activationEpoch[i] ?? FAR;
        if (a === FAR) return;
        last = Math.max(last, a);
      }
      const from = Math.max(last + sc.offline.afterActivationEpochs, chain.epochOf(chain.headSlot) + 1);
      offline.fromEpoch = from;
      offline.toEpoch = from + sc.offline.epochs;
      chain.setBehaviour(offlineOp.validators, "offline", { from, to: offline.toEpoch });
      logger.info({ operatorId: offlineOp.id, from, to: offline.toEpoch }, "operator goes offline");
      out(
        `scenario: operator ${offlineOp.id}'s validators go offline for epochs ${from}..${offline.toEpoch - 1}`,
      );
    };
    chain.on("slot", onSlot);
    closer.add(() => chain.off("slot", onSlot));

    // 5. the watcher, following the sim's finalized epochs through BullMQ on Redis
    let watcher: Watcher | undefined;
    const beacon = await BeaconNodePool.init(
      { urls: [sim.url], preset: "minimal" },
      { logger, onNodeError: (url, err) => void watcher?.nodeError(url, err) },
    );
    const registry = createRegistry({ store, logger }, { network, withdrawalCredentials: wc });
    watcher = new Watcher(
      { beacon, store, pool: registryPoolSource(store, registry), logger },
      {
        settings: {
          network: network.name,
          offlineEpochs: sc.watcher.offlineEpochs,
          underperformanceMargin: sc.watcher.underperformanceMargin,
          webhook: false,
        },
        redis: { url: o.redisUrl, prefix: redisPrefix },
        concurrency: 2,
        // epoch 0 has the genesis block (no proposer): the watcher starts at 1
        startEpoch: 1,
      },
    );
    const w = watcher;
    w.start();
    closer.add(() => w.stop());

    // 6. a summary every few processed epochs
    const summary = async (): Promise<DevnetSummary> => {
      const head = chain.epochOf(chain.headSlot);
      const perf = await operatorPerformance(store, network.name, 1_000_000);
      const alerts = await listWatcherAlerts(store, network.name, { limit: 1000 });
      let poolActive = 0;
      for (const i of poolIndices) if (chain.isActiveAt(i, head)) poolActive++;
      return {
        headEpoch: head,
        finalizedEpoch: chain.currentFinality().finalized.epoch,
        watcherEpoch: await getWatcherCheckpoint(store, network.name),
        poolActive,
        poolDeposited: poolIndices.length,
        operators: operators.map((op) => {
          const p = perf.operators.find((x) => x.operatorId === op.id);
          const a: Partial<Record<AlertKind, number>> = {};
          for (const al of alerts) if (al.operatorId === op.id) a[al.kind] = (a[al.kind] ?? 0) + 1;
          return {
            id: op.id,
            name: op.name,
            validators: op.validators.length,
            attAssigned: p?.counts.attAssigned ?? 0,
            attIncluded: p?.counts.attIncluded ?? 0,
            alerts: a,
          };
        }),
      };
    };
    const printSummary = async () => {
      const s = await summary();
      out(
        `epoch ${s.headEpoch} (finalized ${s.finalizedEpoch}, watcher at ${s.watcherEpoch ?? "-"}): ` +
          `${s.poolActive}/${s.poolDeposited} pool validators active`,
      );
      for (const op of s.operators) {
        const kinds = Object.entries(op.alerts).map(([k, n]) => `${k} ${n}`);
        out(
          `  operator ${op.id} ${op.name.padEnd(18)} ${String(op.validators).padStart(3)} validators  ` +
            `attestations ${`${op.attIncluded}/${op.attAssigned}`.padStart(9)} ${pct(op.attIncluded, op.attAssigned)}  ` +
            `alerts ${kinds.length === 0 ? "0" : kinds.join(", ")}`,
        );
      }
    };
    let lastPrinted: number | null = null;
    let printing = false;
    const timer = setInterval(() => {
      if (printing) return;
      const fin = chain.currentFinality().finalized.epoch;
      if (lastPrinted !== null && fin < lastPrinted + o.summaryEvery) return;
      lastPrinted = fin;
      printing = true;
      printSummary()
        .catch((e: unknown) =>
          logger.warn({ err: e instanceof Error ? e.message : String(e) }, "summary failed"),
        )
        .finally(() => {
          printing = false;
        });
    }, o.pollMs ?? 1000);
    timer.unref();
    closer.add(() => clearInterval(timer));

    let closing: Promise<void> | undefined;
    return {
      sim,
      apiUrl,
      network,
      networkFile,
      dataDir,
      tokenFile,
      logFile,
      store,
      operators,
      batch,
      offline,
      summary,
      printSummary,
      close() {
        closing ??= closer.run();
        return closing;
      },
    };
  } catch (e) {
    await closer.run();
    throw e;
  }
}
