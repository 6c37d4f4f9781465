import { defineErrorCodes } from "@poolkeeper/core";

/** Error codes of beacon-sim (the pool's op checks and state look-ups), each with its kind. */
export const SIM_ERRORS = defineErrorCodes({
  UNKNOWN_VALIDATOR: { code: "ERR_UNKNOWN_VALIDATOR", kind: "not_found" },
  NOT_ACTIVE: { code: "ERR_NOT_ACTIVE", kind: "unprocessable" },
  ALREADY_EXITING: { code: "ERR_ALREADY_EXITING", kind: "conflict" },
  FUTURE_EPOCH: { code: "ERR_FUTURE_EPOCH", kind: "invalid_input" },
  INVALID_SIGNATURE: { code: "ERR_INVALID_SIGNATURE", kind: "unprocessable" },
  STATE_NOT_AVAILABLE: { code: "ERR_STATE_NOT_AVAILABLE", kind: "not_found" },
});
