/**
 * Duties: the spec's shuffling of the active set into committees, proposers by
 * compute_proposer_index, sync committees, randao mixes and seeds. Caches per epoch (shufflings,
 * inverse positions, proposers once the epoch's state exists) and per sync period.
 */
import {
  DOMAIN_BEACON_ATTESTER,
  DOMAIN_BEACON_PROPOSER,
  EPOCHS_PER_SYNC_COMMITTEE_PERIOD,
  MAX_COMMITTEES_PER_SLOT,
  MAX_EFFECTIVE_BALANCE,
  MIN_SEED_LOOKAHEAD,
  SHUFFLE_ROUND_COUNT,
  SYNC_COMMITTEE_SIZE,
  TARGET_COMMITTEE_SIZE,
} from "@lodestar/params";
import { type EpochShuffling, GWEI } from "./chain-types.js";
import type { ChainHistory } from "./history.js";
import type { Registry } from "./registry.js";
import { hashOf, Rng } from "./rng.js";
import { computeProposerIndex, computeSeed, proposerSeed, shuffledIndices } from "./shuffle.js";

export class Duties {
  private readonly shufflings = new Map<number, EpochShuffling>();
  private readonly inversePositions = new Map<number, Int32Array>();
  private readonly proposerCache = new Map<number, Int32Array>();
  private readonly syncCommittees = new Map<number, Uint32Array>();

  constructor(
    private readonly reg: Registry,
    private readonly history: ChainHistory,
    private readonly seed: string,
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
    let n = this.reg.n;
    while (n > 0 && (this.reg.addedEpoch[n - 1] ?? 0) > epoch) n--;
    return n;
  }

  shuffling(epoch: number): EpochShuffling {
    const hit = this.shufflings.get(epoch);
    if (hit !== undefined) return hit;
    const n = this.countAt(epoch);
    let count = 0;
    for (let i = 0; i < n; i++) if (this.reg.isActiveAt(i, epoch)) count++;
    const active = new Uint32Array(count);
    count = 0;
    for (let i = 0; i < n; i++) if (this.reg.isActiveAt(i, epoch)) active[count++] = i;
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
    this.shufflings.set(epoch, sh);
    if (this.shufflings.size > 16) {
      const first = this.shufflings.keys().next().value;
      if (first !== undefined) this.shufflings.delete(first);
    }
    return sh;
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

  /** The randao mix of `epoch` as the served state holds it (genesis mix before epoch 0). */
  randaoMix(epoch: number): Uint8Array {
    return epoch < 0 ? hashOf(this.seed, "randao-genesis") : hashOf(this.seed, "randao", epoch);
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
    const sh = this.shuffling(epoch);
    const snap = this.history.snapshot(epoch);
    const eff = snap?.effective ?? this.reg.effective;
    const seed = this.epochSeed(epoch, DOMAIN_BEACON_PROPOSER);
    const out = new Int32Array(this.slotsPerEpoch).fill(-1);
    for (let k = 0; k < this.slotsPerEpoch; k++) {
      const slot = this.startSlot(epoch) + k;
      if (slot === 0) continue;
      out[k] = computeProposerIndex(
        sh.active,
        (i) => (eff[i] ?? 0) * GWEI,
        proposerSeed(seed, slot),
        SHUFFLE_ROUND_COUNT,
        MAX_EFFECTIVE_BALANCE,
      );
    }
    if (snap !== undefined) {
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

  /** SYNC_COMMITTEE_SIZE members (with repetition when there are few validators). */
  syncCommittee(period: number): Uint32Array {
    const hit = this.syncCommittees.get(period);
    if (hit !== undefined) return hit;
    // Drawn from the validators active at the start of the previous period: already decided when
    // the committee can first be asked for (one period ahead), so the answer never depends on timing.
    const sh = this.shuffling(Math.max(0, (period - 1) * EPOCHS_PER_SYNC_COMMITTEE_PERIOD));
    const rng = new Rng(hashOf(this.seed, "sync", period));
    const out = new Uint32Array(SYNC_COMMITTEE_SIZE);
    const pool = sh.active;
    if (pool.length >= SYNC_COMMITTEE_SIZE) {
      // Distinct members: partial Fisher-Yates over a copy.
      const copy = pool.slice();
      for (let k = 0; k < SYNC_COMMITTEE_SIZE; k++) {
        const j = k + rng.below(copy.length - k);
        const t = copy[k] ?? 0;
        copy[k] = copy[j] ?? 0;
        copy[j] = t;
        out[k] = copy[k] ?? 0;
      }
    } else {
      for (let k = 0; k < SYNC_COMMITTEE_SIZE; k++) out[k] = pool[rng.below(pool.length)] ?? 0;
    }
    this.syncCommittees.set(period, out);
    return out;
  }
}
