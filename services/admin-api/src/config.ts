import {
  type ConfigOf,
  type ConfigSpec,
  DATABASE_ENV,
  LOG_ENV,
  NETWORK_ENV,
  WITHDRAWAL_CREDENTIALS_ENV,
} from "@poolkeeper/core";
import { DEPOSIT_SECURITY_ENV } from "@poolkeeper/deposit-security";
import { GOVERNANCE_ENV } from "@poolkeeper/governance";
import { EXITS_ENV, ORACLE_ENV } from "@poolkeeper/oracle";
import { z } from "zod";

/** Environment of the admin-api process: the shared fragments (core settings.ts) and its own. */
export const ADMIN_API_ENV = {
  ...DATABASE_ENV,
  PORT: {
    schema: z.coerce.number().int().min(0).max(65535),
    example: "3000",
    default: "3000",
    description: "TCP port to listen on",
  },
  HOST: {
    schema: z.string().min(1),
    example: "127.0.0.1",
    default: "127.0.0.1",
    description: "Address to listen on",
  },
  ...NETWORK_ENV,
  ...WITHDRAWAL_CREDENTIALS_ENV,
  ...LOG_ENV,
  ...ORACLE_ENV,
  ...EXITS_ENV,
  ...GOVERNANCE_ENV,
  ...DEPOSIT_SECURITY_ENV,
  TRUST_PROXY: {
    schema: z.enum(["true", "false"]).transform((v) => v === "true"),
    example: "false",
    default: "false",
    description: "Behind a reverse proxy: take the client address (rate limits, logs) from X-Forwarded-For",
  },
  API_RATE_LIMIT_PER_MINUTE: {
    schema: z.coerce.number().int().min(1),
    example: "600",
    default: "600",
    description: "Requests per minute per client address",
  },
  PUBLIC_RATE_LIMIT_PER_MINUTE: {
    schema: z.coerce.number().int().min(1),
    example: "300",
    default: "300",
    description: "Requests per minute per client address on each public route (GET /v1/public/...)",
  },
  PUBLIC_CACHE_TTL_MS: {
    schema: z.coerce.number().int().min(0).max(3_600_000),
    example: "5000",
    default: "5000",
    description: "How long a public route's answer is reused (and its Cache-Control max-age); 0: not cached",
  },
} satisfies ConfigSpec;

export type AdminApiSettings = ConfigOf<typeof ADMIN_API_ENV>;
