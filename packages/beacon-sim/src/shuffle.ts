/**
 * The consensus specs' committee and proposer selection (phase0 `compute_shuffled_index` applied
 * to the whole active set round by round, `get_seed`, deneb `compute_proposer_index`), so that a
 * client recomputing duties from the sim's SSZ state gets the sim's committees and proposers.
 */
import { hash } from "node:crypto";

function sha256(data: Uint8Array): Uint8Array {
  return hash("sha256", data, "buffer");
}

function u64le(n: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, n % 4294967296, true);
  dv.setUint32(4, Math.floor(n / 4294967296), true);
  return b;
}

/** get_seed: sha256(domain_type ‖ uint64(epoch) ‖ mix), mix = randao mix of epoch - MIN_SEED_LOOKAHEAD - 1. */
export function computeSeed(mix: Uint8Array, epoch: number, domainType: Uint8Array): Uint8Array {
  const buf = new Uint8Array(4 + 8 + 32);
  buf.set(domainType.subarray(0, 4), 0);
  buf.set(u64le(epoch), 4);
  buf.set(mix, 12);
  return sha256(buf);
}

function pivotOf(seed: Uint8Array, round: number, n: number): number {
  const buf = new Uint8Array(33);
  buf.set(seed, 0);
  buf[32] = round;
  const h = sha256(buf);
  const dv = new DataView(h.buffer, h.byteOffset, 8);
  // bytes_to_uint64(h[0:8]) % n, exactly, with two 32-bit halves.
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  return ((hi % n) * (4294967296 % n) + (lo % n)) % n;
}

/** perm[i] = compute_shuffled_index(i, n, seed) for every i. */
export function shuffledIndices(n: number, seed: Uint8Array, rounds: number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  if (n <= 1) return idx;
  const blocks = Math.floor((n - 1) / 256) + 1;
  const source = new Uint8Array(blocks * 32);
  const input = new Uint8Array(32 + 1 + 4);
  input.set(seed, 0);
  const dv = new DataView(input.buffer);
  for (let r = 0; r < rounds; r++) {
    const pivot = pivotOf(seed, r, n);
    input[32] = r;
    for (let b = 0; b < blocks; b++) {
      dv.setUint32(33, b, true);
      source.set(sha256(input), b * 32);
    }
    // Integer-only inner loop (no %): flip = (pivot + n - index) mod n, both < n.
    for (let i = 0; i < n; i++) {
      const index = idx[i] as number;
      let flip = pivot - index;
      if (flip < 0) flip += n;
      // biome-ignore lint/complexity/useMathMinMax: hot loop over the whole registry (90 rounds on mainnet)
      const position = index > flip ? index : flip;
      // Block position/256 of 32 bytes, byte (position % 256)/8: together byte position/8.
      if (((source[position >>> 3] as number) >>> (position & 7)) & 1) idx[i] = flip;
    }
  }
  return idx;
}

/** compute_shuffled_index for one index. */
export function computeShuffledIndex(index: number, n: number, seed: Uint8Array, rounds: number): number {
  let idx = index;
  const input = new Uint8Array(37);
  input.set(seed, 0);
  const dv = new DataView(input.buffer);
  for (let r = 0; r < rounds; r++) {
    const pivot = pivotOf(seed, r, n);
    const flip = (pivot + n - idx) % n;
    const position = Math.max(idx, flip);
    input[32] = r;
    dv.setUint32(33, Math.floor(position / 256), true);
    const source = sha256(input);
    const byte = source[(position % 256) >>> 3] ?? 0;
    if ((byte >>> (position % 8)) & 1) idx = flip;
  }
  return idx;
}

/**
 * compute_shuffled_index(·, n, seed) for many indices of one seed: the round pivots are computed
 * once and the source hashes of each (round, block of 256 positions) on first use. Sampling with
 * Electra's 2048 ETH maximum draws about 64 candidates per 32 ETH validator, so this saves most
 * of the hashing of proposer and sync committee selection.
 */
