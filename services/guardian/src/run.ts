/**
 * A guardian's start (service kit): its beacon nodes, the execution layer's deposit log, the
 * admin API client with its token (role guardian), the guardian loop and its Prometheus endpoint.
 * `main.ts` runs `GUARDIAN_SERVICE` (`runService`); the CLI runs it with flags merged into the
 * environment; `startGuardian(settings, {logger})` starts one from code (the devnet).
 */
import { BeaconNodePool } from "@poolkeeper/beacon";
import { createApiClient } from "@poolkeeper/contract";
import {
  defineService,
  type Env,
  type Logger,
  type MetricsServer,
  registryScrape,
  runService,
  type ServiceDeps,
  startMetricsServer,
  startParts,
} from "@poolkeeper/core";
import { generateGuardianKey, guardianPublicKey, simDepositLog } from "@poolkeeper/deposit-security";
import { GUARDIAN_ENV, type GuardianSettings } from "./config.js";
import { Guardian } from "./guardian.js";
import { GuardianMetrics } from "./metrics.js";

export interface RunningGuardian {
  guardian: Guardian;
  logger: Logger;
  metricsServer: MetricsServer;
  /** Stops the loop (waiting for a running round), the metrics server and the beacon pool. */
  close(): Promise<void>;
}

function secretKeyOf(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex"));
}

export function startGuardianService(s: GuardianSettings, deps: ServiceDeps): Promise<RunningGuardian> {
  const { logger } = deps;
  return startParts(async (parts) => {
    const metrics = new GuardianMetrics();
    const beacon = await BeaconNodePool.init({ urls: s.BEACON_URLS, preset: s.GUARDIAN_PRESET }, { logger });
    const el = s.GUARDIAN_EL_SIM_URL === undefined ? undefined : simDepositLog(s.GUARDIAN_EL_SIM_URL);
    if (el === undefined)
      logger.warn("no execution-layer deposit log (GUARDIAN_EL_SIM_URL): only the beacon states are checked");
    const api = createApiClient({ baseUrl: s.ADMIN_API_URL, token: s.ADMIN_API_TOKEN });
    const secretKey = secretKeyOf(s.GUARDIAN_KEY);
    const guardian = new Guardian(
      { api, beacon, logger, metrics, ...(el === undefined ? {} : { el }) },
      { guardianId: s.GUARDIAN_ID, secretKey },
    );
    const metricsServer = parts.add(
      "metrics",
      await startMetricsServer({
        port: s.METRICS_PORT,
        host: s.METRICS_HOST,
        scrape: registryScrape(metrics.registry),
      }),
    );
    const loop = guardian.start(s.GUARDIAN_POLL_SECONDS * 1000);
    parts.onClose("guardian", () => loop.stop());
    logger.info(
      { guardian: s.GUARDIAN_ID, publicKey: guardianPublicKey(secretKey), metrics: metricsServer.url },
      "deposit guardian started",
    );
    return { guardian, logger, metricsServer };
  });
}

/** A deposit guardian: its settings (`GUARDIAN_ENV`) and its start. */
export const GUARDIAN_SERVICE = defineService({
  name: "guardian",
  env: GUARDIAN_ENV,
  start: startGuardianService,
});

/** Start a guardian from code (the devnet): settings as GUARDIAN_ENV's, parsed already. */
export function startGuardian(s: GuardianSettings, deps: ServiceDeps): Promise<RunningGuardian> {
  return startGuardianService(s, deps);
}

/** The guardian process (main.ts, `poolkeeper guardian`): runs until SIGTERM/SIGINT. */
export function runGuardianProcess(env: Env): Promise<number> {
  return runService(GUARDIAN_SERVICE, env);
}

/** A new guardian key and its public key (for DEPOSIT_GUARDIANS). */
export function newGuardianKey(): { secretKeyHex: string; publicKey: string } {
  const key = generateGuardianKey();
  return { secretKeyHex: `0x${Buffer.from(key).toString("hex")}`, publicKey: guardianPublicKey(key) };
}
