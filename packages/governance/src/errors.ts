import { defineErrorCodes, PoolkeeperError } from "@poolkeeper/core";

/** Error codes of governance, each with its kind. */
export const GOVERNANCE_ERRORS = defineErrorCodes({
  /** A governed change asked for outside a proposal (a limit jump above the step, a fee, an operator added). */
  GOVERNANCE_REQUIRED: { code: "ERR_GOVERNANCE_REQUIRED", kind: "conflict" },
  /** The proposal is not in a state that allows this (approved already, executed, cancelled). */
  PROPOSAL_STATE: { code: "ERR_PROPOSAL_STATE", kind: "conflict" },
  /** Execution asked for before the proposal's timelock has passed. */
  TIMELOCK: { code: "ERR_TIMELOCK", kind: "conflict" },
  /** A signature from an id that is not a current DAO member. */
  NOT_DAO_MEMBER: { code: "ERR_NOT_DAO_MEMBER", kind: "forbidden" },
  /** A member's second approval of one proposal, or a signature sent again. */
  APPROVAL_REPEATED: { code: "ERR_APPROVAL_REPEATED", kind: "conflict" },
  /** A signature that is not its member's over this proposal, change and pool. */
  INVALID_SIGNATURE: { code: "ERR_INVALID_SIGNATURE", kind: "unprocessable" },
  /** No DAO is configured (GOVERNANCE_DAO_MEMBERS): proposals are not taken. */
  GOVERNANCE_NOT_CONFIGURED: { code: "ERR_GOVERNANCE_NOT_CONFIGURED", kind: "unavailable" },
  NOT_FOUND: { code: "ERR_NOT_FOUND", kind: "not_found" },
});

/** A governed change asked for outside a proposal: the error names the proposal kind that makes it. */
export function governanceRequired(kind: string, what: string): PoolkeeperError {
  return new PoolkeeperError(
    GOVERNANCE_ERRORS.GOVERNANCE_REQUIRED,
    `${what} needs an executed governance proposal: POST /v1/governance/proposals with kind ${kind}`,
    { kind, proposals: "/v1/governance/proposals" },
  );
}
