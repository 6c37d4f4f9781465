/**
 * Builds the watcher process from its configuration: logger, store, registry, beacon nodes, queue,
 * metrics endpoint. `main.ts` calls `runWatcherProcess(process.env)`; the CLI calls it with flags
 * merged into the environment.
 */
import { createServer, type Server } from "node:http";
import { BeaconNodePool } from "@poolkeeper/beacon";
import {
  ConfigError,
  createLogger,
  type Env,
  fromHex,
  isPoolkeeperError,
  type Logger,
  loadConfig,
  loadNetwork,
  logProcessFaults,
  toHex0x,
} from "@poolkeeper/core";
import { createRegistry } from "@poolkeeper/registry";
import { openStore, pinPoolIdentity, poolIdentityOf } from "@poolkeeper/store";
import { WATCHER_ENV } from "./config.js";
import { WatcherMetrics } from "./metrics.js";
import { registryPoolSource } from "./pool-source.js";
import { Watcher } from "./watcher.js";

export interface RunningWatcher {
  watcher: Watcher;
  logger: Logger;
  metricsServer: Server;
  stop(): Promise<void>;
}

export async function startWatcherProcess(env: Env): Promise<RunningWatcher> {
  const cfg = loadConfig(WATCHER_ENV, env);
  const logger = createLogger({ name: "watcher", level: cfg.LOG_LEVEL });
  const network = loadNetwork(cfg.POOLKEEPER_NETWORK);
  const withdrawalCredentials = fromHex(
    cfg.POOLKEEPER_WITHDRAWAL_CREDENTIALS,
    "POOLKEEPER_WITHDRAWAL_CREDENTIALS",
    32,
  );
  let watcher: Watcher | undefined;
  const store = await openStore(
    cfg.DATABASE_URL === undefined
      ? { dataDir: cfg.POOLKEEPER_DATA_DIR, logger }
      : {
          databaseUrl: cfg.DATABASE_URL,
          logger,
          onConnectionError: (e: Error) => watcher?.databaseConnectionError(e),
        },
  );
  const registry = createRegistry({ store, logger }, { network, withdrawalCredentials });
  const metrics = new WatcherMetrics();
  let beacon: BeaconNodePool;
  try {
    beacon = await BeaconNodePool.init(
      { urls: cfg.BEACON_URLS, preset: cfg.WATCHER_PRESET },
      { logger, onNodeError: (url, err) => void watcher?.nodeError(url, err) },
    );
  } catch (e) {
    await store.close();
    throw e;
  }
  // the nodes must be on the configured chain: a watcher on another chain would record nonsense
  const gvr = toHex0x(network.genesisValidatorsRoot);
  if (beacon.spec.genesisValidatorsRoot !== gvr || beacon.spec.slotsPerEpoch !== network.slotsPerEpoch) {
    await store.close();
    throw new ConfigError(
      `POOLKEEPER_NETWORK: the beacon nodes are on another chain than ${network.name} ` +
        `(genesis validators root ${beacon.spec.genesisValidatorsRoot}, expected ${gvr})`,
    );
  }
  try {
    // the database belongs to one network and one set of credentials: recorded at the first start
    // (once the beacon nodes have confirmed the network)
    await pinPoolIdentity(store, poolIdentityOf(network, withdrawalCredentials));
  } catch (e) {
    await store.close();
    throw e;
  }
  watcher = new Watcher(
    { beacon, store, pool: registryPoolSource(store, registry), logger, metrics },
    {
      settings: {
        network: network.name,
        offlineEpochs: cfg.WATCHER_OFFLINE_EPOCHS,
        underperformanceMargin: cfg.WATCHER_UNDERPERFORMANCE_MARGIN,
        webhook: cfg.WATCHER_WEBHOOK_URL !== undefined,
      },
      redis: { url: cfg.REDIS_URL, prefix: cfg.REDIS_PREFIX },
      concurrency: cfg.WATCHER_CONCURRENCY,
      startEpoch: cfg.WATCHER_START_EPOCH,
      jobLockMs: cfg.WATCHER_JOB_LOCK_MS,
      webhookUrl: cfg.WATCHER_WEBHOOK_URL,
    },
  );
  const w = watcher;
  const metricsServer = createServer(async (req, res) => {
    if (req.url === "/metrics") {
      for (const h of beacon.health()) {
        metrics.beaconNodeUp.set({ url: h.url }, h.reachable ? 1 : 0);
        if (h.finalizedEpoch >= 0) metrics.beaconNodeFinalizedEpoch.set({ url: h.url }, h.finalizedEpoch);
      }
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "text/plain" });
    res.end(req.url === "/health" ? "ok\n" : "not found\n");
  });
  await new Promise<void>((r) => metricsServer.listen(cfg.METRICS_PORT, cfg.METRICS_HOST, r));
  w.start();
  return {
    watcher: w,
    logger,
    metricsServer,
    async stop() {
      await w.stop();
      await new Promise<void>((r) => metricsServer.close(() => r()));
      await store.close();
    },
  };
}

/** Run until SIGTERM/SIGINT; a start-up error is logged as one line and exits 1. */
export async function runWatcherProcess(env: Env): Promise<void> {
  let running: RunningWatcher;
  try {
    running = await startWatcherProcess(env);
  } catch (e) {
    process.stderr.write(
      `error: ${isPoolkeeperError(e) ? e.message : e instanceof Error ? e.message : String(e)}\n`,
    );
    process.exitCode = 1;
    return;
  }
  logProcessFaults(running.logger);
  await new Promise<void>((resolve) => {
    const stop = () => {
      void running.stop().finally(resolve);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}
