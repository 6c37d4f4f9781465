/**
 * SSZ serialization of the BeaconState (deneb, electra or fulu: the chain's fork) of the sim at a slot, without building an object per
 * validator: the five registry-sized lists (validators, balances, both participation lists,
 * inactivity scores) are written straight from typed arrays; every other field goes through the
 * @lodestar/types SSZ type of that field, and the container is assembled with its offsets.
 * 1,000,000 validators → ~140 MB in well under a second.
 */
import { aggregateSerializedPublicKeys } from "@chainsafe/blst";
import {
  EPOCHS_PER_HISTORICAL_VECTOR,
  MIN_SEED_LOOKAHEAD,
  SLOTS_PER_EPOCH,
  SLOTS_PER_HISTORICAL_ROOT,
} from "@lodestar/params";
import { ssz } from "@lodestar/types";
import { FAR, type SimChain } from "./chain.js";
import type { ElectraFields, SimFork } from "./chain-types.js";

/** The SSZ type of a state of `fork` (of the active preset). */
export function beaconStateType(fork: SimFork) {
  return fork === "fulu"
    ? ssz.fulu.BeaconState
    : fork === "electra"
      ? ssz.electra.BeaconState
      : ssz.deneb.BeaconState;
}

const UNSET_DEPOSIT_REQUESTS_START_INDEX = 2n ** 64n - 1n;

/** state.pending_partial_withdrawals as @lodestar/types values (amounts as bigint). */
export function partialWithdrawalValues(e: ElectraFields) {
  return e.pendingPartialWithdrawals.map((w) => ({ ...w, amount: BigInt(w.amount) }));
}

/** The Electra fields of a state, in the shape of the @lodestar/types values. */
function electraValues(e: ElectraFields): Record<string, unknown> {
  return {
    depositRequestsStartIndex:
      e.depositRequestsStartIndex === -1
        ? UNSET_DEPOSIT_REQUESTS_START_INDEX
        : BigInt(e.depositRequestsStartIndex),
    depositBalanceToConsume: BigInt(e.depositBalanceToConsume),
    exitBalanceToConsume: BigInt(e.exitBalanceToConsume),
    earliestExitEpoch: e.earliestExitEpoch,
    consolidationBalanceToConsume: BigInt(e.consolidationBalanceToConsume),
    earliestConsolidationEpoch: e.earliestConsolidationEpoch,
    pendingDeposits: e.pendingDeposits,
    pendingPartialWithdrawals: partialWithdrawalValues(e),
    pendingConsolidations: e.pendingConsolidations,
  };
}

/**
 * Fulu's proposer_lookahead of the state of `epoch`: the proposers of epoch and epoch + 1
 * (MIN_SEED_LOOKAHEAD + 1 epochs of the preset's SLOTS_PER_EPOCH; a chain with other epoch
 * lengths fills what fits).
 */
export function proposerLookahead(chain: SimChain, epoch: number): number[] {
  const out = new Array<number>((MIN_SEED_LOOKAHEAD + 1) * SLOTS_PER_EPOCH).fill(0);
  let k = 0;
  for (let e = epoch; e <= epoch + MIN_SEED_LOOKAHEAD; e++)
    for (const p of chain.proposersOf(e)) if (k < out.length) out[k++] = Math.max(0, p);
  return out;
}

const VALIDATOR_SIZE = 121;

/** A uint64 little-endian (FAR and Infinity: 2^64 - 1). */
export function writeU64(dv: DataView, off: number, v: number): void {
  if (v < 4294967295) {
    dv.setUint32(off, v, true);
    dv.setUint32(off + 4, 0, true);
    return;
  }
  if (v === FAR || v === Number.POSITIVE_INFINITY) {
    dv.setUint32(off, 0xffffffff, true);
    dv.setUint32(off + 4, 0xffffffff, true);
    return;
  }
  dv.setUint32(off, v % 4294967296, true);
  dv.setUint32(off + 4, Math.floor(v / 4294967296), true);
}

const aggCache = new WeakMap<Uint32Array, Uint8Array>();

function syncCommitteeValue(
  chain: SimChain,
  period: number,
): { pubkeys: Uint8Array[]; aggregatePubkey: Uint8Array } {
  const members = chain.syncCommittee(period);
  const pubkeys = Array.from(members, (v) => chain.pubkeyOf(v).slice());
  let agg = aggCache.get(members);
  if (agg === undefined) {
    try {
      agg = aggregateSerializedPublicKeys(pubkeys, false).toBytes(true);
    } catch {
      agg = new Uint8Array(48);
      agg[0] = 0xc0;
    }
    aggCache.set(members, agg);
  }
  return { pubkeys, aggregatePubkey: agg };
}

