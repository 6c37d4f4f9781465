import { defineErrorCodes, type ErrorDetails, PoolkeeperError } from "@poolkeeper/core";

/**
 * Why deposit security refuses something, each with its kind. Malformed input is a
 * ValidationError (ERR_VALIDATION) naming the field; these are well-formed inputs the rules refuse.
 */
export const DEPOSIT_SECURITY_ERRORS = defineErrorCodes({
  /** Fewer distinct valid guardian signatures than the quorum. */
  NO_QUORUM: { code: "ERR_GUARDIAN_QUORUM", kind: "unprocessable" },
  /** A signature or a pause from an id that is not a current guardian. */
  NOT_GUARDIAN: { code: "ERR_NOT_GUARDIAN", kind: "forbidden" },
  /** One guardian's signature given twice. */
  REPEATED_GUARDIAN: { code: "ERR_GUARDIAN_REPEATED", kind: "unprocessable" },
  /** A signature that is not its guardian's over the message it names. */
  INVALID_SIGNATURE: { code: "ERR_INVALID_SIGNATURE", kind: "unprocessable" },
  /** A guardian message older than allowed (or made at a slot after the current one). */
  STALE_MESSAGE: { code: "ERR_GUARDIAN_MESSAGE_STALE", kind: "unprocessable" },
  /** Guardian signatures over another batch, keys root, block or slot than the others or the batch's. */
  MESSAGE_MISMATCH: { code: "ERR_GUARDIAN_MESSAGE_MISMATCH", kind: "unprocessable" },
  /** A pause message past its expiry. */
  PAUSE_EXPIRED: { code: "ERR_PAUSE_EXPIRED", kind: "unprocessable" },
  /** A pause message made at or before the last unpause (a replay). */
  PAUSE_REPLAYED: { code: "ERR_PAUSE_REPLAYED", kind: "conflict" },
  /** The execution layer's deposit log could not be read, or its answer does not parse. */
  DEPOSIT_LOG_UNAVAILABLE: { code: "ERR_DEPOSIT_LOG_UNAVAILABLE", kind: "unavailable" },
  /** A deposit batch with a key that is front-run or already deposited (details: the keys and their evidence). */
  KEYS_NOT_CLEAN: { code: "ERR_DEPOSIT_KEYS_NOT_CLEAN", kind: "conflict" },
});

export class DepositSecurityError extends PoolkeeperError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super(code, message, details);
    this.name = "DepositSecurityError";
  }
}
