import { pbkdf2Sync, randomBytes } from "node:crypto";
import { ValidationError } from "@poolkeeper/core";
import { entropyToMnemonic, mnemonicToEntropy } from "@scure/bip39";
import { wordlist as czech } from "@scure/bip39/wordlists/czech.js";
import { wordlist as english } from "@scure/bip39/wordlists/english.js";
import { wordlist as italian } from "@scure/bip39/wordlists/italian.js";
import { wordlist as korean } from "@scure/bip39/wordlists/korean.js";
import { wordlist as portuguese } from "@scure/bip39/wordlists/portuguese.js";
import { wordlist as chineseSimplified } from "@scure/bip39/wordlists/simplified-chinese.js";
import { wordlist as spanish } from "@scure/bip39/wordlists/spanish.js";
import { wordlist as chineseTraditional } from "@scure/bip39/wordlists/traditional-chinese.js";

/**
 * BIP-39 mnemonics as the deposit CLIs use them: the same eight wordlists as staking-deposit-cli
 * and ethstaker-deposit-cli, 24 words for new mnemonics, language detection, 4-letter
 * abbreviations accepted, seed = PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" + NFKD(password),
 * 2048, 64). Errors never contain a word of the mnemonic: only positions, counts and languages.
 */

export const MNEMONIC_LANGUAGES = [
  "english",
  "chinese_simplified",
  "chinese_traditional",
  "czech",
  "italian",
  "korean",
  "portuguese",
  "spanish",
] as const;
export type MnemonicLanguage = (typeof MNEMONIC_LANGUAGES)[number];

const WORDLISTS: Record<MnemonicLanguage, readonly string[]> = {
  english,
  chinese_simplified: chineseSimplified,
  chinese_traditional: chineseTraditional,
  czech,
  italian,
  korean,
  portuguese,
  spanish,
};

const VALID_WORD_COUNTS = [12, 15, 18, 21, 24] as const;

interface WordIndex {
  /** NFKD word → index. */
  exact: Map<string, number>;
  /** NFKC first 4 characters → index; -1 when two words share the abbreviation. */
  abbrev: Map<string, number>;
  /** NFKC words by index. */
  words: string[];
}

const indexCache = new Map<MnemonicLanguage, WordIndex>();

function abbreviation(word: string): string {
  return [...word.normalize("NFKC")].slice(0, 4).join("");
}

function wordIndex(language: MnemonicLanguage): WordIndex {
  let idx = indexCache.get(language);
  if (idx === undefined) {
    const exact = new Map<string, number>();
    const abbrev = new Map<string, number>();
    WORDLISTS[language].forEach((w, i) => {
      exact.set(w.normalize("NFKD"), i);
      const a = abbreviation(w);
      abbrev.set(a, abbrev.has(a) ? -1 : i);
    });
    idx = { exact, abbrev, words: WORDLISTS[language].map((w) => w.normalize("NFKC")) };
    indexCache.set(language, idx);
  }
  return idx;
}

function lookup(idx: WordIndex, word: string, allowAbbreviation: boolean): number | undefined {
  const exact = idx.exact.get(word);
  if (exact !== undefined || !allowAbbreviation) return exact;
  const a = idx.abbrev.get(abbreviation(word));
  if (a === undefined || a < 0) return undefined;
  // An abbreviation must be a prefix of the word ("wast" or "waste", not "wastex").
  return idx.words[a]!.startsWith(word.normalize("NFKC")) ? a : undefined;
}

export function isMnemonicLanguage(value: string): value is MnemonicLanguage {
  return (MNEMONIC_LANGUAGES as readonly string[]).includes(value);
}

export function parseMnemonicLanguage(value: string, field = "language"): MnemonicLanguage {
  if (!isMnemonicLanguage(value)) {
    throw new ValidationError(
      field,
      `"${value}" is not supported: use one of ${MNEMONIC_LANGUAGES.join(", ")}`,
    );
  }
  return value;
}

/** A new 24-word mnemonic (256 bits from the OS CSPRNG + 8 checksum bits). */
export function generateMnemonic(language: MnemonicLanguage = "english"): string {
  const entropy = randomBytes(32);
  try {
    return entropyToMnemonic(entropy, [...WORDLISTS[language]]);
  } finally {
    entropy.fill(0);
  }
}

function splitWords(mnemonic: string): string[] {
  return mnemonic
    .normalize("NFKD")
    .toLowerCase()
    .trim()
    .split(/\s+/u)
    .filter((w) => w !== "");
}