export function serializeState(chain: SimChain, slot: number): Uint8Array {
  const epoch = chain.epochOf(slot);
  const snap = chain.snapshot(epoch);
  if (snap === undefined) throw new Error(`state of epoch ${epoch} is not available`);
  const n = snap.n;
  const type = beaconStateType(chain.fork);

  const latest = chain.blockByRoot(chain.blockRootAtOrBefore(slot)) ?? chain.blockAt(0);
  if (latest === undefined) throw new Error("no genesis block");
  const blockRoots: Uint8Array[] = [];
  const stateRoots: Uint8Array[] = [];
  for (let k = 0; k < SLOTS_PER_HISTORICAL_ROOT; k++) {
    blockRoots.push(new Uint8Array(32));
    stateRoots.push(new Uint8Array(32));
  }
  for (let s = Math.max(0, slot - SLOTS_PER_HISTORICAL_ROOT); s < slot; s++) {
    blockRoots[s % SLOTS_PER_HISTORICAL_ROOT] = chain.blockRootAtOrBefore(s);
    stateRoots[s % SLOTS_PER_HISTORICAL_ROOT] = chain.stateRootAt(s);
  }
  const randaoMixes: Uint8Array[] = [];
  const genesisMix = chain.randaoMix(-1);
  for (let k = 0; k < EPOCHS_PER_HISTORICAL_VECTOR; k++) randaoMixes.push(genesisMix);
  for (let e = Math.max(0, epoch - EPOCHS_PER_HISTORICAL_VECTOR + 1); e < epoch; e++) {
    randaoMixes[e % EPOCHS_PER_HISTORICAL_VECTOR] = chain.randaoMix(e);
  }
  randaoMixes[epoch % EPOCHS_PER_HISTORICAL_VECTOR] = chain.randaoMixAtSlot(slot);
  const payload = latest.message.body.executionPayload;
  const { transactions, withdrawals, ...payloadRest } = payload;
  const fin = snap.finality;
  const period = chain.syncPeriodOf(epoch);

  const small: Record<string, unknown> = {
    genesisTime: chain.genesisTime,
    genesisValidatorsRoot: chain.genesisValidatorsRoot,
    slot,
    // The chain starts at its fork: initialize_beacon_state_from_eth1 sets both versions to the genesis fork's (as Lodestar does)
    fork: { previousVersion: chain.forkVersion, currentVersion: chain.forkVersion, epoch: 0 },
    latestBlockHeader: {
      slot: latest.slot,
      proposerIndex: latest.message.proposerIndex,
      parentRoot: latest.message.parentRoot,
      stateRoot: latest.message.stateRoot,
      bodyRoot: latest.bodyRoot,
    },
    blockRoots,
    stateRoots,
    historicalRoots: [],
    eth1Data: latest.message.body.eth1Data,
    eth1DataVotes: [],
    // From Electra on, deposits after genesis are deposit requests: the index stays at the genesis deposits.
    eth1DepositIndex: snap.electra === undefined ? n : chain.eth1DepositCount(),
    randaoMixes,
    slashings: new Array<number>(ssz.deneb.BeaconState.fields.slashings.length).fill(0),
    justificationBits: ssz.deneb.BeaconState.fields.justificationBits.defaultValue(),
    previousJustifiedCheckpoint: fin.previousJustified,
    currentJustifiedCheckpoint: fin.currentJustified,
    finalizedCheckpoint: fin.finalized,
    currentSyncCommittee: syncCommitteeValue(chain, period),
    nextSyncCommittee: syncCommitteeValue(chain, period + 1),
    latestExecutionPayloadHeader: {
      ...payloadRest,
      transactionsRoot: ssz.bellatrix.Transactions.hashTreeRoot(transactions),
      withdrawalsRoot: ssz.capella.Withdrawals.hashTreeRoot(withdrawals),
    },
    nextWithdrawalIndex: 0,
    nextWithdrawalValidatorIndex: 0,
    historicalSummaries: [],
    ...(snap.electra === undefined ? {} : electraValues(snap.electra)),
    ...(chain.fork === "fulu" ? { proposerLookahead: proposerLookahead(chain, epoch) } : {}),
  };
  const bits = small.justificationBits as { set(i: number, v: boolean): void };
  for (const [i, b] of fin.bits.entries()) bits.set(i, b);

  const big = (name: string): Uint8Array | undefined => {
    switch (name) {
      case "validators": {
        // Straight from the registry's typed arrays (same visibility rules as SimChain.readValidator).
        const out = new Uint8Array(n * VALIDATOR_SIZE);
        const dv = new DataView(out.buffer);
        const {
          pubkeys,
          withdrawalCredentials: wcs,
          eligibilityEpoch,
          activationEpoch,
          activationSetAt,
          exitEpoch,
          exitSetAt,
          withdrawableEpoch,
          slashedAt,
        } = chain;
        const eff = snap.effective;
        for (let i = 0; i < n; i++) {
          const o = i * VALIDATOR_SIZE;
          out.set(pubkeys.subarray(i * 48, i * 48 + 48), o);
          out.set(wcs.subarray(i * 32, i * 32 + 32), o + 48);
          writeU64(dv, o + 80, (eff[i] ?? 0) * 1e9);
          out[o + 88] = (slashedAt[i] ?? FAR) <= epoch ? 1 : 0;
          const elig = eligibilityEpoch[i] ?? FAR;
          writeU64(dv, o + 89, elig <= epoch ? elig : FAR);
          writeU64(dv, o + 97, (activationSetAt[i] ?? FAR) <= epoch ? (activationEpoch[i] ?? FAR) : FAR);
          const exitVisible = (exitSetAt[i] ?? FAR) <= epoch;
          writeU64(dv, o + 105, exitVisible ? (exitEpoch[i] ?? FAR) : FAR);
          writeU64(dv, o + 113, exitVisible ? (withdrawableEpoch[i] ?? FAR) : FAR);
        }
        return out;
      }
      case "balances": {
        const out = new Uint8Array(n * 8);
        const dv = new DataView(out.buffer);
        for (let i = 0; i < n; i++) writeU64(dv, i * 8, snap.balances[i] ?? 0);
        return out;
      }
      case "previousEpochParticipation":
      case "currentEpochParticipation": {
        const f = chain.participationFlags(name === "currentEpochParticipation" ? epoch : epoch - 1);
        const out = new Uint8Array(n);
        if (f !== undefined) out.set(f.subarray(0, Math.min(n, f.length)));
        return out;
      }
      case "inactivityScores": {
        const out = new Uint8Array(n * 8);
        const dv = new DataView(out.buffer);
        for (let i = 0; i < n; i++) writeU64(dv, i * 8, chain.inactivityScores[i] ?? 0);
        return out;
      }
      default:
        return undefined;
    }
  };

  const parts: Array<{ fixed: Uint8Array | null; variable: Uint8Array | null }> = [];
  let fixedLen = 0;
  let varLen = 0;
  for (const { fieldName, fieldType } of type.fieldsEntries) {
    const bytes =
      big(fieldName as string) ??
      (fieldType as { serialize(v: unknown): Uint8Array }).serialize(small[fieldName as string]);
    if (fieldType.fixedSize === null) {
      parts.push({ fixed: null, variable: bytes });
      fixedLen += 4;
      varLen += bytes.length;
    } else {
      parts.push({ fixed: bytes, variable: null });
      fixedLen += bytes.length;
    }
  }
  const out = new Uint8Array(fixedLen + varLen);
  const dv = new DataView(out.buffer);
  let fixedOff = 0;
  let varOff = fixedLen;
  for (const p of parts) {
    if (p.fixed !== null) {
      out.set(p.fixed, fixedOff);
      fixedOff += p.fixed.length;
    } else if (p.variable !== null) {
      dv.setUint32(fixedOff, varOff, true);
      fixedOff += 4;
      out.set(p.variable, varOff);
      varOff += p.variable.length;
    }
  }
  return out;
}

