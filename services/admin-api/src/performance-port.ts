/**
 * What the performance and alert routes need, in the contract's shapes. `performance-adapter.ts`
 * implements it over the watcher's tables (@poolkeeper/store) and the score formulas of
 * @poolkeeper/beacon, so the API reports the same figures the watcher alerts on.
 */

import type {
  Alert,
  OperatorsPerformance,
  PerformanceHistory,
  ValidatorHistory,
  WatchedValidator,
  Window,
} from "@poolkeeper/contract";
import type { AlertKind } from "@poolkeeper/core";
import type { Static } from "typebox";

export { WINDOWS, type Window } from "@poolkeeper/contract";

export type OperatorsPerformanceView = Static<typeof OperatorsPerformance>;
export type ValidatorHistoryView = Static<typeof ValidatorHistory>;
export type WatchedValidatorView = Static<typeof WatchedValidator>;
export type AlertView = Static<typeof Alert>;
export type PerformanceHistoryView = Static<typeof PerformanceHistory>;

/** Points of GET /v1/performance/history. */
export const HISTORY_BUCKETS = 24;

export interface AlertQuery {
  operatorId?: number;
  kind?: AlertKind;
  since?: Date;
  /** Alerts with an id below this one (the previous page's meta.nextCursor). */
  before?: number;
  limit: number;
}

export interface PerformancePort {
  /** Every operator's scores and duty counts over the window (one operator's when given). */
  operators(window: Window, operatorId?: number): Promise<OperatorsPerformanceView>;
  /**
   * The window cut into HISTORY_BUCKETS buckets, oldest first: per bucket the network's and each
   * operator's (one operator's when given) effectiveness and CSM performance.
   */
  history(window: Window, operatorId?: number): Promise<PerformanceHistoryView>;
  /** The validator as the watcher knows it (null: not seen on chain by the watcher). */
  findValidator(pubkey: string): Promise<WatchedValidatorView | null>;
  /**
   * Its epochs in [from, to] (defaults: the last day of processed epochs), newest first; throws a
   * ValidationError naming the query field for a reversed or too long range.
   */
  validatorHistory(
    pubkey: string,
    range: { from?: number; to?: number },
  ): Promise<ValidatorHistoryView | null>;
  alerts(q: AlertQuery): Promise<AlertView[]>;
}
