import type { ErrorDetails } from "@poolkeeper/core";
import { defineErrorCodes, PoolkeeperError } from "@poolkeeper/core";

/** Codes of this package: one per way a beacon interaction can fail, each with its kind. */
export const BeaconErrorCode = defineErrorCodes({
  /** No configured beacon node answered (after retries and failover). */
  unavailable: { code: "ERR_BEACON_UNAVAILABLE", kind: "unavailable" },
  /** A node answered, but the answer failed validation (shape or consistency). */
  invalidResponse: { code: "ERR_BEACON_INVALID_RESPONSE", kind: "unavailable" },
  /** The data asked for is not (yet) finalized, or no node has it finalized. */
  notFinalized: { code: "ERR_BEACON_NOT_FINALIZED", kind: "unavailable" },
  /** LODESTAR_PRESET conflicts with the preset asked for. */
  preset: { code: "ERR_BEACON_PRESET", kind: "invalid_input" },
  /** A pubkey or index given by the caller is malformed. */
  input: { code: "ERR_BEACON_INPUT", kind: "invalid_input" },
});

export class BeaconError extends PoolkeeperError {
  constructor(code: string, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.name = "BeaconError";
  }
}

export function invalidResponse(what: string, reason: string, details?: ErrorDetails): BeaconError {
  return new BeaconError(BeaconErrorCode.invalidResponse, `${what}: ${reason}`, { what, reason, ...details });
}
