import type { Logger } from "@poolkeeper/core";
import { DepositSecurity } from "@poolkeeper/deposit-security";
import { PoolLedger } from "@poolkeeper/ledger";
import type { OracleConfig } from "@poolkeeper/oracle";
import { pendingMigrations, type Store } from "@poolkeeper/store";
import { type AdminApiConfig, type App, buildBase } from "./app.js";
import type { ExitsPort } from "./exits-port.js";
import { noGovernancePort } from "./governance-adapter.js";
import type { GovernancePort } from "./governance-port.js";
import type { OraclePort } from "./oracle-port.js";
import type { PerformancePort } from "./performance-port.js";
import type { PoolPort } from "./pool-port.js";
import type { RegistryPort } from "./port.js";
import { publicPort } from "./public-adapter.js";
import { allocationRoutes } from "./routes/allocation.js";
import { depositSecurityRoutes, type GuardianPoolView } from "./routes/deposit-security.js";
import { exitRoutes } from "./routes/exits.js";
import { governanceRoutes } from "./routes/governance.js";
import { keyRoutes } from "./routes/keys.js";
import { operatorRoutes } from "./routes/operators.js";
import { oracleRoutes } from "./routes/oracle.js";
import { performanceRoutes } from "./routes/performance.js";
import { poolRoutes } from "./routes/pool.js";
import { publicRoutes } from "./routes/public.js";
import { reviewRoutes } from "./routes/review.js";
import { storeTokenVerifier } from "./token-verifier.js";

export interface AdminApiDeps {
  store: Store;
  /** The registry as the API sees it: `registryPort(registry, store)` over @poolkeeper/registry. */
  registry: RegistryPort;
  /** The watcher's figures: `performancePort(store, network)`. */
  performance: PerformancePort;
  /** The pool ledger: `poolPort(store)`. */
  pool: PoolPort;
  /** The oracle's votes and reports: `oraclePort(store, oracleConfigFrom(settings, network))`. */
  oracle: OraclePort;
  /** Exit requests: `exitsPort(store, {network, deadlineEpochs})`. */
  exits: ExitsPort;
  /** The oracle's members, frames and fee, for the public page (null or absent: none configured). */
  oracleConfig?: OracleConfig | null;
  /** Governance: `wireGovernance(...).port`; absent: the governance routes answer 503. */
  governance?: GovernancePort;
  /**
   * Deposit security: `new DepositSecurity({store, config: depositSecurityConfigFrom(settings),
   * refunder: new PoolLedger(store), currentSlot, network})`; absent: no guardians (every batch
   * is released at allocation, 'unguarded').
   */
  security?: DepositSecurity;
  /** What guardians check batches against (the pool's credentials and fork version); required with `security`. */
  securityPool?: GuardianPoolView;
  logger: Logger;
  config?: Partial<AdminApiConfig>;
}

/** Readiness: the database answers and every migration is applied. */
export async function storeReady(store: Store): Promise<{ ok: true } | { ok: false; reason: string }> {
  await store.query("SELECT 1");
  const pending = await pendingMigrations(store);
  if (pending.length > 0) return { ok: false, reason: `migrations pending: ${pending.join(", ")}` };
  return { ok: true };
}

/** The whole admin API, not listening: call `listen` yourself, or use `app.inject()` in tests. */
export async function buildApp(deps: AdminApiDeps): Promise<App> {
  const { app, ctx } = await buildBase({
    logger: deps.logger,
    ...(deps.config !== undefined ? { config: deps.config } : {}),
    tokens: storeTokenVerifier(deps.store),
    metricsSources: deps.registry,
    ready: () => storeReady(deps.store),
  });
  operatorRoutes(app, deps.registry, ctx);
  keyRoutes(app, deps.registry, ctx);
  const security =
    deps.security ??
    new DepositSecurity({
      store: deps.store,
      config: null,
      refunder: new PoolLedger(deps.store),
      currentSlot: () => 0,
      network: "unguarded",
      logger: deps.logger,
    });
  allocationRoutes(app, deps.registry, ctx, security);
  depositSecurityRoutes(
    app,
    security,
    deps.securityPool ?? { withdrawalCredentials: "", genesisForkVersion: "" },
  );
  reviewRoutes(app, deps.registry, ctx);
  performanceRoutes(app, deps.performance, ctx);
  poolRoutes(app, deps.pool, ctx);
  oracleRoutes(app, deps.oracle, ctx);
  exitRoutes(app, deps.exits, ctx);
  publicRoutes(
    app,
    publicPort({
      store: deps.store,
      registry: deps.registry,
      performance: deps.performance,
      pool: deps.pool,
      oracle: deps.oracle,
      oracleConfig: deps.oracleConfig ?? null,
      security,
      ...(deps.governance !== undefined ? { governance: deps.governance } : {}),
    }),
    ctx,
  );
  governanceRoutes(app, deps.governance ?? noGovernancePort(), ctx);
  return app;
}
