export { type AdminApiConfig, type App, closeApp, DEFAULT_API_CONFIG } from "./app.js";
export { type Principal, ROLES, type Role } from "./auth.js";
export { type AdminApiDeps, buildApp, storeReady } from "./build-app.js";
export { ADMIN_API_ENV, type AdminApiSettings } from "./config.js";
export { statusForCode } from "./errors.js";
export {
  type ExitsSettings,
  exitRequestView,
  exitsPort,
} from "./exits-adapter.js";
export type { ExitsPort } from "./exits-port.js";
export {
  type GovernanceWiring,
  type GovernanceWiringOpts,
  noGovernancePort,
  wireGovernance,
} from "./governance-adapter.js";
export type { GovernancePort } from "./governance-port.js";
export { oraclePort } from "./oracle-adapter.js";
export { MAX_HISTORY_EPOCHS, type PerformanceTiming, performancePort } from "./performance-adapter.js";
export type { PerformancePort } from "./performance-port.js";
export { poolPort } from "./pool-adapter.js";
export type { PoolPort } from "./pool-port.js";
export type { RegistryPort } from "./port.js";
export { registryPort } from "./registry-adapter.js";
export type { GuardianPoolView } from "./routes/deposit-security.js";
export {
  ADMIN_API_SERVICE,
  portFromArgv,
  type RunningAdminApi,
  runAdminApiProcess,
  startAdminApi,
  startAdminApiService,
} from "./server.js";
export {
  type ApiTokenInfo,
  createApiToken,
  listApiTokens,
  openStoreFromEnv,
  revokeApiToken,
} from "./tokens-admin.js";
