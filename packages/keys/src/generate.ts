import { constants, promises as fs } from "node:fs";
import { join } from "node:path";
import { formatGweiAsEth, isPoolkeeperError, type Network, ValidationError } from "@poolkeeper/core";
import {
  checkDepositAmount,
  DEFAULT_DEPOSIT_CLI_VERSION,
  type DepositDataJson,
  launchpadAcceptsCliVersion,
  MIN_LAUNCHPAD_DEPOSIT_CLI_VERSION,
  serializeDepositDataFile,
} from "./deposit.js";
import { signingKeyPath, ValidatorKeyDeriver } from "./derive.js";
import { KEYS_ERRORS, KeysError, KeystorePasswordError } from "./errors.js";
import {
  checkWritableDir,
  ensurePrivateDir,
  fsyncDir,
  removeStaleTempFiles,
  writeFileAtomic,
} from "./fs-atomic.js";
import { checkKdfSettings, decryptKeystore, type KdfSettings, parseKeystore } from "./keystore.js";
import { type MnemonicLanguage, parseMnemonic, seedFromCanonical } from "./mnemonic.js";
import {
  createKeyPool,
  defaultThreads,
  type KeyPool,
  type KeyTask,
  type KeyTaskResult,
  type PreparedKey,
  prepareKey,
  runKeyTask,
  sealKeystore,
  type WithdrawalSetting,
  wipeKey,
} from "./pool.js";
import { MIN_ACTIVATION_BALANCE_GWEI } from "./withdrawal-credentials.js";

/**
 * Bulk key generation, as `poolkeeper keys generate` runs it: keystore-m_12381_3600_<i>_0_0-<unix>.json
 * per index and one deposit_data-<unix>.json, like ethstaker-deposit-cli.
 *
 * - Every input is validated before anything is written.
 * - Keystores are written atomically as they are made. A run that is interrupted and restarted
 *   with the same arguments keeps the keystores already written (after checking that each holds
 *   this mnemonic's key for its index) and only makes the missing ones: never two files for one
 *   index. The deposit data file is written once, at the end, for all requested indices.
 * - A lock file in the output directory stops two runs from writing there at the same time.
 */

export const MAX_VALIDATOR_INDEX = 0xffffffff;
/** EIP-2335 gives no minimum; the deposit CLIs require 8 characters. */
export const MIN_KEYSTORE_PASSWORD_LENGTH = 8;
const LOCK_FILE = ".poolkeeper-generate.lock";
/** From this many keys on, derivation and signing use worker threads (see validate). */
const WORKER_THRESHOLD = 192;
const KEYSTORE_RE = /^keystore-m_12381_3600_(\d+)_0_0-(\d+)\.json$/;
const DEPOSIT_RE = /^deposit_data-(\d+)\.json$/;

export interface GenerateOptions {
  mnemonic: string;
  mnemonicPassword?: string;
  mnemonicLanguage?: MnemonicLanguage;
  network: Network;
  startIndex: number;
  count: number;
  /** 20-byte execution address; none → 0x00 (BLS) credentials. */
  withdrawalAddress?: Uint8Array;
  /** 0x02 credentials (needs withdrawalAddress). */
  compounding?: boolean;
  /** Default 32 ETH; 32..2048 ETH only with compounding. */
  amountGwei?: bigint;
  kdf?: KdfSettings;
  /** Required unless noKeystores. */
  keystorePassword?: string;
  noKeystores?: boolean;
  outDir: string;
  depositCliVersion?: string;
  /**
   * Worker threads for derivation and signing (0 = inline; default from 192 keys on: cores - 1,
   * the calling thread working too) and, when not 0, the number of keystores encrypted at once
   * (default from cores and free memory, see defaultThreads).
   */
  threads?: number;
  /** Called after each finished index (done counts indices, total = count). */
  onProgress?: (done: number, total: number) => void;
  /** Names the user-facing option of a field in errors (e.g. mnemonic → "--mnemonic-file"). */
  fieldNames?: Partial<Record<GenerateField, string>>;
  /** Unix seconds for the file names (default: now). */
  timestamp?: number;
}

export type GenerateField =
  | "mnemonic"
  | "mnemonicPassword"
  | "startIndex"
  | "count"
  | "withdrawalAddress"
  | "compounding"
  | "amount"
  | "kdf"
  | "kdfCost"
  | "keystorePassword"
  | "outDir"
  | "depositCliVersion"
  | "threads";

