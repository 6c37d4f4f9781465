/**
 * Committee and proposer assignment from a beacon state, as the consensus specs define them
 * (phase0 `compute_shuffled_index`, `compute_committee`, `get_seed`; `compute_proposer_index` in its
 * phase0 and Electra forms). Used when a node cannot answer committees or proposer duties for a past
 * epoch (Lodestar answers duties only for the current and next epoch).
 *
 * The shuffle is computed for the whole active set at once, round by round, so that the per-round
 * source hashes are computed once (n/256 per round) instead of once per index.
 */
import { createHash } from "node:crypto";

export interface ShufflingParams {
  slotsPerEpoch: number;
  shuffleRoundCount: number;
  targetCommitteeSize: number;
  maxCommitteesPerSlot: number;
  epochsPerHistoricalVector: number;
  minSeedLookahead: number;
}

export const DOMAIN_BEACON_PROPOSER = Uint8Array.of(0, 0, 0, 0);
export const DOMAIN_BEACON_ATTESTER = Uint8Array.of(1, 0, 0, 0);

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function uint64Le(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

function uint32Le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** `get_seed(state, epoch, domain_type)` given the state's randao mixes. */
export function getSeed(
  randaoMixes: ArrayLike<Uint8Array>,
  epoch: number,
  domain: Uint8Array,
  p: ShufflingParams,
): Uint8Array {
  const mixEpoch = epoch + p.epochsPerHistoricalVector - p.minSeedLookahead - 1;
  const mix = randaoMixes[mixEpoch % p.epochsPerHistoricalVector];
  if (mix === undefined) throw new RangeError(`randao mix for epoch ${epoch} missing`);
  return sha256(domain, uint64Le(epoch), mix);
}

/** Spec `compute_shuffled_index`, one index at a time (the reference the bulk shuffle is tested against). */
export function computeShuffledIndex(index: number, count: number, seed: Uint8Array, rounds: number): number {
  if (index >= count) throw new RangeError("index out of range");
  let idx = index;
  for (let r = 0; r < rounds; r++) {
    const roundByte = Uint8Array.of(r);
    const pivot = Number(new DataView(sha256(seed, roundByte).buffer).getBigUint64(0, true) % BigInt(count));
    const flip = (pivot + count - idx) % count;
    const position = Math.max(idx, flip);
    const source = sha256(seed, roundByte, uint32Le(Math.floor(position / 256)));
    const byte = source[(position % 256) >> 3] ?? 0;
    if ((byte >> (position % 8)) & 1) idx = flip;
  }
  return idx;
}

/**
 * For every position i in [0, count): `compute_shuffled_index(i, count, seed)`, computed round-major.
 * out[i] is the shuffled index of i, so committee member at position i is `active[out[i]]`.
 */
export function shuffledIndices(count: number, seed: Uint8Array, rounds: number): Uint32Array {
  const cur = new Uint32Array(count);
  for (let i = 0; i < count; i++) cur[i] = i;
  if (count <= 1) return cur;
  const chunks = Math.floor((count - 1) / 256) + 1;
  const sources = new Array<Uint8Array>(chunks);
  const countBig = BigInt(count);
  for (let r = 0; r < rounds; r++) {
    const roundByte = Uint8Array.of(r);
    const pivot = Number(new DataView(sha256(seed, roundByte).buffer).getBigUint64(0, true) % countBig);
    for (let c = 0; c < chunks; c++) sources[c] = sha256(seed, roundByte, uint32Le(c));
    for (let i = 0; i < count; i++) {
      const idx = cur[i] as number;
      const flip = (pivot + count - idx) % count;
      const position = Math.max(idx, flip);
      const src = sources[position >>> 8] as Uint8Array;
      if (((src[(position & 255) >>> 3] as number) >>> (position & 7)) & 1) cur[i] = flip;
    }
  }
  return cur;
}

export function committeesPerSlot(activeCount: number, p: ShufflingParams): number {
  return Math.max(
    1,
    Math.min(
      p.maxCommitteesPerSlot,
      Math.floor(Math.floor(activeCount / p.slotsPerEpoch) / p.targetCommitteeSize),
    ),
  );
}

export interface EpochCommittees {
  epoch: number;
  committeesPerSlot: number;
  /** committees[slotInEpoch * committeesPerSlot + committeeIndex] = validator indices, in committee order. */
  committees: Uint32Array[];
}

/** All beacon committees of `epoch`, from the active validator indices (sorted) and the seed. */
export function computeEpochCommittees(
  epoch: number,
  activeIndices: Uint32Array,
  randaoMixes: ArrayLike<Uint8Array>,
  p: ShufflingParams,
): EpochCommittees {
  const seed = getSeed(randaoMixes, epoch, DOMAIN_BEACON_ATTESTER, p);
  const n = activeIndices.length;
  const shuffled = shuffledIndices(n, seed, p.shuffleRoundCount);
  const cps = committeesPerSlot(n, p);
  const total = cps * p.slotsPerEpoch;
  const committees: Uint32Array[] = [];
  for (let k = 0; k < total; k++) {
    const start = Math.floor((n * k) / total);
    const end = Math.floor((n * (k + 1)) / total);
    const c = new Uint32Array(end - start);
    for (let i = start; i < end; i++) c[i - start] = activeIndices[shuffled[i] as number] as number;
    committees.push(c);
  }
  return { epoch, committeesPerSlot: cps, committees };
}

export interface ProposerParams {
  /** Electra and later sample with 16-bit random values against MAX_EFFECTIVE_BALANCE_ELECTRA. */
  electra: boolean;
  maxEffectiveBalance: number;
  maxEffectiveBalanceElectra: number;
}

/** Spec `get_beacon_proposer_index` for every slot of `epoch`. */
export function computeEpochProposers(
  epoch: number,
  activeIndices: Uint32Array,
  effectiveBalance: (index: number) => number,
  randaoMixes: ArrayLike<Uint8Array>,
  p: ShufflingParams,
  pp: ProposerParams,
): number[] {
  const epochSeed = getSeed(randaoMixes, epoch, DOMAIN_BEACON_PROPOSER, p);
  const total = activeIndices.length;
  if (total === 0) throw new RangeError("no active validators");
  const out: number[] = [];
  for (let s = 0; s < p.slotsPerEpoch; s++) {
    const slot = epoch * p.slotsPerEpoch + s;
    const seed = sha256(epochSeed, uint64Le(slot));
    for (let i = 0; ; i++) {
      const candidate = activeIndices[
        computeShuffledIndex(i % total, total, seed, p.shuffleRoundCount)
      ] as number;
      const eb = effectiveBalance(candidate);
      if (pp.electra) {
        const rnd = sha256(seed, uint64Le(Math.floor(i / 16)));
        const off = (i % 16) * 2;
        const value = (rnd[off] as number) | ((rnd[off + 1] as number) << 8);
        // 2048e9 × 65535 exceeds 2^53: compare in bigint
        if (BigInt(eb) * 65535n >= BigInt(pp.maxEffectiveBalanceElectra) * BigInt(value)) {
          out.push(candidate);
          break;
        }
      } else {
        const rnd = sha256(seed, uint64Le(Math.floor(i / 32)));
        if (eb * 255 >= pp.maxEffectiveBalance * (rnd[i % 32] as number)) {
          out.push(candidate);
          break;
        }
      }
    }
  }
  return out;
}

/** Whether a state at `stateEpoch` holds what is needed for the shuffling of `epoch`. */
export function stateCanShuffle(stateEpoch: number, epoch: number, p: ShufflingParams): boolean {
  // the randao mix of epoch-2 must be final (state past it) and not yet overwritten
  return (
    stateEpoch >= epoch - p.minSeedLookahead &&
    stateEpoch < epoch - p.minSeedLookahead - 1 + p.epochsPerHistoricalVector
  );
}
