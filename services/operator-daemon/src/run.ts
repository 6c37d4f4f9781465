/**
 * An operator daemon's start (service kit): the admin API client with the operator's token, the
 * pool's identity checked against the directory's, the mnemonic decrypted, the key supply loop
 * (supply.ts), the exit stream and its handling (exits.ts) and the Prometheus endpoint (/metrics,
 * /health). `main.ts` runs `OPERATOR_DAEMON_SERVICE`; `poolkeeper daemon run --dir D` runs it with
 * D/daemon.json merged into the environment.
 */
import { join } from "node:path";
import { BeaconNodePool } from "@poolkeeper/beacon";
import { createApiClient } from "@poolkeeper/contract";
import {
  ConfigError,
  defineService,
  type Env,
  type Logger,
  type MetricsServer,
  runService,
  type ServiceDeps,
  startMetricsServer,
  startParts,
  toHex0x,
} from "@poolkeeper/core";
import { beaconExitChain } from "./beacon-chain.js";
import { OPERATOR_DAEMON_ENV, type OperatorDaemonSettings } from "./config.js";
import { readEncryptedMnemonic, readState } from "./dir.js";
import {
  clientExitsApi,
  type ExitChain,
  ExitHandler,
  type ExitSigner,
  followExitStream,
  keymanagerSigner,
  mnemonicSigner,
} from "./exits.js";
import { KeymanagerImport, type KeystoreSink, TekuLayout } from "./keystores.js";
import { OperatorDaemonMetrics } from "./metrics.js";
import { errorCode, KeySupply } from "./supply.js";

export interface RunningOperatorDaemon {
  supply: KeySupply;
  exits: ExitHandler;
  metrics: OperatorDaemonMetrics;
  logger: Logger;
  metricsServer: MetricsServer;
  /** Resolves after the next supply round has finished (tests). */
  nextRound(): Promise<void>;
  close(): Promise<void>;
}

export interface OperatorDaemonDeps extends ServiceDeps {
  /** Every HTTP call the daemon makes to the admin API and the Keymanager API (default: fetch). */
  fetch?: typeof fetch;
}

/** The default keystore directory when none is set: D/validator-keys. */
export function keystoreDirOf(s: Pick<OperatorDaemonSettings, "DAEMON_DIR" | "DAEMON_KEYSTORE_DIR">): string {
  return s.DAEMON_KEYSTORE_DIR === "" ? join(s.DAEMON_DIR, "validator-keys") : s.DAEMON_KEYSTORE_DIR;
}

