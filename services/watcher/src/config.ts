import { type ConfigSpec, NETWORK_NAMES } from "@poolkeeper/core";
import { STORE_ENV } from "@poolkeeper/store";
import { z } from "zod";

const urlList = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((u) => u.trim())
      .filter((u) => u !== ""),
  )
  .refine((l) => l.length > 0, "at least one URL")
  .refine(
    (l) =>
      l.every((u) => {
        try {
          return ["http:", "https:"].includes(new URL(u).protocol);
        } catch {
          return false;
        }
      }),
    "every entry must be an http(s) URL",
  );

/** Environment of the watcher process (read by main.ts only). */
export const WATCHER_ENV = {
  BEACON_URLS: {
    schema: urlList,
    example: "http://127.0.0.1:5052,https://user:pass@beacon.example.org",
    secret: true,
    description: "Beacon node URLs, comma-separated, healthiest first at run time",
  },
  REDIS_URL: {
    schema: z.string().regex(/^rediss?:\/\//, "must be a redis:// URL"),
    example: "redis://127.0.0.1:6379",
    default: "redis://127.0.0.1:6379",
    secret: true,
  },
  REDIS_PREFIX: {
    schema: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "letters, digits, - and _"),
    example: "poolkeeper",
    default: "poolkeeper",
    description: "Key prefix of the queues (several deployments on one Redis)",
  },
  ...STORE_ENV,
  POOLKEEPER_NETWORK: {
    schema: z.string().min(1),
    example: "hoodi",
    description: `One of ${NETWORK_NAMES.join(", ")}, or a network JSON file`,
  },
  POOLKEEPER_WITHDRAWAL_CREDENTIALS: {
    schema: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 32 bytes of hex"),
    example: "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f",
    description: "The pool's withdrawal credentials (the registry checks keys against them)",
  },
  WATCHER_PRESET: {
    schema: z.enum(["mainnet", "minimal"]),
    example: "mainnet",
    default: "mainnet",
    description: "Consensus preset of the beacon nodes (minimal for beacon-sim and devnets)",
  },
  WATCHER_CONCURRENCY: { schema: z.coerce.number().int().min(1).max(64), example: "1", default: "1" },
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
  WATCHER_OFFLINE_EPOCHS: { schema: z.coerce.number().int().min(1).max(10_000), example: "3", default: "3" },
  WATCHER_UNDERPERFORMANCE_MARGIN: {
    schema: z.coerce.number().min(0).max(1),
    example: "0.05",
    default: "0.05",
  },
  WATCHER_WEBHOOK_URL: {
    schema: z.string().url().optional(),
    example: "https://hooks.example.org/poolkeeper?token=...",
    secret: true,
  },
  METRICS_PORT: { schema: z.coerce.number().int().min(0).max(65535), example: "9464", default: "9464" },
  METRICS_HOST: { schema: z.string().min(1), example: "127.0.0.1", default: "127.0.0.1" },
  LOG_LEVEL: {
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    example: "info",
    default: "info",
  },
} satisfies ConfigSpec;
