/**
 * The devnet's settings: command-line flags (validated one by one, each error naming its flag) and
 * the scenario file (config/devnet/scenario.json: genesis validators, vetted limits, the deposit
 * share, the stakers and which operator goes offline when).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError, DATABASE_ENV, parseAddress, parseFlag, REDIS_ENV } from "@poolkeeper/core";
import { z } from "zod";

export const DEFAULT_SCENARIO_FILE = fileURLToPath(
  new URL("../../../config/devnet/scenario.json", import.meta.url),
);

const limitOverride = z
  .object({ operator: z.number().int().min(1), limit: z.number().int().min(0) })
  .strict();

export const devnetScenarioSchema = z
  .object({
    /** Genesis validators of the sim that do not belong to the pool. */
    genesisValidators: z.number().int().min(8).max(10_000).default(48),
    seed: z.string().min(1).default("poolkeeper-devnet"),
    /** The pool's withdrawal address: keys get 0x01 credentials to it. */
    withdrawalAddress: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected 0x and 20 bytes of hex"),
    /** Vetted limits other than keys-per-operator, by operator number (1-based; larger than --operators: ignored). */
    vettedLimits: z.array(limitOverride).default([]),
    /** Share of the vetted keys deposited in the one batch (rounded down, at least 1). */
    depositShare: z.number().gt(0).max(1).default(0.75),
    /** Accounts that stake before the batch: together what it costs (32 ETH per key), which the batch takes from the buffer. */
    stakers: z.number().int().min(1).max(100).default(3),
    /** One operator's validators go offline once all of them are active. */
    offline: z
      .object({
        operator: z.number().int().min(1),
        afterActivationEpochs: z.number().int().min(0).max(100).default(1),
        epochs: z.number().int().min(1).max(10_000).default(5),
      })
      .strict()
      .nullable()
      .default(null),
    watcher: z
      .object({
        offlineEpochs: z.number().int().min(1).max(1000).default(3),
        underperformanceMargin: z.number().min(0).max(1).default(0.05),
      })
      .strict()
      .default({ offlineEpochs: 3, underperformanceMargin: 0.05 }),
    /** Oracle members (separate processes), their quorum, the report frames and the pool's fee. */
    oracle: z
      .object({
        members: z.number().int().min(1).max(9).default(3),
        quorum: z.number().int().min(1).max(9).default(2),
        epochsPerFrame: z.number().int().min(1).max(225).default(4),
        initialEpoch: z.number().int().min(0).default(0),
        /** How each member reads the ref slot's validators, by member (the rest: ssz). */
        clSources: z.array(z.enum(["ssz", "json"])).default(["ssz", "ssz", "json"]),
        treasury: z
          .string()
          .regex(/^0x[0-9a-fA-F]{40}$/, "expected 0x and 20 bytes of hex")
          .default("0x3e40d73eb977dc6a537af587d48316fee66e9c8c"),
        /** The pool's execution-layer rewards vault: the fee recipient of its validators' blocks. */
        elRewardsVault: z
          .string()
          .regex(/^0x[0-9a-fA-F]{40}$/, "expected 0x and 20 bytes of hex")
          .default("0x388c818ca8b9251b393131c08a736a67ccb19297"),
        feeBP: z.number().int().min(0).max(10_000).default(1000),
        operatorsFeeBP: z.number().int().min(0).max(10_000).default(500),
        /** Sanity limits other than mainnet's (ORACLE_SANITY_LIMITS): a devnet's epochs are 24× faster. */
        sanity: z.record(z.string(), z.unknown()).default({}),
      })
      .strict()
      .refine((o) => o.quorum * 2 > o.members && o.quorum <= o.members, {
        message: "quorum must be more than half of the members and at most all of them",
        path: ["quorum"],
      })
      .default({
        members: 3,
        quorum: 2,
        epochsPerFrame: 4,
        initialEpoch: 0,
        clSources: ["ssz", "ssz", "json"],
        treasury: "0x3e40d73eb977dc6a537af587d48316fee66e9c8c",
        elRewardsVault: "0x388c818ca8b9251b393131c08a736a67ccb19297",
        feeBP: 1000,
        operatorsFeeBP: 500,
        sanity: {},
      }),
    /**
     * Each operator's daemon (`poolkeeper daemon`, a process of its own): its low-water mark is
     * --keys-per-operator; it uploads `batchSize` keys per top-up. Cheap KDFs: a devnet's keystores
     * and mnemonics guard nothing of value, and the first keys must be there in seconds.
     */
    daemons: z
      .object({
        batchSize: z.number().int().min(1).max(1000).default(4),
        /** pbkdf2 c of the validator keystores (EIP-2335's default is 262144). */
        keystoreKdfCost: z.number().int().min(1).max(1_048_576).default(1024),
        /** scrypt n of each encrypted mnemonic (a power of two; EIP-2335's default is 262144). */
        mnemonicKdfCost: z
          .number()
          .int()
          .min(2)
          .max(262_144)
          .refine((n) => (n & (n - 1)) === 0, "must be a power of two")
          .default(16_384),
        pollSeconds: z.number().min(0.1).max(60).default(1),
      })
      .strict()
      .default({ batchSize: 4, keystoreKdfCost: 1024, mnemonicKdfCost: 16_384, pollSeconds: 1 }),
    /**
     * Exits: once the pool's validators are all active, a staker asks to withdraw `withdrawEth`
     * (more than the buffer holds, so the next oracle report asks validators to exit); operator
     * `ignoredBy`'s daemon runs with --exit-signer none (it handles exits elsewhere, and does not)
     * and its request is triggered by EIP-7002 after `deadlineEpochs` (EXIT_DEADLINE_EPOCHS).
     */
    exits: z
      .object({
        withdrawEth: z.number().int().min(1).max(100_000).nullable().default(90),
        afterActivationEpochs: z.number().int().min(0).max(100).default(4),
        ignoredBy: z.number().int().min(1).nullable().default(2),
        deadlineEpochs: z.number().int().min(1).max(10_000).default(8),
      })
      .strict()
      .default({ withdrawEth: 90, afterActivationEpochs: 4, ignoredBy: 2, deadlineEpochs: 8 }),
    /**
     * The DAO (issue 14): `members` keys (files, 0600), `quorum` of them approve a proposal, which
     * waits `timelockSeconds` (GOVERNANCE_TIMELOCK_SECONDS: minutes here, 48 h on a real pool)
     * before it is executed. Governance is switched on once the starting operators exist (a pool's
     * launch); then `fee`, when given, is proposed (`kind: "fee"`, the treasury the oracle's),
     * approved by the first `quorum` members and executed after the timelock. null: no DAO.
     */
    governance: z
      .object({
        members: z.number().int().min(1).max(9).default(3),
        quorum: z.number().int().min(1).max(9).default(2),
        timelockSeconds: z.number().int().min(0).max(3600).default(90),
        fee: z
          .object({
            totalFeeBP: z.number().int().min(0).max(10_000),
            operatorsFeeBP: z.number().int().min(0).max(10_000),
          })
          .strict()
          .refine((f) => f.operatorsFeeBP <= f.totalFeeBP, {
            message: "operatorsFeeBP must be at most totalFeeBP",
            path: ["operatorsFeeBP"],
          })
          .nullable()
          .default({ totalFeeBP: 800, operatorsFeeBP: 400 }),
      })
      .strict()
      .refine((g) => g.quorum * 2 > g.members && g.quorum <= g.members, {
        message: "quorum must be more than half of the members and at most all of them",
        path: ["quorum"],
      })
      .nullable()
      .default({ members: 3, quorum: 2, timelockSeconds: 90, fee: { totalFeeBP: 800, operatorsFeeBP: 400 } }),
    /**
     * Deposit security (issue 13): `members` guardians (processes with their own keys, files 0600)
     * of which `quorum` sign a deposit batch before it is sent to the chain. null: no guardians
     * (every batch released at allocation).
     */
    guardians: z
      .object({
        members: z.number().int().min(1).max(9).default(3),
        quorum: z.number().int().min(1).max(9).default(2),
      })
      .strict()
      .refine((g) => g.quorum <= g.members, {
        message: "quorum must be at most the number of guardians",
        path: ["quorum"],
      })
      .nullable()
      .default({ members: 3, quorum: 2 }),
    /** Extra beacon-sim scenario fields (behaviours of genesis validators, missed slots, ...). */
    sim: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type DevnetScenario = z.output<typeof devnetScenarioSchema>;

