import type { Network } from "@poolkeeper/core";
import {
  type ChainDepositRow,
  type DepositDataRow,
  EVER_DEPOSITED_STATES,
  KEY_STATES,
  type KeyStateName,
  STAKED_STATES,
} from "@poolkeeper/store";

/** The pool's settings, passed in by the service (never read from the environment here). */
export interface PoolSettings {
  network: Network;
  /** The pool's withdrawal credentials (32 bytes): every uploaded key must carry exactly these. */
  withdrawalCredentials: Uint8Array;
}

export type KeyState = KeyStateName;

/** The lifecycle's words are the store's (one definition: packages/store/src/registry/lifecycle.ts). */
export { EVER_DEPOSITED_STATES, KEY_STATES, STAKED_STATES };

export type TargetLimitMode = "soft" | "hard";

/**
 * A target limit caps the operator's staked keys (deposited + active + exiting + slashed).
 * Both modes stop deposits at the limit (as in Lido's staking router); the mode tells exit
 * selection how hard to push an operator above it (soft: in the normal queue, hard: first).
 */
export interface TargetLimit {
  limit: number;
  mode: TargetLimitMode;
}

export interface Operator {
  id: number;
  name: string;
  /** EIP-55 checksummed. */
  rewardAddress: string;
  active: boolean;
  /** DAO-approved number of keys that may be vetted (deposited ones included). */
  vettedLimit: number;
  targetLimit: TargetLimit | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface KeyCounts {
  /** Every key ever uploaded, removed ones included. */
  total: number;
  submitted: number;
  vetted: number;
  deposited: number;
  active: number;
  exiting: number;
  exited: number;
  slashed: number;
  removed: number;
}

export interface OperatorWithCounts extends Operator {
  keys: KeyCounts;
}

export interface CreateOperatorInput {
  name: string;
  rewardAddress: string;
  active?: boolean;
  vettedLimit?: number;
  targetLimit?: TargetLimit | null;
}

export interface UpdateOperatorInput {
  name?: string;
  rewardAddress?: string;
  active?: boolean;
  vettedLimit?: number;
  /** null clears the target limit. */
  targetLimit?: TargetLimit | null;
}

/** The deposit data of a key (Uint8Array inside; `toDepositDataJson` gives the file format). */
export type DepositData = DepositDataRow;

export interface KeyRecord {
  id: number;
  operatorId: number;
  state: KeyState;
  depositData: DepositData;
  depositBatchId: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface KeyEvent {
  /** bigint id as a decimal string. */
  id: string;
  fromState: KeyState | null;
  toState: KeyState;
  actor: string;
  reason: string | null;
  at: Date;
}

export interface KeyWithHistory extends KeyRecord {
  history: KeyEvent[];
  /** The key's deposit as the chain first showed it (a pending deposit, seen by the watcher), or null. */
  chainDeposit: ChainDepositRow | null;
}

export interface StreamKeysFilter {
  operatorId?: number;
  state?: KeyState;
  /** Exclusive: keys with id > cursor. Pass the last id you saw to continue. */
  cursor?: number;
  /** Stop after this many keys (default: all). */
  limit?: number;
  /** Rows fetched per database round trip (default 1000). */
  pageSize?: number;
}

export interface KeyStateTransition {
  /** Hex (with or without 0x) or 48 bytes. */
  pubkey: string | Uint8Array;
  to: KeyState;
  reason?: string;
}

export interface UploadResult {
  operatorId: number;
  count: number;
  /** First and last key id of the upload (upload order). */
  firstKeyId: number;
  lastKeyId: number;
}

export interface DepositBatchKey {
  position: number;
  keyId: number;
  operatorId: number;
  depositData: DepositData;
}

export interface DepositBatch {
  id: number;
  actor: string;
  createdAt: Date;
  keyCount: number;
  /** What the batch took from the pool's buffer: its keys' deposit amounts. */
  amountWei: bigint;
  /** Keys per operator in this batch. */
  perOperator: { operatorId: number; count: number }[];
  keys: DepositBatchKey[];
}

/** A batch as allocateDepositBatchRefs returns it: references to its keys, without their deposit data. */
export interface DepositBatchRefs {
  id: number;
  actor: string;
  createdAt: Date;
  keyCount: number;
  /** What the batch took from the pool's buffer: its keys' deposit amounts. */
  amountWei: bigint;
  perOperator: { operatorId: number; count: number }[];
  /** In batch order. */
  keys: Omit<DepositBatchKey, "depositData">[];
}

export interface DepositBatchSummary {
  id: number;
  actor: string;
  createdAt: Date;
  keyCount: number;
}

export interface OperatorReview {
  operatorId: number;
  name: string;
  active: boolean;
  vettedLimit: number;
  targetLimit: TargetLimit | null;
  keys: {
    /** Keys vetted and not yet deposited. */
    vetted: number;
    /** Keys ever deposited (deposited + active + exiting + exited + slashed). */
    deposited: number;
    /** Validators active on the beacon chain (active + exiting). */
    active: number;
    exited: number;
    slashed: number;
    /** Keys holding pool ETH (deposited + active + exiting + slashed): the MinFirst fill. */
    staked: number;
  };
  /** This operator's share of the pool's active validators, 0..1. */
  activeShare: number;
  /** Deposits MinFirst may still give this operator (vetted keys, bounded by its target limit; 0 when inactive). */
  capacityLeft: number;
}

export interface Concentration {
  /** Share of the largest operator, 0..1. */
  top1Share: number;
  /** Share of the five largest operators together, 0..1. */
  top5Share: number;
  /** Herfindahl-Hirschman index on shares in percent: 0..10,000. */
  hhi: number;
  /** Fewest operators that together hold more than 1/3 of the validators (0 with none). */
  nakamoto33: number;
}

export interface Review {
  operators: OperatorReview[];
  totals: {
    operators: number;
    activeOperators: number;
    vetted: number;
    deposited: number;
    active: number;
    exited: number;
    capacityLeft: number;
  };
  /** Concentration of the pool's active validators. */
  concentration: Concentration;
  /** Concentration of the staked keys (what MinFirst balances, pending deposits included). */
  stakedConcentration: Concentration;
  at: Date;
}

export interface ProposedLimits {
  operatorId: number;
  vettedLimit?: number;
  targetLimit?: TargetLimit | null;
  active?: boolean;
}

export interface SimulationOperator {
  operatorId: number;
  name: string;
  before: { staked: number; share: number };
  allocated: number;
  after: { staked: number; share: number };
}

export interface Simulation {
  requested: number;
  allocated: number;
  operators: SimulationOperator[];
  before: Concentration;
  after: Concentration;
}

export interface AuditEntry {
  /** bigint id as a decimal string. */
  id: string;
  actor: string;
  action: string;
  target: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
  at: Date;
}
