import { LIMITS, type Network, PoolkeeperError, toHex } from "@poolkeeper/core";
import { type DepositDataJson, verifyDepositDataAsync } from "@poolkeeper/keys";
import { type DepositDataFailure, REGISTRY_ERRORS } from "./errors.js";
import type { DepositData } from "./types.js";

/** The pool deposits exactly 32 ETH per validator. */
export const POOL_DEPOSIT_GWEI = 32_000_000_000n;
/** Most entries accepted in one upload (core LIMITS). */
const MAX_UPLOAD_ENTRIES = LIMITS.uploadEntries;
/** Most failures listed in an error's details (failuresTotal gives the full count). */
const MAX_LISTED_FAILURES = LIMITS.listedUploadFailures;

/** A deposit data entry in the deposit_data.json format (lowercase hex, no 0x). */
export function toDepositDataJson(d: DepositData): DepositDataJson {
  return {
    pubkey: toHex(d.pubkey),
    withdrawal_credentials: toHex(d.withdrawalCredentials),
    amount: Number(d.amountGwei),
    signature: toHex(d.signature),
    deposit_message_root: toHex(d.depositMessageRoot),
    deposit_data_root: toHex(d.depositDataRoot),
    fork_version: toHex(d.forkVersion),
    network_name: d.networkName,
    deposit_cli_version: d.depositCliVersion,
  };
}

export interface UploadCheckOptions {
  network: Network;
  withdrawalCredentials: Uint8Array;
  /** Entries per BLS verification chunk (1 = one by one, for comparison). */
  chunkSize?: number;
}

/**
 * Every check of an upload that needs no database: the launchpad's (fields, lengths, fork
 * version, network, roots, BLS signature, in chunks), the pool's withdrawal credentials, exactly
 * 32 ETH, no pubkey twice. Returns the entries (upload order) and the failures.
 */
export async function checkUpload(
  input: unknown,
  opts: UploadCheckOptions,
): Promise<{ entries: DepositData[]; failures: DepositDataFailure[] }> {
  if (Array.isArray(input) && input.length > MAX_UPLOAD_ENTRIES) {
    return {
      entries: [],
      failures: [
        {
          index: -1,
          field: "file",
          reason: `has ${input.length} entries; upload at most ${MAX_UPLOAD_ENTRIES} at a time`,
        },
      ],
    };
  }
  const r = await verifyDepositDataAsync(input, {
    network: opts.network,
    expectedWithdrawalCredentials: opts.withdrawalCredentials,
    ...(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize }),
  });
  const failures: DepositDataFailure[] = [...r.failures];
  if (Array.isArray(input)) {
    input.forEach((raw, index) => {
      const amount = (raw as { amount?: unknown } | null)?.amount;
      if (
        typeof amount === "number" &&
        Number.isSafeInteger(amount) &&
        BigInt(amount) !== POOL_DEPOSIT_GWEI
      ) {
        failures.push({
          index,
          field: "amount",
          reason: `${amount} gwei: the pool deposits exactly 32 ETH (${POOL_DEPOSIT_GWEI} gwei) per key`,
        });
      }
    });
  }
  const entries: DepositData[] = r.entries.map((e) => ({
    pubkey: e.pubkey,
    withdrawalCredentials: e.withdrawalCredentials,
    amountGwei: e.amountGwei,
    signature: e.signature,
    depositMessageRoot: e.depositMessageRoot,
    depositDataRoot: e.depositDataRoot,
    forkVersion: e.forkVersion,
    networkName: e.networkName,
    depositCliVersion: e.depositCliVersion,
  }));
  return { entries, failures: sortFailures(failures) };
}

export function sortFailures(f: DepositDataFailure[]): DepositDataFailure[] {
  return f.sort((a, b) => a.index - b.index || a.field.localeCompare(b.field));
}

/** The all-or-nothing refusal of an upload. */
export function invalidDepositData(failures: DepositDataFailure[], total: number): PoolkeeperError {
  const failed = new Set(failures.filter((f) => f.index >= 0).map((f) => f.index)).size;
  const first = failures[0];
  const example =
    first === undefined
      ? ""
      : ` (first: ${first.index < 0 ? "" : `entry ${first.index}: `}${first.field}: ${first.reason})`;
  return new PoolkeeperError(
    REGISTRY_ERRORS.INVALID_DEPOSIT_DATA,
    `deposit data refused: ${failed === 0 ? "the file" : `${failed} of ${total} entries`} failed validation; nothing was stored${example}`,
    {
      failures: failures.slice(0, MAX_LISTED_FAILURES),
      failuresTotal: failures.length,
      failedEntries: failed,
      totalEntries: total,
    },
  );
}
