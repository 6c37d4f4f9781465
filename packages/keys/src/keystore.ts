import {
  createCipheriv,
  createDecipheriv,
  createHash,
  pbkdf2,
  pbkdf2Sync,
  randomBytes,
  randomUUID,
  scrypt,
  scryptSync,
  timingSafeEqual,
} from "node:crypto";
import { bytesEqual, fromHex, toHex, ValidationError } from "@poolkeeper/core";
import { parsePath } from "./derive.js";
import { KEYS_ERRORS, KeysError, KeystorePasswordError } from "./errors.js";
import { pubkeyFromSecret } from "./signing.js";

/**
 * EIP-2335 keystores (version 4): scrypt or PBKDF2-HMAC-SHA256 → 32-byte decryption key;
 * AES-128-CTR with its first 16 bytes; checksum SHA-256(key[16:32] ‖ ciphertext).
 * The JSON layout (field order, Python `json.dumps` separators) is ethstaker-deposit-cli's.
 * Passwords and secrets never appear in an error message.
 */

export type KdfFunction = "scrypt" | "pbkdf2";

export interface ScryptParams {
  dklen: number;
  n: number;
  r: number;
  p: number;
  salt: string;
}

export interface Pbkdf2Params {
  dklen: number;
  c: number;
  prf: "hmac-sha256";
  salt: string;
}

export interface KeystoreJson {
  crypto: {
    kdf:
      | { function: "scrypt"; params: ScryptParams; message: "" }
      | { function: "pbkdf2"; params: Pbkdf2Params; message: "" };
    checksum: { function: "sha256"; params: Record<string, never>; message: string };
    cipher: { function: "aes-128-ctr"; params: { iv: string }; message: string };
  };
  description: string;
  pubkey: string;
  path: string;
  uuid: string;
  version: 4;
}

/** EIP-2335 defaults, as the deposit CLIs write them. */
export const SCRYPT_DEFAULTS = { dklen: 32, n: 262144, r: 8, p: 1 } as const;
export const PBKDF2_DEFAULTS = { dklen: 32, c: 262144, prf: "hmac-sha256" } as const;

/** KDF work settings (tests and benchmarks lower them; files record what was used). */
export interface KdfSettings {
  function: KdfFunction;
  /** scrypt N (a power of 2) or PBKDF2 iteration count c. */
  cost?: number;
}

/** Ranges of the single KDF fields (their sizes); KDF_CAPS bounds what they cost together. */
const MAX_SCRYPT_N = 1 << 20;
const MAX_SCRYPT_R = 32;
const MAX_SCRYPT_P = 16;
const MAX_PBKDF2_C = 1 << 24;

/**
 * The most memory and work a keystore's KDF may ask for, checked before any KDF work on every path
 * that reads or writes a keystore. staking-deposit-cli, ethstaker-deposit-cli and
 * @chainsafe/bls-keystore (Lodestar) write scrypt n=2^18, r=8, p=1 (256 MiB, n·r·p = 2^21) and
 * PBKDF2 c=2^18 (Lighthouse only refuses 4 GiB of scrypt memory or c above 80,000,000). A hostile
 * file within the field ranges above could otherwise cost gigabytes and minutes before "password
 * is wrong".
 */
export const KDF_CAPS = {
  /** scrypt's memory, 128·n·r bytes: what n=2^18, r=8 needs. */
  scryptMemoryBytes: 256 * 1024 * 1024,
  /** scrypt's work, n·r·p: twice that of n=2^18, r=8, p=1. */
  scryptWork: 2 ** 22,
  /** PBKDF2 iterations: four times 2^18 (about the time of one default scrypt). */
  pbkdf2Iterations: 2 ** 20,
} as const;

type KdfModule = KeystoreJson["crypto"]["kdf"];

function kdfCostError(
  field: string,
  parameter: string,
  value: number,
  cap: number,
  reason: string,
): KeysError {
  return new KeysError(KEYS_ERRORS.KEYSTORE_KDF_COST, `${field}: ${reason}`, {
    field,
    parameter,
    value,
    cap,
  });
}

/**
 * Refuse KDF parameters above KDF_CAPS: a KeysError ERR_KEYSTORE_KDF_COST whose message names the
 * parameters and the cap. `field` names the params object (keystore.crypto.kdf.params) or the
 * setting they come from (--kdf-cost).
 */
