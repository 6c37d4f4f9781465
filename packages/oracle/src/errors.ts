import { defineErrorCodes } from "@poolkeeper/core";

/** Error codes of the oracle, each with its kind. */
export const ORACLE_ERRORS = defineErrorCodes({
  /** A vote for a ref slot whose report was decided already (applied or refused). */
  REPORT_DECIDED: { code: "ERR_REPORT_DECIDED", kind: "conflict" },
  /** A vote whose signature is not its member's over that ref slot and hash. */
  INVALID_SIGNATURE: { code: "ERR_INVALID_SIGNATURE", kind: "unprocessable" },
  /** A vote from an id that is not a current oracle member. */
  NOT_ORACLE_MEMBER: { code: "ERR_NOT_ORACLE_MEMBER", kind: "forbidden" },
  /** A frame's data asked for before its ref slot has passed. */
  FRAME_NOT_OVER: { code: "ERR_FRAME_NOT_OVER", kind: "conflict" },
  NOT_FOUND: { code: "ERR_NOT_FOUND", kind: "not_found" },
});
