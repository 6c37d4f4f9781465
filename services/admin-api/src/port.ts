/**
 * What the HTTP layer needs from the registry and the store, in the contract's shapes
 * (@poolkeeper/contract: ids as numbers, hex with 0x, dates as ISO strings). `registry-adapter.ts`
 * implements it over @poolkeeper/registry; routes only see this interface, so a route never
 * reaches for SQL. Every type is `Static<>` of a contract schema: nothing here restates a shape.
 */

import type {
  AuditEntry,
  CreateOperatorBody,
  DepositBatch,
  DepositBatchSummary,
  Key,
  KeyDetail,
  KeyStateSchema,
  Operator,
  ProposedLimits,
  Review,
  Simulation,
  UpdateOperatorBody,
  UploadResult,
  VetResult,
} from "@poolkeeper/contract";
import type { Static } from "typebox";

export type OperatorView = Static<typeof Operator>;
export type CreateOperatorInput = Omit<Static<typeof CreateOperatorBody>, "reason">;
export type UpdateOperatorInput = Omit<Static<typeof UpdateOperatorBody>, "reason">;
export type KeyView = Static<typeof Key>;
export type KeyDetailView = Static<typeof KeyDetail>;
export type UploadResultView = Static<typeof UploadResult>;
export type ReviewView = Static<typeof Review>;
export type SimulationView = Static<typeof Simulation>;
export type DepositBatchView = Static<typeof DepositBatch>;
export type DepositBatchSummaryView = Static<typeof DepositBatchSummary>;
export type AuditEntryView = Static<typeof AuditEntry>;
export type ProposedLimitsInput = Static<typeof ProposedLimits>;

export interface KeyFilter {
  operatorId?: number;
  state?: Static<typeof KeyStateSchema>;
  /** meta.nextCursor of a previous page (the last key id seen). */
  cursor?: number;
  limit?: number;
}

/** A page of a list read newest first: `cursor` is the previous page's meta.nextCursor. */
export interface PageQuery {
  limit: number;
  cursor?: string;
}

export interface Actor {
  actor: string;
  reason?: string;
}

export interface RegistryPort {
  listOperators(): Promise<OperatorView[]>;
  getOperator(id: number): Promise<OperatorView>;
  createOperator(input: CreateOperatorInput, by: Actor): Promise<OperatorView>;
  updateOperator(id: number, patch: UpdateOperatorInput, by: Actor): Promise<OperatorView>;
  uploadKeys(operatorId: number, entries: unknown[], by: Actor): Promise<UploadResultView>;
  removeKey(operatorId: number, pubkey: string, by: Actor): Promise<void>;
  vetKeys(operatorId: number, by: Actor): Promise<Static<typeof VetResult>>;
  /**
   * The key list in id order as JSON text: each chunk is one or more Key objects joined by
   * commas. `count` and `nextCursor` are known once the iterator is done.
   */
  streamKeysJson(filter: KeyFilter): {
    chunks: AsyncIterable<string>;
    count(): number;
    nextCursor(): string | null;
  };
  getKey(pubkey: string): Promise<KeyDetailView>;
  simulateAllocation(input: {
    count: number;
    proposedLimits: ProposedLimitsInput[];
  }): Promise<SimulationView>;
  /** A new deposit batch with its keys' deposit data. */
  allocateDepositBatch(count: number, by: Actor): Promise<DepositBatchView>;
  listBatches(page: PageQuery): Promise<DepositBatchSummaryView[]>;
  getBatch(id: number): Promise<DepositBatchView>;
  /** The batch's deposit_data.json text, as the deposit CLIs write it (launchpad format). */
  batchDepositDataFile(id: number): Promise<string>;
  review(): Promise<ReviewView>;
  audit(page: PageQuery & { target?: string }): Promise<AuditEntryView[]>;
  keysByState(): Promise<Record<string, number>>;
  operatorCounts(): Promise<{ active: number; inactive: number }>;
}
