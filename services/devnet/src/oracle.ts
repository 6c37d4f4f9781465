/**
 * The devnet's oracle: members' signing keys and API tokens written to files (0600, never
 * printed), the admin API's oracle settings, and the members themselves as separate processes
 * (`services/oracle`), each reading the sim as its own beacon node and voting through the admin
 * API over HTTP, as members on separate machines would.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBeaconSim } from "@poolkeeper/beacon-sim";
import { generateMemberKey, publicKeyOf } from "@poolkeeper/oracle";
import { createApiToken, type Store } from "@poolkeeper/store";
import type { DevnetContext, DevnetOracleMember } from "./context.js";
import { childGroup, spawnNode, writeSecret } from "./processes.js";

const MEMBER_MAIN = fileURLToPath(new URL("../../oracle/src/main.ts", import.meta.url));

/**
 * The sanity limits a devnet needs besides mainnet's: its epochs are 16 s, not 384 s, and a few
 * dozen validators earn at a rate far above 10% a year; a whole batch appears in one frame;
 * requests wait two epochs, not two hours. The scenario's `oracle.sanity` goes over these.
 */
export function devnetSanityLimits(secondsPerEpoch: number, over: Record<string, unknown>): string {
  return JSON.stringify({
    annualBalanceIncreaseBP: 1_000_000_000,
    appearedValidatorsPerDay: 1_000_000,
    exitedValidatorsPerDay: 1_000_000,
    requestTimestampMarginSeconds: 2 * secondsPerEpoch,
    ...over,
  });
}

/** Members' keys and tokens (files in <data-dir>/oracle), and the admin API's oracle settings. */
export async function prepareOracle(ctx: DevnetContext, store: Store): Promise<Record<string, string>> {
  const o = ctx.options.scenario.oracle;
  const dir = join(ctx.dataDir, "oracle");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  const members: DevnetOracleMember[] = [];
  for (let i = 1; i <= o.members; i++) {
    const id = `oracle-${i}`;
    const key = generateMemberKey();
    const keyFile = join(dir, `${id}.key`);
    writeSecret(keyFile, `0x${Buffer.from(key).toString("hex")}`);
    const { token } = await createApiToken(store, { role: "oracle", label: `devnet ${id}` });
    const tokenFile = join(dir, `${id}.token`);
    writeSecret(tokenFile, token);
    members.push({
      id,
      publicKey: publicKeyOf(key),
      keyFile,
      tokenFile,
      clSource: o.clSources[i - 1] ?? "ssz",
    });
  }
  ctx.set("oracleMembers", members);
  const sim = ctx.get("sim").chain;
  return {
    ORACLE_MEMBERS: members.map((m) => `${m.id}=${m.publicKey}`).join(","),
    ORACLE_QUORUM: String(o.quorum),
    ORACLE_EPOCHS_PER_FRAME: String(o.epochsPerFrame),
    ORACLE_INITIAL_EPOCH: String(o.initialEpoch),
    POOL_FEE_BP: String(o.feeBP),
    POOL_OPERATORS_FEE_BP: String(o.operatorsFeeBP),
    POOL_TREASURY: o.treasury,
    ORACLE_SANITY_LIMITS: devnetSanityLimits(sim.secondsPerSlot * sim.slotsPerEpoch, o.sanity),
    // exit requests: a few epochs to exit on the devnet (900 on a real network), then EIP-7002
    EXIT_DEADLINE_EPOCHS: String(ctx.options.scenario.exits.deadlineEpochs),
  };
}

/** The members as processes, on the sim and the admin API; stopped (SIGTERM) at the devnet's close. */
export async function startOracleMembers(ctx: DevnetContext): Promise<void> {
  const members = ctx.get("oracleMembers");
  // two beacon nodes of the one chain: the members read alternate ones, as members on their own nodes
  const second = await startBeaconSim({ chain: ctx.get("sim").chain, port: 0 });
  ctx.onClose(() => second.close());
  const nodes = [ctx.get("sim").url, second.url];
  const group = childGroup(ctx);
  for (const [i, m] of members.entries()) {
    const child = spawnNode(MEMBER_MAIN, [], {
      LODESTAR_PRESET: "minimal",
      POOLKEEPER_EXIT_WITH_PARENT: "1",
      BEACON_URLS: nodes[i % nodes.length]!,
      ORACLE_PRESET: "minimal",
      ADMIN_API_URL: ctx.get("apiUrl"),
      ADMIN_API_TOKEN_FILE: m.tokenFile,
      ORACLE_MEMBER_ID: m.id,
      ORACLE_MEMBER_KEY_FILE: m.keyFile,
      ORACLE_CL_SOURCE: m.clSource,
      ORACLE_POLL_SECONDS: "1",
      ORACLE_EL_SIM_URL: ctx.get("sim").url,
      POOL_WITHDRAWAL_VAULT: ctx.options.scenario.withdrawalAddress,
      POOL_EL_REWARDS_VAULT: ctx.options.scenario.oracle.elRewardsVault,
      METRICS_PORT: "0",
      LOG_LEVEL: ctx.options.logLevel ?? "info",
    });
    group.add(child, `oracle member ${m.id}`);
  }
  ctx.out(
    `oracle      ${members.length} members (quorum ${ctx.options.scenario.oracle.quorum}), frames of ` +
      `${ctx.options.scenario.oracle.epochsPerFrame} epochs; keys and tokens in ${join(ctx.dataDir, "oracle")} (0600)`,
  );
}
