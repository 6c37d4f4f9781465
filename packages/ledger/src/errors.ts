import { defineErrorCodes } from "@poolkeeper/core";

/** Error codes of the pool ledger, each with its kind. */
export const LEDGER_ERRORS = defineErrorCodes({
  /** A deposit batch the buffer cannot pay for (after what withdrawal requests reserve). */
  BUFFER_INSUFFICIENT: { code: "ERR_BUFFER_INSUFFICIENT", kind: "conflict" },
  /** A claim of a withdrawal request that is not finalized yet. */
  WITHDRAWAL_NOT_FINALIZED: { code: "ERR_WITHDRAWAL_NOT_FINALIZED", kind: "conflict" },
  /** A claim of a withdrawal request that was claimed already. */
  WITHDRAWAL_CLAIMED: { code: "ERR_WITHDRAWAL_CLAIMED", kind: "conflict" },
  /** No withdrawal request with that id. */
  NOT_FOUND: { code: "ERR_NOT_FOUND", kind: "not_found" },
});
