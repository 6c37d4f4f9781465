/**
 * `poolkeeper daemon init`: one operator's daemon directory (dir.ts). The pool's withdrawal
 * credentials are fetched from the admin API (GET /v1/pool/identity) and must be confirmed; the
 * operator token is checked (GET /v1/operators/{id}); the mnemonic is generated or imported and
 * stored encrypted. Nothing here prints or logs the mnemonic, its password or the token.
 */
import { promises as fs } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { createApiClient } from "@poolkeeper/contract";
import { loadNetwork, toHex0x, ValidationError } from "@poolkeeper/core";
import { generateMnemonic, writeFileAtomic } from "@poolkeeper/keys";
import {
  DAEMON_FILES,
  type DaemonFileConfig,
  prepareDaemonDir,
  writeDaemonConfig,
  writeEncryptedMnemonic,
  writeState,
} from "./dir.js";

export interface PoolIdentityView {
  network: string;
  withdrawalCredentials: string;
  genesisForkVersion: string;
}

export interface InitDaemonOptions {
  dir: string;
  apiUrl: string;
  operatorId: number;
  token: string;
  /** A built-in network name or a network JSON file. */
  network: string;
  /** Imported; none: a new 24-word mnemonic is generated. */
  mnemonic?: string;
  /** Where a generated mnemonic's backup goes (0600); never printed. */
  mnemonicOut?: string;
  password: string;
  keystoreDir?: string;
  keymanagerUrl?: string;
  lowWater: number;
  batchSize: number;
  /** The first index this daemon derives (an imported mnemonic whose lower indices are in use). */
  startIndex?: number;
  /** Shown the pool's identity: true to accept it. */
  confirm(identity: PoolIdentityView): Promise<boolean>;
  /** scrypt n of the mnemonic file (default EIP-2335's 262144). */
  mnemonicKdfCost?: number;
  fetch?: typeof fetch;
}

export interface InitDaemonResult {
  dir: string;
  generated: boolean;
  identity: PoolIdentityView;
  operatorName: string;
}

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

export async function initDaemonDir(o: InitDaemonOptions): Promise<InitDaemonResult> {
  const dir = resolve(o.dir);
  for (const f of [DAEMON_FILES.config, DAEMON_FILES.mnemonic, DAEMON_FILES.state])
    if (await exists(join(dir, f)))
      throw new ValidationError("--dir", `${dir} already holds a daemon (${f}); pick a new directory`);
  if ([...o.password].length < 8) throw new ValidationError("password", "must have at least 8 characters");
  if (!Number.isSafeInteger(o.lowWater) || o.lowWater < 0)
    throw new ValidationError("--low-water", "must be a non-negative integer");
  if (!Number.isSafeInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 10_000)
    throw new ValidationError("--batch-size", "must be an integer from 1 to 10000");
  const startIndex = o.startIndex ?? 0;
  if (!Number.isSafeInteger(startIndex) || startIndex < 0)
    throw new ValidationError("--start-index", "must be a non-negative integer");
  const networkArg = o.network.endsWith(".json") && !isAbsolute(o.network) ? resolve(o.network) : o.network;
  const network = loadNetwork(networkArg);
  const api = createApiClient({ baseUrl: o.apiUrl, token: o.token, ...(o.fetch ? { fetch: o.fetch } : {}) });
  const operator = (await api.getOperator({ params: { id: o.operatorId } })).data;
  const identity = (await api.getPoolIdentity()).data;
  if (identity.genesisForkVersion !== toHex0x(network.genesisForkVersion))
    throw new ValidationError(
      "--network",
      `${network.name} has genesis fork version ${toHex0x(network.genesisForkVersion)}; the pool's network ${identity.network} has ${identity.genesisForkVersion}`,
    );
  if (!(await o.confirm(identity)))
    throw new ValidationError(
      "--yes",
      "the pool's withdrawal credentials were not confirmed; nothing was written",
    );
  const generated = o.mnemonic === undefined;
  const mnemonic = o.mnemonic ?? generateMnemonic();
  await prepareDaemonDir(dir);
  if (generated && o.mnemonicOut !== undefined)
    await writeFileAtomic(o.mnemonicOut, `${mnemonic}\n`, { noOverwrite: true });
  await writeEncryptedMnemonic(dir, mnemonic, o.password, o.mnemonicKdfCost);
  await writeFileAtomic(join(dir, DAEMON_FILES.token), `${o.token}\n`);
  const config: DaemonFileConfig = {
    version: 1,
    apiUrl: o.apiUrl,
    operatorId: o.operatorId,
    network: networkArg,
    withdrawalCredentials: identity.withdrawalCredentials,
    keystoreDir: o.keystoreDir === undefined ? "" : resolve(o.keystoreDir),
    ...(o.keymanagerUrl === undefined ? {} : { keymanagerUrl: o.keymanagerUrl }),
    lowWater: o.lowWater,
    batchSize: o.batchSize,
  };
  await writeState(dir, { version: 1, nextIndex: startIndex, pending: null });
  await writeDaemonConfig(dir, config);
  return { dir, generated, identity, operatorName: operator.name };
}
