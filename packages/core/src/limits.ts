/**
 * Every size limit of the registry and the admin API, defined once. The registry and the database
 * enforce the domain limits; the admin API's contract (@poolkeeper/contract) states them in its
 * schemas, and adds its own per-request caps (`API_CAPS`), which are smaller on purpose: one
 * request must not hold the server for long.
 */

/** Domain limits: what the registry accepts (and, where named, the SQL CHECKs of migration 0001). */
export const LIMITS = {
  /** Operator name, in characters after trimming (`operators.name`). */
  operatorNameLength: 200,
  /** Who acts (`key_events.actor`, `audit_log.actor`). */
  actorLength: 200,
  /** Why, in the audit log and key events. */
  reasonLength: 1000,
  /** Entries in one key upload. */
  uploadEntries: 100_000,
  /** Failures listed in an upload error's details (`failuresTotal` gives the full count). */
  listedUploadFailures: 1000,
  /** Deposits in one deposit batch, and in one simulated allocation. */
  allocationCount: 100_000,
  /** `network_name` and `deposit_cli_version` of a deposit data entry. */
  depositDataLabelLength: 64,
  /** An audit log target such as `operator:3`. */
  auditTargetLength: 200,
  /** Largest page of a list read newest first (deposit batches, audit, alerts). */
  listPage: 1000,
  /** Page of those lists when none is asked for. */
  listPageDefault: 100,
} as const;

/** The admin API's caps per request: smaller than the domain limits on purpose. */
export const API_CAPS = {
  /** Entries in one POST /v1/operators/{id}/keys (counted while the body streams in). */
  uploadEntries: 10_000,
  /** Keys in one POST /v1/deposits/batches. */
  depositBatchKeys: 10_000,
  /** Operators' proposed limits in one simulation. */
  simulationProposals: 10_000,
  /** Largest `limit` of GET /v1/keys (without a limit every key streams). */
  keysPage: 10_000,
} as const;
