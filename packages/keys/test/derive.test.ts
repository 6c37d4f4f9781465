import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, toHex } from "@poolkeeper/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BLS_CURVE_ORDER,
  bytesToBigint,
  deriveChildSK,
  deriveKeyAtPath,
  deriveMasterSK,
  ikmToLamportSK,
  parentSKToLamportPK,
  parsePath,
  secretKeyAtPath,
  sha256Chunks32,
  signingKeyPath,
  ValidatorKeyDeriver,
  withdrawalKeyPath,
} from "../src/derive.js";
import { mnemonicToSeed } from "../src/mnemonic.js";

const V = join(import.meta.dirname, "../../../test/fixtures/vectors");
// The vector files hold 77-digit integers: parse them as text so that no precision is lost.
function readBigJson(path: string): unknown {
  const text = readFileSync(path, "utf8").replace(/:\s*(\d{16,})/g, ': "$1"');
  return JSON.parse(text);
}
const treeKdf = readBigJson(`${V}/staking-deposit-cli__tree_kdf.json`) as {
  kdf_tests: { seed: string; master_SK: string; child_index: number; child_SK: string }[];
};
const inter = readBigJson(`${V}/staking-deposit-cli__tree_kdf_intermediate.json`) as {
  mnemonic: string;
  password: string;
  seed: string;
  master_SK: string;
  child_index: number;
  lamport_0: string[];
  lamport_1: string[];
  compressed_lamport_PK: string;
  child_SK: string;
};

describe("EIP-2333 tree_kdf vectors", () => {
  it("has the four official cases", () => expect(treeKdf.kdf_tests).toHaveLength(4));
  for (const [i, t] of treeKdf.kdf_tests.entries()) {
    it(`case ${i}: master and child ${t.child_index}`, () => {
      const seed = fromHex(t.seed, "seed");
      const master = deriveMasterSK(seed);
      expect(master).toBe(BigInt(t.master_SK));
      expect(deriveChildSK(master, t.child_index)).toBe(BigInt(t.child_SK));
    });
  }
});

describe("EIP-2333 intermediate values", () => {
  it("mnemonic → seed → master → every lamport chunk → compressed PK → child", () => {
    const seed = mnemonicToSeed(inter.mnemonic, inter.password);
    expect(toHex(seed)).toBe(inter.seed);
    const master = deriveMasterSK(seed);
    expect(master).toBe(BigInt(inter.master_SK));
    const salt = Uint8Array.from([0, 0, 0, inter.child_index]);
    const ikm = fromHex(master.toString(16).padStart(64, "0"), "ikm");
    const notIkm = fromHex((master ^ ((1n << 256n) - 1n)).toString(16).padStart(64, "0"), "ikm");
    const l0 = ikmToLamportSK(ikm, salt);
    const l1 = ikmToLamportSK(notIkm, salt);
    expect(inter.lamport_0).toHaveLength(255);
    expect(inter.lamport_1).toHaveLength(255);
    for (let i = 0; i < 255; i++) {
      expect(toHex(l0.subarray(i * 32, i * 32 + 32))).toBe(inter.lamport_0[i]);
      expect(toHex(l1.subarray(i * 32, i * 32 + 32))).toBe(inter.lamport_1[i]);
    }
    expect(toHex(parentSKToLamportPK(master, inter.child_index))).toBe(inter.compressed_lamport_PK);
    expect(deriveChildSK(master, inter.child_index)).toBe(BigInt(inter.child_SK));
  });
});

describe("sha256Chunks32 equals node:crypto", () => {
  it("on random inputs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32 * 7, maxLength: 32 * 7 }), (src) => {
        const out = new Uint8Array(32 * 7);
        sha256Chunks32(src, out, 7);
        for (let k = 0; k < 7; k++) {
          const want = createHash("sha256")
            .update(src.subarray(k * 32, k * 32 + 32))
            .digest("hex");
          expect(toHex(out.subarray(k * 32, k * 32 + 32))).toBe(want);
        }
      }),
      { numRuns: 200 },
    );
    const edge = new Uint8Array(64).fill(0xff);
    const out = new Uint8Array(64);
    sha256Chunks32(edge, out, 2);
    expect(toHex(out.subarray(0, 32))).toBe(createHash("sha256").update(edge.subarray(0, 32)).digest("hex"));
  });
});

describe("EIP-2334 paths and the bulk deriver", () => {
  it("paths", () => {
    expect(signingKeyPath(7)).toBe("m/12381/3600/7/0/0");
    expect(withdrawalKeyPath(7)).toBe("m/12381/3600/7/0");
    expect(parsePath("m/12381/3600/7/0/0")).toEqual([12381, 3600, 7, 0, 0]);
    expect(() => parsePath("x/1")).toThrow(/must start with "m"/);
    expect(() => parsePath("m/4294967296")).toThrow(/invalid index/);
    expect(() => signingKeyPath(-1)).toThrow(/index/);
  });
  it("the cached m/12381/3600 node gives the same keys as full-path derivation", () => {
    const seed = randomBytes(64);
    const deriver = ValidatorKeyDeriver.fromSeed(seed);
    for (const i of [0, 1, 1024]) {
      const k = deriver.keys(i);
      expect(bytesToBigint(k.signingKey)).toBe(deriveKeyAtPath(seed, signingKeyPath(i)));
      expect(bytesToBigint(k.withdrawalKey)).toBe(deriveKeyAtPath(seed, withdrawalKeyPath(i)));
      expect(k.signingKey).toHaveLength(32);
      expect(bytesToBigint(k.signingKey) < BLS_CURVE_ORDER).toBe(true);
    }
    expect(toHex(secretKeyAtPath(seed, signingKeyPath(1)))).toBe(toHex(deriver.keys(1).signingKey));
    const again = ValidatorKeyDeriver.fromNode(deriver.nodeSecret());
    expect(toHex(again.keys(5).signingKey)).toBe(toHex(deriver.keys(5).signingKey));
  });
  it("rejects short seeds", () => {
    expect(() => deriveMasterSK(new Uint8Array(31))).toThrow("seed: must be at least 32 bytes");
  });
});
