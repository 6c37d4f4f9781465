import { createHash } from "node:crypto";

/** sha256 of the parts (strings as UTF-8, numbers as 8-byte LE). */
export function hashOf(...parts: Array<string | number | Uint8Array>): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) {
    if (typeof p === "string") h.update(p, "utf8");
    else if (typeof p === "number") {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(p);
      h.update(b);
    } else h.update(p);
  }
  return new Uint8Array(h.digest());
}

/** A small deterministic PRNG (xoshiro128**), seeded from a hash. Not for secrets. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: Uint8Array) {
    const v = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
    this.a = v.getUint32(0, true) | 1;
    this.b = v.getUint32(4, true);
    this.c = v.getUint32(8, true);
    this.d = v.getUint32(12, true);
  }
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }
  /** Uniform integer in [0, n) for n < 2^32. */
  below(n: number): number {
    return Math.floor((this.nextU32() / 4294967296) * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
