import {
  ConfigError,
  createLogger,
  databaseTarget,
  defineService,
  describeDatabase,
  type Env,
  type Logger,
  runService,
  type ServiceDeps,
  serviceSettings,
  startParts,
  toHex0x,
} from "@poolkeeper/core";
import { depositSecurityConfigFrom, depositSecurityLimitsFrom } from "@poolkeeper/deposit-security";
import { governanceSetupFrom, poolIdOf } from "@poolkeeper/governance";
import { PoolLedger } from "@poolkeeper/ledger";
import { oracleConfigFrom } from "@poolkeeper/oracle";
import { openStore, pinPoolIdentity, poolIdentityOf } from "@poolkeeper/store";
import { type App, closeApp } from "./app.js";
import { buildApp } from "./build-app.js";
import { ADMIN_API_ENV, type AdminApiSettings } from "./config.js";
import { exitsPort } from "./exits-adapter.js";
import type { GovernancePort } from "./governance-port.js";
import { oraclePort } from "./oracle-adapter.js";
import { performancePort } from "./performance-adapter.js";
import { poolPort } from "./pool-adapter.js";
import { apiRegistry, portFromRegistry } from "./registry-adapter.js";
import { genesisGuardians, wireSecurityAndGovernance } from "./security-wiring.js";

/** On SIGTERM: running requests get this long before connections are dropped. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningAdminApi {
  app: App;
  /** http://host:port */
  url: string;
  /** Stops listening (running requests finish, within the grace time), then closes the store. */
  close(): Promise<void>;
}

/**
 * The admin API's start (service kit): open the database (migrating it) and pin the pool's
 * identity in it, build the app and listen on HOST:PORT, where it also serves /metrics. Closes in
 * reverse order: the HTTP server, then the store.
 */
export function startAdminApiService(
  s: AdminApiSettings,
  deps: ServiceDeps & { currentSlot?: () => number },
): Promise<RunningAdminApi> {
  const { logger } = deps;
  const network = s.POOLKEEPER_NETWORK;
  const withdrawalCredentials = s.POOLKEEPER_WITHDRAWAL_CREDENTIALS;
  return startParts(async (parts) => {
    const store = parts.add("store", await openStore({ ...databaseTarget(s), logger }));
    // the database belongs to one network and one set of credentials: recorded at the first start
    await pinPoolIdentity(store, poolIdentityOf(network, withdrawalCredentials));
    const securityConfig = depositSecurityConfigFrom(s);
    // the guardians configured at governance's first start are its genesis `guardians`
    const setup = governanceSetupFrom(s, genesisGuardians(securityConfig));
    const registryCore = apiRegistry({
      store,
      network,
      withdrawalCredentials,
      logger,
      ...(setup !== null ? { governance: { limitStep: setup.limitStep } } : {}),
    });
    const registry = portFromRegistry(registryCore);
    let oracleConfig = oracleConfigFrom(s, network);
    // with a DAO: the governance store is the only source of the governed parameters
    const { security, governed } = await wireSecurityAndGovernance(
      {
        store,
        config: securityConfig,
        refunder: new PoolLedger(store),
        currentSlot:
          deps.currentSlot ??
          (() => Math.max(0, Math.floor((Date.now() / 1000 - network.genesisTime) / network.secondsPerSlot))),
        network: network.name,
        logger,
      },
      depositSecurityLimitsFrom(s),
      setup === null
        ? null
        : {
            store,
            setup,
            poolId: poolIdOf({
              genesisValidatorsRoot: network.genesisValidatorsRoot,
              genesisForkVersion: network.genesisForkVersion,
              withdrawalCredentials,
            }),
            oracle: oracleConfig,
            registry: registryCore,
            logger,
          },
    );
    const governance: GovernancePort | undefined = governed?.port;
    if (oracleConfig !== null && governed !== undefined && governed.oracleParameters !== null)
      oracleConfig = { ...oracleConfig, parameters: governed.oracleParameters };
    if ((await security.current()) === null)
      logger.warn(
        "no deposit guardians configured (DEPOSIT_GUARDIANS, or the governed guardians): deposit batches are released at allocation",
      );
    const app = await buildApp({
      store,
      registry,
      security,
      securityPool: {
        withdrawalCredentials: toHex0x(withdrawalCredentials),
        genesisForkVersion: toHex0x(network.genesisForkVersion),
      },
      performance: performancePort(store, network),
      // on a caller's clock (the devnet's manual sim), withdrawal requests carry the chain's time
      pool: poolPort(
        store,
        deps.currentSlot === undefined
          ? undefined
          : () => network.genesisTime + deps.currentSlot!() * network.secondsPerSlot,
      ),
      exits: exitsPort(store, { network: network.name, deadlineEpochs: s.EXIT_DEADLINE_EPOCHS }),
      oracleConfig,
      ...(governance !== undefined ? { governance } : {}),
      oracle: oraclePort(store, oracleConfig, {
        network: network.name,
        withdrawalCredentials: toHex0x(withdrawalCredentials),
        genesisForkVersion: toHex0x(network.genesisForkVersion),
      }),
      logger,
      config: {
        rateLimitMax: s.API_RATE_LIMIT_PER_MINUTE,
        trustProxy: s.TRUST_PROXY,
        publicRateLimitMax: s.PUBLIC_RATE_LIMIT_PER_MINUTE,
        publicCacheTtlMs: s.PUBLIC_CACHE_TTL_MS,
      },
    });
    parts.onClose("http", () => closeApp(app, SHUTDOWN_GRACE_MS));
    const url = await app.listen({ port: s.PORT, host: s.HOST });
    logger.info({ url, network: network.name, database: describeDatabase(s) }, "admin-api listening");
    return { app, url };
  });
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

/** The admin-api service: its settings (`ADMIN_API_ENV`, `--port` over PORT) and its start. */
export const ADMIN_API_SERVICE = defineService({
  name: "admin-api",
  env: ADMIN_API_ENV,
  fromArgv(argv) {
    const port = portFromArgv(argv);
    return port === undefined ? {} : { PORT: port };
  },
  start: startAdminApiService,
});

export interface StartOpts {
  /** Overrides PORT (the `--port` flag). */
  port?: number;
  logger?: Logger;
  /**
   * The current slot deposit security checks guardian messages against (default: the wall clock
   * from the network's genesis time); a devnet on beacon-sim's manual clock passes the sim's head slot.
   * Given, it is also the pool ledger's clock (withdrawal requests stamped with that slot's time).
   */
  currentSlot?: () => number;
}

/**
 * The admin API from an environment, in this process (the devnet, tests): the settings are read
 * as the process reads them (a ConfigError names each bad variable), then `startAdminApiService`.
 */
export function startAdminApi(env: Env, opts: StartOpts = {}): Promise<RunningAdminApi> {
  const s = serviceSettings(ADMIN_API_SERVICE, env);
  if (opts.port !== undefined) s.PORT = opts.port;
  const logger = opts.logger ?? createLogger({ name: "admin-api", level: s.LOG_LEVEL });
  return startAdminApiService(s, {
    logger,
    ...(opts.currentSlot !== undefined ? { currentSlot: opts.currentSlot } : {}),
  });
}

/** The admin-api process (main.ts, `poolkeeper admin-api`): runs until SIGTERM/SIGINT (service kit). */
export function runAdminApiProcess(env: Env, argv: readonly string[]): Promise<number> {
  return runService(ADMIN_API_SERVICE, env, { argv });
}