/** States served per chain: the bytes and what they were serialized at (see servedState). */
const served = new WeakMap<
  SimChain,
  Array<{ slot: number; head: number; n: number; deposits: number; bytes: Uint8Array }>
>();

/**
 * The state at `slot` as served over HTTP: `serializeState`, the last `chain.servedStatesKept`
 * answers kept while the chain has not moved (same head, registry size and deposit count: what a
 * past state's bytes read beyond its epoch's snapshot), as a node answers a state from its caches.
 * The bytes are shared: not to be modified.
 */
export function servedState(chain: SimChain, slot: number): Uint8Array {
  if (chain.servedStatesKept === 0) return serializeState(chain, slot);
  const now = { head: chain.headSlot, n: chain.n, deposits: chain.eth1DepositCount() };
  const kept = (served.get(chain) ?? []).filter(
    (e) => e.head === now.head && e.n === now.n && e.deposits === now.deposits,
  );
  const hit = kept.find((e) => e.slot === slot);
  const entry = hit ?? { slot, ...now, bytes: serializeState(chain, slot) };
  // most recent last; the oldest dropped beyond the kept count
  const list = [...kept.filter((e) => e !== entry), entry].slice(-chain.servedStatesKept);
  served.set(chain, list);
  return entry.bytes;
}

/** The SSZ type of the served state of a deneb chain (of the active preset); see beaconStateType. */
export const BeaconStateType = ssz.deneb.BeaconState;
