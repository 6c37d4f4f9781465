/**
 * @poolkeeper/beacon-sim: a Beacon API server (Lodestar's own route definitions on fastify 5) over
 * a deterministic synthetic chain, for tests, benchmarks and the devnet.
 *
 * LODESTAR_PRESET must be chosen before the first @lodestar import: this module defaults it to
 * "minimal" when the process has not set it.
 */
import "./preset.js";
import type { FastifyInstance } from "fastify";
import type { NodeApi } from "./api.js";
import { type ChainOptions, SimChain } from "./chain.js";
import type { FaultSpec } from "./scenario.js";
import { buildApp, checkPort, SimNode } from "./server.js";

export { NodeApi, SIM_VERSION } from "./api.js";
export type {
  AttestationDeltas,
  ChainOptions,
  Checkpoint,
  FinalityState,
  StoredBlock,
  ValidatorStatus,
} from "./chain.js";
export { FAR, FLAG_HEAD, FLAG_SOURCE, FLAG_TARGET, SIM_DEPOSIT_IDENTITY, SimChain } from "./chain.js";
export type {
  CarriedDepositRequest,
  DepositRequestRecord,
  ElectraFields,
  PendingDepositEntry,
  SimFork,
} from "./chain-types.js";
export { isElectraOrLater, SIM_FORKS } from "./chain-types.js";
export {
  BURN_ADDRESS,
  MAX_PRIORITY_FEE_GWEI,
  MIN_PRIORITY_FEE_GWEI,
  priorityFeeWei,
} from "./el-balances.js";
export {
  activationExitChurnLimit,
  balanceChurnLimit,
  consolidationChurnLimit,
  maxEffectiveBalanceElectra,
} from "./electra.js";
export { EXECUTION_ROUTES } from "./execution.js";
export { derivePubkeys, INTEROP_KEY_LIMIT, secretKeyOf } from "./keys.js";
export type {
  BehaviourKind,
  BehaviourRule,
  FaultSpec,
  ParsedScenario,
  Scenario,
  ValidatorSelector,
} from "./scenario.js";
export { BEHAVIOURS, parseFault, parseScenario, scenarioSchema, selectorRanges } from "./scenario.js";
export { buildApp, prefersSsz, SimNode, STREAM_THRESHOLD, validatorJson } from "./server.js";
export { signedDeposit } from "./signed-deposit.js";
export {
  BeaconStateType,
  beaconStateType,
  proposerLookahead,
  serializeState,
  servedState,
} from "./ssz-state.js";

export interface BeaconSimOptions extends ChainOptions {
  /** Share one chain between several sims (a fleet); otherwise one is built from the options. */
  chain?: SimChain;
  port?: number;
  host?: string;
  /** "manual" (default): the chain moves only through chain.advanceTo(); "wall": follows the clock. */
  clock?: "manual" | "wall";
  /** Faults from the start (also: scenario.faults). */
  faults?: FaultSpec[];
  logger?: boolean;
  /** Validator lists longer than this are streamed as JSON (default STREAM_THRESHOLD). */
  streamThreshold?: number;
}

export interface BeaconSim {
  url: string;
  port: number;
  chain: SimChain;
  node: SimNode;
  api: NodeApi;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Moves the chain's head with the wall clock; returns a stop function. Errors are emitted as `clock_error` on the chain. */
export function startWallClock(chain: SimChain, tickMs = 100): () => void {
  const tick = () => {
    try {
      const target = chain.wallClockSlot();
      if (target > chain.headSlot) chain.advanceTo(target);
    } catch (e) {
      // A timer must not take the process down: report it to whoever listens.
      chain.emit("clock_error", e);
    }
  };
  tick();
  const t = setInterval(tick, tickMs);
  t.unref();
  return () => clearInterval(t);
}

export async function startBeaconSim(opts: BeaconSimOptions = {}): Promise<BeaconSim> {
  const port = opts.port ?? 0;
  checkPort(port);
  const chain =
    opts.chain ??
    new SimChain({
      ...opts,
      genesisTime: opts.genesisTime ?? (opts.clock === "wall" ? Math.floor(Date.now() / 1000) : undefined),
    });
  const scenarioFaults = opts.chain === undefined ? chain.scenarioFaults() : [];
  const node = new SimNode(chain, [...scenarioFaults, ...(opts.faults ?? [])]);
  const { app, api, hung } = await buildApp(node, {
    logger: opts.logger,
    streamThreshold: opts.streamThreshold,
  });
  await app.listen({ port, host: opts.host ?? "127.0.0.1" });
  const address = app.server.address();
  const actualPort = typeof address === "object" && address !== null ? address.port : port;
  const stopClock = opts.clock === "wall" && opts.chain === undefined ? startWallClock(chain) : undefined;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${actualPort}`,
    port: actualPort,
    chain,
    node,
    api,
    app,
    close: async () => {
      stopClock?.();
      for (const release of hung) release();
      hung.clear();
      await app.close();
    },
  };
}

/** Several sims on their own ports over one shared chain (for failover tests). */
export async function startFleet(
  count: number,
  opts: BeaconSimOptions = {},
): Promise<{ chain: SimChain; sims: BeaconSim[]; close(): Promise<void> }> {
  const chain =
    opts.chain ??
    new SimChain({
      ...opts,
      genesisTime: opts.genesisTime ?? (opts.clock === "wall" ? Math.floor(Date.now() / 1000) : undefined),
    });
  const sims: BeaconSim[] = [];
  for (let k = 0; k < count; k++) sims.push(await startBeaconSim({ ...opts, port: 0, chain }));
  const stopClock = opts.clock === "wall" ? startWallClock(chain) : undefined;
  return {
    chain,
    sims,
    close: async () => {
      stopClock?.();
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}
export type { BeaconSimCliOptions } from "./cli.js";
export { runBeaconSimProcess, startFromCli } from "./cli.js";
