import { availableParallelism, freemem } from "node:os";
import type { Network } from "@poolkeeper/core";
import { Piscina } from "piscina";
import { buildDepositData, type DepositDataJson } from "./deposit.js";
import { signingKeyPath, ValidatorKeyDeriver } from "./derive.js";
import { encryptKeystoreSync, type KdfSettings, SCRYPT_DEFAULTS, serializeKeystore } from "./keystore.js";
import { pubkeyFromSecret } from "./signing.js";
import { type WithdrawalCredentialsSpec, withdrawalCredentials } from "./withdrawal-credentials.js";

/**
 * The CPU-heavy part of key generation (EIP-2333 derivation, BLS signing, the keystore KDFs)
 * as one task function, run either inline or on a piscina worker_threads pool. The KDFs block
 * their thread by design; on the pool they block a worker, never the event loop.
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

const derivers = new Map<string, ValidatorKeyDeriver>();

function deriverFor(node: Uint8Array): ValidatorKeyDeriver {
  const key = Buffer.from(node).toString("base64");
  let d = derivers.get(key);
  if (d === undefined) {
    if (derivers.size > 4) derivers.clear();
    d = ValidatorKeyDeriver.fromNode(node);
    derivers.set(key, d);
  }
  return d;
}

/** Derive, sign and (optionally) encrypt the keys of `task.indices`. Pure CPU; no I/O. */
export function runKeyTask(task: KeyTask): KeyTaskResult[] {
  const deriver = deriverFor(task.node);
  const out: KeyTaskResult[] = [];
  for (const index of task.indices) {
    const keys = deriver.keys(index);
    try {
      const spec: WithdrawalCredentialsSpec =
        task.withdrawal.type === 0
          ? { type: 0, withdrawalPubkey: pubkeyFromSecret(keys.withdrawalKey) }
          : { type: task.withdrawal.type, address: task.withdrawal.address };
      const deposit = buildDepositData({
        secretKey: keys.signingKey,
        withdrawalCredentials: withdrawalCredentials(spec),
        amountGwei: task.amountGwei,
        network: task.network,
        depositCliVersion: task.depositCliVersion,
      });
      const result: KeyTaskResult = { index, pubkey: deposit.pubkey, deposit };
      if (task.keystore !== undefined) {
        const ks = encryptKeystoreSync({
          secret: keys.signingKey,
          password: task.keystore.password,
          path: signingKeyPath(index),
          kdf: task.keystore.kdf,
          pubkey: Buffer.from(deposit.pubkey, "hex"),
          ...(task.keystore.description === undefined ? {} : { description: task.keystore.description }),
        });
        result.keystore = serializeKeystore(ks);
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

/**
 * Worker threads for a job: one per core, and for scrypt no more than half of the free memory
 * allows (256 MiB per job at n=2^18). On this project's 2-core machine two scrypt workers did
 * 2.3 keystores/s against 1.2 for one, so memory, not a fixed 1, is the limit.
 */
export function defaultThreads(
  kdf: KdfSettings | undefined,
  opts: { cores?: number; freeBytes?: number } = {},
): number {
  const cores = Math.max(1, opts.cores ?? availableParallelism());
  if (kdf?.function !== "scrypt") return cores;
  const budget = (opts.freeBytes ?? freemem()) / 2;
  const byMemory = Math.floor(budget / scryptJobBytes(kdf.cost ?? SCRYPT_DEFAULTS.n));
  return Math.max(1, Math.min(cores, byMemory));
}

export interface KeyPool {
  readonly threads: number;
  run(task: KeyTask): Promise<KeyTaskResult[]>;
  close(): Promise<void>;
}

/** `threads` 0 runs tasks inline on the calling thread (small jobs: no worker start-up cost). */
export function createKeyPool(threads: number): KeyPool {
  if (!Number.isInteger(threads) || threads < 0) throw new RangeError("threads must be an integer >= 0");
  if (threads === 0) {
    return {
      threads: 0,
      run: async (task) => runKeyTask(task),
      close: async () => {},
    };
  }
  const piscina = new Piscina({
    filename: new URL("./pool-worker.mjs", import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 1000,
  });
  return {
    threads,
    run: (task) => piscina.run(task) as Promise<KeyTaskResult[]>,
    close: () => piscina.destroy(),
  };
}
