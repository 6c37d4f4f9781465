/**
 * Validator keys: interop keys below INTEROP_KEY_LIMIT, derived keys (S + i) above, both matching
 * their secret keys; the on-disk cache gives the same bytes and is ignored when tampered with.
 */
import "./env-minimal.js";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretKey } from "@chainsafe/blst";
import { afterAll, describe, expect, it } from "vitest";
import { derivePubkeys, derivePubkeysCached, INTEROP_KEY_LIMIT, secretKeyOf } from "../src/keys.js";

const dir = mkdtempSync(join(tmpdir(), "beacon-sim-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("keys", () => {
  it("interop key 0 is the devnets' (0xa99a76ed…), and every key matches its secret", () => {
    const out = new Uint8Array(48 * 4);
    derivePubkeys(0, 4, out);
    expect(Buffer.from(out.subarray(0, 48)).toString("hex")).toBe(
      "a99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44c",
    );
    const derived = new Uint8Array(48 * 3);
    derivePubkeys(INTEROP_KEY_LIMIT - 1, 3, derived); // across the boundary: interop, derived, derived
    for (let k = 0; k < 3; k++) {
      const pk = SecretKey.fromBytes(secretKeyOf(INTEROP_KEY_LIMIT - 1 + k))
        .toPublicKey()
        .toBytes(true);
      expect(Buffer.from(derived.subarray(k * 48, k * 48 + 48)).equals(Buffer.from(pk))).toBe(true);
    }
  });

  it("the cache file returns the same keys, extends itself, and is ignored when tampered with", () => {
    const n = INTEROP_KEY_LIMIT + 200;
    const direct = new Uint8Array(n * 48);
    derivePubkeys(0, n, direct);
    const a = new Uint8Array(n * 48);
    derivePubkeysCached(n - 100, a, dir); // writes keys 0..n-101
    const b = new Uint8Array(n * 48);
    derivePubkeysCached(n, b, dir); // reads them, derives the last 100, rewrites
    expect(Buffer.from(b).equals(Buffer.from(direct))).toBe(true);
    expect(readFileSync(join(dir, "beacon-sim-pubkeys-v1.bin")).length).toBe(n * 48);
    const file = join(dir, "beacon-sim-pubkeys-v1.bin");
    // private files, whatever the umask allows
    expect([file, `${file}.sha256`].map((f) => statSync(f).mode & 0o777)).toEqual([0o600, 0o600]);
    const bytes = readFileSync(file);
    bytes[7000 * 48 + 5] = (bytes[7000 * 48 + 5] ?? 0) ^ 0xff; // not a sampled key: the checksum catches it
    writeFileSync(file, bytes);
    const c = new Uint8Array(n * 48);
    derivePubkeysCached(n, c, dir);
    expect(Buffer.from(c).equals(Buffer.from(direct))).toBe(true);
  });
});
