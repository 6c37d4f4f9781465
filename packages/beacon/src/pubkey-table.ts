import { pubkeyHash } from "./state-reader.js";

/**
 * A set of BLS pubkeys by their 48 bytes, for scans of a registry or a deposit queue read in place:
 * open addressing over one buffer of every key (a Map of hex strings costs far more memory and
 * time, and a lookup would need a string per validator read). Keys are numbered in the order given.
 */
export class PubkeyTable {
  /** How many keys. */
  readonly n: number;
  /** Key `k` is at `bytes[48k..48k+48)`. */
  readonly bytes: Uint8Array;
  private readonly table: Int32Array;

  /**
   * `bytes`: the keys, 48 bytes each, kept (not copied). A key equal to an earlier one is not
   * added: `onDuplicate(index, earlier)` is called for it (it may throw).
   */
  constructor(bytes: Uint8Array, onDuplicate?: (index: number, earlier: number) => void) {
    if (bytes.length % 48 !== 0)
      throw new RangeError(`${bytes.length} bytes is not a list of 48-byte pubkeys`);
    this.n = bytes.length / 48;
    this.bytes = bytes;
    let size = 16;
    while (size < this.n * 2) size *= 2;
    this.table = new Int32Array(size).fill(-1);
    const mask = size - 1;
    for (let i = 0; i < this.n; i++) {
      const earlier = this.find(bytes, i * 48);
      if (earlier !== -1) {
        onDuplicate?.(i, earlier);
        continue;
      }
      let h = pubkeyHash(bytes, i * 48) & mask;
      while (this.table[h] !== -1) h = (h + 1) & mask;
      this.table[h] = i;
    }
  }

  /** The number of the key whose 48 bytes are at `bytes[o..o+48)`, or -1. */
  find(bytes: Uint8Array, o: number): number {
    const mask = this.table.length - 1;
    const own = this.bytes;
    for (let h = pubkeyHash(bytes, o) & mask; ; h = (h + 1) & mask) {
      const k = this.table[h] as number;
      if (k === -1) return -1;
      const ko = k * 48;
      let b = 0;
      while (b < 48 && own[ko + b] === bytes[o + b]) b++;
      if (b === 48) return k;
    }
  }
}
