import { availableParallelism, freemem } from "node:os";
import type { Network } from "@poolkeeper/core";
import { Piscina } from "piscina";
import { buildDepositData, type DepositDataJson } from "./deposit.js";
import { signingKeyPath, ValidatorKeyDeriver, type ValidatorKeys } from "./derive.js";
import {
  type EncryptOptions,
  encryptKeystore,
  encryptKeystoreSync,
  type KdfSettings,
  SCRYPT_DEFAULTS,
  serializeKeystore,
} from "./keystore.js";
import { pubkeyFromSecret } from "./signing.js";
import { type WithdrawalCredentialsSpec, withdrawalCredentials } from "./withdrawal-credentials.js";

/**
 * The CPU-heavy part of key generation and where it runs.
 *
 * - EIP-2333 derivation and BLS signing are JavaScript/N-API work on the calling thread: bulk
 *   runs go to a piscina worker_threads pool (generate.ts: cores - 1 workers, the main thread
 *   working too), small ones run inline.
 * - The keystore KDFs (scrypt, PBKDF2) are native code: they run through node:crypto's async API
 *   on libuv's thread pool, never on the event loop, with a concurrency that follows cores and
 *   free memory (defaultThreads). Measured here: this reaches the bare KDF's own throughput,
 *   while a worker pool first pays 0.7-2 s of start-up (each worker loads the TypeScript sources)
 *   for no gain, since the KDF does not run faster in a worker.
 * `runKeyTask` (worker or inline) can also encrypt synchronously: for callers that run it on a
 * worker of their own.
 */

export type WithdrawalSetting = { type: 0 } | { type: 1 | 2; address: Uint8Array };

export interface KeyTask {
  /** Secret of the m/12381/3600 node (32 bytes): handle like the mnemonic. */
  node: Uint8Array;
  indices: number[];
  withdrawal: WithdrawalSetting;
  amountGwei: bigint;
  network: Network;
  depositCliVersion: string;
  /** When set, each index also gets a keystore (serialized file text). */
  keystore?: { password: string; kdf: KdfSettings; description?: string };
}

export interface KeyTaskResult {
  index: number;
  pubkey: string;
  deposit: DepositDataJson;
  keystore?: string;
}

/** No cache: making a deriver from the node is a byte conversion, and secrets should not linger. */
function deriverFor(node: Uint8Array): ValidatorKeyDeriver {
  return ValidatorKeyDeriver.fromNode(node);
}

function depositFor(task: Omit<KeyTask, "indices">, keys: ValidatorKeys): DepositDataJson {
  const spec: WithdrawalCredentialsSpec =
    task.withdrawal.type === 0
      ? { type: 0, withdrawalPubkey: pubkeyFromSecret(keys.withdrawalKey) }
      : { type: task.withdrawal.type, address: task.withdrawal.address };
  return buildDepositData({
    secretKey: keys.signingKey,
    withdrawalCredentials: withdrawalCredentials(spec),
    amountGwei: task.amountGwei,
    network: task.network,
    depositCliVersion: task.depositCliVersion,
  });
}

function keystoreOptions(
  task: Omit<KeyTask, "indices">,
  keys: ValidatorKeys,
  pubkey: string,
): EncryptOptions {
  const ks = task.keystore!;
  return {
    secret: keys.signingKey,
    password: ks.password,
    path: signingKeyPath(keys.index),
    kdf: ks.kdf,
    pubkey: Buffer.from(pubkey, "hex"),
    ...(ks.description === undefined ? {} : { description: ks.description }),
  };
}

/** One index's keys and deposit entry, ready for its keystore. Holds secrets: see sealKeystore. */
export interface PreparedKey {
  index: number;
  pubkey: string;
  deposit: DepositDataJson;
  keys: ValidatorKeys;
}

/** Derive and sign one index (blocking, ~1.2 ms here). Pass the result to sealKeystore or wipeKey. */
export function prepareKey(task: Omit<KeyTask, "indices">, index: number): PreparedKey {
  const keys = deriverFor(task.node).keys(index);
  try {
    const deposit = depositFor(task, keys);
    return { index, pubkey: deposit.pubkey, deposit, keys };
  } catch (e) {
    wipeKeys(keys);
    throw e;
  }
}

function wipeKeys(keys: ValidatorKeys): void {
  keys.signingKey.fill(0);
  keys.withdrawalKey.fill(0);
}

/** Zero a prepared key's secrets (when it will not be sealed). */
export function wipeKey(p: PreparedKey): void {
  wipeKeys(p.keys);
}

/**
 * The keystore text of a prepared key: the KDF runs on libuv's pool (async node:crypto). Its
 * secrets are zeroed when this settles. The KDF has started when this returns, so a caller can
 * prepare the next key while it runs.
 */