export function parseDevnetScenario(input: unknown, source = "scenario"): DevnetScenario {
  const r = devnetScenarioSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : `.${issue.path.join(".")}`;
    throw new ConfigError(`${source}${where}: ${issue?.message ?? "invalid"}`);
  }
  parseAddress(r.data.withdrawalAddress, `${source}.withdrawalAddress`);
  const fee = r.data.governance?.fee;
  if (
    fee != null &&
    fee.totalFeeBP === r.data.oracle.feeBP &&
    fee.operatorsFeeBP === r.data.oracle.operatorsFeeBP
  )
    throw new ConfigError(
      `${source}.governance.fee: is the oracle's fee already (feeBP ${r.data.oracle.feeBP}, operatorsFeeBP ${r.data.oracle.operatorsFeeBP}); propose another, or null for none`,
    );
  return r.data;
}

export function loadDevnetScenario(file: string = DEFAULT_SCENARIO_FILE): DevnetScenario {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `--scenario: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`--scenario: ${file} is not valid JSON`);
  }
  return parseDevnetScenario(json, file);
}

/** The flags of `poolkeeper devnet`, as commander hands them over (strings). */
export interface DevnetFlags {
  operators?: string;
  keysPerOperator?: string;
  dataDir?: string;
  apiPort?: string;
  simPort?: string;
  redisUrl?: string;
  databaseUrl?: string;
  secondsPerSlot?: string;
  duration?: string;
  scenario?: string;
  summaryEvery?: string;
  untilReports?: string;
  untilExits?: string;
}

export interface DevnetSettings {
  operators: number;
  keysPerOperator: number;
  dataDir: string;
  apiPort: number;
  simPort: number;
  redisUrl: string;
  /** False when --redis-url (or REDIS_URL) was not given: a private redis-server may stand in. */
  redisUrlGiven?: boolean;
  databaseUrl: string | undefined;
  secondsPerSlot: number;
  /** Seconds; undefined: until Ctrl-C. */
  duration: number | undefined;
  /** Print a summary every this many processed epochs. */
  summaryEvery: number;
  /** Stop once this many oracle reports are applied and print the JSON summary last (headless). */
  untilReports?: number;
  /** Stop once this many exit requests have exited (with --until-reports: both) and print the JSON summary last. */
  untilExits?: number;
  scenario: DevnetScenario;
}

function int(flag: string, value: string | undefined, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${flag}: expected a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${flag}: must be from ${min} to ${max}, got ${n}`);
  return n;
}

