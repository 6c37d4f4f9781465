import type { ConfigSpec } from "@poolkeeper/core";
import { z } from "zod";

/** Where the database is: a PostgreSQL URL, else PGlite in a data directory (every service). */
export const STORE_ENV = {
  DATABASE_URL: {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
    example: "postgres://poolkeeper@127.0.0.1:5432/poolkeeper",
    secret: true,
    description: "PostgreSQL server; without it, PGlite under POOLKEEPER_DATA_DIR",
  },
  POOLKEEPER_DATA_DIR: {
    schema: z.string().min(1),
    example: "./.poolkeeper",
    default: "./.poolkeeper",
    description: "Data directory of the embedded PGlite database",
  },
} satisfies ConfigSpec;
