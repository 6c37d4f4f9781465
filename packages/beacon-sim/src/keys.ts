/**
 * Validator keys of the synthetic chain.
 *
 * - Index i < INTEROP_KEY_LIMIT: the interop key (secret = sha256(i as 32-byte LE) read little-endian,
 *   mod r), exactly as eth2 devnets and the recordings use: validator 0's pubkey starts 0xa99a76ed.
 *   One scalar multiplication each (native blst).
 * - Index i >= INTEROP_KEY_LIMIT: secret = (S + i) mod r with S = sha256("beacon-sim derived keys")
 *   mod r, so that pubkey(i+1) = pubkey(i) + G: one point addition per key (far cheaper than a scalar multiplication), which makes a
 *   million-validator registry affordable (bench/beacon/sim-scale.ts measures it). These are real, valid G1 points
 *   whose secrets are known (secretKeyOf), so tests can still sign with any validator.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
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

/** Below this many keys, keys are derived directly (a cache costs more than it saves). */
export const KEY_CACHE_MIN = 50_000;
const CACHE_FILE = "beacon-sim-pubkeys-v1.bin";

/**
 * derivePubkeys for key numbers [0, count), through a cache file of compressed pubkeys in `dir`
 * (deterministic content: the file holds keys 0..M-1; missing keys are derived and appended).
 * A cache whose checksum or sampled keys do not match is ignored and rewritten.
 */
export function derivePubkeysCached(count: number, out: Uint8Array, dir: string): void {
  const file = join(dir, CACHE_FILE);
  let have = 0;
  try {
    const size = statSync(file).size;
    have = Math.floor(Math.min(size / 48, count));
    if (have > 0) {
      const fd = openSync(file, "r");
      try {
        readSync(fd, out, 0, have * 48, 0);
      } finally {
        closeSync(fd);
      }
      // Whole-file checksum (written with it) plus a sample re-derived: anything else is recomputed.
      const sum = readFileSync(`${file}.sha256`, "utf8").trim();
      const wrote = Math.floor(size / 48);
      if (have !== wrote && have !== count) have = 0;
      if (have > 0) {
        const full = have === wrote ? out.subarray(0, have * 48) : readFileSync(file);
        if (createHash("sha256").update(full).digest("hex") !== sum || !sampleMatches(out, have)) have = 0;
      }
    }
  } catch {
    have = 0;
  }
  if (have >= count) return;
  derivePubkeys(have, count - have, out, have * 48);
  try {
    // private like every file poolkeeper writes (another account must not swap the sim's keys)
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, out.subarray(0, count * 48), { mode: 0o600 });
    writeFileSync(
      `${file}.sha256`,
      createHash("sha256")
        .update(out.subarray(0, count * 48))
        .digest("hex"),
      { mode: 0o600 },
    );
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs time next start.
  }
}

function sampleMatches(keys: Uint8Array, have: number): boolean {
  const probe = new Uint8Array(48);
  const picks = [
    0,
    have - 1,
    Math.floor(have / 2),
    Math.floor(have / 3),
    Math.min(have - 1, INTEROP_KEY_LIMIT),
  ];
  for (const i of picks) {
    derivePubkeys(i, 1, probe, 0);
    if (Buffer.compare(probe, keys.subarray(i * 48, i * 48 + 48)) !== 0) return false;
  }
  return true;
}