export function parseDevnetFlags(f: DevnetFlags): DevnetSettings {
  // the rules of REDIS_URL and DATABASE_URL (core settings), under the flags' names
  const redisUrl = parseFlag(REDIS_ENV.REDIS_URL, "--redis-url", f.redisUrl);
  const databaseUrl = parseFlag(DATABASE_ENV.DATABASE_URL, "--database-url", f.databaseUrl);
  if (f.dataDir !== undefined && f.dataDir.trim() === "")
    throw new ConfigError("--data-dir: must not be empty");
  const settings: DevnetSettings = {
    operators: int("--operators", f.operators, 3, 1, 100),
    keysPerOperator: int("--keys-per-operator", f.keysPerOperator, 8, 1, 1000),
    dataDir: f.dataDir ?? "./.poolkeeper/devnet",
    apiPort: int("--api-port", f.apiPort, 3000, 0, 65535),
    simPort: int("--sim-port", f.simPort, 5052, 0, 65535),
    redisUrl,
    redisUrlGiven: f.redisUrl !== undefined,
    databaseUrl,
    secondsPerSlot: int("--seconds-per-slot", f.secondsPerSlot, 2, 1, 60),
    duration: f.duration === undefined ? undefined : int("--duration", f.duration, 0, 1, 30 * 86_400),
    summaryEvery: int("--summary-every", f.summaryEvery, 2, 1, 1000),
    ...(f.untilReports === undefined
      ? {}
      : { untilReports: int("--until-reports", f.untilReports, 0, 1, 1000) }),
    ...(f.untilExits === undefined ? {} : { untilExits: int("--until-exits", f.untilExits, 0, 1, 1000) }),
    scenario: loadDevnetScenario(f.scenario),
  };
  if (settings.apiPort !== 0 && settings.apiPort === settings.simPort)
    throw new ConfigError(
      `--api-port and --sim-port: both are ${settings.apiPort}; give two different ports`,
    );
  const off = settings.scenario.offline;
  if (off !== null && off.operator > settings.operators)
    throw new ConfigError(
      `--operators: the scenario takes operator ${off.operator} offline; run at least ${off.operator} operators`,
    );
  const ignoredBy = settings.scenario.exits.ignoredBy;
  if (ignoredBy !== null && ignoredBy > settings.operators)
    throw new ConfigError(
      `--operators: the scenario's operator ${ignoredBy} ignores its exit requests; run at least ${ignoredBy} operators`,
    );
  if (settings.untilExits !== undefined && settings.scenario.exits.withdrawEth === null)
    throw new ConfigError(
      "--until-exits: the scenario's exits.withdrawEth is null (no withdrawal, so no exit); give it an amount",
    );
  return settings;
}
