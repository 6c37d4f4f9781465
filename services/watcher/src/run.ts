/**
 * The watcher's start (service kit): store, beacon nodes (checked against the network), pool
 * identity, Prometheus endpoint, then the watcher itself (queues on Redis, workers, the follower).
 * `main.ts` runs `WATCHER_SERVICE` (`runService`); the CLI runs it with flags merged into the
 * environment.
 */
import { BeaconNodePool, executionLayerFrom } from "@poolkeeper/beacon";
import {
  ConfigError,
  databaseTarget,
  defineService,
  type Env,
  type Logger,
  type MetricsServer,
  runService,
  type ServiceDeps,
  startMetricsServer,
  startParts,
  toHex0x,
} from "@poolkeeper/core";
import { createRegistry } from "@poolkeeper/registry";
import { openStore, pinPoolIdentity, poolIdentityOf } from "@poolkeeper/store";
import { WATCHER_ENV, type WatcherEnvSettings } from "./config.js";
import { WatcherMetrics } from "./metrics.js";
import { registryPoolSource } from "./pool-source.js";
import { Watcher } from "./watcher.js";

export interface RunningWatcher {
  watcher: Watcher;
  logger: Logger;
  /** /metrics and /health on METRICS_HOST:METRICS_PORT */
  metricsServer: MetricsServer;
  /** Stops the watcher (follower, workers, queues), then the metrics endpoint, then the store. */
  close(): Promise<void>;
}

export function startWatcherService(s: WatcherEnvSettings, deps: ServiceDeps): Promise<RunningWatcher> {
  const { logger } = deps;
  const network = s.POOLKEEPER_NETWORK;
  const withdrawalCredentials = s.POOLKEEPER_WITHDRAWAL_CREDENTIALS;
  let watcher: Watcher | undefined;
  return startParts(async (parts) => {
    const store = parts.add(
      "store",
      await openStore({
        ...databaseTarget(s),
        logger,
        ...(s.DATABASE_URL !== undefined
          ? { onConnectionError: (e: Error) => watcher?.databaseConnectionError(e) }
          : {}),
      }),
    );
    const registry = createRegistry({ store, logger }, { network, withdrawalCredentials });
    const metrics = new WatcherMetrics();
    const beacon = await BeaconNodePool.init(
      { urls: s.BEACON_URLS, preset: s.WATCHER_PRESET },
      { logger, onNodeError: (url, err) => void watcher?.nodeError(url, err) },
    );
    // the nodes must be on the configured chain: a watcher on another chain would record nonsense
    const gvr = toHex0x(network.genesisValidatorsRoot);
    if (beacon.spec.genesisValidatorsRoot !== gvr || beacon.spec.slotsPerEpoch !== network.slotsPerEpoch) {
      throw new ConfigError(
        `POOLKEEPER_NETWORK: the beacon nodes are on another chain than ${network.name} ` +
          `(genesis validators root ${beacon.spec.genesisValidatorsRoot}, expected ${gvr})`,
      );
    }
    // the database belongs to one network and one set of credentials: recorded at the first start
    // (once the beacon nodes have confirmed the network)
    await pinPoolIdentity(store, poolIdentityOf(network, withdrawalCredentials));
    const metricsServer = parts.add(
      "metrics",
      await startMetricsServer({
        port: s.METRICS_PORT,
        host: s.METRICS_HOST,
        async scrape() {
          for (const h of beacon.health()) {
            metrics.beaconNodeUp.set({ url: h.url }, h.reachable ? 1 : 0);
            if (h.finalizedEpoch >= 0) metrics.beaconNodeFinalizedEpoch.set({ url: h.url }, h.finalizedEpoch);
          }
          return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
        },
      }),
    );
    // the pool's EIP-7002 withdrawal requests for late exits (none without an execution-layer URL)
    const execution = executionLayerFrom(s, s.BEACON_URLS[0]!);
    const w = new Watcher(
      {
        beacon,
        store,
        pool: registryPoolSource(store, registry),
        logger,
        metrics,
        ...(execution !== null ? { execution } : {}),
      },
      {
        settings: {
          network: network.name,
          offlineEpochs: s.WATCHER_OFFLINE_EPOCHS,
          underperformanceMargin: s.WATCHER_UNDERPERFORMANCE_MARGIN,
          webhook: s.WATCHER_WEBHOOK_URL !== undefined,
        },
        redis: { url: s.REDIS_URL, prefix: s.REDIS_PREFIX },
        concurrency: s.WATCHER_CONCURRENCY,
        startEpoch: s.WATCHER_START_EPOCH,
        jobLockMs: s.WATCHER_JOB_LOCK_MS,
        webhookUrl: s.WATCHER_WEBHOOK_URL,
      },
    );
    watcher = w;
    parts.onClose("watcher", () => w.stop());
    w.start();
    return { watcher: w, logger, metricsServer };
  });
}

/** The watcher service: its settings (`WATCHER_ENV`) and its start. */
export const WATCHER_SERVICE = defineService({
  name: "watcher",
  env: WATCHER_ENV,
  start: startWatcherService,
});

/** The watcher process (main.ts, `poolkeeper watcher`): runs until SIGTERM/SIGINT (service kit). */
export function runWatcherProcess(env: Env): Promise<number> {
  return runService(WATCHER_SERVICE, env);
}
