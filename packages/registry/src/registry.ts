import type { Logger } from "@poolkeeper/core";
import type { Store } from "@poolkeeper/store";
import { notImplemented } from "./errors.js";
import type {
  AuditEntry,
  CreateOperatorInput,
  DepositBatch,
  DepositBatchSummary,
  KeyRecord,
  KeyStateTransition,
  KeyWithHistory,
  OperatorWithCounts,
  PoolSettings,
  ProposedLimits,
  Review,
  Simulation,
  StreamKeysFilter,
  UpdateOperatorInput,
  UploadResult,
} from "./types.js";

export interface RegistryDeps {
  store: Store;
  logger?: Logger;
}

/**
 * The operator registry: operators and limits, key uploads and their lifecycle, MinFirst
 * allocation into deposit batches, the DAO review. Every method that changes state takes the
 * `actor` (who: e.g. "token:12" or "cli:alice") and writes the history/audit rows in the same
 * transaction as the change.
 */
export class Registry {
  readonly store: Store;
  readonly settings: PoolSettings;
  readonly logger: Logger | undefined;

  constructor(deps: RegistryDeps, settings: PoolSettings) {
    this.store = deps.store;
    this.logger = deps.logger;
    this.settings = settings;
  }

  // ------------------------------------------------------------ operators

  async createOperator(
    _input: CreateOperatorInput,
    _actor: string,
    _reason?: string,
  ): Promise<OperatorWithCounts> {
    throw notImplemented("createOperator");
  }

  async listOperators(): Promise<OperatorWithCounts[]> {
    throw notImplemented("listOperators");
  }

  /** Throws ERR_NOT_FOUND. */
  async getOperator(_id: number): Promise<OperatorWithCounts> {
    throw notImplemented("getOperator");
  }

  /**
   * Change name, reward address, active flag, vetted limit or target limit (audit-logged).
   * Raising the vetted limit vets submitted keys in upload order up to it; lowering it returns
   * vetted (not deposited) keys above it to submitted; below the deposited count it is refused
   * with ERR_LIMIT_BELOW_DEPOSITED.
   */
  async updateOperator(
    _id: number,
    _patch: UpdateOperatorInput,
    _actor: string,
    _reason?: string,
  ): Promise<OperatorWithCounts> {
    throw notImplemented("updateOperator");
  }

  /** Vet submitted keys in upload order up to the operator's vetted limit (keys uploaded after the limit was set). */
  async vetKeys(_operatorId: number, _actor: string, _reason?: string): Promise<{ vetted: number }> {
    throw notImplemented("vetKeys");
  }

  // ------------------------------------------------------------ keys

  /**
   * Validate a whole deposit_data.json upload and store it, all or nothing. Throws
   * ERR_INVALID_DEPOSIT_DATA with details.failures: {index, field, reason}[] when any entry fails.
   */
  async uploadKeys(_operatorId: number, _depositDataJson: unknown, _actor: string): Promise<UploadResult> {
    throw notImplemented("uploadKeys");
  }

  /** Remove a key that was never deposited (ERR_INVALID_STATE_TRANSITION otherwise). */
  async removeKey(
    _operatorId: number,
    _pubkey: string | Uint8Array,
    _actor: string,
    _reason?: string,
  ): Promise<KeyRecord> {
    throw notImplemented("removeKey");
  }

  /** For the watcher: deposited → active → exiting → exited, or slashed. All or nothing. */
  async setKeyStates(
    _transitions: readonly KeyStateTransition[],
    _actor: string,
  ): Promise<{ changed: number }> {
    throw notImplemented("setKeyStates");
  }

  /** A key with its full history (ERR_NOT_FOUND). */
  async getKey(_pubkey: string | Uint8Array): Promise<KeyWithHistory> {
    throw notImplemented("getKey");
  }

  /** Keys in id (upload) order, fetched page by page (keyset pagination): flat memory. */
  // biome-ignore lint/correctness/useYield: filled in next
  async *streamKeys(_filter: StreamKeysFilter = {}): AsyncGenerator<KeyRecord> {
    throw notImplemented("streamKeys");
  }

  // ------------------------------------------------------------ allocation

  /**
   * Take `count` vetted keys by MinFirst, put them in a new deposit batch and mark them deposited,
   * in one transaction under a pool-wide lock. Throws ERR_NO_CAPACITY when fewer than `count`
   * keys can be deposited (nothing changes).
   */
  async allocate(_count: number, _actor: string): Promise<DepositBatch> {
    throw notImplemented("allocate");
  }

  async listDepositBatches(_opts: { cursor?: number; limit?: number } = {}): Promise<DepositBatchSummary[]> {
    throw notImplemented("listDepositBatches");
  }

  async getDepositBatch(_id: number): Promise<DepositBatch> {
    throw notImplemented("getDepositBatch");
  }

  // ------------------------------------------------------------ DAO review

  async review(): Promise<Review> {
    throw notImplemented("review");
  }

  /** Dry run: allocate `count` under proposed limits, without changing anything. */
  async simulateAllocation(_input: {
    count: number;
    proposedLimits?: readonly ProposedLimits[];
  }): Promise<Simulation> {
    throw notImplemented("simulateAllocation");
  }

  /** Newest first; `cursor` is an audit id (exclusive). */
  async listAudit(_opts: { cursor?: string; limit?: number; target?: string } = {}): Promise<AuditEntry[]> {
    throw notImplemented("listAudit");
  }
}

export function createRegistry(deps: RegistryDeps, settings: PoolSettings): Registry {
  return new Registry(deps, settings);
}
