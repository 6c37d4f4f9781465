import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import {
  decryptKeystore,
  decryptKeystoreSync,
  encryptKeystore,
  encryptKeystoreSync,
  type KeystoreJson,
  PBKDF2_DEFAULTS,
  parseKeystore,
  processPassword,
  SCRYPT_DEFAULTS,
  serializeKeystore,
} from "../src/keystore.js";

const V = join(import.meta.dirname, "../../../test/fixtures/vectors");
const PASSWORD = "𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑";
const SECRET = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
const VECTOR_FILES = [
  "eip2335/pbkdf2.json",
  "eip2335/scrypt.json",
  "staking-deposit-cli__test0.json",
  "staking-deposit-cli__test1.json",
];
const read = (f: string): KeystoreJson => JSON.parse(readFileSync(`${V}/${f}`, "utf8")) as KeystoreJson;
const secretBytes = Uint8Array.from(Buffer.from(SECRET, "hex"));

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("EIP-2335 vectors decrypt with the official password", () => {
  for (const f of VECTOR_FILES) {
    it(f, async () => {
      const ks = read(f);
      expect(toHex(await decryptKeystore(ks, PASSWORD))).toBe(SECRET);
    });
  }
  it("re-encrypting with the vector's salt and IV gives the vector's crypto section", () => {
    for (const f of ["eip2335/pbkdf2.json", "eip2335/scrypt.json"]) {
      const ks = read(f);
      const out = encryptKeystoreSync({
        secret: secretBytes,
        password: PASSWORD,
        path: ks.path,
        kdf: { function: ks.crypto.kdf.function },
        salt: Buffer.from(ks.crypto.kdf.params.salt, "hex"),
        iv: Buffer.from(ks.crypto.cipher.params.iv, "hex"),
        uuid: ks.uuid,
        description: ks.description,
      });
      expect(out.crypto.checksum.message).toBe(ks.crypto.checksum.message);
      expect(out.crypto.cipher.message).toBe(ks.crypto.cipher.message);
      expect(out.pubkey).toBe(ks.pubkey);
      expect(JSON.parse(serializeKeystore(out))).toEqual(parseKeystore(ks));
    }
  });
});

describe("password processing (EIP-2335; ethstaker-deposit-cli test cases)", () => {
  const cases: [string, string][] = [
    ["\x07", ""],
    ["\b", ""],
    ["\t", ""],
    ["a", "a"],
    ["abc", "abc"],
    ["a\bc", "ac"],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => expect(processPassword(input)).toEqual(Buffer.from(want, "utf8")));
  }
  it("NFKD-normalises the vector password to testpassword🔑", () => {
    expect(processPassword(PASSWORD).toString("utf8")).toBe("testpassword🔑");
  });
  it("strips DEL and C1 code points but keeps characters whose UTF-8 bytes are in 0x80-0x9F", () => {
    expect(processPassword("a\x7fb\u0085c\u009fd").toString("utf8")).toBe("abcd");
    // "€" is E2 82 AC, "Đ" C4 90, "Ж" D0 96: per-byte stripping would break them; per code point keeps them.
    expect(processPassword("€ĐЖ").toString("hex")).toBe("e282acc490d096");
    expect(processPassword("\u00a0").toString("hex")).toBe("20"); // NFKD of NBSP is a space, not removed
  });
});

