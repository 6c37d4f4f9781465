import { ORACLE_EL_ENV } from "@poolkeeper/beacon";
import {
  BEACON_ENV,
  type ConfigOf,
  type ConfigSpec,
  DATABASE_ENV,
  LODESTAR_PRESETS,
  LOG_ENV,
  METRICS_ENV,
  NETWORK_ENV,
  REDIS_ENV,
  WITHDRAWAL_CREDENTIALS_ENV,
} from "@poolkeeper/core";
import { z } from "zod";

/** Environment of the watcher process: the shared fragments (core settings.ts) and its own. */
export const WATCHER_ENV = {
  ...BEACON_ENV,
  ...REDIS_ENV,
  ...DATABASE_ENV,
  ...NETWORK_ENV,
  ...WITHDRAWAL_CREDENTIALS_ENV,
  WATCHER_PRESET: {
    schema: z.enum(LODESTAR_PRESETS),
    example: "mainnet",
    default: "mainnet",
    description: "Consensus preset of the beacon nodes (minimal for beacon-sim and devnets)",
  },
  WATCHER_CONCURRENCY: {
    schema: z.coerce.number().int().min(1).max(64),
    example: "1",
    default: "1",
    description: "Epochs this process works on at once (replicas share the queue)",
  },
  WATCHER_JOB_LOCK_MS: {
    schema: z.coerce.number().int().min(1000).max(3_600_000),
    example: "10000",
    default: "10000",
    description:
      "Lock of an epoch job in ms, renewed every quarter of it while the job runs; after a crash another watcher takes its epoch up within about twice this",
  },
  WATCHER_START_EPOCH: {
    schema: z.coerce.number().int().nonnegative().optional(),
    example: "350000",
    description: "First epoch to process on an empty database (default: the latest finalized one)",
  },
  WATCHER_OFFLINE_EPOCHS: {
    schema: z.coerce.number().int().min(1).max(10_000),
    example: "3",
    default: "3",
    description: "Missed attestations in a row before a validator-offline alert",
  },
  WATCHER_UNDERPERFORMANCE_MARGIN: {
    schema: z.coerce.number().min(0).max(1),
    example: "0.05",
    default: "0.05",
    description:
      "An operator whose one-day performance is below the network's minus this (a fraction) is alerted (Lido CSM)",
  },
  WATCHER_WEBHOOK_URL: {
    schema: z.string().url().optional(),
    example: "https://hooks.example.org/poolkeeper?token=...",
    secret: true,
    description: "Deliver alerts here (POST JSON, retried); never logged",
  },
  // the execution-layer adapter (@poolkeeper/beacon execution.ts): the pool's EIP-7002 requests for late exits
  ...ORACLE_EL_ENV,
  ...METRICS_ENV,
  ...LOG_ENV,
} satisfies ConfigSpec;

export type WatcherEnvSettings = ConfigOf<typeof WATCHER_ENV>;
