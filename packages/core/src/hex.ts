import { keccak_256 } from "@noble/hashes/sha3.js";
import { ValidationError } from "./errors.js";

/** Hex at the edges only: these helpers turn validated hex into bytes and back. */

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Decode hex (with or without 0x). `bytes` checks the decoded length. Errors name `field`. */
export function fromHex(value: string, field: string, bytes?: number): Uint8Array {
  if (typeof value !== "string") throw new ValidationError(field, "must be a hex string");
  const h = value.startsWith("0x") || value.startsWith("0X") ? value.slice(2) : value;
  if (!HEX_RE.test(h)) throw new ValidationError(field, "is not hexadecimal");
  if (h.length % 2 !== 0) throw new ValidationError(field, "has an odd number of hex digits");
  if (bytes !== undefined && h.length !== bytes * 2) {
    throw new ValidationError(
      field,
      `must be ${bytes} bytes (${bytes * 2} hex digits), got ${h.length / 2} bytes`,
    );
  }
  return Uint8Array.from(Buffer.from(h, "hex"));
}

/** Lowercase hex without 0x. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Lowercase hex with 0x. */
export function toHex0x(bytes: Uint8Array): string {
  return `0x${toHex(bytes)}`;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** EIP-55 mixed-case checksum form of a 20-byte address. */
export function toChecksumAddress(address: Uint8Array): string {
  const lower = toHex(address);
  const hash = toHex(keccak_256(new TextEncoder().encode(lower)));
  let out = "0x";
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!;
    out += Number.parseInt(hash[i]!, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/**
 * Validate an execution-layer address ("0x" + 40 hex). All-lowercase and all-uppercase are
 * accepted as they are; mixed case must pass the EIP-55 checksum. Returns the 20 bytes.
 */
export function parseAddress(value: string, field: string): Uint8Array {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new ValidationError(
      field,
      `"${String(value)}" is not an address (example: 0x0f51bb10119727a7e5ea3538074fb341f56b09ad)`,
    );
  }
  const body = value.slice(2);
  const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
  const bytes = fromHex(body, field, 20);
  if (mixed && toChecksumAddress(bytes) !== value) {
    throw new ValidationError(
      field,
      `"${value}" fails its EIP-55 checksum (check for a typo, or give it in lowercase)`,
    );
  }
  return bytes;
}
