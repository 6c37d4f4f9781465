import type { Command } from "commander";
import { flagsToEnv } from "../input.js";

/**
 * `poolkeeper watcher`: the beacon-chain watcher (services/watcher). Flags override the same
 * environment variables the process reads (BEACON_URLS, REDIS_URL, DATABASE_URL, ...), so one
 * validation path serves both; secrets are better given through the environment or *_FILE.
 */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  program
    .command("watcher")
    .description("Follow finalized epochs: duties, performance per validator and operator, alerts")
    .option("--beacon-url <url>", "beacon node URL (repeat for several; failover in health order)", collect)
    .option("--redis-url <url>", "Redis for the job queue (REDIS_URL)")
    .option("--database-url <url>", "PostgreSQL (DATABASE_URL); without it PGlite in --data-dir")
    .option("--data-dir <dir>", "PGlite data directory (POOLKEEPER_DATA_DIR)")
    .option(
      "--network <name>",
      "mainnet, hoodi, sepolia, holesky or a network JSON file (POOLKEEPER_NETWORK)",
    )
    .option(
      "--withdrawal-credentials <hex>",
      "the pool's 0x01/0x02 withdrawal credentials (POOLKEEPER_WITHDRAWAL_CREDENTIALS)",
    )
    .option("--preset <name>", "consensus preset of the nodes: mainnet | minimal (WATCHER_PRESET)")
    .option("--start-epoch <n>", "first epoch on an empty database (WATCHER_START_EPOCH)")
    .option("--concurrency <n>", "epochs processed at once by this process (WATCHER_CONCURRENCY)")
    .option(
      "--offline-epochs <n>",
      "alert after this many missed attestations in a row (WATCHER_OFFLINE_EPOCHS)",
    )
    .option(
      "--margin <x>",
      "alert when an operator is below the network by more than this (WATCHER_UNDERPERFORMANCE_MARGIN)",
    )
    .option("--metrics-port <port>", "Prometheus /metrics port (METRICS_PORT)")
    .option("--webhook-url <url>", "deliver alerts to this URL (WATCHER_WEBHOOK_URL)")
    .action(async (opts: Record<string, string | string[] | undefined>) => {
      const env = flagsToEnv(opts, {
        beaconUrl: "BEACON_URLS",
        redisUrl: "REDIS_URL",
        databaseUrl: "DATABASE_URL",
        dataDir: "POOLKEEPER_DATA_DIR",
        network: "POOLKEEPER_NETWORK",
        withdrawalCredentials: "POOLKEEPER_WITHDRAWAL_CREDENTIALS",
        preset: "WATCHER_PRESET",
        startEpoch: "WATCHER_START_EPOCH",
        concurrency: "WATCHER_CONCURRENCY",
        offlineEpochs: "WATCHER_OFFLINE_EPOCHS",
        margin: "WATCHER_UNDERPERFORMANCE_MARGIN",
        metricsPort: "METRICS_PORT",
        webhookUrl: "WATCHER_WEBHOOK_URL",
      });
      const mod = await import("@poolkeeper/watcher");
      await mod.runWatcherProcess(env);
    });
}
