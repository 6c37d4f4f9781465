/**
 * The words every layer shares, defined once: the key states (their transitions and groups are
 * in @poolkeeper/store registry/lifecycle.ts), the alert kinds of the watcher and the roles of API tokens.
 * They live here, in the lowest layer, so that the API contract can name them without the store.
 */

/** Every key state, in lifecycle order. */
export const KEY_STATES = [
  "submitted",
  "vetted",
  "deposited",
  "active",
  "exiting",
  "exited",
  "slashed",
  "removed",
  "front_run",
  "cancelled",
] as const;
export type KeyStateName = (typeof KEY_STATES)[number];

/** The alerts the watcher raises (`watcher_alerts.kind`, `GET /v1/alerts?kind=`). */
export const ALERT_KINDS = [
  "validator_offline",
  "missed_proposal",
  "slashed",
  "operator_underperforming",
  "beacon_node_unreachable",
  "deposit_front_run",
  "keys_unvetted",
  "deposits_paused",
  "guardian_silent",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * Roles of an API token: `admin` (everything), `dao` (read everything, vet keys, set limits, run
 * dry runs), `operator` (its own operator's keys and figures only), `oracle` (an oracle member's
 * process: it submits votes and nothing else), `guardian` (a deposit guardian's process: it reads
 * batches awaiting release and posts its signed messages, each checked by its BLS signature).
 */
export const API_ROLES = ["admin", "dao", "operator", "oracle", "guardian"] as const;
export type ApiRole = (typeof API_ROLES)[number];
