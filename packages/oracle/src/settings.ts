/**
 * The oracle's settings, one fragment for every process that needs them (the admin API decides
 * consensus; oracle members build reports): members and quorum, frames, the pool's fee.
 */
import type { ConfigOf, ConfigSpec, Network } from "@poolkeeper/core";
import { ConfigError, parseIdPublicKeys } from "@poolkeeper/core";
import { z } from "zod";
import { checkMembers, type OracleMember } from "./consensus.js";
import { DEFAULT_EXIT_DEADLINE_EPOCHS } from "./ejector.js";
import { DEFAULT_EPOCHS_PER_FRAME, type FrameConfig } from "./frames.js";
import type { OracleConfig } from "./oracle-consensus.js";
import { DEFAULT_SANITY_LIMITS, parseSanityLimits, type SanityLimits } from "./sanity.js";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an address: 0x and 40 hex digits");

export const ORACLE_ENV = {
  ORACLE_MEMBERS: {
    schema: z.string().optional(),
    example: "alice=0xa1b2…(96 hex),bob=0x…,carol=0x…",
    description: "Oracle members: id=BLS public key, comma-separated; without it no vote is taken",
  },
  ORACLE_QUORUM: {
    schema: z.coerce.number().int().min(1).optional(),
    example: "2",
    description: "Votes that decide a report: more than half of the members",
  },
  ORACLE_EPOCHS_PER_FRAME: {
    schema: z.coerce.number().int().min(1),
    example: "225",
    default: String(DEFAULT_EPOCHS_PER_FRAME),
    description: "Epochs per report frame (225 = one day)",
  },
  ORACLE_INITIAL_EPOCH: {
    schema: z.coerce.number().int().min(0),
    example: "0",
    default: "0",
    description: "The first frame's first epoch",
  },
  ORACLE_PERFORMANCE_LEEWAY_BP: {
    schema: z.coerce.number().int().min(0).max(10_000),
    example: "500",
    default: "500",
    description:
      "A validator whose duty performance over a frame is below the network's minus this (basis points) earns no fee share (Lido CSM)",
  },
  ORACLE_SANITY_LIMITS: {
    schema: z.string().optional(),
    example: '{"annualBalanceIncreaseBP":1000,"requestTimestampMarginSeconds":7680}',
    description:
      "Sanity-check limits other than Lido's mainnet values, as JSON (names of SanityLimits; ether and maxPositiveTokenRebase as decimal strings)",
  },
  POOL_FEE_BP: {
    schema: z.coerce.number().int().min(0).max(10_000),
    example: "1000",
    default: "1000",
    description: "The pool's fee on rewards, basis points",
  },
  POOL_OPERATORS_FEE_BP: {
    schema: z.coerce.number().int().min(0).max(10_000),
    example: "500",
    default: "500",
    description: "The operators' part of the fee, basis points (the treasury gets the rest)",
  },
  POOL_TREASURY: {
    schema: address.optional(),
    example: "0x3e40d73eb977dc6a537af587d48316fee66e9c8c",
    description: "The treasury's address (fee shares)",
  },
} satisfies ConfigSpec;

export type OracleSettings = ConfigOf<typeof ORACLE_ENV>;

/** Exit requests: their deadline, and the most ether one oracle report may ask to exit. */
export const EXITS_ENV = {
  EXIT_DEADLINE_EPOCHS: {
    schema: z.coerce.number().int().min(1).max(1_000_000),
    example: "900",
    default: "900",
    description:
      "Epochs an operator has to exit a validator the pool asked to exit (Lido's validator-ejector window: 900, about 4 days); past it the pool triggers the exit (EIP-7002)",
  },
  ORACLE_MAX_EXIT_ETHER_PER_REPORT: {
    schema: z.coerce.number().int().min(0).max(10_000_000),
    example: "19200",
    default: "19200",
    description:
      "Sanity limit: the most ether (whole ETH, counted at 32 per validator) one report may ask to exit (Lido's maxValidatorExitRequestsPerReport, 600 validators)",
  },
} satisfies ConfigSpec;

export type ExitsSettingsEnv = ConfigOf<typeof EXITS_ENV>;

/** Parse ORACLE_MEMBERS ("id=0x…,id=0x…"). */
export function parseMembers(value: string): OracleMember[] {
  return parseIdPublicKeys(value, "ORACLE_MEMBERS");
}

function sanityFrom(json: string | undefined): SanityLimits {
  if (json === undefined || json.trim() === "") return DEFAULT_SANITY_LIMITS;
  try {
    return parseSanityLimits(json);
  } catch (e) {
    throw new ConfigError(`ORACLE_SANITY_LIMITS: ${(e as Error).message}`);
  }
}

/** The consensus settings, or null when no member is configured. */
export function oracleConfigFrom(
  s: OracleSettings & Partial<ExitsSettingsEnv>,
  network: Network,
): OracleConfig | null {
  if (s.ORACLE_MEMBERS === undefined || s.ORACLE_MEMBERS.trim() === "") return null;
  const members = parseMembers(s.ORACLE_MEMBERS);
  const quorum = s.ORACLE_QUORUM ?? Math.floor(members.length / 2) + 1;
  try {
    checkMembers(members, quorum);
  } catch (e) {
    throw new ConfigError(`ORACLE_MEMBERS/ORACLE_QUORUM: ${(e as Error).message}`);
  }
  if (s.POOL_TREASURY === undefined)
    throw new ConfigError("POOL_TREASURY: required when ORACLE_MEMBERS is set");
  if (s.POOL_OPERATORS_FEE_BP > s.POOL_FEE_BP)
    throw new ConfigError("POOL_OPERATORS_FEE_BP: must not be above POOL_FEE_BP");
  const frames: FrameConfig = {
    slotsPerEpoch: network.slotsPerEpoch,
    secondsPerSlot: network.secondsPerSlot,
    genesisTime: network.genesisTime,
    epochsPerFrame: s.ORACLE_EPOCHS_PER_FRAME,
    initialEpoch: s.ORACLE_INITIAL_EPOCH,
  };
  return {
    members,
    quorum,
    frames,
    performanceLeewayBP: s.ORACLE_PERFORMANCE_LEEWAY_BP,
    sanity: sanityFrom(s.ORACLE_SANITY_LIMITS),
    fees: { totalFeeBP: s.POOL_FEE_BP, operatorsFeeBP: s.POOL_OPERATORS_FEE_BP, treasury: s.POOL_TREASURY },
    exits: {
      maxExitWei: BigInt(s.ORACLE_MAX_EXIT_ETHER_PER_REPORT ?? 19_200) * 10n ** 18n,
      deadlineEpochs: s.EXIT_DEADLINE_EPOCHS ?? DEFAULT_EXIT_DEADLINE_EPOCHS,
    },
  };
}

/** The execution-layer adapter's settings and factory live with the adapter (@poolkeeper/beacon execution.ts). */
export { executionLayerFrom, ORACLE_EL_ENV, type OracleElSettings } from "@poolkeeper/beacon";
