/**
 * The daemon directory (`poolkeeper daemon init --dir D`), one operator's:
 *
 *   D/daemon.json    settings (no secret): API URL, operator id, network, credentials, supply
 *   D/token          the operator's API token (0600)
 *   D/mnemonic.json  the mnemonic, encrypted EIP-2335-style (scrypt, AES-128-CTR, checksum)
 *   D/state.json     the next derivation index and the batch in progress (written atomically, fsynced)
 *   D/staging/       a batch's keystores while it is being made (removed when it is done)
 *
 * Everything is written with writeFileAtomic (0600, fsync, rename, directory fsync).
 */
import { promises as fs } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, type Env, ValidationError } from "@poolkeeper/core";
import {
  decryptSecretBytes,
  encryptSecretBytes,
  ensurePrivateDir,
  KeystorePasswordError,
  parseMnemonic,
  writeFileAtomic,
} from "@poolkeeper/keys";

export const DAEMON_FILES = {
  config: "daemon.json",
  token: "token",
  mnemonic: "mnemonic.json",
  state: "state.json",
  staging: "staging",
} as const;

export interface DaemonFileConfig {
  version: 1;
  apiUrl: string;
  operatorId: number;
  /** A built-in network name or an absolute path to a network JSON file. */
  network: string;
  withdrawalCredentials: string;
  keystoreDir: string;
  keymanagerUrl?: string;
  lowWater: number;
  batchSize: number;
}

/** The environment `daemon run` starts from: D/daemon.json's settings under `env` (set variables win). */
export async function envFromDir(dir: string, env: Env): Promise<Env> {
  const c = await readDaemonConfig(dir);
  const fill: Env = {
    DAEMON_DIR: resolve(dir),
    ADMIN_API_URL: c.apiUrl,
    DAEMON_OPERATOR_ID: String(c.operatorId),
    POOLKEEPER_NETWORK: c.network,
    DAEMON_WITHDRAWAL_CREDENTIALS: c.withdrawalCredentials,
    DAEMON_KEYSTORE_DIR: c.keystoreDir,
    DAEMON_KEYMANAGER_URL: c.keymanagerUrl,
    DAEMON_LOW_WATER: String(c.lowWater),
    DAEMON_BATCH_SIZE: String(c.batchSize),
  };
  const out: Env = { ...env };
  for (const [k, v] of Object.entries(fill)) if (out[k] === undefined || out[k] === "") out[k] = v;
  if ((out.ADMIN_API_TOKEN ?? "") === "" && (out.ADMIN_API_TOKEN_FILE ?? "") === "")
    out.ADMIN_API_TOKEN_FILE = join(resolve(dir), DAEMON_FILES.token);
  return out;
}

export async function readDaemonConfig(dir: string): Promise<DaemonFileConfig> {
  const file = join(dir, DAEMON_FILES.config);
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (e) {
    throw new ConfigError(
      `--dir: ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? "not JSON"}); run \`poolkeeper daemon init\` first`,
    );
  }
  const c = json as DaemonFileConfig;
  if (c === null || typeof c !== "object" || c.version !== 1)
    throw new ConfigError(`--dir: ${file} is not a daemon configuration of version 1`);
  return c;
}

export async function writeDaemonConfig(dir: string, c: DaemonFileConfig): Promise<void> {
  await writeFileAtomic(join(dir, DAEMON_FILES.config), `${JSON.stringify(c, null, 2)}\n`);
}

/** Encrypt the mnemonic (checked first) into D/mnemonic.json; refuses to replace one. */
export async function writeEncryptedMnemonic(
  dir: string,
  mnemonic: string,
  password: string,
  kdfCost?: number,
): Promise<void> {
  const canonical = parseMnemonic(mnemonic, { field: "mnemonic" }).mnemonic;
  const bytes = Buffer.from(canonical, "utf8");
  try {
    const ks = await encryptSecretBytes(bytes, password, {
      kdf: { function: "scrypt", ...(kdfCost === undefined ? {} : { cost: kdfCost }) },
      description: "poolkeeper operator daemon mnemonic",
    });
    await writeFileAtomic(join(dir, DAEMON_FILES.mnemonic), JSON.stringify(ks), { noOverwrite: true });
  } finally {
    bytes.fill(0);
  }
}

/** The mnemonic of D/mnemonic.json; a wrong password is a ValidationError naming `passwordField`. */
export async function readEncryptedMnemonic(
  dir: string,
  password: string,
  passwordField = "DAEMON_MNEMONIC_PASSWORD",
): Promise<string> {
  const file = join(dir, DAEMON_FILES.mnemonic);
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (e) {
    throw new ConfigError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? "not JSON"})`);
  }
  try {
    const bytes = await decryptSecretBytes(json, password, passwordField);
    const words = Buffer.from(bytes).toString("utf8");
    bytes.fill(0);
    return words;
  } catch (e) {
    if (e instanceof KeystorePasswordError) throw new ValidationError(passwordField, `does not open ${file}`);
    throw e;
  }
}

export interface DaemonState {
  version: 1;
  /** The first index never used: every index below it belongs to a finished or pending batch. */
  nextIndex: number;
  /** The batch being made: indices from..from+count-1 (null when none). */
  pending: { from: number; count: number } | null;
}

export async function readState(dir: string): Promise<DaemonState> {
  const file = join(dir, DAEMON_FILES.state);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, nextIndex: 0, pending: null };
    throw e;
  }
  const s = JSON.parse(text) as DaemonState;
  if (!Number.isSafeInteger(s.nextIndex) || s.nextIndex < 0)
    throw new ConfigError(`${file}: nextIndex is not a non-negative integer; the file is damaged`);
  return s;
}

/** Durable before it returns: a temp file fsynced, renamed over state.json, the directory fsynced. */
export async function writeState(dir: string, s: DaemonState): Promise<void> {
  await writeFileAtomic(join(dir, DAEMON_FILES.state), `${JSON.stringify(s)}\n`);
}

export async function prepareDaemonDir(dir: string): Promise<void> {
  await ensurePrivateDir(dir);
}
