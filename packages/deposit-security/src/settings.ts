/**
 * Deposit security's settings, one fragment for every process that needs them (the admin API
 * checks guardian messages against them; guardians read the same set): the guardians, the quorum,
 * how old a release signature may be, how long a pause message stays valid, when a silent
 * guardian raises an alert.
 */
import { ConfigError, type ConfigOf, type ConfigSpec, parseIdPublicKeys } from "@poolkeeper/core";
import { z } from "zod";
import { checkGuardians, type Guardian } from "./guardians.js";

export const DEPOSIT_SECURITY_ENV = {
  DEPOSIT_GUARDIANS: {
    schema: z.string().optional(),
    example: "g1=0xa1b2…(96 hex),g2=0x…,g3=0x…",
    description:
      "Deposit guardians: id=BLS public key, comma-separated; without it batches are released at allocation, unguarded",
  },
  DEPOSIT_GUARDIAN_QUORUM: {
    schema: z.coerce.number().int().min(1).optional(),
    example: "2",
    description: "Guardian signatures that release a deposit batch: more than half of the guardians",
  },
  DEPOSIT_SIGNATURE_MAX_AGE_SLOTS: {
    schema: z.coerce.number().int().min(1),
    example: "64",
    default: "64",
    description: "A guardian's release signature older than this many slots is stale and refused",
  },
  DEPOSIT_PAUSE_EXPIRY_SLOTS: {
    schema: z.coerce.number().int().min(1),
    example: "7200",
    default: "7200",
    description: "A guardian's pause message is valid for this many slots after the slot it was made at",
  },
  DEPOSIT_GUARDIAN_SILENT_SLOTS: {
    schema: z.coerce.number().int().min(1),
    example: "64",
    default: "64",
    description: "A guardian that has not reported for this many slots raises a guardian_silent alert",
  },
} satisfies ConfigSpec;

export type DepositSecuritySettingsEnv = ConfigOf<typeof DEPOSIT_SECURITY_ENV>;

export interface DepositSecurityConfig {
  guardians: Guardian[];
  quorum: number;
  maxAgeSlots: number;
  pauseExpirySlots: number;
  silentSlots: number;
}

/** Parse DEPOSIT_GUARDIANS ("id=0x…,id=0x…"). */
export function parseGuardians(value: string): Guardian[] {
  return parseIdPublicKeys(value, "DEPOSIT_GUARDIANS");
}

/** The limits of guardian messages, whoever the guardians are (the setting's or governance's). */
export function depositSecurityLimitsFrom(
  s: DepositSecuritySettingsEnv,
): Pick<DepositSecurityConfig, "maxAgeSlots" | "pauseExpirySlots" | "silentSlots"> {
  return {
    maxAgeSlots: s.DEPOSIT_SIGNATURE_MAX_AGE_SLOTS,
    pauseExpirySlots: s.DEPOSIT_PAUSE_EXPIRY_SLOTS,
    silentSlots: s.DEPOSIT_GUARDIAN_SILENT_SLOTS,
  };
}

/** The guardian set and its limits, or null when no guardian is configured (unguarded releases). */
export function depositSecurityConfigFrom(s: DepositSecuritySettingsEnv): DepositSecurityConfig | null {
  if (s.DEPOSIT_GUARDIANS === undefined || s.DEPOSIT_GUARDIANS.trim() === "") return null;
  const guardians = parseGuardians(s.DEPOSIT_GUARDIANS);
  const quorum = s.DEPOSIT_GUARDIAN_QUORUM ?? Math.floor(guardians.length / 2) + 1;
  try {
    checkGuardians(guardians, quorum);
  } catch (e) {
    throw new ConfigError(`DEPOSIT_GUARDIANS/DEPOSIT_GUARDIAN_QUORUM: ${(e as Error).message}`);
  }
  return { guardians, quorum, ...depositSecurityLimitsFrom(s) };
}
