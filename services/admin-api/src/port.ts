/**
 * What the HTTP layer needs from the registry and the store, in the API's own wire shapes (ids
 * as numbers, hex with 0x, dates as ISO strings). `registry-adapter.ts` implements it over
 * @poolkeeper/registry; routes only see this interface, so a route never reaches for SQL.
 */

import { KEY_STATES, type KeyStateName } from "@poolkeeper/store";
import type { Static } from "typebox";
import type { AuditEntry, DepositBatch, DepositBatchSummary, Review, Simulation } from "./schemas-review.js";

export type ReviewView = Static<typeof Review>;
export type SimulationView = Static<typeof Simulation>;
export type DepositBatchView = Static<typeof DepositBatch>;
export type DepositBatchSummaryView = Static<typeof DepositBatchSummary>;
export type AuditEntryView = Static<typeof AuditEntry>;

export { KEY_STATES };
export type KeyState = KeyStateName;

export interface TargetLimitView {
  limit: number;
  mode: "soft" | "hard";
}

export interface OperatorView {
  id: number;
  name: string;
  rewardAddress: string;
  active: boolean;
  vettedLimit: number;
  targetLimit: TargetLimitView | null;
  keys: Record<string, number>;
  createdAt: string;
  updatedAt: string;
}

export interface CreateOperatorInput {
  name: string;
  rewardAddress: string;
  active?: boolean;
  vettedLimit?: number;
  targetLimit?: TargetLimitView | null;
}

export interface UpdateOperatorInput {
  name?: string;
  rewardAddress?: string;
  active?: boolean;
  vettedLimit?: number;
  targetLimit?: TargetLimitView | null;
}

export interface KeyView {
  /** The key's id: upload order across the registry (and the cursor of the keys list). */
  id: number;
  key: string;
  depositSignature: string;
  operatorId: number;
  state: string;
  used: boolean;
}

export interface KeyEventView {
  from: string | null;
  to: string;
  actor: string;
  reason: string | null;
  at: string;
}

export interface KeyDetailView extends KeyView {
  withdrawalCredentials: string;
  depositDataRoot: string;
  history: KeyEventView[];
}

export interface KeyFilter {
  operatorId?: number;
  state?: string;
  /** meta.nextCursor of a previous page (the last key id seen). */
  cursor?: string;
  limit?: number;
}

export interface UploadResult {
  operatorId: number;
  count: number;
  firstKeyId: number;
  lastKeyId: number;
}

/** One operator's proposed limits in a simulation (the registry's `ProposedLimits`). */
export interface ProposedLimits {
  operatorId: number;
  vettedLimit?: number;
  targetLimit?: TargetLimitView | null;
  active?: boolean;
}

export interface Actor {
  actor: string;
  reason?: string;
}

/** Any JSON value the registry returns for the review, simulation, batches and audit. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface RegistryPort {
  listOperators(): Promise<OperatorView[]>;
  getOperator(id: number): Promise<OperatorView>;
  createOperator(input: CreateOperatorInput, by: Actor): Promise<OperatorView>;
  updateOperator(id: number, patch: UpdateOperatorInput, by: Actor): Promise<OperatorView>;
  uploadKeys(operatorId: number, entries: unknown[], by: Actor): Promise<UploadResult>;
  removeKey(operatorId: number, pubkey: string, by: Actor): Promise<void>;
  vetKeys(operatorId: number, by: Actor): Promise<{ vetted: number }>;
  /**
   * The key list in id order as JSON text: each chunk is one or more KeyView objects joined by
   * commas. `count` and `nextCursor` are known once the iterator is done.
   */
  streamKeysJson(filter: KeyFilter): {
    chunks: AsyncIterable<string>;
    count(): number;
    nextCursor(): string | null;
  };
  getKey(pubkey: string): Promise<KeyDetailView>;
  simulateAllocation(input: { count: number; proposedLimits: ProposedLimits[] }): Promise<SimulationView>;
  /** A new deposit batch with its keys' deposit data. */
  allocateDepositBatch(count: number, by: Actor): Promise<{ batch: DepositBatchView; keyCount: number }>;
  listBatches(limit: number, before?: string): Promise<DepositBatchSummaryView[]>;
  getBatch(id: number): Promise<DepositBatchView>;
  /** The batch's deposit_data.json text, as the deposit CLIs write it (launchpad format). */
  batchDepositDataFile(id: number): Promise<string>;
  review(): Promise<ReviewView>;
  audit(limit: number, before?: string, target?: string): Promise<AuditEntryView[]>;
  keysByState(): Promise<Record<string, number>>;
  operatorCounts(): Promise<{ active: number; inactive: number }>;
}
