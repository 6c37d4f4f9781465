import { defineErrorCodes } from "@poolkeeper/core";

/** The operator daemon's own error codes (its logs and its progress reports name them). */
export const DAEMON_ERRORS = defineErrorCodes({
  /** The validator client's Keymanager API refused or did not answer. */
  KEYMANAGER: { code: "ERR_DAEMON_KEYMANAGER", kind: "unavailable" },
  /** A key of this daemon's mnemonic is registered for another operator. */
  FOREIGN_KEY: { code: "ERR_DAEMON_FOREIGN_KEY", kind: "conflict" },
  /** No beacon node answered a read. */
  BEACON: { code: "ERR_DAEMON_BEACON", kind: "unavailable" },
  /** No beacon node accepted a signed exit. */
  EXIT_REFUSED: { code: "ERR_DAEMON_EXIT_REFUSED", kind: "unavailable" },
});
