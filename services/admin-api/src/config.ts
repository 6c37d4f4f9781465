import { type ConfigSpec, NETWORK_NAMES } from "@poolkeeper/core";
import { STORE_ENV } from "@poolkeeper/store";
import { z } from "zod";

export { STORE_ENV };

/** Environment of the admin-api process (read by main.ts only). */
export const ADMIN_API_ENV = {
  ...STORE_ENV,
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
  POOLKEEPER_NETWORK: {
    schema: z.string().min(1),
    example: "hoodi",
    description: `One of ${NETWORK_NAMES.join(", ")}, or a network JSON file`,
  },
  POOLKEEPER_WITHDRAWAL_CREDENTIALS: {
    schema: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 32 bytes of hex")
      .refine(
        (v) => /^0x0[12]0{22}/.test(v),
        "must be 0x01 or 0x02 credentials: 0x01/0x02, 11 zero bytes, address",
      ),
    example: "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f",
    description: "The pool's withdrawal credentials: every uploaded key must use them",
  },
  LOG_LEVEL: {
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    example: "info",
    default: "info",
  },
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
} satisfies ConfigSpec;
