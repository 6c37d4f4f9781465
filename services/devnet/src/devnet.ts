/**
 * `poolkeeper devnet`: the whole main job on one machine, from real components.
 *
 *   beacon-sim (HTTP, minimal preset)  ◀── watcher (BullMQ on Redis) ──▶ store (PGlite or PostgreSQL)
 *        ▲ deposits                                                        ▲
 *        └──────────── devnet ── HTTP + bearer token ──▶ admin API ────────┘
 *
 * Each operator runs its own daemon (`poolkeeper daemon`, a process: its mnemonic, keystores and
 * token under <data-dir>/operators) that uploads its keys and signs its exit requests; oracle
 * members are processes too. Operators, vetting, the stakers' ether, the withdrawal and the
 * deposit batch (paid from the pool's buffer) go through the admin API over HTTP, as an admin
 * would do them.
 *
 * The run is a list of steps (steps.ts, `DEVNET_STEPS`) over one shared context (context.ts); each
 * step registers its teardown, and a failure or `close()` runs the teardown in reverse order.
 */
import { resolve } from "node:path";
import type { BeaconSim } from "@poolkeeper/beacon-sim";
import type { Network } from "@poolkeeper/core";
import type { Store } from "@poolkeeper/store";
import {
  type DepositBatchAnswer,
  DevnetContext,
  type DevnetDaoMember,
  type DevnetGuardian,
  type DevnetOffline,
  type DevnetOperator,
  type DevnetOptions,
  type DevnetStaker,
  type DevnetStep,
  type DevnetSummary,
  type DevnetWithdrawal,
} from "./context.js";
import { DEVNET_STEPS } from "./steps.js";

export type {
  BatchSummary,
  DevnetDaoMember,
  DevnetGuardian,
  DevnetOffline,
  DevnetOperator,
  DevnetOptions,
  DevnetParts,
  DevnetStaker,
  DevnetStep,
  DevnetSummary,
  DevnetWithdrawal,
  ExecutedProposal,
  ExitSummary,
  FeeSummary,
  OperatorSummary,
} from "./context.js";
export { DevnetContext } from "./context.js";
export { checkRedis } from "./redis.js";
export { DEVNET_NETWORK_NAME, DEVNET_STEPS } from "./steps.js";

export interface Devnet {
  sim: BeaconSim;
  apiUrl: string;
  network: Network;
  networkFile: string;
  dataDir: string;
  tokenFile: string;
  logFile: string;
  store: Store;
  operators: DevnetOperator[];
  /** The accounts that staked before the batch, which the pool's buffer paid. */
  stakers: DevnetStaker[];
  batch: DepositBatchAnswer;
  /** The operator taken offline and when (epochs [from, to)), once its validators are active. */
  offline: DevnetOffline | null;
  /** <data-dir>/operators: each operator's daemon directory, password file and mnemonic backup. */
  operatorsDir: string;
  /** The staker's withdrawal request that drives the exits, once made. */
  withdrawal(): DevnetWithdrawal | null;
  /** The DAO's members (key and token files under <data-dir>/governance), null without governance. */
  dao: DevnetDaoMember[] | null;
  /** The deposit guardians (key and token files under <data-dir>/guardians), none without them. */
  guardians: DevnetGuardian[];
  summary(): Promise<DevnetSummary>;
  printSummary(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs the steps in order over one context. On a failure the steps already run are torn down in
 * reverse order and the error is thrown; the devnet returned closes the same way.
 */
export async function startDevnet(
  o: DevnetOptions,
  steps: readonly DevnetStep[] = DEVNET_STEPS,
): Promise<Devnet> {
  const out = o.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const ctx = new DevnetContext(o, resolve(o.dataDir), out);
  try {
    for (const step of steps) await step.run(ctx);
    const withdrawal = ctx.get("withdrawal");
    return {
      sim: ctx.get("sim"),
      apiUrl: ctx.get("apiUrl"),
      network: ctx.get("network"),
      networkFile: ctx.get("networkFile"),
      dataDir: ctx.dataDir,
      tokenFile: ctx.get("tokenFile"),
      logFile: ctx.get("logFile"),
      store: ctx.get("store"),
      operators: ctx.get("operators"),
      stakers: ctx.get("stakers"),
      batch: ctx.get("batch"),
      offline: ctx.get("offline"),
      operatorsDir: ctx.get("operatorsDir"),
      withdrawal: () => withdrawal.current,
      dao: ctx.get("dao"),
      guardians: ctx.get("guardians"),
      summary: ctx.get("summary"),
      printSummary: ctx.get("printSummary"),
      close: () => ctx.close(),
    };
  } catch (e) {
    await ctx.close();
    throw e;
  }
}
