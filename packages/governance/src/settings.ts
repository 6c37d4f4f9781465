/**
 * Governance settings (the admin API reads them): the DAO's keys and quorum, the timelock, the
 * step under which operator limits stay immediate (the genesis guardians are deposit security's
 * DEPOSIT_GUARDIANS, passed in). Without
 * GOVERNANCE_DAO_MEMBERS there is no governance: the pool runs on its configuration as before
 * (no proposals; limits, operators and the oracle's settings as today).
 */
import type { ConfigOf, ConfigSpec } from "@poolkeeper/core";
import { ConfigError, parseIdPublicKeys } from "@poolkeeper/core";
import { z } from "zod";
import { DEFAULT_TIMELOCK_SECONDS } from "./governance.js";
import { checkSigners, type Signer } from "./signing.js";

/** A vetted or target limit may move by this many keys without a proposal (default). */
export const DEFAULT_LIMIT_STEP = 100;

export const GOVERNANCE_ENV = {
  GOVERNANCE_DAO_MEMBERS: {
    schema: z.string().optional(),
    example: "alice=0xa1b2…(96 hex),bob=0x…,carol=0x…",
    description:
      "DAO members who approve proposals: id=BLS public key, comma-separated (`poolkeeper governance keygen`); without it there is no governance",
  },
  GOVERNANCE_QUORUM: {
    schema: z.coerce.number().int().min(1).optional(),
    example: "2",
    description:
      "Approvals that pass a proposal: more than half of the DAO members (default: the smallest majority)",
  },
  GOVERNANCE_TIMELOCK_SECONDS: {
    schema: z.coerce
      .number()
      .int()
      .min(0)
      .max(365 * 86_400),
    example: "172800",
    default: String(DEFAULT_TIMELOCK_SECONDS),
    description:
      "Seconds an approved proposal waits before it can be executed (48 h; the devnet uses minutes)",
  },
  GOVERNANCE_LIMIT_STEP: {
    schema: z.coerce.number().int().min(0).max(1_000_000),
    example: "100",
    default: String(DEFAULT_LIMIT_STEP),
    description:
      "With governance: a vetted or target limit change of at most this many keys stays immediate (PATCH /v1/operators/{id}, audited); a larger one is a proposal",
  },
} satisfies ConfigSpec;

export type GovernanceSettings = ConfigOf<typeof GOVERNANCE_ENV>;

export interface GovernanceSetup {
  members: Signer[];
  quorum: number;
  timelockSeconds: number;
  limitStep: number;
  /** The genesis value of `guardians`: the deposit-security setting (DEPOSIT_GUARDIANS) at the first start. */
  guardians: { members: Signer[]; quorum: number };
}

const majority = (n: number) => Math.floor(n / 2) + 1;

/** The governance settings, or null when no DAO member is configured. */
export function governanceSetupFrom(
  s: GovernanceSettings,
  genesisGuardians: GovernanceSetup["guardians"] = { members: [], quorum: 0 },
): GovernanceSetup | null {
  if (s.GOVERNANCE_DAO_MEMBERS === undefined || s.GOVERNANCE_DAO_MEMBERS.trim() === "") return null;
  const members = parseIdPublicKeys(s.GOVERNANCE_DAO_MEMBERS, "GOVERNANCE_DAO_MEMBERS");
  const quorum = s.GOVERNANCE_QUORUM ?? majority(members.length);
  try {
    checkSigners(members, quorum, "members");
  } catch (e) {
    throw new ConfigError(`GOVERNANCE_DAO_MEMBERS/GOVERNANCE_QUORUM: ${(e as Error).message}`);
  }
  return {
    members,
    quorum,
    timelockSeconds: s.GOVERNANCE_TIMELOCK_SECONDS,
    limitStep: s.GOVERNANCE_LIMIT_STEP,
    guardians: genesisGuardians,
  };
}
