/**
 * Types and constants shared by the synthetic chain's parts (registry, duties, block production,
 * epoch processing, history).
 */
import { BASE_REWARD_FACTOR, EFFECTIVE_BALANCE_INCREMENT } from "@lodestar/params";
import type { deneb, electra, phase0 } from "@lodestar/types";
import type { BehaviourKind, ParsedScenario } from "./scenario.js";

export const FAR = 0xffffffff;

/** The fork the chain starts at (genesis state and every later state are of this fork). */
export const SIM_FORKS = ["deneb", "electra", "fulu"] as const;
export type SimFork = (typeof SIM_FORKS)[number];
/** Electra rules (pending deposits, balance churn, compounding credentials) apply from this fork on. */
export function isElectraOrLater(fork: SimFork): boolean {
  return fork === "electra" || fork === "fulu";
}
export const GWEI = 1e9;
export const WEIGHT_DENOMINATOR = 64;
export const PROPOSER_WEIGHT = 8;
export const SYNC_REWARD_WEIGHT = 2;
/** Source, target, head weights (Altair). */
export const FLAG_WEIGHTS = [14, 26, 14] as const;
export const FLAG_SOURCE = 1;
export const FLAG_TARGET = 2;
export const FLAG_HEAD = 4;

export const BEHAVIOUR_CODE: Record<BehaviourKind, number> = {
  online: 0,
  offline: 1,
  late: 2,
  "wrong-head": 3,
  "wrong-target": 4,
  "no-proposals": 5,
  "orphaned-proposals": 6,
};

export type ValidatorStatus =
  | "pending_initialized"
  | "pending_queued"
  | "active_ongoing"
  | "active_exiting"
  | "active_slashed"
  | "exited_unslashed"
  | "exited_slashed"
  | "withdrawal_possible"
  | "withdrawal_done";

export interface ValidatorFields {
  pubkey: Uint8Array;
  withdrawalCredentials: Uint8Array;
  effectiveBalance: number;
  slashed: boolean;
  activationEligibilityEpoch: number;
  activationEpoch: number;
  exitEpoch: number;
  withdrawableEpoch: number;
}

export function newValidatorFields(): ValidatorFields {
  return {
    pubkey: new Uint8Array(0),
    withdrawalCredentials: new Uint8Array(0),
    effectiveBalance: 0,
    slashed: false,
    activationEligibilityEpoch: 0,
    activationEpoch: 0,
    exitEpoch: 0,
    withdrawableEpoch: 0,
  };
}

export interface Checkpoint {
  epoch: number;
  root: Uint8Array;
}
export interface FinalityState {
  previousJustified: Checkpoint;
  currentJustified: Checkpoint;
  finalized: Checkpoint;
  /** justification_bits, bit 0 = current epoch. */
  bits: [boolean, boolean, boolean, boolean];
}

/** A block of the chain's fork: deneb, or electra (Fulu blocks have the Electra shape). */
export type SimBlock = deneb.BeaconBlock | electra.BeaconBlock;

export interface StoredBlock {
  slot: number;
  root: Uint8Array;
  message: SimBlock;
  signature: Uint8Array;
  bodyRoot: Uint8Array;
  /** Sync committee members (positions) that took part, with the per-member reward. */
  syncParticipantReward: number;
  /** False for an orphaned block (reachable by root only). */
  canonical?: boolean;
  /** The proposer's reward for this block, by source (gwei), as /eth/v1/beacon/rewards/blocks answers. */
  rewards: {
    attestations: number;
    syncAggregate: number;
    proposerSlashings: number;
    attesterSlashings: number;
  };
}

/** One entry of state.pending_deposits (amount in gwei). */
/** A deposit request of the execution layer's log: its deposit index and the slot of the block that carried it. */
export interface CarriedDepositRequest extends Omit<PendingDepositEntry, "slot"> {
  index: number;
  slot: number;
}

/** A deposit request as the execution side tells it: index and slot null while no block carries it yet. */
export type DepositRequestRecord =
  | CarriedDepositRequest
  | (Omit<PendingDepositEntry, "slot"> & { index: null; slot: null });

export interface PendingDepositEntry {
  pubkey: Uint8Array;
  withdrawalCredentials: Uint8Array;
  amount: number;
  signature: Uint8Array;
  slot: number;
  /**
   * The sim's own deposit (chain.addValidators: the scenario's deposits, tests, benchmarks; it
   * carries the sim's constant signature): applied without the signature check. Not in the state.
   */
  unchecked?: true;
}

/** One entry of state.pending_partial_withdrawals (amount in gwei). */
export interface PendingPartialWithdrawalEntry {
  validatorIndex: number;
  amount: number;
  withdrawableEpoch: number;
}

/** One entry of state.pending_consolidations. */
export interface PendingConsolidationEntry {
  sourceIndex: number;
  targetIndex: number;
}

