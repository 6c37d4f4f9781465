import {
  ConfigError,
  createLogger,
  type Env,
  fromHex,
  type Logger,
  loadConfig,
  loadNetwork,
  logProcessFaults,
  safeUrl,
} from "@poolkeeper/core";
import { openStore, pinPoolIdentity, poolIdentityOf } from "@poolkeeper/store";
import { type App, closeApp } from "./app.js";

/** On SIGTERM: running requests get this long before connections are dropped. */
const SHUTDOWN_GRACE_MS = 10_000;

import { buildApp } from "./build-app.js";
import { ADMIN_API_ENV } from "./config.js";
import { performancePort } from "./performance-adapter.js";
import { registryPort } from "./registry-adapter.js";

export interface StartOpts {
  /** Overrides PORT (the `--port` flag). */
  port?: number;
  logger?: Logger;
}

export interface RunningAdminApi {
  app: App;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

/**
 * Read the configuration from `env`, open the database (migrating it), build the app and listen.
 * Throws a ConfigError naming each bad variable; the caller logs it and exits 1.
 */
export async function startAdminApi(env: Env, opts: StartOpts = {}): Promise<RunningAdminApi> {
  const cfg = loadConfig(ADMIN_API_ENV, env);
  const logger = opts.logger ?? createLogger({ name: "admin-api", level: cfg.LOG_LEVEL });
  const network = loadNetwork(cfg.POOLKEEPER_NETWORK);
  const withdrawalCredentials = fromHex(
    cfg.POOLKEEPER_WITHDRAWAL_CREDENTIALS,
    "POOLKEEPER_WITHDRAWAL_CREDENTIALS",
    32,
  );
  const store = await openStore(
    cfg.DATABASE_URL !== undefined
      ? { databaseUrl: cfg.DATABASE_URL, logger }
      : { dataDir: cfg.POOLKEEPER_DATA_DIR, logger },
  );
  try {
    // the database belongs to one network and one set of credentials: recorded at the first start
    await pinPoolIdentity(store, poolIdentityOf(network, withdrawalCredentials));
    const registry = await registryPort({ store, network, withdrawalCredentials, logger });
    const app = await buildApp({
      store,
      registry,
      performance: performancePort(store, network),
      logger,
      config: { rateLimitMax: cfg.API_RATE_LIMIT_PER_MINUTE, trustProxy: cfg.TRUST_PROXY },
    });
    const url = await app.listen({ port: opts.port ?? cfg.PORT, host: cfg.HOST });
    logger.info(
      {
        url,
        network: network.name,
        database:
          cfg.DATABASE_URL !== undefined ? safeUrl(cfg.DATABASE_URL) : `pglite:${cfg.POOLKEEPER_DATA_DIR}`,
      },
      "admin-api listening",
    );
    let closing: Promise<void> | undefined;
    return {
      app,
      url,
      close() {
        closing ??= (async () => {
          try {
            await closeApp(app, SHUTDOWN_GRACE_MS);
          } finally {
            await store.close();
          }
        })();
        return closing;
      },
    };
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}

/** `--port 3000` / `--port=3000` from argv, validated; undefined when absent. */
export function portFromArgv(argv: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let v: string | undefined;
    if (a === "--port") v = argv[i + 1];
    else if (a.startsWith("--port=")) v = a.slice(7);
    else continue;
    if (v === undefined || !/^\d{1,5}$/.test(v) || Number(v) > 65535) {
      throw new ConfigError(`--port: "${v ?? ""}" is not a port (example: --port 3000)`);
    }
    return Number(v);
  }
  return undefined;
}

/** Run until SIGTERM/SIGINT; a start-up error is logged and the process exits 1. */
export async function runAdminApiProcess(env: Env, argv: readonly string[]): Promise<void> {
  const bootLogger = createLogger({ name: "admin-api" });
  logProcessFaults(bootLogger);
  let running: RunningAdminApi;
  try {
    const port = portFromArgv(argv);
    running = await startAdminApi(env, port !== undefined ? { port } : {});
  } catch (e) {
    bootLogger.error(
      { err: { name: (e as Error).name, message: (e as Error).message } },
      "admin-api failed to start",
    );
    process.exit(1);
  }
  const stop = (signal: string) => {
    running.app.log.info({ signal }, "admin-api stopping");
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        running.app.log.error({ err: { message: (e as Error).message } }, "admin-api close failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
