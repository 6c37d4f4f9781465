/**
 * The Electra queues of a state and Fulu's proposer lookahead (GET
 * /eth/v1/beacon/states/{id}/pending_deposits, pending_partial_withdrawals, pending_consolidations,
 * proposer_lookahead), read as SSZ through @lodestar/api over the node pool (ranking, hedging,
 * failover, finality floor) like the other reads. A node answers 400 for a state before the fork
 * that has the list (Lodestar: "Cannot retrieve pending deposits for pre-electra state"); that is a
 * failed call, so another node is asked, and with none able the read fails as unavailable, with
 * the nodes' messages.
 */
import type { ApiClient } from "@lodestar/api";
import { toHex0x } from "@poolkeeper/core";
import { invalidResponse } from "./errors.js";
import { type BeaconNodePool, NOT_FOUND, valueOrNotFound } from "./node-pool.js";

export interface PendingDeposit {
  pubkey: string;
  withdrawalCredentials: string;
  /** Gwei. */
  amount: bigint;
  signature: string;
  /** Slot of the block that carried the deposit request (0 for deposits from before the fork). */
  slot: number;
}

export interface PendingPartialWithdrawal {
  validatorIndex: number;
  /** Gwei. */
  amount: bigint;
  withdrawableEpoch: number;
}

export interface PendingConsolidation {
  sourceIndex: number;
  targetIndex: number;
}

/** One list of a state, with the answer's fork and finality flags. */
export interface StateList<T> {
  stateId: string;
  /** The state's fork (`Eth-Consensus-Version`): electra, fulu, ... */
  version: string;
  executionOptimistic: boolean;
  finalized: boolean;
  items: T[];
}

export interface StateListOptions {
  /** Default "finalized". */
  stateId?: string | number;
  /** Ask only nodes that have finalized this epoch (as for the other finalized reads). */
  minFinalizedEpoch?: number;
}

interface Meta {
  version: string;
  executionOptimistic: boolean;
  finalized: boolean;
}

/** A state list read on the pool; null when every node that answered has no such state (404). */
async function readStateList<R, T>(
  pool: BeaconNodePool,
  what: string,
  opts: StateListOptions,
  call: (
    api: ApiClient,
    stateId: string,
  ) => Promise<{
    ok: boolean;
    status: number;
    value(): R;
    meta(): Meta;
    error(): Error | null;
  }>,
  convert: (raw: R, where: string) => T[],
): Promise<StateList<T> | null> {
  const stateId = String(opts.stateId ?? "finalized");
  const where = `${what} at ${stateId}`;
  return pool.request(
    where,
    async (api) => {
      const res = await call(api, stateId);
      const v = valueOrNotFound(res);
      if (v === NOT_FOUND) return NOT_FOUND;
      const meta = res.meta();
      return {
        stateId,
        version: meta.version,
        executionOptimistic: meta.executionOptimistic,
        finalized: meta.finalized,
        items: convert(v, where),
      };
    },
    { minFinalizedEpoch: opts.minFinalizedEpoch },
  );
}

function uintOrThrow(e: number | bigint, where: string, field: string): number {
  const n = Number(e);
  if (!Number.isSafeInteger(n) || n < 0) throw invalidResponse(where, `${field} is not an unsigned integer`);
  return n;
}

/** The state's pending deposits in queue order (Electra and later). */
export function getPendingDeposits(
  pool: BeaconNodePool,
  opts: StateListOptions = {},
): Promise<StateList<PendingDeposit> | null> {
  return readStateList(
    pool,
    "pending deposits",
    opts,
    (api, stateId) => api.beacon.getPendingDeposits({ stateId }, { responseWireFormat: "ssz" }),
    toPendingDeposits,
  );
}

type Num = number | bigint;

/** @lodestar/types values of state.pending_deposits as PendingDeposit (also the state reader's). */
export function toPendingDeposits(
  list: ReadonlyArray<{
    pubkey: Uint8Array;
    withdrawalCredentials: Uint8Array;
    amount: Num;
    signature: Uint8Array;
    slot: Num;
  }>,
  where: string,
): PendingDeposit[] {
  return list.map((d) => ({
    pubkey: toHex0x(d.pubkey),
    withdrawalCredentials: toHex0x(d.withdrawalCredentials),
    amount: BigInt(d.amount),
    signature: toHex0x(d.signature),
    slot: uintOrThrow(d.slot, where, "slot"),
  }));
}

/** @lodestar/types values of state.pending_partial_withdrawals as PendingPartialWithdrawal. */
export function toPendingPartialWithdrawals(
  list: ReadonlyArray<{ validatorIndex: Num; amount: Num; withdrawableEpoch: Num }>,
  where: string,
): PendingPartialWithdrawal[] {
  return list.map((w) => ({
    validatorIndex: uintOrThrow(w.validatorIndex, where, "validator_index"),
    amount: BigInt(w.amount),
    withdrawableEpoch: uintOrThrow(w.withdrawableEpoch, where, "withdrawable_epoch"),
  }));
}

/** @lodestar/types values of state.pending_consolidations as PendingConsolidation. */
export function toPendingConsolidations(
  list: ReadonlyArray<{ sourceIndex: Num; targetIndex: Num }>,
  where: string,
): PendingConsolidation[] {
  return list.map((c) => ({
    sourceIndex: uintOrThrow(c.sourceIndex, where, "source_index"),
    targetIndex: uintOrThrow(c.targetIndex, where, "target_index"),
  }));
}

/** The state's pending partial withdrawals (EIP-7002 requests queued under the exit churn). */
export function getPendingPartialWithdrawals(
  pool: BeaconNodePool,
  opts: StateListOptions = {},
): Promise<StateList<PendingPartialWithdrawal> | null> {
  return readStateList(
    pool,
    "pending partial withdrawals",
    opts,
    (api, stateId) => api.beacon.getPendingPartialWithdrawals({ stateId }, { responseWireFormat: "ssz" }),
    toPendingPartialWithdrawals,
  );
}

/** The state's pending consolidations (EIP-7251). */
export function getPendingConsolidations(
  pool: BeaconNodePool,
  opts: StateListOptions = {},
): Promise<StateList<PendingConsolidation> | null> {
  return readStateList(
    pool,
    "pending consolidations",
    opts,
    (api, stateId) => api.beacon.getPendingConsolidations({ stateId }, { responseWireFormat: "ssz" }),
    toPendingConsolidations,
  );
}

/**
 * Fulu's proposer lookahead (EIP-7917): the proposer of every slot of the state's epoch and the
 * next MIN_SEED_LOOKAHEAD epochs, in slot order, starting at the state's epoch's first slot.
 */
export function getProposerLookahead(
  pool: BeaconNodePool,
  opts: StateListOptions = {},
): Promise<StateList<number> | null> {
  const p = pool.lodestar.params;
  const expected = (p.MIN_SEED_LOOKAHEAD + 1) * p.SLOTS_PER_EPOCH;
  return readStateList(
    pool,
    "proposer lookahead",
    opts,
    (api, stateId) => api.beacon.getProposerLookahead({ stateId }, { responseWireFormat: "ssz" }),
    (list, where) => {
      if (list.length !== expected)
        throw invalidResponse(
          where,
          `${list.length} proposers, not (MIN_SEED_LOOKAHEAD + 1) epochs of slots`,
        );
      return list.map((v) => uintOrThrow(v, where, "validator index"));
    },
  );
}