export function startOperatorDaemon(
  s: OperatorDaemonSettings,
  deps: OperatorDaemonDeps,
): Promise<RunningOperatorDaemon> {
  // every line names the operator: several daemons may write to one log (the devnet's)
  const logger = deps.logger.child({ operator: s.DAEMON_OPERATOR_ID });
  const doFetch = deps.fetch ?? fetch;
  return startParts(async (parts) => {
    const metrics = new OperatorDaemonMetrics();
    const network = s.POOLKEEPER_NETWORK;
    const api = createApiClient({ baseUrl: s.ADMIN_API_URL, token: s.ADMIN_API_TOKEN, fetch: doFetch });
    const identity = (await api.getPoolIdentity()).data;
    if (identity.withdrawalCredentials !== s.DAEMON_WITHDRAWAL_CREDENTIALS.toLowerCase())
      throw new ConfigError(
        `DAEMON_WITHDRAWAL_CREDENTIALS: the pool's credentials are now ${identity.withdrawalCredentials}, not ${s.DAEMON_WITHDRAWAL_CREDENTIALS} as confirmed at init; run \`poolkeeper daemon init\` again to confirm them`,
      );
    if (identity.genesisForkVersion !== toHex0x(network.genesisForkVersion))
      throw new ConfigError(
        `POOLKEEPER_NETWORK: ${network.name} has genesis fork version ${toHex0x(network.genesisForkVersion)}, the pool's network (${identity.network}) ${identity.genesisForkVersion}`,
      );
    if (s.DAEMON_EXIT_SIGNER === "keymanager" && s.DAEMON_KEYMANAGER_URL === undefined)
      throw new ConfigError("DAEMON_EXIT_SIGNER: keymanager needs DAEMON_KEYMANAGER_URL");
    const mnemonic = await readEncryptedMnemonic(s.DAEMON_DIR, s.DAEMON_MNEMONIC_PASSWORD);
    const sink: KeystoreSink =
      s.DAEMON_KEYMANAGER_URL === undefined
        ? new TekuLayout(keystoreDirOf(s))
        : new KeymanagerImport(
            s.DAEMON_KEYMANAGER_URL,
            s.DAEMON_KEYMANAGER_TOKEN,
            network.genesisValidatorsRoot,
            doFetch,
          );
    const supply = new KeySupply(
      { api, sink, logger, metrics },
      {
        dir: s.DAEMON_DIR,
        operatorId: s.DAEMON_OPERATOR_ID,
        network,
        withdrawalCredentials: s.DAEMON_WITHDRAWAL_CREDENTIALS,
        mnemonic,
        lowWater: s.DAEMON_LOW_WATER,
        batchSize: s.DAEMON_BATCH_SIZE,
        kdf: {
          function: s.DAEMON_KEYSTORE_KDF,
          ...(s.DAEMON_KDF_COST === 0 ? {} : { cost: s.DAEMON_KDF_COST }),
        },
      },
    );

    let chain: ExitChain | null = null;
    if (s.BEACON_URLS.length > 0) {
      const beacon = await BeaconNodePool.init({ urls: s.BEACON_URLS, preset: s.DAEMON_PRESET }, { logger });
      chain = beaconExitChain(beacon, s.BEACON_URLS, network.slotsPerEpoch);
    } else logger.warn("no beacon node (BEACON_URLS): exit requests will be reported failed");
    const fromMnemonic = mnemonicSigner(mnemonic, network);
    const noSigner: ExitSigner = async () => {
      throw new ConfigError("DAEMON_EXIT_SIGNER=none: this daemon signs no exit");
    };
    const exits = new ExitHandler(
      {
        api: clientExitsApi(api),
        chain,
        sign:
          s.DAEMON_EXIT_SIGNER === "keymanager"
            ? keymanagerSigner(s.DAEMON_KEYMANAGER_URL!, s.DAEMON_KEYMANAGER_TOKEN, doFetch)
            : s.DAEMON_EXIT_SIGNER === "none"
              ? noSigner
              : fromMnemonic.sign,
        pubkeyOf: fromMnemonic.pubkeyOf,
        logger,
        metrics,
      },
      {
        operatorId: s.DAEMON_OPERATOR_ID,
        derivedCount: async () => {
          const st = await readState(s.DAEMON_DIR);
          return st.pending === null ? st.nextIndex : st.pending.from;
        },
      },
    );

    const metricsServer = parts.add(
      "metrics",
      await startMetricsServer({
        port: s.METRICS_PORT,
        host: s.METRICS_HOST,
        async scrape() {
          return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
        },
      }),
    );

    const stop = new AbortController();
    let wake: (() => void) | undefined;
    const waiters: Array<() => void> = [];
    const loop = (async () => {
      while (!stop.signal.aborted) {
        try {
          await supply.round();
        } catch (e) {
          metrics.errors.inc({ part: "supply", code: errorCode(e) });
          logger.warn(
            { code: errorCode(e), err: e instanceof Error ? e.message : String(e) },
            "supply round failed; retrying",
          );
        }
        try {
          await exits.poll();
        } catch (e) {
          metrics.errors.inc({ part: "exit", code: errorCode(e) });
          logger.warn({ code: errorCode(e) }, "following exits failed; retrying");
        }
        for (const w of waiters.splice(0)) w();
        if (stop.signal.aborted) break;
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, s.DAEMON_POLL_SECONDS * 1000).unref();
        });
      }
    })();
    // DAEMON_EXIT_SIGNER=none: the operator handles exits elsewhere; the stream is not followed
    const stream =
      s.DAEMON_EXIT_SIGNER === "none"
        ? Promise.resolve()
        : followExitStream({
            api,
            operatorId: s.DAEMON_OPERATOR_ID,
            onRequest: (req) => exits.handle(req),
            logger,
            signal: stop.signal,
          });
    if (s.DAEMON_EXIT_SIGNER === "none")
      logger.warn(
        "exit requests are not followed (DAEMON_EXIT_SIGNER=none): they must be signed elsewhere before their deadline, or the pool triggers the exits (EIP-7002) and records them late",
      );
    parts.onClose("loops", async () => {
      stop.abort();
      wake?.();
      await Promise.all([loop, stream]);
      for (const w of waiters.splice(0)) w();
    });
    logger.info(
      {
        network: network.name,
        keystores: sink.kind,
        lowWater: s.DAEMON_LOW_WATER,
        batchSize: s.DAEMON_BATCH_SIZE,
        metrics: metricsServer.url,
      },
      "operator daemon started",
    );
    return {
      supply,
      exits,
      metrics,
      logger,
      metricsServer,
      nextRound: () =>
        new Promise<void>((r) => {
          waiters.push(r);
          wake?.();
        }),
    };
  });
}

/** An operator daemon: its settings (`OPERATOR_DAEMON_ENV`) and its start. */
export const OPERATOR_DAEMON_SERVICE = defineService({
  name: "operator-daemon",
  env: OPERATOR_DAEMON_ENV,
  start: (s: OperatorDaemonSettings, deps: ServiceDeps) => startOperatorDaemon(s, deps),
});

/** The daemon process (main.ts, `poolkeeper daemon run`): runs until SIGTERM/SIGINT. */
export function runOperatorDaemonProcess(env: Env): Promise<number> {
  return runService(OPERATOR_DAEMON_SERVICE, env);
}
