import { PoolkeeperError } from "@poolkeeper/core";

/**
 * Error codes of the registry. The HTTP layer maps them to statuses in one place:
 *   ERR_VALIDATION → 400, ERR_NOT_FOUND → 404, ERR_CONFLICT / ERR_LIMIT_BELOW_DEPOSITED /
 *   ERR_INVALID_STATE_TRANSITION / ERR_NO_CAPACITY → 409, ERR_INVALID_DEPOSIT_DATA → 422.
 */
export const REGISTRY_ERRORS = {
  /** A named thing (operator, key, batch) does not exist. */
  NOT_FOUND: "ERR_NOT_FOUND",
  /** The change conflicts with the stored state (duplicate name, key already deposited...). */
  CONFLICT: "ERR_CONFLICT",
  /** An upload failed validation; details.failures lists {index, field, reason} per entry. */
  INVALID_DEPOSIT_DATA: "ERR_INVALID_DEPOSIT_DATA",
  /** A vetted limit below the operator's deposited keys. */
  LIMIT_BELOW_DEPOSITED: "ERR_LIMIT_BELOW_DEPOSITED",
  /** A key state change that the lifecycle does not allow (e.g. removing a deposited key). */
  INVALID_STATE_TRANSITION: "ERR_INVALID_STATE_TRANSITION",
  /** allocate(n) with fewer depositable keys than n (details.available). */
  NO_CAPACITY: "ERR_NO_CAPACITY",
  NOT_IMPLEMENTED: "ERR_NOT_IMPLEMENTED",
} as const;

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