export interface ParsedMnemonic {
  /** The full words joined by single spaces (abbreviations expanded), NFKD. */
  mnemonic: string;
  language: MnemonicLanguage;
  wordCount: number;
}

/**
 * Validate a mnemonic and return its canonical form. With `language` the wordlist is fixed;
 * without it every supported language whose wordlist holds all the words is tried (several can:
 * the Chinese lists share characters). Errors name `field`, a word position, a count or a
 * language, never a word.
 */
export function parseMnemonic(
  mnemonic: string,
  opts: { language?: MnemonicLanguage; field?: string } = {},
): ParsedMnemonic {
  const field = opts.field ?? "mnemonic";
  if (typeof mnemonic !== "string") throw new ValidationError(field, "must be a string of words");
  const words = splitWords(mnemonic);
  if (words.length === 0) throw new ValidationError(field, "is empty");
  if (!(VALID_WORD_COUNTS as readonly number[]).includes(words.length)) {
    throw new ValidationError(
      field,
      `has ${words.length} word${words.length === 1 ? "" : "s"}; a BIP-39 mnemonic has 12, 15, 18, 21 or 24 words`,
    );
  }
  const languages = opts.language !== undefined ? [opts.language] : MNEMONIC_LANGUAGES;
  // Full words first, so that a mnemonic of full words never resolves through another
  // language's abbreviations; then 4-letter abbreviations (as staking-deposit-cli accepts).
  const candidates = [
    ...languages.map((l) => [l, false] as const),
    ...languages.map((l) => [l, true] as const),
  ];
  let best: { language: MnemonicLanguage; firstMissing: number; matched: number } | undefined;
  let checksumFailed = false;
  for (const [language, allowAbbreviation] of candidates) {
    const idx = wordIndex(language);
    const indices: number[] = [];
    let firstMissing = -1;
    for (let i = 0; i < words.length; i++) {
      const n = lookup(idx, words[i]!, allowAbbreviation);
      if (n === undefined) {
        if (firstMissing < 0) firstMissing = i;
      } else indices.push(n);
    }
    if (firstMissing >= 0) {
      if (best === undefined || indices.length > best.matched) {
        best = { language, firstMissing, matched: indices.length };
      }
      continue;
    }
    const list = WORDLISTS[language];
    const canonical = indices.map((n) => list[n]!.normalize("NFKD")).join(" ");
    try {
      mnemonicToEntropy(canonical, [...list]).fill(0);
    } catch {
      checksumFailed = true;
      continue;
    }
    return { mnemonic: canonical, language, wordCount: words.length };
  }
  if (checksumFailed) {
    throw new ValidationError(
      field,
      "checksum is wrong: every word is in the wordlist, but a word is mistyped or out of order",
    );
  }
  if (best === undefined || best.matched === 0) {
    throw new ValidationError(
      field,
      opts.language !== undefined
        ? `no word is in the ${opts.language} wordlist`
        : `its words are not in any supported wordlist (${MNEMONIC_LANGUAGES.join(", ")})`,
    );
  }
  throw new ValidationError(field, `word ${best.firstMissing + 1} is not in the ${best.language} wordlist`);
}

/** Whether `mnemonic` is valid (in `language`, or in any supported language). */
export function isValidMnemonic(mnemonic: string, language?: MnemonicLanguage): boolean {
  try {
    parseMnemonic(mnemonic, language === undefined ? {} : { language });
    return true;
  } catch {
    return false;
  }
}

/**
 * BIP-39 seed: PBKDF2-HMAC-SHA512 over the NFKD mnemonic with salt "mnemonic" + NFKD(password),
 * 2048 iterations, 64 bytes. The mnemonic is validated first (its canonical form is hashed).
 */
export function mnemonicToSeed(
  mnemonic: string,
  password = "",
  opts: { language?: MnemonicLanguage; field?: string } = {},
): Uint8Array {
  const parsed = parseMnemonic(mnemonic, opts);
  return seedFromCanonical(parsed.mnemonic, password);
}

/** The seed of an already validated, canonical mnemonic (see parseMnemonic). */
export function seedFromCanonical(canonicalMnemonic: string, password = ""): Uint8Array {
  const salt = Buffer.from(`mnemonic${password}`.normalize("NFKD"), "utf8");
  const seed = pbkdf2Sync(Buffer.from(canonicalMnemonic.normalize("NFKD"), "utf8"), salt, 2048, 64, "sha512");
  return new Uint8Array(seed.buffer, seed.byteOffset, seed.byteLength);
}
