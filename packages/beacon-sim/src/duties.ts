/**
 * Duties: the spec's shuffling of the active set into committees, proposers by
 * compute_proposer_index, sync committees, randao mixes and seeds. Caches per epoch (shufflings,
 * inverse positions, proposers once the epoch's state exists) and per sync period.
 */

import { hash } from "node:crypto";
import {
  DOMAIN_BEACON_ATTESTER,
  DOMAIN_BEACON_PROPOSER,
  DOMAIN_SYNC_COMMITTEE,
  EPOCHS_PER_SYNC_COMMITTEE_PERIOD,
  MAX_COMMITTEES_PER_SLOT,
  MAX_EFFECTIVE_BALANCE,
  MAX_EFFECTIVE_BALANCE_ELECTRA,
  MIN_SEED_LOOKAHEAD,
  SHUFFLE_ROUND_COUNT,
  SYNC_COMMITTEE_SIZE,
  TARGET_COMMITTEE_SIZE,
} from "@lodestar/params";
import { type EpochShuffling, GWEI, isElectraOrLater } from "./chain-types.js";
import type { ChainHistory } from "./history.js";
import type { Registry } from "./registry.js";
import {
  computeProposerIndex,
  computeSeed,
  computeSyncCommitteeIndices,
  proposerSeed,
  shuffledIndices,
} from "./shuffle.js";

/**
 * The eth1 block hash of a Lodestar dev-mode genesis, which initialize_beacon_state_from_eth1
 * copies into every randao mix: the genesis mix (the recorded node's states hold it in every slot
 * not yet overwritten). With it, the duties of epochs 0 and 1 and the sync committees of periods 0
 * and 1 are exactly those of a Lodestar dev chain with the same validators.
 */
export const DEV_GENESIS_MIX: Uint8Array = new Uint8Array(32).fill(0x0b);

export class Duties {
  /** The randao mix after each slot (slot 0: the genesis mix); a slot without block keeps the previous. */
  private readonly mixAfterSlot: Uint8Array[] = [DEV_GENESIS_MIX];
  private readonly shufflings = new Map<number, EpochShuffling>();
  private readonly inversePositions = new Map<number, Int32Array>();
  private readonly proposerCache = new Map<number, Int32Array>();
  private readonly syncCommittees = new Map<number, Uint32Array>();

  constructor(
    private readonly reg: Registry,
    private readonly history: ChainHistory,
    private readonly slotsPerEpoch: number,
  ) {}

  private epochOf(slot: number): number {
    return Math.floor(slot / this.slotsPerEpoch);
  }
  private startSlot(epoch: number): number {
    return epoch * this.slotsPerEpoch;
  }

  /** Number of validators in the state of `epoch`. */
  countAt(epoch: number): number {
    const snap = this.history.snapshot(epoch);
    if (snap !== undefined) return snap.n;
    return this.reg.countInState(epoch);
  }

  shuffling(epoch: number): EpochShuffling {
    const hit = this.shufflings.get(epoch);
    if (hit !== undefined) return hit;
    const active = this.activeAt(epoch);
    const count = active.length;
    // The spec's shuffle (compute_shuffled_index over the active set, seed from the randao mix of
    // epoch - MIN_SEED_LOOKAHEAD - 1, which the served state carries).
    const perm = shuffledIndices(count, this.epochSeed(epoch, DOMAIN_BEACON_ATTESTER), SHUFFLE_ROUND_COUNT);
    const shuffled = new Uint32Array(count);
    for (let i = 0; i < count; i++) shuffled[i] = active[perm[i] ?? 0] ?? 0;
    const committeesPerSlot = Math.max(
      1,
      Math.min(MAX_COMMITTEES_PER_SLOT, Math.floor(count / this.slotsPerEpoch / TARGET_COMMITTEE_SIZE)),
    );
    const sh: EpochShuffling = { epoch, active, shuffled, committeesPerSlot };
    if (!this.seedFinal(epoch)) return sh;
    this.shufflings.set(epoch, sh);
    if (this.shufflings.size > 16) {
      const first = this.shufflings.keys().next().value;
      if (first !== undefined) this.shufflings.delete(first);
    }
    return sh;
  }