export function checkKdfCost(kdf: KdfModule, field: string): void {
  if (kdf.function === "scrypt") {
    const { n, r, p } = kdf.params;
    const memory = 128 * n * r;
    if (memory > KDF_CAPS.scryptMemoryBytes) {
      throw kdfCostError(
        field,
        "128·n·r",
        memory,
        KDF_CAPS.scryptMemoryBytes,
        `scrypt n=${n}, r=${r} needs 128·n·r = ${mib(memory)} of memory, above the cap of ${mib(KDF_CAPS.scryptMemoryBytes)} (n=262144, r=8, as EIP-2335 tools write)`,
      );
    }
    const work = n * r * p;
    if (work > KDF_CAPS.scryptWork) {
      throw kdfCostError(
        field,
        "n·r·p",
        work,
        KDF_CAPS.scryptWork,
        `scrypt n=${n}, r=${r}, p=${p} is n·r·p = ${work} of work, above the cap of ${KDF_CAPS.scryptWork} (EIP-2335 tools write n=262144, r=8, p=1)`,
      );
    }
    return;
  }
  const { c } = kdf.params;
  if (c > KDF_CAPS.pbkdf2Iterations) {
    throw kdfCostError(
      field,
      "c",
      c,
      KDF_CAPS.pbkdf2Iterations,
      `pbkdf2 c=${c} iterations is above the cap of ${KDF_CAPS.pbkdf2Iterations} (EIP-2335 tools write c=262144)`,
    );
  }
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0
    ? `${bytes / 1024 ** 3} GiB`
    : `${bytes / 1024 ** 2} MiB`;
}

function isControlCodePoint(cp: number): boolean {
  return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f);
}

/**
 * EIP-2335 password processing: NFKD, then remove the control code points C0 (U+0000–U+001F),
 * DEL (U+007F) and C1 (U+0080–U+009F), then UTF-8. This works on code points, so a non-ASCII
 * character whose UTF-8 bytes fall in 0x80–0x9F is kept (stripping per byte would corrupt it).
 */
export function processPassword(password: string): Buffer {
  if (typeof password !== "string") throw new ValidationError("password", "must be a string");
  let out = "";
  for (const c of password.normalize("NFKD")) if (!isControlCodePoint(c.codePointAt(0)!)) out += c;
  return Buffer.from(out, "utf8");
}

function scryptMaxmem(n: number, r: number, p: number): number {
  // Node needs 128·N·r for V plus 128·r·p for B; leave room for the rest.
  return 128 * n * r + 128 * r * p + 16 * 1024 * 1024;
}

function kdfSync(kdf: KdfModule, password: Buffer): Buffer {
  checkKdfCost(kdf, "keystore.crypto.kdf.params");
  const salt = Buffer.from(kdf.params.salt, "hex");
  if (kdf.function === "scrypt") {
    const { n, r, p, dklen } = kdf.params;
    return scryptSync(password, salt, dklen, { N: n, r, p, maxmem: scryptMaxmem(n, r, p) });
  }
  return pbkdf2Sync(password, salt, kdf.params.c, kdf.params.dklen, "sha256");
}

function kdfAsync(kdf: KdfModule, password: Buffer): Promise<Buffer> {
  checkKdfCost(kdf, "keystore.crypto.kdf.params");
  const salt = Buffer.from(kdf.params.salt, "hex");
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, key: Buffer) => (err === null ? resolve(key) : reject(err));
    if (kdf.function === "scrypt") {
      const { n, r, p, dklen } = kdf.params;
      scrypt(password, salt, dklen, { N: n, r, p, maxmem: scryptMaxmem(n, r, p) }, done);
    } else {
      pbkdf2(password, salt, kdf.params.c, kdf.params.dklen, "sha256", done);
    }
  });
}

export interface EncryptOptions {
  secret: Uint8Array;
  password: string;
  path: string;
  kdf?: KdfSettings;
  description?: string;
  /** Computed from the secret when not given. */
  pubkey?: Uint8Array;
  /** For test vectors only: fixed salt (32 bytes), IV (16 bytes) and uuid. */
  salt?: Uint8Array;
  iv?: Uint8Array;
  uuid?: string;
}

/**
 * The KDF module that `settings` describe, checked: the cost in range and within KDF_CAPS (a
 * keystore is never written that this code would refuse to read). `field` names the cost in errors.
 */
