/**
 * Validator keys of the synthetic chain.
 *
 * - Index i < INTEROP_KEY_LIMIT: the interop key (secret = sha256(i as 32-byte LE) read little-endian,
 *   mod r), exactly as eth2 devnets and the recordings use: validator 0's pubkey starts 0xa99a76ed.
 *   One scalar multiplication each (~0.13 ms with native blst).
 * - Index i >= INTEROP_KEY_LIMIT: secret = (S + i) mod r with S = sha256("beacon-sim derived keys")
 *   mod r, so that pubkey(i+1) = pubkey(i) + G: one point addition per key (~7 µs), which makes a
 *   1,000,000-validator registry cost seconds instead of minutes. These are real, valid G1 points
 *   whose secrets are known (secretKeyOf), so tests can still sign with any validator.
 */
import { createHash } from "node:crypto";
import { aggregatePublicKeys, type PublicKey, SecretKey } from "@chainsafe/blst";

export const INTEROP_KEY_LIMIT = 16_384;
const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

function bytesToBigLE(b: Uint8Array): bigint {
  let x = 0n;
  for (let j = b.length - 1; j >= 0; j--) x = (x << 8n) | BigInt(b[j] ?? 0);
  return x;
}
function bigToBytes32BE(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = x;
  for (let j = 31; j >= 0; j--) {
    out[j] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const DERIVED_BASE = bytesToBigLE(createHash("sha256").update("beacon-sim derived keys").digest()) % R;

/** The secret key (32 bytes, big-endian) of validator key number i. For tests and scripts only. */
export function secretKeyOf(i: number): Uint8Array {
  if (i < INTEROP_KEY_LIMIT) {
    const b = Buffer.alloc(32);
    b.writeUInt32LE(i, 0);
    b.writeUInt32LE(Math.floor(i / 2 ** 32), 4);
    return bigToBytes32BE(bytesToBigLE(createHash("sha256").update(b).digest()) % R);
  }
  return bigToBytes32BE((DERIVED_BASE + BigInt(i)) % R);
}

const G1 = SecretKey.fromBytes(bigToBytes32BE(1n)).toPublicKey();

/**
 * Writes the compressed pubkeys of key numbers [from, from + count) into out (48 bytes each,
 * starting at outOffset).
 */
export function derivePubkeys(from: number, count: number, out: Uint8Array, outOffset = 0): void {
  let i = from;
  const end = from + count;
  let o = outOffset;
  for (; i < end && i < INTEROP_KEY_LIMIT; i++, o += 48) {
    out.set(SecretKey.fromBytes(secretKeyOf(i)).toPublicKey().toBytes(true), o);
  }
  if (i >= end) return;
  let cur: PublicKey = SecretKey.fromBytes(secretKeyOf(i)).toPublicKey();
  for (;;) {
    out.set(cur.toBytes(true), o);
    i++;
    o += 48;
    if (i >= end) break;
    cur = aggregatePublicKeys([cur, G1], false);
  }
}