  /**
   * The validators active at `epoch`, in index order: the shuffling's list when it is computed,
   * else the registry scanned (no shuffle: the proposers of a future epoch, Fulu's lookahead, need
   * only this list, and a full shuffle of 1,000,000 validators takes seconds).
   */
  activeAt(epoch: number): Uint32Array {
    const hit = this.shufflings.get(epoch);
    if (hit !== undefined) return hit.active;
    const n = this.countAt(epoch);
    let count = 0;
    for (let i = 0; i < n; i++) if (this.reg.isActiveAt(i, epoch)) count++;
    const active = new Uint32Array(count);
    count = 0;
    for (let i = 0; i < n; i++) if (this.reg.isActiveAt(i, epoch)) active[count++] = i;
    return active;
  }

  committeesPerSlot(epoch: number): number {
    return this.shuffling(epoch).committeesPerSlot;
  }

  /** Members of committee `index` at `slot`, in committee order. */
  committee(slot: number, index: number): Uint32Array {
    const epoch = this.epochOf(slot);
    const sh = this.shuffling(epoch);
    const total = this.slotsPerEpoch * sh.committeesPerSlot;
    const k = (slot % this.slotsPerEpoch) * sh.committeesPerSlot + index;
    const n = sh.shuffled.length;
    return sh.shuffled.subarray(Math.floor((n * k) / total), Math.floor((n * (k + 1)) / total));
  }

  /** For attester duties: where validator i sits in the committees of `epoch`. */
  committeePositions(
    epoch: number,
  ): (
    i: number,
  ) => { slot: number; committeeIndex: number; committeeLength: number; position: number } | undefined {
    const sh = this.shuffling(epoch);
    let inv = this.inversePositions.get(epoch);
    if (inv === undefined) {
      inv = new Int32Array(this.reg.n).fill(-1);
      for (let k = 0; k < sh.shuffled.length; k++) inv[sh.shuffled[k] ?? 0] = k;
      this.inversePositions.set(epoch, inv);
      if (this.inversePositions.size > 4) {
        const first = this.inversePositions.keys().next().value;
        if (first !== undefined) this.inversePositions.delete(first);
      }
    }
    const table = inv;
    const n = sh.shuffled.length;
    const total = this.slotsPerEpoch * sh.committeesPerSlot;
    const start = (j: number) => Math.floor((n * j) / total);
    return (i: number) => {
      const k = table[i] ?? -1;
      if (k < 0) return undefined;
      let j = Math.min(total - 1, Math.floor((k * total) / n));
      while (j + 1 < total && start(j + 1) <= k) j++;
      while (j > 0 && start(j) > k) j--;
      return {
        slot: this.startSlot(epoch) + Math.floor(j / sh.committeesPerSlot),
        committeeIndex: j % sh.committeesPerSlot,
        committeeLength: start(j + 1) - start(j),
        position: k - start(j),
      };
    };
  }

  /**
   * process_randao of slot `slot`'s canonical block: mix ^= sha256(reveal); no block (or an
   * orphan): the mix stays. Called once per slot, in order.
   */
  recordSlot(slot: number, randaoReveal: Uint8Array | undefined): void {
    const prev = this.randaoMixAtSlot(slot - 1);
    if (randaoReveal === undefined) {
      this.mixAfterSlot[slot] = prev;
      return;
    }
    const h = hash("sha256", randaoReveal, "buffer");
    const mix = new Uint8Array(32);
    for (let k = 0; k < 32; k++) mix[k] = (prev[k] ?? 0) ^ (h[k] ?? 0);
    this.mixAfterSlot[slot] = mix;
  }

  /** The mix a state at `slot` holds for its epoch (the last recorded one past the head). */
  randaoMixAtSlot(slot: number): Uint8Array {
    const s = Math.max(0, Math.min(slot, this.mixAfterSlot.length - 1));
    return this.mixAfterSlot[s] ?? DEV_GENESIS_MIX;
  }

  /** The randao mix of `epoch` (as of its last slot; the genesis mix before epoch 0). */
  randaoMix(epoch: number): Uint8Array {
    return epoch < 0 ? DEV_GENESIS_MIX : this.randaoMixAtSlot(this.startSlot(epoch + 1) - 1);
  }

  /** Whether the mix that seeds `epoch` (that of epoch − 2) is final: only then is a seed cached. */
  private seedFinal(epoch: number): boolean {
    return this.mixAfterSlot.length >= this.startSlot(epoch - 1);
  }

