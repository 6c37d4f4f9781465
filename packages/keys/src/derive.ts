import { createHash, hkdfSync } from "node:crypto";
import { ValidationError } from "@poolkeeper/core";

/**
 * EIP-2333 key derivation and EIP-2334 paths.
 *
 * HKDF (RFC 5869) and the large hashes run in node:crypto. The 510 SHA-256 hashes of 32-byte
 * lamport chunks per child key use `sha256Chunks32` below: a SHA-256 specialised to one-block,
 * 32-byte messages. node:crypto costs ~1.2 µs per call in call overhead alone (0.30 ms per 255
 * chunks measured on this machine, against 0.10 ms for the specialised loop), and those hashes are
 * most of the derivation time. It is checked against node:crypto in the tests (random inputs) and by
 * the EIP-2333 intermediate vectors (every lamport value).
 */

/** The order r of the BLS12-381 groups. Secret keys are in [1, r). */
export const BLS_CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

const HKDF_MOD_R_L = 48;
const LAMPORT_CHUNKS = 255;
const FLIP_MASK = (1n << 256n) - 1n;

// ---- SHA-256 of 32-byte messages (one padded block each) ----

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const W = new Int32Array(64);

/**
 * out[32k..32k+32) = SHA-256(src[32k..32k+32)) for k in [0, count). `src` and `out` may not overlap.
 */