export function indexShuffler(n: number, seed: Uint8Array, rounds: number): (index: number) => number {
  const pivots = new Array<number>(rounds);
  for (let r = 0; r < rounds; r++) pivots[r] = pivotOf(seed, r, n);
  const sources = new Map<number, Uint8Array>();
  const blocks = Math.floor((n - 1) / 256) + 1;
  const input = new Uint8Array(37);
  input.set(seed, 0);
  const dv = new DataView(input.buffer);
  return (index) => {
    let idx = index;
    for (let r = 0; r < rounds; r++) {
      const pivot = pivots[r] ?? 0;
      let flip = pivot - idx;
      if (flip < 0) flip += n;
      const position = Math.max(idx, flip);
      const block = position >>> 8;
      const key = r * blocks + block;
      let source = sources.get(key);
      if (source === undefined) {
        input[32] = r;
        dv.setUint32(33, block, true);
        source = sha256(input);
        sources.set(key, source);
      }
      if ((((source[(position & 255) >>> 3] ?? 0) >>> (position & 7)) & 1) !== 0) idx = flip;
    }
    return idx;
  };
}

/**
 * The random value of draw i: one byte of sha256(seed ‖ uint64(i / 32)) up to deneb (max 255),
 * from Electra on two bytes (little-endian) of sha256(seed ‖ uint64(i / 16)) (max 2^16 − 1).
 */
function randomValue(input: Uint8Array, i: number, bytes: 1 | 2): number {
  if (bytes === 1) {
    input.set(u64le(Math.floor(i / 32)), 32);
    return sha256(input)[i % 32] ?? 0;
  }
  input.set(u64le(Math.floor(i / 16)), 32);
  const h = sha256(input);
  const off = (i % 16) * 2;
  return (h[off] ?? 0) | ((h[off + 1] ?? 0) << 8);
}

/**
 * compute_proposer_index: sample the shuffled active set, accept with probability
 * effective_balance / max effective balance. `seed` is sha256(get_seed(PROPOSER) ‖ uint64(slot)).
 * `randomBytes` 1: phase0..deneb (max MAX_EFFECTIVE_BALANCE); 2: Electra on (max
 * MAX_EFFECTIVE_BALANCE_ELECTRA). Balances in any unit, the same for both arguments.
 */
export function computeProposerIndex(
  active: Uint32Array,
  effectiveBalance: (i: number) => number,
  seed: Uint8Array,
  rounds: number,
  maxEffectiveBalance: number,
  randomBytes: 1 | 2 = 1,
): number {
  const total = active.length;
  if (total === 0) return -1;
  const input = new Uint8Array(40);
  input.set(seed, 0);
  const maxRandom = randomBytes === 1 ? 255 : 65535;
  const shuffled = indexShuffler(total, seed, rounds);
  for (let i = 0; ; i++) {
    const candidate = active[shuffled(i % total)] ?? 0;
    const r = randomValue(input, i, randomBytes);
    if (effectiveBalance(candidate) * maxRandom >= maxEffectiveBalance * r) return candidate;
  }
}

/**
 * get_next_sync_committee_indices: walk the shuffled active set, keep a candidate with probability
 * effective_balance / max effective balance, until `size` are kept (repeats allowed); `randomBytes`
 * as for computeProposerIndex (2: Electra on).
 * `seed` is get_seed(state, epoch, DOMAIN_SYNC_COMMITTEE).
 */
export function computeSyncCommitteeIndices(
  active: Uint32Array,
  effectiveBalance: (i: number) => number,
  seed: Uint8Array,
  rounds: number,
  maxEffectiveBalance: number,
  size: number,
  randomBytes: 1 | 2 = 1,
): Uint32Array {
  const out = new Uint32Array(size);
  const total = active.length;
  if (total === 0) return out;
  const input = new Uint8Array(40);
  input.set(seed, 0);
  const perHash = randomBytes === 1 ? 32 : 16;
  const maxRandom = randomBytes === 1 ? 255 : 65535;
  let hash: Uint8Array = new Uint8Array(32);
  const shuffled = indexShuffler(total, seed, rounds);
  for (let i = 0, k = 0; k < size; i++) {
    const candidate = active[shuffled(i % total)] ?? 0;
    if (i % perHash === 0) {
      input.set(u64le(Math.floor(i / perHash)), 32);
      hash = sha256(input);
    }
    const off = (i % perHash) * randomBytes;
    const r = randomBytes === 1 ? (hash[off] ?? 0) : (hash[off] ?? 0) | ((hash[off + 1] ?? 0) << 8);
    if (effectiveBalance(candidate) * maxRandom >= maxEffectiveBalance * r) out[k++] = candidate;
  }
  return out;
}

/** sha256(seed ‖ uint64(slot)): the per-slot proposer seed. */
export function proposerSeed(epochSeed: Uint8Array, slot: number): Uint8Array {
  const buf = new Uint8Array(40);
  buf.set(epochSeed, 0);
  buf.set(u64le(slot), 32);
  return sha256(buf);
}