/** The Electra fields of a state (the pending lists are copies; gwei amounts as numbers). */
export interface ElectraFields {
  /** -1: UNSET_DEPOSIT_REQUESTS_START_INDEX. */
  depositRequestsStartIndex: number;
  depositBalanceToConsume: number;
  exitBalanceToConsume: number;
  earliestExitEpoch: number;
  consolidationBalanceToConsume: number;
  earliestConsolidationEpoch: number;
  pendingDeposits: PendingDepositEntry[];
  pendingPartialWithdrawals: PendingPartialWithdrawalEntry[];
  pendingConsolidations: PendingConsolidationEntry[];
}

export interface Snapshot {
  n: number;
  balances: Float64Array;
  /** Effective balance in whole ETH (up to 2048 for compounding validators). */
  effective: Uint16Array;
  /** Electra and later: the Electra fields of this state. */
  electra?: ElectraFields;
  finality: FinalityState;
  totalActiveIncrements: number;
}

export interface EpochShuffling {
  epoch: number;
  active: Uint32Array;
  /** Active indices in shuffled order. */
  shuffled: Uint32Array;
  committeesPerSlot: number;
}

export interface PendingAttestation {
  includeFrom: number;
  slot: number;
  members: Uint32Array;
  att: phase0.Attestation;
  headOk: boolean;
  targetOk: boolean;
}

export interface PendingOp {
  kind: "exit" | "attester-slashing" | "proposer-slashing";
  validator: number;
  /** For exits: the signed exit to include. */
  exit?: phase0.SignedVoluntaryExit;
}

export interface ChainOptions {
  /** Number of genesis validators (default: pubkeys.length, or 64). */
  validators?: number;
  /** Genesis pubkeys (48 bytes each); generated (interop, then derived) when absent. */
  pubkeys?: Uint8Array[];
  /** Withdrawal credentials for all genesis validators (default: 0x00 BLS credentials). */
  withdrawalCredentials?: Uint8Array;
  seed?: string;
  slotsPerEpoch?: number;
  secondsPerSlot?: number;
  /** Unix seconds. Default: now for a wall clock, 1_700_000_000 for a manual one. */
  genesisTime?: number;
  scenario?: ParsedScenario | Record<string, unknown>;
  /** Epoch snapshots kept (balances of older states are gone, like a pruned node). */
  stateRetentionEpochs?: number;
  /**
   * SSZ states kept once served, for the next request of the same state while the chain has not
   * moved (default 2: an epoch's first and last states, as a node's state caches answer them; 0:
   * every request serializes its state again).
   */
  servedStatesKept?: number;
  /**
   * Directory of a cache of generated pubkeys, used from KEY_CACHE_MIN genesis validators
   * (default: <tmpdir>/poolkeeper-beacon-sim; false: no cache).
   */
  keyCacheDir?: string | false;
  /** The fork the chain starts at (default: the scenario's, else deneb). */
  fork?: SimFork;
  /**
   * Withdrawal address → fee recipient, 0x-hex (e.g. a pool's withdrawal vault → its EL rewards
   * vault): validators withdrawing to that address pay their blocks' priority fees to it. Others
   * pay their own withdrawal address (0x00 credentials: the burn address). Default: the scenario's.
   */
  feeRecipients?: Record<string, string>;
}

export interface AttestationDeltas {
  head: number;
  target: number;
  source: number;
  inactivity: number;
}

export const ZERO_ROOT = new Uint8Array(32);
/** Up to this many genesis validators the genesis validators root is the real hash tree root. */
export const GVR_EXACT_LIMIT = 16_384;
/** Memory for kept epoch snapshots when stateRetentionEpochs is not given. */
export const RETENTION_BUDGET_BYTES = 512 * 1024 * 1024;

export function isqrt(n: number): number {
  return Math.floor(Math.sqrt(n));
}

/** Grow-by-doubling typed array helper. */
export function grow<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(
  a: T,
  need: number,
  fill?: number,
): T {
  if (a.length >= need) return a;
  let cap = Math.max(16, a.length);
  while (cap < need) cap *= 2;
  const C = a.constructor as new (n: number) => T;
  const b = new C(cap);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
}

/** Behaviour of every validator in one epoch: code (BEHAVIOUR_CODE) and attestation inclusion delay. */
export interface EpochBehaviour {
  code: Uint8Array;
  delay: Uint8Array;
}

/** get_base_reward_per_increment. */
export function baseRewardPerIncrement(totalActiveIncrements: number): number {
  return Math.floor(
    (EFFECTIVE_BALANCE_INCREMENT * BASE_REWARD_FACTOR) /
      isqrt(totalActiveIncrements * EFFECTIVE_BALANCE_INCREMENT),
  );
}
