import { type Logger, ValidationError } from "@poolkeeper/core";
import type { Queryable, Store } from "@poolkeeper/store";
import {
  allocateDepositBatch,
  allocateDepositBatchRefs,
  getDepositBatch,
  listDepositBatches,
  readBuckets,
} from "./allocation.js";
import { listAudit } from "./audit.js";
import type { DepositPayer, RegistryContext, RegistryOptions } from "./context.js";
import { getKey, removeKey, setKeyStates, streamKeys, uploadKeys, vetKeys } from "./keys.js";
import {
  createOperator,
  createOperatorIn,
  getOperator,
  listOperators,
  updateOperator,
  updateOperatorIn,
} from "./operators.js";
import { checkSimulationInput, reviewOf, type SimulationInput, simulateOver } from "./review.js";
import type {
  AuditEntry,
  CreateOperatorInput,
  DepositBatch,
  DepositBatchRefs,
  DepositBatchSummary,
  KeyRecord,
  KeyStateTransition,
  KeyWithHistory,
  OperatorWithCounts,
  PoolSettings,
  Review,
  Simulation,
  StreamKeysFilter,
  UpdateOperatorInput,
  UploadResult,
} from "./types.js";

export type { DepositPayer, RegistryContext, RegistryOptions } from "./context.js";

export interface RegistryDeps {
  store: Store;
  logger?: Logger;
  /**
   * The pool ledger, which pays every deposit batch from its buffer in the batch's transaction
   * (`new PoolLedger(store)`). Without it the registry refuses to allocate deposit batches.
   */
  payer?: DepositPayer;
}

/**
 * The operator registry: operators and limits (operators.ts), key uploads and their lifecycle
 * (keys.ts), MinFirst allocation into deposit batches (allocation.ts), the DAO review and the
 * simulation (review.ts, pure), the audit log (audit.ts). Every method that changes state takes
 * the `actor` (who: e.g. `token:12:admin`, as the admin API's `actorOf` writes it) and writes
 * history and audit rows in the same transaction as the change.
 */
export class Registry implements RegistryContext {
  readonly store: Store;
  readonly payer: DepositPayer | undefined;
  readonly settings: PoolSettings;
  readonly logger: Logger | undefined;
  readonly options: RegistryOptions;

  constructor(deps: RegistryDeps, settings: PoolSettings, options: RegistryOptions = {}) {
    if (
      !(settings.withdrawalCredentials instanceof Uint8Array) ||
      settings.withdrawalCredentials.length !== 32
    ) {
      throw new ValidationError(
        "withdrawalCredentials",
        "must be the pool's 32 bytes of withdrawal credentials",
      );
    }
    this.store = deps.store;
    this.payer = deps.payer;
    this.logger = deps.logger;
    this.settings = settings;
    this.options = options;
  }

  // ------------------------------------------------------------ operators

  createOperator(input: CreateOperatorInput, actor: string, reason?: string): Promise<OperatorWithCounts> {
    return createOperator(this, input, actor, reason);
  }

  listOperators(): Promise<OperatorWithCounts[]> {
    return listOperators(this);
  }

  /** Throws ERR_NOT_FOUND. */
  getOperator(id: number): Promise<OperatorWithCounts> {
    return getOperator(this, id);
  }

  /**
   * Change name, reward address, active flag, vetted limit or target limit (audit-logged).
   * Raising the vetted limit vets submitted keys in upload order up to it; lowering it returns
   * vetted (not deposited) keys above it to submitted, newest first; below the deposited count it
   * is refused with ERR_LIMIT_BELOW_DEPOSITED.
   */
  updateOperator(
    id: number,
    patch: UpdateOperatorInput,
    actor: string,
    reason?: string,
  ): Promise<OperatorWithCounts> {
    return updateOperator(this, id, patch, actor, reason);
  }

  /**
   * An executed governance proposal's operator changes, in the execution's transaction: adding
   * an operator, or changing one past the governance gate (limits beyond the step, active).
   */
  governedCreateOperator(
    tx: Queryable,
    input: CreateOperatorInput,
    actor: string,
    reason: string,
    proposalId: number,
  ): Promise<OperatorWithCounts> {
    return createOperatorIn(this, tx, input, actor, reason, { governed: { proposalId } });
  }