export interface GenerateResult {
  outDir: string;
  depositDataFile: string;
  /** Whether depositDataFile was written by this run (false: an identical one already existed). */
  depositDataWritten: boolean;
  /** Keystore files by index, in index order (empty with noKeystores). */
  keystoreFiles: string[];
  keystoresCreated: number;
  keystoresReused: number;
  deposits: DepositDataJson[];
  threads: number;
}

interface Validated {
  canonicalMnemonic: string;
  withdrawal: WithdrawalSetting;
  amountGwei: bigint;
  depositCliVersion: string;
  kdf: KdfSettings;
  threads: number;
  kdfConcurrency: number;
  timestamp: number;
}

function validate(o: GenerateOptions): Validated {
  const name = (f: GenerateField) => o.fieldNames?.[f] ?? f;
  if (!Number.isSafeInteger(o.count) || o.count < 1) {
    throw new ValidationError(name("count"), `must be an integer of at least 1, got ${String(o.count)}`);
  }
  if (!Number.isSafeInteger(o.startIndex) || o.startIndex < 0 || o.startIndex > MAX_VALIDATOR_INDEX) {
    throw new ValidationError(name("startIndex"), `must be an integer from 0 to ${MAX_VALIDATOR_INDEX}`);
  }
  if (o.startIndex + o.count - 1 > MAX_VALIDATOR_INDEX) {
    throw new ValidationError(
      name("count"),
      `start index ${o.startIndex} + count ${o.count} goes past the last EIP-2334 index ${MAX_VALIDATOR_INDEX}`,
    );
  }
  let withdrawal: WithdrawalSetting;
  if (o.withdrawalAddress === undefined) {
    if (o.compounding === true) {
      throw new ValidationError(
        name("compounding"),
        "needs a withdrawal address (0x02 credentials pay to an address)",
      );
    }
    withdrawal = { type: 0 };
  } else {
    if (!(o.withdrawalAddress instanceof Uint8Array) || o.withdrawalAddress.length !== 20) {
      throw new ValidationError(name("withdrawalAddress"), "must be a 20-byte execution address");
    }
    withdrawal = { type: o.compounding === true ? 2 : 1, address: o.withdrawalAddress };
  }
  const amountGwei = o.amountGwei ?? MIN_ACTIVATION_BALANCE_GWEI;
  checkDepositAmount(amountGwei, withdrawal.type, name("amount"));
  const depositCliVersion = o.depositCliVersion ?? DEFAULT_DEPOSIT_CLI_VERSION;
  if (!launchpadAcceptsCliVersion(depositCliVersion)) {
    throw new ValidationError(
      name("depositCliVersion"),
      `"${depositCliVersion}" must be a version x.y.z of at least ${MIN_LAUNCHPAD_DEPOSIT_CLI_VERSION} (the staking launchpad rejects older ones)`,
    );
  }
  const kdf: KdfSettings = o.kdf ?? { function: "scrypt" };
  if (kdf.function !== "scrypt" && kdf.function !== "pbkdf2") {
    throw new ValidationError(
      name("kdf"),
      `"${String(kdf.function)}" is not supported: use scrypt or pbkdf2`,
    );
  }
  if (o.noKeystores !== true) checkKdfSettings(kdf, name(kdf.cost === undefined ? "kdf" : "kdfCost"));
  if (o.noKeystores !== true) {
    if (typeof o.keystorePassword !== "string") {
      throw new ValidationError(
        name("keystorePassword"),
        "is required to write keystores (or use no keystores)",
      );
    }
    if ([...o.keystorePassword].length < MIN_KEYSTORE_PASSWORD_LENGTH) {
      throw new ValidationError(
        name("keystorePassword"),
        `must have at least ${MIN_KEYSTORE_PASSWORD_LENGTH} characters`,
      );
    }
  }
  if (typeof o.outDir !== "string" || o.outDir === "")
    throw new ValidationError(name("outDir"), "is required");
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 0 || o.threads > 256)) {
    throw new ValidationError(name("threads"), "must be an integer from 0 to 256");
  }
  // Worker threads for derivation and signing. Each worker first starts and loads its modules
  // before its first result, so small runs are faster inline (WORKER_THRESHOLD is where the
  // workers start to pay; bench/keys measures it).
  // The main thread shares the work with them, so one core is left for it.
  const threads = o.threads ?? (o.count < WORKER_THRESHOLD ? 0 : Math.max(0, defaultThreads(undefined) - 1));
  // Keystores encrypted at once (KDFs on libuv's pool).
  const kdfConcurrency = o.threads === undefined || o.threads === 0 ? defaultThreads(kdf) : o.threads;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const parsed = parseMnemonic(o.mnemonic, {
    field: name("mnemonic"),
    ...(o.mnemonicLanguage === undefined ? {} : { language: o.mnemonicLanguage }),
  });
  return {
    canonicalMnemonic: parsed.mnemonic,
    withdrawal,
    amountGwei,
    depositCliVersion,
    kdf,
    threads,
    kdfConcurrency,
    timestamp,
  };
}