  /** get_seed(state, epoch, domain). */
  epochSeed(epoch: number, domain: Uint8Array): Uint8Array {
    return computeSeed(this.randaoMix(epoch - MIN_SEED_LOOKAHEAD - 1), epoch, domain);
  }

  /**
   * Proposers of an epoch by the spec's compute_proposer_index, with the effective balances of the
   * epoch's state (cached once that state exists; before, a prediction from the current ones).
   */
  proposersOf(epoch: number): Int32Array {
    const hit = this.proposerCache.get(epoch);
    if (hit !== undefined) return hit;
    const active = this.activeAt(epoch);
    // Fulu: proposer_lookahead fills epoch e + 1 at the end of epoch e - 1, with the effective
    // balances of the state of e (epochs 0 and 1 from the genesis state).
    const snap = this.history.snapshot(this.reg.fork === "fulu" ? Math.max(0, epoch - 1) : epoch);
    const eff = snap?.effective ?? this.reg.effective;
    const seed = this.epochSeed(epoch, DOMAIN_BEACON_PROPOSER);
    const out = new Int32Array(this.slotsPerEpoch).fill(-1);
    const electra = isElectraOrLater(this.reg.fork);
    // Slot 0 too: the genesis block has no proposer, but the epoch's duties name one (as Lodestar's do).
    for (let k = 0; k < this.slotsPerEpoch; k++) {
      const slot = this.startSlot(epoch) + k;
      out[k] = electra
        ? computeProposerIndex(
            active,
            (i) => eff[i] ?? 0,
            proposerSeed(seed, slot),
            SHUFFLE_ROUND_COUNT,
            MAX_EFFECTIVE_BALANCE_ELECTRA / GWEI,
            2,
          )
        : computeProposerIndex(
            active,
            (i) => (eff[i] ?? 0) * GWEI,
            proposerSeed(seed, slot),
            SHUFFLE_ROUND_COUNT,
            MAX_EFFECTIVE_BALANCE,
          );
    }
    if (snap !== undefined && this.seedFinal(epoch)) {
      this.proposerCache.set(epoch, out);
      if (this.proposerCache.size > 64) {
        const first = this.proposerCache.keys().next().value;
        if (first !== undefined) this.proposerCache.delete(first);
      }
    }
    return out;
  }

  proposerAt(slot: number): number {
    return this.proposersOf(this.epochOf(slot))[slot % this.slotsPerEpoch] ?? -1;
  }

  syncPeriodOf(epoch: number): number {
    return Math.floor(epoch / EPOCHS_PER_SYNC_COMMITTEE_PERIOD);
  }

  /**
   * The spec's get_next_sync_committee_indices, as the state that decides period `period` computes
   * it: periods 0 and 1 at genesis (epoch 1, the genesis mix), period p ≥ 2 at the end of the epoch
   * before 8·(p−1) (active set and effective balances of epoch 8·(p−1), randao mix of 8·(p−1) − 2).
   * SYNC_COMMITTEE_SIZE members, repeated when there are few validators.
   */
  syncCommittee(period: number): Uint32Array {
    const hit = this.syncCommittees.get(period);
    if (hit !== undefined) return hit;
    const epoch = Math.max(1, (period - 1) * EPOCHS_PER_SYNC_COMMITTEE_PERIOD);
    const sh = this.shuffling(epoch);
    const eff = this.history.snapshot(period <= 1 ? 0 : epoch)?.effective ?? this.reg.effective;
    const electra = isElectraOrLater(this.reg.fork);
    const out = computeSyncCommitteeIndices(
      sh.active,
      electra ? (i) => eff[i] ?? 0 : (i) => (eff[i] ?? 0) * GWEI,
      this.epochSeed(epoch, DOMAIN_SYNC_COMMITTEE),
      SHUFFLE_ROUND_COUNT,
      electra ? MAX_EFFECTIVE_BALANCE_ELECTRA / GWEI : MAX_EFFECTIVE_BALANCE,
      SYNC_COMMITTEE_SIZE,
      electra ? 2 : 1,
    );
    if (this.seedFinal(epoch)) this.syncCommittees.set(period, out);
    return out;
  }
}