export async function sealKeystore(
  task: Omit<KeyTask, "indices">,
  p: PreparedKey,
): Promise<KeyTaskResult & { keystore: string }> {
  try {
    const keystore = serializeKeystore(await encryptKeystore(keystoreOptions(task, p.keys, p.pubkey)));
    return { index: p.index, pubkey: p.pubkey, deposit: p.deposit, keystore };
  } finally {
    wipeKeys(p.keys);
  }
}

/**
 * The keys of `task.indices` with their deposit entries, keystores encrypted on libuv's pool
 * (async KDF). Derivation and signing run on the calling thread.
 */
export async function runKeyTaskAsync(task: KeyTask): Promise<KeyTaskResult[]> {
  const out: KeyTaskResult[] = [];
  for (const index of task.indices) {
    const p = prepareKey(task, index);
    if (task.keystore === undefined) {
      wipeKey(p);
      out.push({ index, pubkey: p.pubkey, deposit: p.deposit });
    } else {
      out.push(await sealKeystore(task, p));
    }
  }
  return out;
}

/** Derive, sign and (optionally) encrypt the keys of `task.indices`, blocking. Pure CPU; no I/O. */
export function runKeyTask(task: KeyTask): KeyTaskResult[] {
  const deriver = deriverFor(task.node);
  const out: KeyTaskResult[] = [];
  for (const index of task.indices) {
    const keys = deriver.keys(index);
    try {
      const deposit = depositFor(task, keys);
      const result: KeyTaskResult = { index, pubkey: deposit.pubkey, deposit };
      if (task.keystore !== undefined) {
        result.keystore = serializeKeystore(encryptKeystoreSync(keystoreOptions(task, keys, deposit.pubkey)));
      }
      out.push(result);
    } finally {
      keys.signingKey.fill(0);
      keys.withdrawalKey.fill(0);
    }
  }
  return out;
}

/** Memory one scrypt job needs (V = 128·N·r bytes, plus working room). */
export function scryptJobBytes(n: number = SCRYPT_DEFAULTS.n, r: number = SCRYPT_DEFAULTS.r): number {
  return 128 * n * r + 32 * 1024 * 1024;
}

/** Threads in libuv's pool, where node:crypto runs async KDFs (UV_THREADPOOL_SIZE, default 4). */
export function uvThreadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4;
}

/**
 * How many jobs to run at once. Derivation and signing (no kdf): one per core. Keystores: one per
 * core, no more than half of the free memory allows for scrypt (256 MiB per job at n=2^18), and no
 * more than libuv's pool has threads. On this project's 2-core machine two concurrent scrypt jobs
 * did 2.3 keystores/s against 1.2 for one: memory, not a fixed 1, is the limit.
 */
export function defaultThreads(
  kdf: KdfSettings | undefined,
  opts: { cores?: number; freeBytes?: number; uvThreads?: number } = {},
): number {
  const cores = Math.max(1, opts.cores ?? availableParallelism());
  if (kdf === undefined) return cores;
  const limit = Math.min(cores, opts.uvThreads ?? uvThreadpoolSize());
  if (kdf.function !== "scrypt") return Math.max(1, limit);
  const budget = (opts.freeBytes ?? freemem()) / 2;
  const byMemory = Math.floor(budget / scryptJobBytes(kdf.cost ?? SCRYPT_DEFAULTS.n));
  return Math.max(1, Math.min(limit, byMemory));
}

export interface KeyPool {
  readonly threads: number;
  run(task: KeyTask): Promise<KeyTaskResult[]>;
  close(): Promise<void>;
}

/**
 * Runs KeyTasks: with a keystore, on the calling thread with the KDF on libuv's pool; without,
 * on `threads` worker threads (started on first use), or inline when `threads` is 0.
 */
export function createKeyPool(threads: number): KeyPool {
  if (!Number.isInteger(threads) || threads < 0) throw new RangeError("threads must be an integer >= 0");
  let piscina: Piscina | undefined;
  return {
    threads,
    run: async (task) => {
      if (task.keystore !== undefined) return runKeyTaskAsync(task);
      if (threads === 0) return runKeyTask(task);
      piscina ??= new Piscina({
        filename: new URL("./pool-worker.mjs", import.meta.url).href,
        minThreads: threads,
        maxThreads: threads,
        idleTimeout: 1000,
        // A second task waits on the worker's own port, so a worker never idles while the main
        // thread (which also derives keys) is too busy to hand it the next one.
        concurrentTasksPerWorker: 2,
      });
      return (await piscina.run(task)) as KeyTaskResult[];
    },
    close: async () => {
      await piscina?.destroy();
    },
  };
}