  governedUpdateOperator(
    tx: Queryable,
    id: number,
    patch: UpdateOperatorInput,
    actor: string,
    reason: string,
    proposalId: number,
  ): Promise<OperatorWithCounts> {
    return updateOperatorIn(this, tx, id, patch, actor, reason, { governed: { proposalId } });
  }

  // ------------------------------------------------------------ keys

  /** Vet submitted keys in upload order up to the operator's vetted limit (audit-logged). */
  vetKeys(operatorId: number, actor: string, reason?: string): Promise<{ vetted: number }> {
    return vetKeys(this, operatorId, actor, reason);
  }

  /**
   * Validate a whole deposit_data.json upload and store it, all or nothing (ERR_INVALID_DEPOSIT_DATA
   * with details.failures otherwise). New keys are `submitted`.
   */
  uploadKeys(operatorId: number, depositDataJson: unknown, actor: string): Promise<UploadResult> {
    return uploadKeys(this, operatorId, depositDataJson, actor);
  }

  /** Remove a key that was never deposited (ERR_INVALID_STATE_TRANSITION otherwise). */
  removeKey(
    operatorId: number,
    pubkey: string | Uint8Array,
    actor: string,
    reason?: string,
  ): Promise<KeyRecord> {
    return removeKey(this, operatorId, pubkey, actor, reason);
  }

  /** For the watcher: deposited → active → exiting → exited, or slashed; all or nothing. */
  setKeyStates(
    transitions: readonly KeyStateTransition[],
    actor: string,
  ): Promise<{ changed: number; unchanged: number }> {
    return setKeyStates(this, transitions, actor);
  }

  /** A key with its full history (ERR_NOT_FOUND). */
  getKey(pubkey: string | Uint8Array): Promise<KeyWithHistory> {
    return getKey(this, pubkey);
  }

  /** Keys in id (upload) order, page by page in flat memory; the filter is checked first. */
  streamKeys(filter: StreamKeysFilter = {}): AsyncGenerator<KeyRecord> {
    return streamKeys(this, filter);
  }

  // ------------------------------------------------------------ allocation

  /**
   * Allocate `count` vetted keys by MinFirst into a new deposit batch (they become deposited),
   * paid from the pool's buffer in the same transaction, and return the batch with its keys'
   * deposit data, in batch order. ERR_NO_CAPACITY when fewer than `count` keys can be deposited,
   * ERR_BUFFER_INSUFFICIENT when the buffer cannot pay for them all (nothing changes).
   */
  allocateDepositBatch(count: number, actor: string): Promise<DepositBatch> {
    return allocateDepositBatch(this, count, actor);
  }

  /** The same allocation, returning references to the batch's keys without their deposit data. */
  allocateDepositBatchRefs(count: number, actor: string): Promise<DepositBatchRefs> {
    return allocateDepositBatchRefs(this, count, actor);
  }

  /** Newest first; `cursor` is a batch id (exclusive). */
  listDepositBatches(opts: { cursor?: number; limit?: number } = {}): Promise<DepositBatchSummary[]> {
    return listDepositBatches(this, opts);
  }

  getDepositBatch(id: number): Promise<DepositBatch> {
    return getDepositBatch(this, id);
  }

  // ------------------------------------------------------------ DAO review

  async review(): Promise<Review> {
    return reviewOf(await readBuckets(this.store, false), new Date());
  }

  /**
   * Dry run: allocate `count` deposits under proposed limits (vetted limit, target limit, active
   * flag per operator) and show shares of staked keys before and after. Reads only; changes nothing.
   * A proposed vetted limit counts the operator's submitted keys as vetted up to it, in upload order.
   */
  async simulateAllocation(input: SimulationInput): Promise<Simulation> {
    const { count, proposedLimits } = checkSimulationInput(input);
    return simulateOver(await readBuckets(this.store, false), count, proposedLimits);
  }

  // ------------------------------------------------------------ audit

  /** Newest first; `cursor` is an audit id (exclusive); `target` e.g. "operator:3". */
  listAudit(opts: { cursor?: string; limit?: number; target?: string } = {}): Promise<AuditEntry[]> {
    return listAudit(this, opts);
  }
}

export function createRegistry(
  deps: RegistryDeps,
  settings: PoolSettings,
  options?: RegistryOptions,
): Registry {
  return new Registry(deps, settings, options);
}
