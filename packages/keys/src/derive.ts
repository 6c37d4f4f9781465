import { createHash, hkdfSync } from "node:crypto";
import { ValidationError } from "@poolkeeper/core";
import { sha256Chunks32 } from "./sha256-32.js";

export { sha256Chunks32 };

/**
 * EIP-2333 key derivation and EIP-2334 paths.
 *
 * HKDF (RFC 5869) and the large hashes run in node:crypto. The 510 SHA-256 hashes of 32-byte
 * lamport chunks per child key, most of the derivation time, use sha256Chunks32 (sha256-32.ts):
 * node:crypto spends more on call overhead than on hashing at 32 bytes (see that file).
 */

/** The order r of the BLS12-381 groups. Secret keys are in [1, r). */
export const BLS_CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

const HKDF_MOD_R_L = 48;
const LAMPORT_CHUNKS = 255;
const FLIP_MASK = (1n << 256n) - 1n;

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
