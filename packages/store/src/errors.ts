import { defineErrorCodes } from "@poolkeeper/core";

/** Error codes of the store, each with its kind. */
export const STORE_ERRORS = defineErrorCodes({
  /** The database cannot be reached (connection refused, lost, timed out). */
  DATABASE_UNAVAILABLE: { code: "ERR_DATABASE_UNAVAILABLE", kind: "unavailable" },
  /** Another live process holds the embedded data directory (one process owns a PGlite directory). */
  DATA_DIR_IN_USE: { code: "ERR_DATA_DIR_IN_USE", kind: "conflict" },
  /** The configured network or withdrawal credentials are not those this database was pinned to. */
  POOL_IDENTITY: { code: "ERR_POOL_IDENTITY", kind: "conflict" },
  /** A migration file is misnamed or two share a version (a packaging bug). */
  MIGRATION_NAME: { code: "ERR_MIGRATION_NAME", kind: "internal" },
  /** An applied migration's file changed afterwards (a packaging bug). */
  MIGRATION_CHANGED: { code: "ERR_MIGRATION_CHANGED", kind: "internal" },
  /** A migration failed to apply; nothing of it was kept. */
  MIGRATION_FAILED: { code: "ERR_MIGRATION_FAILED", kind: "internal" },
});
