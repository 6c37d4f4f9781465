import type { ErrorDetails } from "@poolkeeper/core";
import { PoolkeeperError } from "@poolkeeper/core";

/** Codes of this package: one per way a beacon interaction can fail. */
export const BeaconErrorCode = {
  /** No configured beacon node answered (after retries and failover). */
  unavailable: "ERR_BEACON_UNAVAILABLE",
  /** A node answered, but the answer failed validation (shape or consistency). */
  invalidResponse: "ERR_BEACON_INVALID_RESPONSE",
  /** The data asked for is not (yet) finalized, or no node has it finalized. */
  notFinalized: "ERR_BEACON_NOT_FINALIZED",
  /** LODESTAR_PRESET conflicts with the preset asked for. */
  preset: "ERR_BEACON_PRESET",
  /** A pubkey or index given by the caller is malformed. */
  input: "ERR_BEACON_INPUT",
} as const;

export class BeaconError extends PoolkeeperError {
  constructor(code: string, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.name = "BeaconError";
  }
}

export function invalidResponse(what: string, reason: string, details?: ErrorDetails): BeaconError {
  return new BeaconError(BeaconErrorCode.invalidResponse, `${what}: ${reason}`, { what, reason, ...details });
}
