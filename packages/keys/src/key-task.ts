import type { Network } from "@poolkeeper/core";
import { buildDepositData, type DepositDataJson } from "./deposit.js";
import { signingKeyPath, ValidatorKeyDeriver, type ValidatorKeys } from "./derive.js";
import {
  type EncryptOptions,
  encryptKeystore,
  encryptKeystoreSync,
  type KdfSettings,
  serializeKeystore,
} from "./keystore.js";
import { pubkeyFromSecret } from "./signing.js";
import { type WithdrawalCredentialsSpec, withdrawalCredentials } from "./withdrawal-credentials.js";

/**
 * One bulk key-generation task: derive, sign and (optionally) encrypt a list of indices. Pure CPU,
 * no I/O and no thread pool of its own: pool.ts runs it inline or on worker threads (this module
 * is what a worker loads).
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

/** Derive and sign one index (blocking: derivation and a BLS signature). Pass the result to sealKeystore or wipeKey. */
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
