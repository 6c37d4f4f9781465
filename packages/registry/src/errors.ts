import { defineErrorCodes, PoolkeeperError } from "@poolkeeper/core";
import { isRuleViolation } from "@poolkeeper/store";

/** Error codes of the registry, each with its kind (the HTTP layer maps kinds to statuses). */
export const REGISTRY_ERRORS = defineErrorCodes({
  /** A named thing (operator, key, batch) does not exist. */
  NOT_FOUND: { code: "ERR_NOT_FOUND", kind: "not_found" },
  /** The change conflicts with the stored state (duplicate name, key already deposited...). */
  CONFLICT: { code: "ERR_CONFLICT", kind: "conflict" },
  /** An upload failed validation; details.failures lists {index, field, reason} per entry. */
  INVALID_DEPOSIT_DATA: { code: "ERR_INVALID_DEPOSIT_DATA", kind: "unprocessable" },
  /** A vetted limit below the operator's deposited keys. */
  LIMIT_BELOW_DEPOSITED: { code: "ERR_LIMIT_BELOW_DEPOSITED", kind: "conflict" },
  /** A key state change that the lifecycle does not allow (e.g. removing a deposited key). */
  INVALID_STATE_TRANSITION: { code: "ERR_INVALID_STATE_TRANSITION", kind: "conflict" },
  /** allocateDepositBatch(n) with fewer depositable keys than n (details.available). */
  NO_CAPACITY: { code: "ERR_NO_CAPACITY", kind: "conflict" },
  /**
   * A deposit batch the pool's buffer cannot pay for (details: the figures in wei and how many
   * keys it pays); the same code as the ledger's own refusal.
   */
  BUFFER_INSUFFICIENT: { code: "ERR_BUFFER_INSUFFICIENT", kind: "conflict" },
  /** Deposits are paused by a deposit guardian (deposit security): no batch is allocated until the DAO unpauses. */
  DEPOSITS_PAUSED: { code: "ERR_DEPOSITS_PAUSED", kind: "conflict" },
  NOT_IMPLEMENTED: { code: "ERR_NOT_IMPLEMENTED", kind: "not_implemented" },
  /**
   * With governance (RegistryOptions.governance): a change that needs an executed proposal (a
   * limit moved by more than the step, an operator added, activated or deactivated); the same
   * code as @poolkeeper/governance's.
   */
  GOVERNANCE_REQUIRED: { code: "ERR_GOVERNANCE_REQUIRED", kind: "conflict" },
});

export type RegistryErrorCode = (typeof REGISTRY_ERRORS)[keyof typeof REGISTRY_ERRORS];

/** One reason an upload entry was refused. index is the entry's position in the upload (0-based). */
export interface DepositDataFailure {
  index: number;
  field: string;
  reason: string;
}

export function notFound(what: string, id: string | number): PoolkeeperError {
  return new PoolkeeperError(REGISTRY_ERRORS.NOT_FOUND, `${what} ${id} does not exist`, {
    [what]: String(id),
  });
}

export function notImplemented(what: string): PoolkeeperError {
  return new PoolkeeperError(REGISTRY_ERRORS.NOT_IMPLEMENTED, `${what} is not implemented yet`);
}

/** A database rule (trigger) refused the change: a conflict with stored state. */
export function mapRuleViolation(e: unknown): unknown {
  if (isRuleViolation(e)) {
    return new PoolkeeperError(REGISTRY_ERRORS.CONFLICT, (e as Error).message);
  }
  return e;
}
