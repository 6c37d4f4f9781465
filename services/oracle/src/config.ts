import {
  ADMIN_API_CLIENT_ENV,
  BEACON_ENV,
  type ConfigOf,
  type ConfigSpec,
  LODESTAR_PRESETS,
  LOG_ENV,
  METRICS_ENV,
} from "@poolkeeper/core";
import { ORACLE_EL_ENV } from "@poolkeeper/oracle";
import { z } from "zod";

/** Environment of an oracle member process: the shared fragments (core settings.ts) and its own. */
export const ORACLE_MEMBER_ENV = {
  ...BEACON_ENV,
  ORACLE_PRESET: {
    schema: z.enum(LODESTAR_PRESETS),
    example: "mainnet",
    default: "mainnet",
    description: "Consensus preset of the beacon nodes (minimal for beacon-sim and devnets)",
  },
  ...ADMIN_API_CLIENT_ENV,
  ORACLE_MEMBER_ID: {
    schema: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, . _ -"),
    example: "alice",
    description: "This member's id, as named in the admin API's ORACLE_MEMBERS",
  },
  ORACLE_MEMBER_KEY: {
    schema: z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, "a BLS secret key: 64 hex digits"),
    example: "0x…(64 hex)",
    secret: true,
    description: "The member's BLS signing key (better from ORACLE_MEMBER_KEY_FILE)",
  },
  ORACLE_CL_SOURCE: {
    schema: z.enum(["ssz", "json"]),
    example: "ssz",
    default: "ssz",
    description:
      "How the ref slot's validators are read: the SSZ state, or the bulk JSON routes (for nodes that do not serve debug states)",
  },
  ORACLE_POLL_SECONDS: {
    schema: z.coerce.number().int().min(1).max(3600),
    example: "12",
    default: "12",
    description: "How often the member looks for a newly finalized ref slot",
  },
  ...ORACLE_EL_ENV,
  ...METRICS_ENV,
  ...LOG_ENV,
} satisfies ConfigSpec;

export type OracleMemberSettings = ConfigOf<typeof ORACLE_MEMBER_ENV>;
