import {
  ADMIN_API_CLIENT_ENV,
  BEACON_ENV,
  type ConfigOf,
  type ConfigSpec,
  LODESTAR_PRESETS,
  LOG_ENV,
  METRICS_ENV,
} from "@poolkeeper/core";
import { z } from "zod";

/** Environment of a deposit guardian process: the shared fragments (core settings.ts) and its own. */
export const GUARDIAN_ENV = {
  ...BEACON_ENV,
  GUARDIAN_PRESET: {
    schema: z.enum(LODESTAR_PRESETS),
    example: "mainnet",
    default: "mainnet",
    description: "Consensus preset of the beacon nodes (minimal for beacon-sim and devnets)",
  },
  ...ADMIN_API_CLIENT_ENV,
  GUARDIAN_ID: {
    schema: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, . _ -"),
    example: "g1",
    description: "This guardian's id in the admin API's DEPOSIT_GUARDIANS",
  },
  GUARDIAN_KEY: {
    schema: z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, "a BLS secret key: 64 hex digits"),
    example: "0x…(64 hex)",
    secret: true,
    description: "The guardian's BLS signing key (better from GUARDIAN_KEY_FILE)",
  },
  GUARDIAN_EL_SIM_URL: {
    schema: z.string().url().optional(),
    example: "http://127.0.0.1:5052",
    secret: true,
    description:
      "The execution layer's deposit log: beacon-sim's execution side (GET /poolkeeper/v1/execution/deposit_requests); without it only the beacon states are checked",
  },
  GUARDIAN_POLL_SECONDS: {
    schema: z.coerce.number().int().min(1).max(3600),
    example: "6",
    default: "6",
    description: "How often the guardian looks for batches awaiting release (and reports its head)",
  },
  ...METRICS_ENV,
  ...LOG_ENV,
} satisfies ConfigSpec;

export type GuardianSettings = ConfigOf<typeof GUARDIAN_ENV>;
