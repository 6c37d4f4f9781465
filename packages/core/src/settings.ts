/**
 * The settings every service shares, each defined once as a fragment of a `ConfigSpec` and
 * composed per service (`{ ...NETWORK_ENV, ...DATABASE_ENV, ...LOG_ENV, PORT: … }`): the same
 * variable has the same rule, default and example wherever it is read.
 */
import { z } from "zod";
import type { ConfigOf, ConfigSpec } from "./config.js";
import { fromHex } from "./hex.js";
import { safeUrl } from "./logger.js";
import { loadNetwork, NETWORK_NAMES } from "./networks.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const port = z.coerce.number().int().min(0).max(65535);

/** How much a service logs (pino levels). */
export const LOG_ENV = {
  LOG_LEVEL: {
    schema: z.enum(LOG_LEVELS),
    example: "info",
    default: "info",
    description: `How much the service logs (pino levels: ${LOG_LEVELS.join(", ")})`,
  },
} satisfies ConfigSpec;

/** The consensus network: a built-in name or a network JSON file, loaded and checked here. */
export const NETWORK_ENV = {
  POOLKEEPER_NETWORK: {
    schema: z
      .string()
      .min(1)
      .transform((v, ctx) => {
        try {
          return loadNetwork(v);
        } catch (e) {
          ctx.addIssue({ code: "custom", message: (e as Error).message });
          return z.NEVER;
        }
      }),
    example: "hoodi",
    description: `One of ${NETWORK_NAMES.join(", ")}, or a network JSON file`,
  },
} satisfies ConfigSpec;

/**
 * The pool's withdrawal credentials: 0x01 (execution address) or 0x02 (compounding, EIP-7251),
 * then 11 zero bytes and a 20-byte address, as the keys package builds them
 * (`withdrawalCredentials`) and parses them (`parseWithdrawalCredentials`). 0x00 (BLS) credentials
 * are valid on chain but never a pool's: the pool's ETH must be withdrawable to its contract.
 */
export function poolWithdrawalCredentialsProblem(hex: string): string | undefined {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) return "must be 0x followed by 32 bytes of hex";
  if (!/^0x0[12]/.test(hex))
    return "must be 0x01 or 0x02 credentials (0x00 BLS credentials cannot be a pool's)";
  if (!/^0x0[12]0{22}/.test(hex))
    return "0x01/0x02 credentials must have 11 zero bytes between the prefix and the address";
  return undefined;
}

/** The pool's withdrawal credentials (bytes): every uploaded key must carry them. */
export const WITHDRAWAL_CREDENTIALS_ENV = {
  POOLKEEPER_WITHDRAWAL_CREDENTIALS: {
    schema: z
      .string()
      .superRefine((v, ctx) => {
        const problem = poolWithdrawalCredentialsProblem(v);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      })
      .transform((v) => fromHex(v, "POOLKEEPER_WITHDRAWAL_CREDENTIALS", 32)),
    example: "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f",
    description: "The pool's 0x01/0x02 withdrawal credentials: every uploaded key must use them",
  },
} satisfies ConfigSpec;

/** Where the database is: a PostgreSQL URL, else PGlite in a data directory (every service). */
export const DATABASE_ENV = {
  DATABASE_URL: {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, "must be a postgres:// URL")
      .optional(),
    example: "postgres://poolkeeper@127.0.0.1:5432/poolkeeper",
    secret: true,
    description: "PostgreSQL server; without it, PGlite under POOLKEEPER_DATA_DIR",
  },
  POOLKEEPER_DATA_DIR: {
    schema: z.string().min(1),
    example: "./.poolkeeper",
    default: "./.poolkeeper",
    description: "Data directory of the embedded PGlite database",
  },
} satisfies ConfigSpec;

export type DatabaseSettings = ConfigOf<typeof DATABASE_ENV>;

/** What `openStore` (store) takes from the database settings: the URL, else the data directory. */
export function databaseTarget(s: DatabaseSettings): { databaseUrl: string } | { dataDir: string } {
  return s.DATABASE_URL !== undefined ? { databaseUrl: s.DATABASE_URL } : { dataDir: s.POOLKEEPER_DATA_DIR };
}

/** The database as it may be logged: `postgres://host:port` (no user, password or path) or `pglite:<dir>`. */
export function describeDatabase(s: DatabaseSettings): string {
  return s.DATABASE_URL !== undefined ? safeUrl(s.DATABASE_URL) : `pglite:${s.POOLKEEPER_DATA_DIR}`;
}

/** Redis, for the job queues. */
export const REDIS_ENV = {
  REDIS_URL: {
    schema: z.string().regex(/^rediss?:\/\/[^/\s]+/, "must be a redis:// URL"),
    example: "redis://127.0.0.1:6379",
    default: "redis://127.0.0.1:6379",
    secret: true,
    description: "Redis for the job queues (BullMQ; maxmemory-policy noeviction)",
  },
  REDIS_PREFIX: {
    schema: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "letters, digits, - and _"),
    example: "poolkeeper",
    default: "poolkeeper",
    description: "Key prefix of the queues (several deployments on one Redis)",
  },
} satisfies ConfigSpec;

/** The Prometheus endpoint of a service that has no HTTP server of its own (`startMetricsServer`). */
export const METRICS_ENV = {
  METRICS_PORT: {
    schema: port,
    example: "9464",
    default: "9464",
    description: "Port of the Prometheus /metrics and /health endpoint (0: any free port)",
  },
  METRICS_HOST: {
    schema: z.string().min(1),
    example: "127.0.0.1",
    default: "127.0.0.1",
    description: "Address the /metrics and /health endpoint listens on",
  },
} satisfies ConfigSpec;

/** A comma-separated list of http(s) URLs. */
export const urlList = z
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

/** Beacon nodes of a process that reads the chain (the watcher, oracle members). */
export const BEACON_ENV = {
  BEACON_URLS: {
    schema: urlList,
    example: "http://127.0.0.1:5052,https://user:pass@beacon.example.org",
    secret: true,
    description: "Beacon node URLs, comma-separated, healthiest first at run time",
  },
} satisfies ConfigSpec;

/** The admin API a client service talks to (oracle members, operator daemons) and its token. */
export const ADMIN_API_CLIENT_ENV = {
  ADMIN_API_URL: {
    schema: z.string().url(),
    example: "http://127.0.0.1:8080",
    description: "The pool's admin API",
  },
  ADMIN_API_TOKEN: {
    schema: z.string().min(1),
    example: "pk_…",
    secret: true,
    description:
      "The service's API token (role oracle for a member, operator for a daemon; better from ADMIN_API_TOKEN_FILE)",
  },
} satisfies ConfigSpec;