/**
 * Check the output directory once, before any work: it is (or is created as) a directory in which
 * files can be created. Any failure is one ValidationError naming the field and the reason.
 */
async function prepareOutDir(dir: string, field: string): Promise<void> {
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? "error";
  const st = await fs.stat(dir).catch(() => undefined);
  if (st !== undefined && !st.isDirectory()) throw new ValidationError(field, `${dir} is not a directory`);
  try {
    await ensurePrivateDir(dir);
  } catch (e) {
    throw new ValidationError(field, `cannot create directory ${dir} (${code(e)})`);
  }
  try {
    await checkWritableDir(dir);
  } catch (e) {
    throw new ValidationError(field, `cannot create files in ${dir} (${code(e)})`);
  }
}

async function acquireLock(dir: string, field: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await h.writeFile(String(process.pid));
      await h.close();
      return () => fs.rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number.parseInt(await fs.readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new KeysError(
          KEYS_ERRORS.OUTDIR_LOCKED,
          `${field}: another key generation (pid ${pid}) is writing to ${dir}; wait for it or remove ${path} if it is gone`,
        );
      }
      await fs.rm(path, { force: true }); // stale: its process is gone (an interrupted run)
    }
  }
  throw new KeysError(KEYS_ERRORS.OUTDIR_LOCKED, `${field}: cannot lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface ExistingKeystore {
  file: string;
  pubkey: string;
}

/** Keystores already in outDir for the requested indices (an earlier, interrupted run). */
async function existingKeystores(
  dir: string,
  first: number,
  last: number,
  field: string,
): Promise<Map<number, ExistingKeystore>> {
  const found = new Map<number, ExistingKeystore>();
  for (const name of await fs.readdir(dir)) {
    const m = KEYSTORE_RE.exec(name);
    if (m === null) continue;
    const index = Number(m[1]);
    if (index < first || index > last) continue;
    const file = join(dir, name);
    const previous = found.get(index);
    if (previous !== undefined) {
      throw new KeysError(
        KEYS_ERRORS.DUPLICATE_KEYSTORE,
        `${field}: ${dir} holds two keystores for index ${index} (${previous.file}, ${file}); remove one and run again`,
      );
    }
    let ks: ReturnType<typeof parseKeystore>;
    try {
      ks = parseKeystore(JSON.parse(await fs.readFile(file, "utf8")), name);
    } catch (e) {
      throw new KeysError(
        KEYS_ERRORS.BAD_KEYSTORE,
        `${field}: ${file} is not a valid keystore (${isPoolkeeperError(e) ? e.message : "unreadable JSON"}); move it away and run again`,
      );
    }
    if (ks.path !== signingKeyPath(index)) {
      throw new KeysError(
        KEYS_ERRORS.BAD_KEYSTORE,
        `${field}: ${file} has path "${ks.path}", not ${signingKeyPath(index)}; move it away and run again`,
      );
    }
    found.set(index, { file, pubkey: ks.pubkey });
  }
  return found;
}

/** An existing deposit_data file with exactly this content (a finished run repeated). */
async function identicalDepositFile(dir: string, text: string): Promise<string | undefined> {
  for (const name of await fs.readdir(dir)) {
    if (!DEPOSIT_RE.test(name)) continue;
    const file = join(dir, name);
    const st = await fs.stat(file);
    if (st.size !== Buffer.byteLength(text)) continue;
    if ((await fs.readFile(file, "utf8")) === text) return file;
  }
  return undefined;
}

/**
 * Run `items` through `lanes`: each lane takes the next item when it is free. After a failure
 * nothing new starts, the items in flight finish (so no write is left running), then the first
 * error is thrown.
 */
async function runLanes<T>(
  items: readonly T[],
  lanes: readonly ((item: T) => Promise<void>)[],
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (fn: (item: T) => Promise<void>) => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(lanes.slice(0, Math.max(1, items.length)).map(lane));
  if (failure !== undefined) throw failure.error;
}

function chunks(indices: number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += size) out.push(indices.slice(i, i + size));
  return out;
}

/** Generate keystores and deposit data (see the module comment). */
export async function generateKeys(o: GenerateOptions): Promise<GenerateResult> {
  const v = validate(o);
  const withKeystores = o.noKeystores !== true;
  const first = o.startIndex;
  const last = o.startIndex + o.count - 1;
  const outName = o.fieldNames?.outDir ?? "outDir";

  await prepareOutDir(o.outDir, outName);
  const releaseLock = await acquireLock(o.outDir, outName);
  const seed = seedFromCanonical(v.canonicalMnemonic, o.mnemonicPassword ?? "");
  const node = ValidatorKeyDeriver.fromSeed(seed).nodeSecret();
  seed.fill(0);
  let pool: KeyPool | undefined;
  try {
    await removeStaleTempFiles(o.outDir);
    const existing = withKeystores
      ? await existingKeystores(o.outDir, first, last, outName)
      : new Map<number, ExistingKeystore>();
    const all = Array.from({ length: o.count }, (_, k) => first + k);
    const missing = all.filter((i) => !existing.has(i));
    const reused = all.filter((i) => existing.has(i));

    const base: Omit<KeyTask, "indices"> = {
      node,
      withdrawal: v.withdrawal,
      amountGwei: v.amountGwei,
      network: o.network,
      depositCliVersion: v.depositCliVersion,
    };
    const results = new Map<number, KeyTaskResult>();
    const keystoreFiles = new Map<number, string>();
    let done = 0;
    const report = (n: number) => {
      done += n;
      o.onProgress?.(done, o.count);
    };
    pool = createKeyPool(v.threads);

    // 1. Deposit entries for indices whose keystore exists; check the keystore holds that key.
    const depositOnly = withKeystores ? reused : all;
    const chunkSize = Math.max(
      1,
      Math.min(32, Math.ceil(depositOnly.length / Math.max(1, pool.threads * 4))),
    );
    const handle = (rs: KeyTaskResult[]) => {
      for (const r of rs) {
        results.set(r.index, r);
        const ex = existing.get(r.index);
        if (ex !== undefined) {
          if (ex.pubkey !== "" && ex.pubkey !== r.pubkey) {
            throw new KeysError(
              KEYS_ERRORS.FOREIGN_KEYSTORE,
              `${outName}: ${ex.file} holds another key than index ${r.index} of this mnemonic (a different mnemonic or mnemonic password?); use another output directory`,
            );
          }
          keystoreFiles.set(r.index, ex.file);
        }
        report(1);
      }
    };
    const keyPool = pool;
    const poolLane = async (indices: number[]) => handle(await keyPool.run({ ...base, indices }));
    // With workers, the main thread works too: it covers the workers' start-up (each loads its
    // modules), then shares the queue with them.
    const inlineLane = async (indices: number[]) => {
      handle(runKeyTask({ ...base, indices }));
      await new Promise((r) => setImmediate(r));
    };
    const depositLanes =
      pool.threads === 0
        ? [poolLane]
        : [...Array.from({ length: pool.threads * 2 }, () => poolLane), inlineLane];
    // Workers first (their entry is bundled while this thread is still idle), then share the work.
    if (pool.threads > 0 && depositOnly.length > 0) await pool.start();
    await runLanes(chunks(depositOnly, chunkSize), depositLanes);

    // 2. Missing keystores: one index per task (the KDF dominates), written as each finishes.
    if (withKeystores && missing.length > 0 && reused.length > 0) {
      // All keystores of one run share one password: check it opens one already there (one KDF).
      const first = existing.get(reused[0]!)!;
      try {
        const secret = await decryptKeystore(
          JSON.parse(await fs.readFile(first.file, "utf8")),
          o.keystorePassword!,
        );
        secret.fill(0);
      } catch (e) {
        if (!(e instanceof KeystorePasswordError)) throw e;
        throw new ValidationError(
          o.fieldNames?.keystorePassword ?? "keystorePassword",
          `does not open ${first.file}, written by an earlier run into ${o.outDir}; use that run's password`,
        );
      }
    }
    if (withKeystores) {
      const keystore = { password: o.keystorePassword!, kdf: v.kdf };
      const ksTask = { ...base, keystore };
      // Each lane keeps one KDF running on libuv's pool. While they run, the next key is derived
      // and signed on this thread and waits, ready, for whichever lane frees first: its KDF starts
      // the moment the lane's one ends. A lane does not wait for its file to reach the disk (two
      // fsyncs) either; writes in flight are bounded, and the first failure stops the lanes.
      const writes = new Set<Promise<void>>();
      let writeFailure: { error: unknown } | undefined;
      let laneFailure: { error: unknown } | undefined;
      let nextMissing = 0;
      const ready: PreparedKey[] = [];
      const prepareNext = (): PreparedKey | undefined => {
        if (laneFailure !== undefined || writeFailure !== undefined) return undefined;
        if (nextMissing >= missing.length) return undefined;
        return prepareKey(ksTask, missing[nextMissing++]!);
      };
      const keystoreLane = async () => {
        try {
          for (;;) {
            const current = ready.shift() ?? prepareNext();
            if (current === undefined) return;
            const sealing = sealKeystore(ksTask, current); // the KDF is running from here
            if (ready.length === 0) {
              const ahead = prepareNext();
              if (ahead !== undefined) ready.push(ahead);
            }
            const r = await sealing;
            const file = join(
              o.outDir,
              `keystore-${signingKeyPath(r.index).replaceAll("/", "_")}-${v.timestamp}.json`,
            );
            const { keystore: text, ...entry } = r;
            const write = writeFileAtomic(file, text, { noOverwrite: true, syncDir: false }).then(
              () => {
                results.set(entry.index, entry);
                keystoreFiles.set(entry.index, file);
                report(1);
              },
              (error: unknown) => {
                writeFailure ??= { error };
              },
            );
            writes.add(write);
            void write.finally(() => writes.delete(write));
            if (writes.size >= 2 * v.kdfConcurrency) await Promise.race(writes);
          }
        } catch (error) {
          laneFailure ??= { error };
        }
      };
      const lanes = Math.min(v.kdfConcurrency, missing.length);
      try {
        // One key ready per lane before the first KDF, so that the lanes start (and, with KDFs
        // of equal length, end) together instead of one key's preparation apart.
        for (let k = 0; k < lanes; k++) {
          const p = prepareNext();
          if (p !== undefined) ready.push(p);
        }
        await Promise.all(Array.from({ length: lanes }, keystoreLane));
      } finally {
        for (const p of ready.splice(0)) wipeKey(p);
        await Promise.all(writes);
      }
      if (laneFailure !== undefined) throw laneFailure.error;
      if (writeFailure !== undefined) throw writeFailure.error;
      await fsyncDir(o.outDir);
    }

    // 3. One deposit_data file for all requested indices, written last.
    const deposits = all.map((i) => results.get(i)!.deposit);
    const text = serializeDepositDataFile(deposits);
    let depositDataFile = await identicalDepositFile(o.outDir, text);
    const depositDataWritten = depositDataFile === undefined;
    for (let ts = v.timestamp; depositDataFile === undefined; ts++) {
      // Another file of the same second (a run with other arguments): take the next second.
      const file = join(o.outDir, `deposit_data-${ts}.json`);
      try {
        await writeFileAtomic(file, text, { noOverwrite: true });
        depositDataFile = file;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || ts > v.timestamp + 100) throw e;
      }
    }
    return {
      outDir: o.outDir,
      depositDataFile,
      depositDataWritten,
      keystoreFiles: all.filter((i) => keystoreFiles.has(i)).map((i) => keystoreFiles.get(i)!),
      keystoresCreated: withKeystores ? missing.length : 0,
      keystoresReused: withKeystores ? reused.length : 0,
      deposits,
      threads: pool.threads,
    };
  } finally {
    node.fill(0);
    await pool?.close();
    await releaseLock();
  }
}

/** A one-line summary of the deposits for people ("3 deposits of 32 ETH, 0x01 credentials"). */
export function describeDeposits(deposits: readonly DepositDataJson[]): string {
  if (deposits.length === 0) return "no deposits";
  const d = deposits[0]!;
  return `${deposits.length} deposit${deposits.length === 1 ? "" : "s"} of ${formatGweiAsEth(BigInt(d.amount))} ETH, 0x${d.withdrawal_credentials.slice(0, 2)} credentials, ${d.network_name}`;
}