export function sha256Chunks32(src: Uint8Array, out: Uint8Array, count: number): void {
  if (src.length < count * 32 || out.length < count * 32)
    throw new RangeError("sha256Chunks32: buffer too short");
  for (let k = 0; k < count; k++) {
    const so = k * 32;
    for (let i = 0; i < 8; i++) {
      const p = so + i * 4;
      W[i] = (src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!;
    }
    // Padding of a 256-bit message: 0x80, zeros, the bit length 256.
    W[8] = 0x80000000;
    W[9] = 0;
    W[10] = 0;
    W[11] = 0;
    W[12] = 0;
    W[13] = 0;
    W[14] = 0;
    W[15] = 256;
    for (let i = 16; i < 64; i++) {
      const w15 = W[i - 15]!;
      const w2 = W[i - 2]!;
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
    }
    let a = IV[0]!;
    let b = IV[1]!;
    let c = IV[2]!;
    let d = IV[3]!;
    let e = IV[4]!;
    let f = IV[5]!;
    let g = IV[6]!;
    let h = IV[7]!;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + s1 + ch + K[i]! + W[i]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const o = so;
    writeU32(out, o, (a + IV[0]!) | 0);
    writeU32(out, o + 4, (b + IV[1]!) | 0);
    writeU32(out, o + 8, (c + IV[2]!) | 0);
    writeU32(out, o + 12, (d + IV[3]!) | 0);
    writeU32(out, o + 16, (e + IV[4]!) | 0);
    writeU32(out, o + 20, (f + IV[5]!) | 0);
    writeU32(out, o + 24, (g + IV[6]!) | 0);
    writeU32(out, o + 28, (h + IV[7]!) | 0);
  }
}

function writeU32(out: Uint8Array, p: number, v: number): void {
  out[p] = v >>> 24;
  out[p + 1] = v >>> 16;
  out[p + 2] = v >>> 8;
  out[p + 3] = v;
}

// ---- helpers ----

function sha256(data: Uint8Array): Uint8Array {
  const d = createHash("sha256").update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", ikm, salt, info, length));
}

const MAX_256 = (1n << 256n) - 1n;

export function bigintToBytes32(n: bigint): Uint8Array {
  if (n < 0n || n > MAX_256) throw new RangeError("value does not fit in 32 bytes");
  const b = Buffer.from(n.toString(16).padStart(64, "0"), "hex");
  return new Uint8Array(b.buffer, b.byteOffset, 32);
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`);
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new ValidationError("index", `${index} is not an integer from 0 to 4294967295`);
  }
}

// ---- EIP-2333 ----

/** IKM_to_lamport_SK: 255 chunks of 32 bytes from HKDF(salt, IKM) with L = 8160. */
export function ikmToLamportSK(ikm: Uint8Array, salt: Uint8Array): Uint8Array {
  return hkdf(ikm, salt, new Uint8Array(0), LAMPORT_CHUNKS * 32);
}

/**
 * Scratch space for the 510 lamport public-key chunks, reused (one per thread). Their hash is the
 * child key's input material, so they are zeroed after each use.
 */
const lamportPKs = new Uint8Array(2 * LAMPORT_CHUNKS * 32);

/** parent_SK_to_lamport_PK: the compressed lamport public key of child `index`. */
export function parentSKToLamportPK(parentSK: bigint, index: number): Uint8Array {
  checkIndex(index);
  const salt = new Uint8Array(4);
  new DataView(salt.buffer).setUint32(0, index, false);
  const ikm = bigintToBytes32(parentSK);
  const notIkm = bigintToBytes32(parentSK ^ FLIP_MASK);
  const lamport0 = ikmToLamportSK(ikm, salt);
  const lamport1 = ikmToLamportSK(notIkm, salt);
  const pks = lamportPKs;
  sha256Chunks32(lamport0, pks, LAMPORT_CHUNKS);
  sha256Chunks32(lamport1, pks.subarray(LAMPORT_CHUNKS * 32), LAMPORT_CHUNKS);
  lamport0.fill(0);
  lamport1.fill(0);
  ikm.fill(0);
  notIkm.fill(0);
  const compressed = sha256(pks);
  pks.fill(0);
  return compressed;
}

let hkdfModRSalt0: Uint8Array | undefined;

/** HKDF_mod_r(IKM, key_info): a secret key in [1, r). */
export function hkdfModR(ikm: Uint8Array, keyInfo: Uint8Array = new Uint8Array(0)): bigint {
  hkdfModRSalt0 ??= sha256(new TextEncoder().encode("BLS-SIG-KEYGEN-SALT-"));
  let salt = hkdfModRSalt0;
  const ikmPostfix = new Uint8Array(ikm.length + 1);
  ikmPostfix.set(ikm);
  const info = new Uint8Array(keyInfo.length + 2);
  info.set(keyInfo);
  info[keyInfo.length] = HKDF_MOD_R_L >> 8;
  info[keyInfo.length + 1] = HKDF_MOD_R_L & 0xff;
  for (;;) {
    const okm = hkdf(ikmPostfix, salt, info, HKDF_MOD_R_L);
    const sk = bytesToBigint(okm) % BLS_CURVE_ORDER;
    okm.fill(0);
    if (sk !== 0n) {
      ikmPostfix.fill(0);
      return sk;
    }
    salt = sha256(salt);
  }
}

/** derive_master_SK(seed); the seed must have at least 32 bytes. */
export function deriveMasterSK(seed: Uint8Array): bigint {
  if (!(seed instanceof Uint8Array) || seed.length < 32) {
    throw new ValidationError("seed", "must be at least 32 bytes");
  }
  return hkdfModR(seed);
}

/** derive_child_SK(parent_SK, index). */
export function deriveChildSK(parentSK: bigint, index: number): bigint {
  const lamportPK = parentSKToLamportPK(parentSK, index);
  return hkdfModR(lamportPK);
}

// ---- EIP-2334 ----

/** Parse "m/12381/3600/0/0/0" into its indices. */
export function parsePath(path: string, field = "path"): number[] {
  if (typeof path !== "string")
    throw new ValidationError(field, "must be a string such as m/12381/3600/0/0/0");
  const parts = path.split("/");
  if (parts[0] !== "m") throw new ValidationError(field, `"${path}" must start with "m"`);
  return parts.slice(1).map((p) => {
    if (!/^\d{1,10}$/.test(p) || Number(p) > 0xffffffff) {
      throw new ValidationError(field, `"${path}" has an invalid index "${p}"`);
    }
    return Number(p);
  });
}

/** The secret key at `path` (e.g. "m/12381/3600/0/0/0") below a seed, as a bigint. */
export function deriveKeyAtPath(seed: Uint8Array, path: string): bigint {
  let sk = deriveMasterSK(seed);
  for (const index of parsePath(path)) sk = deriveChildSK(sk, index);
  return sk;
}

/** The 32-byte big-endian secret key at `path` below a seed. */
export function secretKeyAtPath(seed: Uint8Array, path: string): Uint8Array {
  return bigintToBytes32(deriveKeyAtPath(seed, path));
}

/** EIP-2334 withdrawal key path of validator `index`. */
export function withdrawalKeyPath(index: number): string {
  checkIndex(index);
  return `m/12381/3600/${index}/0`;
}

/** EIP-2334 signing key path of validator `index`. */
export function signingKeyPath(index: number): string {
  checkIndex(index);
  return `m/12381/3600/${index}/0/0`;
}

export interface ValidatorKeys {
  index: number;
  /** 32-byte big-endian secret key at m/12381/3600/index/0/0. */
  signingKey: Uint8Array;
  /** 32-byte big-endian secret key at m/12381/3600/index/0. */
  withdrawalKey: Uint8Array;
}

/**
 * Validator keys for many indices from one seed: the master key and the m/12381/3600 node are
 * derived once; each index then costs three child derivations (index, 0, 0).
 */
export class ValidatorKeyDeriver {
  private readonly node3600: bigint;

  private constructor(node3600: bigint) {
    this.node3600 = node3600;
  }

  static fromSeed(seed: Uint8Array): ValidatorKeyDeriver {
    return new ValidatorKeyDeriver(deriveChildSK(deriveChildSK(deriveMasterSK(seed), 12381), 3600));
  }

  /** From the 32-byte secret of the m/12381/3600 node (what worker threads receive). */
  static fromNode(node3600: Uint8Array): ValidatorKeyDeriver {
    if (!(node3600 instanceof Uint8Array) || node3600.length !== 32) {
      throw new ValidationError("node", "must be 32 bytes");
    }
    return new ValidatorKeyDeriver(bytesToBigint(node3600));
  }

  /** The 32-byte secret of the m/12381/3600 node. Handle like a mnemonic. */
  nodeSecret(): Uint8Array {
    return bigintToBytes32(this.node3600);
  }

  keys(index: number): ValidatorKeys {
    checkIndex(index);
    const account = deriveChildSK(this.node3600, index);
    const withdrawal = deriveChildSK(account, 0);
    const signing = deriveChildSK(withdrawal, 0);
    return { index, signingKey: bigintToBytes32(signing), withdrawalKey: bigintToBytes32(withdrawal) };
  }
}
