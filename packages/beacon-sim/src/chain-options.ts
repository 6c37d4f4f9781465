/**
 * SimChain options resolved against the scenario file (options win) and checked: seed, slot and
 * epoch lengths, genesis time, snapshot retention, key cache, and the fork config (deneb, electra or
 * fulu from genesis).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChainForkConfig, createChainForkConfig, defaultChainConfig } from "@lodestar/config";
import { ACTIVE_PRESET, SLOTS_PER_EPOCH as PRESET_SLOTS_PER_EPOCH } from "@lodestar/params";
import { ValidationError } from "@poolkeeper/core";
import { type ChainOptions, SIM_FORKS, type SimFork } from "./chain-types.js";
import { parseFeeRecipients } from "./el-balances.js";
import { type ParsedScenario, parseScenario } from "./scenario.js";

/** Memory for kept epoch snapshots when stateRetentionEpochs is not given. */
const RETENTION_BUDGET_BYTES = 512 * 1024 * 1024;

export interface ResolvedChainOptions {
  scenario: ParsedScenario;
  seed: string;
  slotsPerEpoch: number;
  secondsPerSlot: number;
  genesisTime: number;
  stateRetentionEpochs: number;
  servedStatesKept: number;
  keyCacheDir: string | undefined;
  /** The fork of the genesis state (and of every later state). */
  fork: SimFork;
  config: ChainForkConfig;
  /** Withdrawal address → fee recipient, lowercase. */
  feeRecipients: Map<string, string>;
}

/**
 * Fork epochs of a chain that starts at `fork`: every fork up to it at epoch 0, later ones never
 * (as a devnet config starting at that fork: ELECTRA_FORK_EPOCH=0 etc.).
 */
export function forkEpochs(fork: SimFork): Record<string, number> {
  const at = (f: SimFork) => (SIM_FORKS.indexOf(f) <= SIM_FORKS.indexOf(fork) ? 0 : Number.POSITIVE_INFINITY);
  return {
    ALTAIR_FORK_EPOCH: 0,
    BELLATRIX_FORK_EPOCH: 0,
    CAPELLA_FORK_EPOCH: 0,
    DENEB_FORK_EPOCH: 0,
    ELECTRA_FORK_EPOCH: at("electra"),
    FULU_FORK_EPOCH: at("fulu"),
    GLOAS_FORK_EPOCH: Number.POSITIVE_INFINITY,
  };
}

export function resolveChainOptions(opts: ChainOptions): ResolvedChainOptions {
  const sc = parseScenario(opts.scenario ?? {});
  if (sc.preset !== undefined && sc.preset !== ACTIVE_PRESET) {
    throw new ValidationError(
      "scenario.preset",
      `is ${sc.preset} but this process runs the ${ACTIVE_PRESET} preset (set LODESTAR_PRESET before any @lodestar import)`,
    );
  }
  const seed = opts.seed ?? sc.seed ?? "beacon-sim";
  const slotsPerEpoch = opts.slotsPerEpoch ?? sc.slotsPerEpoch ?? PRESET_SLOTS_PER_EPOCH;
  const secondsPerSlot = opts.secondsPerSlot ?? sc.secondsPerSlot ?? (ACTIVE_PRESET === "minimal" ? 6 : 12);
  const genesisTime = opts.genesisTime ?? sc.genesisTime ?? 1_700_000_000;
  // Per kept epoch: balances (8 B), effective (2 B), flags (1 B), inclusion delays (1 B) per validator.
  const initial = opts.validators ?? sc.validators ?? opts.pubkeys?.length ?? sc.pubkeys?.length ?? 64;
  const stateRetentionEpochs =
    opts.stateRetentionEpochs ??
    Math.max(16, Math.min(4096, Math.floor(RETENTION_BUDGET_BYTES / (12 * initial))));
  const servedStatesKept = opts.servedStatesKept ?? 2;
  if (!Number.isInteger(servedStatesKept) || servedStatesKept < 0)
    throw new ValidationError("servedStatesKept", "must be a non-negative integer");
  if (!Number.isInteger(slotsPerEpoch) || slotsPerEpoch < 1)
    throw new ValidationError("slotsPerEpoch", "must be a positive integer");
  if (!(secondsPerSlot > 0)) throw new ValidationError("secondsPerSlot", "must be positive");
  const fork = opts.fork ?? sc.fork ?? "fulu";
  if (!(SIM_FORKS as readonly string[]).includes(fork))
    throw new ValidationError("fork", `must be one of ${SIM_FORKS.join(", ")}`);
  const config = createChainForkConfig({
    ...defaultChainConfig,
    SECONDS_PER_SLOT: secondsPerSlot,
    ...forkEpochs(fork),
  });
  const keyCacheDir =
    opts.keyCacheDir === false ? undefined : (opts.keyCacheDir ?? join(tmpdir(), "poolkeeper-beacon-sim"));
  return {
    scenario: sc,
    seed,
    slotsPerEpoch,
    secondsPerSlot,
    genesisTime,
    stateRetentionEpochs,
    servedStatesKept,
    keyCacheDir,
    fork,
    config,
    feeRecipients: parseFeeRecipients(opts.feeRecipients ?? sc.feeRecipients),
  };
}
