import { defineErrorCodes } from "@poolkeeper/core";

/** Error codes of the devnet run, each with its kind. */
export const DEVNET_ERRORS = defineErrorCodes({
  /** A step of the run found the pool in a state it must never be in (a bug). */
  RUN: { code: "ERR_DEVNET", kind: "internal" },
});
