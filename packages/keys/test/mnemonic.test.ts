import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "@poolkeeper/core";
import { entropyToMnemonic, mnemonicToSeedSync } from "@scure/bip39";
import { wordlist as english } from "@scure/bip39/wordlists/english.js";
import { describe, expect, it } from "vitest";
import {
  generateMnemonic,
  isValidMnemonic,
  MNEMONIC_LANGUAGES,
  type MnemonicLanguage,
  mnemonicToSeed,
  parseMnemonic,
} from "../src/mnemonic.js";

const VECTORS = JSON.parse(
  readFileSync(
    join(import.meta.dirname, "../../../test/fixtures/vectors/staking-deposit-cli__mnemonic.json"),
    "utf8",
  ),
) as Record<string, [string, string, string, string][]>;
const PASSPHRASE = "TREZOR";
const TEST_MNEMONIC = "test test test test test test test test test test test waste";

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

describe("staking-deposit-cli mnemonic vectors (passphrase TREZOR)", () => {
  const languages = Object.keys(VECTORS);
  it("covers several languages, all supported", () => {
    expect(languages.length).toBeGreaterThanOrEqual(7);
    for (const l of languages) expect(MNEMONIC_LANGUAGES).toContain(l);
  });
  for (const language of languages) {
    it(`${language}: ${VECTORS[language]!.length} vectors, fixed language and auto-detected`, () => {
      for (const [entropy, mnemonic, seed] of VECTORS[language]!) {
        expect(isValidMnemonic(mnemonic, language as MnemonicLanguage)).toBe(true);
        expect(toHex(mnemonicToSeed(mnemonic, PASSPHRASE, { language: language as MnemonicLanguage }))).toBe(
          seed,
        );
        expect(toHex(mnemonicToSeed(mnemonic, PASSPHRASE))).toBe(seed);
        const parsed = parseMnemonic(mnemonic, { language: language as MnemonicLanguage });
        expect(parsed.mnemonic).toBe(mnemonic.normalize("NFKD").split(/\s+/u).join(" "));
        expect(parsed.wordCount * 11).toBe((entropy.length / 2) * 8 + ((entropy.length / 2) * 8) / 32);
      }
    });
  }
});

describe("generateMnemonic", () => {
  it("makes 24 distinct-looking valid words in each language", () => {
    for (const language of MNEMONIC_LANGUAGES) {
      const m = generateMnemonic(language);
      expect(m.split(" ")).toHaveLength(24);
      const parsed = parseMnemonic(m, { language });
      expect(parsed.wordCount).toBe(24);
    }
    expect(parseMnemonic(generateMnemonic()).language).toBe("english");
    expect(generateMnemonic()).not.toBe(generateMnemonic());
  });
});

describe("parseMnemonic errors name the problem, never a word", () => {
  it("unknown word: its position and the language", () => {
    const words = TEST_MNEMONIC.split(" ");
    words[6] = "tezt";
    const e = errorOf(() => parseMnemonic(words.join(" ")));
    expect(e.message).toBe("mnemonic: word 7 is not in the english wordlist");
    expect(e.message).not.toContain("tezt");
    expect(e.message).not.toContain("test ");
  });
  it("checksum", () => {
    const e = errorOf(() => parseMnemonic("test test test test test test test test test test test test"));
    expect(e.message).toMatch(/^mnemonic: checksum is wrong/);
    expect(e.message).not.toContain("test test");
  });
  it("word count", () => {
    expect(errorOf(() => parseMnemonic("test test test")).message).toBe(
      "mnemonic: has 3 words; a BIP-39 mnemonic has 12, 15, 18, 21 or 24 words",
    );
    expect(errorOf(() => parseMnemonic("   ")).message).toBe("mnemonic: is empty");
  });
  it("no known word at all", () => {
    expect(errorOf(() => parseMnemonic("qq ".repeat(12))).message).toMatch(/not in any supported wordlist/);
    expect(
      errorOf(() => parseMnemonic("qq ".repeat(12), { language: "english", field: "--mnemonic-file" }))
        .message,
    ).toBe("--mnemonic-file: no word is in the english wordlist");
  });
  it("a fixed language that does not match", () => {
    const e = errorOf(() => parseMnemonic(TEST_MNEMONIC, { language: "italian" }));
    // "test" abbreviates an Italian word; "waste" matches none.
    expect(e.message).toBe("mnemonic: word 12 is not in the italian wordlist");
  });
});

describe("normalisation like staking-deposit-cli", () => {
  it("accepts extra whitespace, upper case and 4-letter abbreviations", () => {
    const canonical = parseMnemonic(TEST_MNEMONIC).mnemonic;
    expect(parseMnemonic(`  TEST test\ttest test\ntest test test test test test test  WASTE `).mnemonic).toBe(
      canonical,
    );
    const entropy = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const full = entropyToMnemonic(entropy, english);
    const abbreviated = full
      .split(" ")
      .map((w) => w.slice(0, 4))
      .join(" ");
    expect(parseMnemonic(abbreviated).mnemonic).toBe(full);
    // A longer word is not an abbreviation.
    expect(() => parseMnemonic(TEST_MNEMONIC.replace("waste", "wastex"))).toThrow(
      "word 12 is not in the english wordlist",
    );
    expect(toHex(mnemonicToSeed(abbreviated, "pw"))).toBe(toHex(mnemonicToSeedSync(full, "pw")));
  });
  it("NFKD-normalises the mnemonic password", () => {
    const composed = "caf\u00e9";
    const decomposed = "cafe\u0301";
    expect(toHex(mnemonicToSeed(TEST_MNEMONIC, composed))).toBe(
      toHex(mnemonicToSeed(TEST_MNEMONIC, decomposed)),
    );
    expect(toHex(mnemonicToSeed(TEST_MNEMONIC, composed))).toBe(
      toHex(mnemonicToSeedSync(TEST_MNEMONIC, composed)),
    );
    expect(toHex(mnemonicToSeed(TEST_MNEMONIC, ""))).not.toBe(toHex(mnemonicToSeed(TEST_MNEMONIC, composed)));
  });
});