describe("encrypt / decrypt round trip", () => {
  it("scrypt defaults are the real EIP-2335 parameters", async () => {
    const ks = await encryptKeystore({ secret: secretBytes, password: "pw", path: "m/12381/3600/0/0/0" });
    expect(ks.crypto.kdf.function).toBe("scrypt");
    expect(ks.crypto.kdf.params).toMatchObject(SCRYPT_DEFAULTS);
    expect(ks.version).toBe(4);
    expect(ks.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(toHex(await decryptKeystore(JSON.parse(serializeKeystore(ks)), "pw"))).toBe(SECRET);
  });
  it("pbkdf2 defaults and a field layout like ethstaker-deposit-cli", () => {
    const ks = encryptKeystoreSync({
      secret: secretBytes,
      password: "pw",
      path: "m/12381/3600/0/0/0",
      kdf: { function: "pbkdf2" },
    });
    expect(ks.crypto.kdf.params).toMatchObject(PBKDF2_DEFAULTS);
    const text = serializeKeystore(ks);
    expect(text).toMatch(
      /^\{"crypto": \{"kdf": \{"function": "pbkdf2", "params": \{"c": 262144, "dklen": 32, "prf": "hmac-sha256", "salt": "[0-9a-f]{64}"\}, "message": ""\}, "checksum": \{"function": "sha256", "params": \{\}, "message": "[0-9a-f]{64}"\}, "cipher": \{"function": "aes-128-ctr", "params": \{"iv": "[0-9a-f]{32}"\}, "message": "[0-9a-f]{64}"\}\}, "description": "", "pubkey": "[0-9a-f]{96}", "path": "m\/12381\/3600\/0\/0\/0", "uuid": "[0-9a-f-]{36}", "version": 4\}$/,
    );
    expect(toHex(decryptKeystoreSync(JSON.parse(text), "pw"))).toBe(SECRET);
  });
  it("wrong password: a clear error that does not contain the password", async () => {
    const ks = encryptKeystoreSync({
      secret: secretBytes,
      password: "correct horse",
      path: "",
      kdf: { function: "pbkdf2", cost: 1000 },
    });
    const e = await rejection(decryptKeystore(ks, "battery staple", "--password-file"));
    expect(e.message).toBe("--password-file: keystore password is wrong");
    expect(e.message).not.toContain("battery");
    expect(e.message).not.toContain("correct");
    expect(() => decryptKeystoreSync(ks, "battery staple")).toThrow("password: keystore password is wrong");
    // Control characters are not part of the password.
    expect(toHex(decryptKeystoreSync(ks, "correct\t horse\x7f"))).toBe(SECRET);
  });
  it("a tampered pubkey field is detected", () => {
    const ks = encryptKeystoreSync({
      secret: secretBytes,
      password: "p",
      path: "",
      kdf: { function: "pbkdf2", cost: 10 },
    });
    const other = read("eip2335/pbkdf2.json");
    expect(() => decryptKeystoreSync({ ...ks, pubkey: other.pubkey.replace(/^96/, "a6") }, "p")).toThrow(
      /pubkey/,
    );
  });
});

describe("parseKeystore rejects malformed files, naming the field", () => {
  const base = read("eip2335/scrypt.json");
  const clone = () =>
    JSON.parse(JSON.stringify(base)) as Record<
      string,
      Record<string, Record<string, Record<string, unknown>>>
    >;
  it("wrong version", () => {
    expect(() => parseKeystore({ ...base, version: 2 })).toThrow("keystore.version: must be 4 (EIP-2335)");
  });
  it("missing checksum message", () => {
    const k = clone();
    delete k.crypto!.checksum!.message;
    expect(() => parseKeystore(k)).toThrow("keystore.crypto.checksum.message: must be a string");
  });
  it("wrong type", () => {
    const k = clone();
    k.crypto!.kdf!.params!.n = "262144";
    expect(() => parseKeystore(k)).toThrow("keystore.crypto.kdf.params.n: must be an integer");
  });
  it("too many fields", () => {
    const k = clone();
    k.crypto!.cipher!.params!.p = 1;
    expect(() => parseKeystore(k)).toThrow("keystore.crypto.cipher.params.p: is not an EIP-2335 field");
  });
  it("unsafe scrypt parameters", () => {
    const k = clone();
    k.crypto!.kdf!.params!.n = 1 << 24;
    expect(() => parseKeystore(k)).toThrow(/keystore.crypto.kdf.params.n/);
  });
  it("not an object", () => {
    expect(() => parseKeystore("x")).toThrow("keystore: must be an object");
  });
});

describe("encryptSecretBytes (a mnemonic at rest)", () => {
  it("round-trips bytes of any length; a wrong password is refused; no plaintext in the file", async () => {
    const { encryptSecretBytes, decryptSecretBytes, KeystorePasswordError } = await import("../src/index.js");
    const words = "abandon ".repeat(23) + "art";
    const ks = await encryptSecretBytes(Buffer.from(words), "a long password", {
      kdf: { function: "scrypt", cost: 1024 },
    });
    expect(ks.pubkey).toBe("");
    expect(ks.crypto.cipher.message).toHaveLength(words.length * 2);
    expect(JSON.stringify(ks)).not.toContain("abandon");
    const back = await decryptSecretBytes(JSON.parse(JSON.stringify(ks)), "a long password");
    expect(Buffer.from(back).toString()).toBe(words);
    await expect(decryptSecretBytes(ks, "another password")).rejects.toBeInstanceOf(KeystorePasswordError);
  });
});