function kdfModule(settings: KdfSettings | undefined, salt: Uint8Array, field = "kdf"): KdfModule {
  const fn = settings?.function ?? "scrypt";
  const cost = settings?.cost;
  let kdf: KdfModule;
  if (fn === "scrypt") {
    const n = cost ?? SCRYPT_DEFAULTS.n;
    if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0 || n > MAX_SCRYPT_N) {
      throw new ValidationError(field, `scrypt n=${n} must be a power of 2 up to ${MAX_SCRYPT_N}`);
    }
    const { dklen, r, p } = SCRYPT_DEFAULTS;
    kdf = { function: "scrypt", params: { dklen, n, r, p, salt: toHex(salt) }, message: "" };
  } else if (fn === "pbkdf2") {
    const c = cost ?? PBKDF2_DEFAULTS.c;
    if (!Number.isInteger(c) || c < 1 || c > MAX_PBKDF2_C) {
      throw new ValidationError(field, `pbkdf2 c=${c} must be an integer from 1 to ${MAX_PBKDF2_C}`);
    }
    kdf = {
      function: "pbkdf2",
      params: { c, dklen: PBKDF2_DEFAULTS.dklen, prf: "hmac-sha256", salt: toHex(salt) },
      message: "",
    };
  } else {
    throw new ValidationError(field, `"${String(fn)}" is not supported: use scrypt or pbkdf2`);
  }
  checkKdfCost(kdf, field);
  return kdf;
}

/** Check KDF settings (function, cost in range and within KDF_CAPS) before any work. */
export function checkKdfSettings(settings: KdfSettings, field = "kdf"): void {
  kdfModule(settings, new Uint8Array(32), field);
}

function checkSecret(secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array) || secret.length !== 32)
    throw new ValidationError("secret", "must be 32 bytes");
}

function seal(opts: EncryptOptions, kdf: KdfModule, key: Buffer, iv: Uint8Array): KeystoreJson {
  try {
    const cipher = createCipheriv("aes-128-ctr", key.subarray(0, 16), iv);
    const ciphertext = Buffer.concat([cipher.update(opts.secret), cipher.final()]);
    const checksum = createHash("sha256").update(key.subarray(16, 32)).update(ciphertext).digest();
    const pubkey = opts.pubkey ?? pubkeyFromSecret(opts.secret);
    return {
      crypto: {
        kdf,
        checksum: { function: "sha256", params: {}, message: toHex(checksum) },
        cipher: { function: "aes-128-ctr", params: { iv: toHex(iv) }, message: toHex(ciphertext) },
      },
      description: opts.description ?? "",
      pubkey: toHex(pubkey),
      path: opts.path,
      uuid: opts.uuid ?? randomUUID(),
      version: 4,
    };
  } finally {
    key.fill(0);
  }
}

function prepare(opts: EncryptOptions): {
  kdf: KdfModule;
  iv: Uint8Array;
  password: Buffer;
} {
  checkSecret(opts.secret);
  if (opts.path !== "") parsePath(opts.path, "path");
  const salt = opts.salt ?? randomBytes(32);
  const iv = opts.iv ?? randomBytes(16);
  if (salt.length !== 32) throw new ValidationError("salt", "must be 32 bytes");
  if (iv.length !== 16) throw new ValidationError("iv", "must be 16 bytes");
  return { kdf: kdfModule(opts.kdf, salt), iv, password: processPassword(opts.password) };
}

/** Encrypt a 32-byte BLS secret key into an EIP-2335 keystore (KDF on the libuv thread pool). */
export async function encryptKeystore(opts: EncryptOptions): Promise<KeystoreJson> {
  const { kdf, iv, password } = prepare(opts);
  try {
    return seal(opts, kdf, await kdfAsync(kdf, password), iv);
  } finally {
    password.fill(0);
  }
}

/** The same, blocking: for worker threads, where blocking is the point. */
export function encryptKeystoreSync(opts: EncryptOptions): KeystoreJson {
  const { kdf, iv, password } = prepare(opts);
  try {
    return seal(opts, kdf, kdfSync(kdf, password), iv);
  } finally {
    password.fill(0);
  }
}

// ---- reading ----

type Json = Record<string, unknown>;

function obj(v: unknown, field: string): Json {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new ValidationError(field, "must be an object");
  return v as Json;
}

function onlyKeys(o: Json, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ValidationError(`${field}.${k}`, "is not an EIP-2335 field");
  }
}

function str(o: Json, k: string, field: string): string {
  const v = o[k];
  if (typeof v !== "string") throw new ValidationError(`${field}.${k}`, "must be a string");
  return v;
}

