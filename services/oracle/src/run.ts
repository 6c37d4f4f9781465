/**
 * An oracle member's start (service kit): its beacon nodes, its execution-layer adapter, the
 * admin API client with its token, the member loop (member.ts) checked against the oracle's setup,
 * and its Prometheus endpoint. `main.ts` runs `ORACLE_MEMBER_SERVICE` (`runService`); the CLI
 * runs it with flags merged into the environment.
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
import { executionLayerFrom, readClFigures } from "@poolkeeper/oracle";
import { bunkerBorder } from "./border.js";
import { ORACLE_MEMBER_ENV, type OracleMemberSettings } from "./config.js";
import { type ClReader, OracleMember, type VaultReader } from "./member.js";
import { OracleMemberMetrics } from "./metrics.js";

export interface RunningOracleMember {
  member: OracleMember;
  logger: Logger;
  metricsServer: MetricsServer;
  close(): Promise<void>;
}

function secretKeyOf(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex"));
}

export function startOracleMemberService(
  s: OracleMemberSettings,
  deps: ServiceDeps,
): Promise<RunningOracleMember> {
  const { logger } = deps;
  return startParts(async (parts) => {
    const metrics = new OracleMemberMetrics();
    const beacon = await BeaconNodePool.init({ urls: s.BEACON_URLS, preset: s.ORACLE_PRESET }, { logger });
    const el = executionLayerFrom(s, s.BEACON_URLS[0]!);
    if (el === null)
      logger.warn(
        "no execution-layer adapter (ORACLE_EL_RPC_URL or ORACLE_EL_SIM_URL): the vaults' balances are reported as 0",
      );
    const readVaults: VaultReader = async (ctx) =>
      el === null
        ? { withdrawalVaultWei: 0n, elRewardsVaultWei: 0n }
        : el.vaultBalances(ctx.refSlot, {
            withdrawalsWei: ctx.ledger.withdrawalsCollectedWei,
            elRewardsWei: ctx.ledger.elRewardsCollectedWei,
          });
    const api = createApiClient({ baseUrl: s.ADMIN_API_URL, token: s.ADMIN_API_TOKEN });
    let genesisForkVersion = "";
    const readCl: ClReader = (input) =>
      readClFigures(beacon, { ...input, path: s.ORACLE_CL_SOURCE, genesisForkVersion });
    const member: OracleMember = new OracleMember(
      {
        api,
        beacon,
        logger,
        metrics,
        readVaults,
        readCl,
        readBorder: bunkerBorder(() => member.frameConfig(), readCl, readVaults),
      },
      { memberId: s.ORACLE_MEMBER_ID, secretKey: secretKeyOf(s.ORACLE_MEMBER_KEY) },
    );
    genesisForkVersion = (await member.init()).genesisForkVersion;
    const metricsServer = parts.add(
      "metrics",
      await startMetricsServer({
        port: s.METRICS_PORT,
        host: s.METRICS_HOST,
        scrape: registryScrape(metrics.registry),
      }),
    );
    const loop = member.start(s.ORACLE_POLL_SECONDS * 1000);
    parts.onClose("member", () => loop.stop());
    logger.info(
      { member: s.ORACLE_MEMBER_ID, source: s.ORACLE_CL_SOURCE, metrics: metricsServer.url },
      "oracle member started",
    );
    return { member, logger, metricsServer };
  });
}

/** An oracle member: its settings (`ORACLE_MEMBER_ENV`) and its start. */
export const ORACLE_MEMBER_SERVICE = defineService({
  name: "oracle-member",
  env: ORACLE_MEMBER_ENV,
  start: startOracleMemberService,
});

/** The member process (main.ts, `poolkeeper oracle-member`): runs until SIGTERM/SIGINT. */
export function runOracleMemberProcess(env: Env): Promise<number> {
  return runService(ORACLE_MEMBER_SERVICE, env);
}
