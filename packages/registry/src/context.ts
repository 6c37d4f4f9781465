import type { Logger } from "@poolkeeper/core";
import type { Queryable, Store } from "@poolkeeper/store";
import type { PoolSettings } from "./types.js";

export interface RegistryOptions {
  /** Deposit signatures verified per BLS chunk on upload (default 256; 1 = one by one). */
  verifyChunkSize?: number;
  /**
   * The pool is governed (issue 14): a vetted or target limit may move by at most `limitStep`
   * keys at once, and adding, activating or deactivating an operator is refused
   * (ERR_GOVERNANCE_REQUIRED) unless the call is an executed proposal's (`{ governed: … }`).
   */
  governance?: { limitStep: number };
}

/** Set by the governance executor only: the change is an executed proposal's. */
export interface GovernedCall {
  governed?: { proposalId: number };
}

/**
 * What pays for a deposit batch: the pool ledger's buffer (`PoolLedger` of @poolkeeper/ledger has
 * both methods; the registry cannot import it, a package of its own layer). Both run in the
 * batch's transaction, so that a batch and its payment are committed together or not at all.
 */
export interface DepositPayer {
  /**
   * The wei a deposit may take now (the buffer less what unfinalized withdrawals reserve), the
   * ledger locked in `tx` until it ends.
   */
  depositable(tx: Queryable): Promise<bigint>;
  /** Take `wei` from the buffer for the `validators` keys of batch `batchId`; throws, paying nothing, when it cannot. */
  deposit(batchId: string, validators: number, wei: bigint, tx: Queryable): Promise<unknown>;
}

/** What every registry function works with: the Registry object passes itself. */
export interface RegistryContext {
  readonly store: Store;
  /** Undefined: this registry cannot allocate deposit batches (the watcher's, which only moves key states). */
  readonly payer: DepositPayer | undefined;
  readonly settings: PoolSettings;
  readonly logger: Logger | undefined;
  readonly options: RegistryOptions;
}