function int(o: Json, k: string, field: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(`${field}.${k}`, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

function hexField(o: Json, k: string, field: string, bytes?: number): string {
  const v = str(o, k, field);
  fromHex(v, `${field}.${k}`, bytes);
  return v.toLowerCase();
}

/**
 * Validate the structure of a keystore (any EIP-2335 v4 file, from any tool). Unknown fields,
 * wrong types, unsupported functions and unsafe KDF parameters are errors naming the field.
 */
export function parseKeystore(
  value: unknown,
  field = "keystore",
  opts: { anySecretLength?: boolean } = {},
): KeystoreJson {
  const root = obj(value, field);
  if (root.version !== 4) throw new ValidationError(`${field}.version`, "must be 4 (EIP-2335)");
  const crypto = obj(root.crypto, `${field}.crypto`);
  onlyKeys(crypto, ["kdf", "checksum", "cipher"], `${field}.crypto`);
  const kdfF = `${field}.crypto.kdf`;
  const kdf = obj(crypto.kdf, kdfF);
  onlyKeys(kdf, ["function", "params", "message"], kdfF);
  const kdfParams = obj(kdf.params, `${kdfF}.params`);
  let kdfOut: KdfModule;
  if (kdf.function === "scrypt") {
    const pf = `${kdfF}.params`;
    onlyKeys(kdfParams, ["dklen", "n", "r", "p", "salt"], pf);
    const n = int(kdfParams, "n", pf, 2, MAX_SCRYPT_N);
    if ((n & (n - 1)) !== 0) throw new ValidationError(`${pf}.n`, "must be a power of 2");
    const r = int(kdfParams, "r", pf, 1, MAX_SCRYPT_R);
    const p = int(kdfParams, "p", pf, 1, MAX_SCRYPT_P);
    kdfOut = {
      function: "scrypt",
      params: { dklen: int(kdfParams, "dklen", pf, 32, 32), n, r, p, salt: hexField(kdfParams, "salt", pf) },
      message: "",
    };
  } else if (kdf.function === "pbkdf2") {
    const pf = `${kdfF}.params`;
    onlyKeys(kdfParams, ["dklen", "c", "prf", "salt"], pf);
    if (kdfParams.prf !== "hmac-sha256") throw new ValidationError(`${pf}.prf`, 'must be "hmac-sha256"');
    kdfOut = {
      function: "pbkdf2",
      params: {
        c: int(kdfParams, "c", pf, 1, MAX_PBKDF2_C),
        dklen: int(kdfParams, "dklen", pf, 32, 32),
        prf: "hmac-sha256",
        salt: hexField(kdfParams, "salt", pf),
      },
      message: "",
    };
  } else {
    throw new ValidationError(`${kdfF}.function`, 'must be "scrypt" or "pbkdf2"');
  }
  checkKdfCost(kdfOut, `${kdfF}.params`);
  if (kdf.message !== undefined && kdf.message !== "")
    throw new ValidationError(`${kdfF}.message`, "must be empty");

  const csF = `${field}.crypto.checksum`;
  const checksum = obj(crypto.checksum, csF);
  onlyKeys(checksum, ["function", "params", "message"], csF);
  if (checksum.function !== "sha256") throw new ValidationError(`${csF}.function`, 'must be "sha256"');
  onlyKeys(obj(checksum.params ?? {}, `${csF}.params`), [], `${csF}.params`);
  const csMessage = hexField(checksum, "message", csF, 32);

  const ciF = `${field}.crypto.cipher`;
  const cipher = obj(crypto.cipher, ciF);
  onlyKeys(cipher, ["function", "params", "message"], ciF);
  if (cipher.function !== "aes-128-ctr")
    throw new ValidationError(`${ciF}.function`, 'must be "aes-128-ctr"');
  const ciParams = obj(cipher.params, `${ciF}.params`);
  onlyKeys(ciParams, ["iv"], `${ciF}.params`);
  const iv = hexField(ciParams, "iv", `${ciF}.params`, 16);
  const ciMessage = hexField(cipher, "message", ciF, opts.anySecretLength === true ? undefined : 32);

  const path = root.path === undefined ? "" : str(root, "path", field);
  if (path !== "") parsePath(path, `${field}.path`);
  const pubkey = root.pubkey === undefined ? "" : str(root, "pubkey", field);
  if (pubkey !== "") fromHex(pubkey, `${field}.pubkey`, 48);
  const uuid = str(root, "uuid", field);
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(uuid)) {
    throw new ValidationError(`${field}.uuid`, "must be a UUID");
  }
  const description = root.description === undefined ? "" : str(root, "description", field);
  return {
    crypto: {
      kdf: kdfOut,
      checksum: { function: "sha256", params: {}, message: csMessage },
      cipher: { function: "aes-128-ctr", params: { iv }, message: ciMessage },
    },
    description,
    pubkey: pubkey.toLowerCase(),
    path,
    uuid,
    version: 4,
  };
}

function open(ks: KeystoreJson, key: Buffer, field: string): Uint8Array {
  try {
    const ciphertext = Buffer.from(ks.crypto.cipher.message, "hex");
    const checksum = createHash("sha256").update(key.subarray(16, 32)).update(ciphertext).digest();
    if (!timingSafeEqual(checksum, Buffer.from(ks.crypto.checksum.message, "hex"))) {
      throw new KeystorePasswordError(field);
    }
    const decipher = createDecipheriv(
      "aes-128-ctr",
      key.subarray(0, 16),
      Buffer.from(ks.crypto.cipher.params.iv, "hex"),
    );
    const secret = new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
    if (ks.pubkey !== "" && !bytesEqual(pubkeyFromSecret(secret), Buffer.from(ks.pubkey, "hex"))) {
      secret.fill(0);
      throw new ValidationError("keystore.pubkey", "does not match the decrypted secret key");
    }
    return secret;
  } finally {
    key.fill(0);
  }
}

/**
 * Decrypt a keystore (validated first). A wrong password is a KeystorePasswordError
 * ("<passwordField>: keystore password is wrong"). The pubkey field, when present, is checked
 * against the decrypted key.
 */
export async function decryptKeystore(
  value: unknown,
  password: string,
  passwordField = "password",
): Promise<Uint8Array> {
  const ks = parseKeystore(value);
  const pw = processPassword(password);
  try {
    return open(ks, await kdfAsync(ks.crypto.kdf, pw), passwordField);
  } finally {
    pw.fill(0);
  }
}

export function decryptKeystoreSync(
  value: unknown,
  password: string,
  passwordField = "password",
): Uint8Array {
  const ks = parseKeystore(value);
  const pw = processPassword(password);
  try {
    return open(ks, kdfSync(ks.crypto.kdf, pw), passwordField);
  } finally {
    pw.fill(0);
  }
}

/**
 * EIP-2335's encryption (the same KDFs, AES-128-CTR and checksum) over secret bytes of any length,
 * e.g. a mnemonic's UTF-8 kept at rest by the operator daemon: a keystore with an empty pubkey and
 * path. `decryptSecretBytes` opens it (a wrong password is a KeystorePasswordError).
 */
export async function encryptSecretBytes(
  secret: Uint8Array,
  password: string,
  opts: { kdf?: KdfSettings; description?: string } = {},
): Promise<KeystoreJson> {
  if (!(secret instanceof Uint8Array) || secret.length === 0 || secret.length > 4096)
    throw new ValidationError("secret", "must be 1 to 4096 bytes");
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const kdf = kdfModule(opts.kdf, salt);
  const pw = processPassword(password);
  try {
    const key = await kdfAsync(kdf, pw);
    return seal(
      { secret, password: "", path: "", pubkey: new Uint8Array(0), description: opts.description ?? "" },
      kdf,
      key,
      iv,
    );
  } finally {
    pw.fill(0);
  }
}

export async function decryptSecretBytes(
  value: unknown,
  password: string,
  passwordField = "password",
): Promise<Uint8Array> {
  const ks = parseKeystore(value, "keystore", { anySecretLength: true });
  const pw = processPassword(password);
  try {
    return open(ks, await kdfAsync(ks.crypto.kdf, pw), passwordField);
  } finally {
    pw.fill(0);
  }
}

/** Python `json.dumps` of one value: ", " and ": " separators, ensure_ascii escapes. */
function pythonJson(v: unknown): string {
  if (typeof v === "string") {
    return JSON.stringify(v).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(pythonJson).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.entries(v)
      .map(([k, x]) => `${pythonJson(k)}: ${pythonJson(x)}`)
      .join(", ")}}`;
  }
  throw new TypeError("unsupported JSON value");
}

/**
 * The file text, as ethstaker-deposit-cli writes it: Python `json.dumps` of the dataclass
 * (field order crypto, description, pubkey, path, uuid, version; ", " and ": " separators; no newline).
 */
export function serializeKeystore(ks: KeystoreJson): string {
  return pythonJson(ks);
}
