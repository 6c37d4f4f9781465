import {
  verify as blstVerify,
  PublicKey,
  Signature,
  type SignatureSet,
  verifyMultipleAggregateSignatures,
} from "@chainsafe/blst";
import { formatGweiAsEth, type Network, toHex, ValidationError } from "@poolkeeper/core";
import { computeDepositDomain, computeSigningRoot, secretKeyObject } from "./signing.js";
import { DepositData, type DepositDataValue, DepositMessage, type DepositMessageValue } from "./ssz.js";
import {
  depositAmountRange,
  parseWithdrawalCredentials,
  type WithdrawalCredentialsType,
} from "./withdrawal-credentials.js";

/**
 * One entry of deposit_data-<unix>.json, exactly as staking-deposit-cli / ethstaker-deposit-cli
 * write it: this key order, lowercase hex without 0x, amount in gwei as a JSON number.
 */
export interface DepositDataJson {
  pubkey: string;
  withdrawal_credentials: string;
  amount: number;
  signature: string;
  deposit_message_root: string;
  deposit_data_root: string;
  fork_version: string;
  network_name: string;
  deposit_cli_version: string;
}

export const DEPOSIT_DATA_FIELDS = [
  "pubkey",
  "withdrawal_credentials",
  "amount",
  "signature",
  "deposit_message_root",
  "deposit_data_root",
  "fork_version",
  "network_name",
  "deposit_cli_version",
] as const satisfies readonly (keyof DepositDataJson)[];

/**
 * The staking launchpad rejects files whose deposit_cli_version is below 1.0.0 (its
 * MIN_DEPOSIT_CLI_VERSION); 2.7.0 is the last staking-deposit-cli release, whose output format
 * poolkeeper reproduces byte for byte. It is a setting (`depositCliVersion`).
 */
export const DEFAULT_DEPOSIT_CLI_VERSION = "2.7.0";
export const MIN_LAUNCHPAD_DEPOSIT_CLI_VERSION = "1.0.0";

const VERSION_RE = /^(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[-+][0-9A-Za-z.-]{1,32})?$/;

/** Parse "x.y.z" (optionally -pre/+build) to numbers, or undefined when it is not a version. */
export function parseCliVersion(v: string): [number, number, number] | undefined {
  const m = VERSION_RE.exec(v);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Whether the staking launchpad would accept this deposit_cli_version (>= 1.0.0). */
export function launchpadAcceptsCliVersion(v: string): boolean {
  const p = parseCliVersion(v);
  if (p === undefined) return false;
  const [a, b, c] = p;
  if (a !== 1 || b !== 0 || c !== 0) return a >= 1;
  return !v.includes("-"); // 1.0.0-rc.1 sorts before 1.0.0
}

/** Check a deposit amount against the range for the credentials' type; errors name `field`. */
export function checkDepositAmount(
  amountGwei: bigint,
  type: WithdrawalCredentialsType,
  field = "amount",
): void {
  const { min, max } = depositAmountRange(type);
  if (amountGwei >= min && amountGwei <= max) return;
  const allowed =
    min === max
      ? `exactly ${formatGweiAsEth(min)} ETH`
      : `from ${formatGweiAsEth(min)} to ${formatGweiAsEth(max)} ETH`;
  throw new ValidationError(
    field,
    `${formatGweiAsEth(amountGwei)} ETH is out of range for 0x0${type} withdrawal credentials (must be ${allowed})`,
  );
}

export interface BuildDepositDataParams {
  secretKey: Uint8Array;
  withdrawalCredentials: Uint8Array;
  amountGwei: bigint;
  network: Network;
  depositCliVersion?: string;
}

/** Sign one deposit for `network` and return its deposit_data.json entry. */
export function buildDepositData(p: BuildDepositDataParams): DepositDataJson {
  const version = p.depositCliVersion ?? DEFAULT_DEPOSIT_CLI_VERSION;
  if (typeof version !== "string" || !launchpadAcceptsCliVersion(version)) {
    throw new ValidationError(
      "depositCliVersion",
      `"${String(version)}" must be a version x.y.z of at least ${MIN_LAUNCHPAD_DEPOSIT_CLI_VERSION} (the staking launchpad rejects older ones)`,
    );
  }
  if (typeof p.amountGwei !== "bigint")
    throw new ValidationError("amount", "must be a bigint number of gwei");
  const wc = p.withdrawalCredentials;
  const parsed = parseWithdrawalCredentials(wc, "withdrawalCredentials");
  checkDepositAmount(p.amountGwei, parsed.type);

  const sk = secretKeyObject(p.secretKey);
  const pubkey = sk.toPublicKey().toBytes();
  const amount = p.amountGwei;
  const depositMessageRoot = DepositMessage.hashTreeRoot({ pubkey, withdrawalCredentials: wc, amount });
  const signingRoot = computeSigningRoot(
    depositMessageRoot,
    computeDepositDomain(p.network.genesisForkVersion),
  );
  const signature = sk.sign(signingRoot).toBytes();
  const depositDataRoot = DepositData.hashTreeRoot({ pubkey, withdrawalCredentials: wc, amount, signature });

  return {
    pubkey: toHex(pubkey),
    withdrawal_credentials: toHex(wc),
    amount: Number(amount),
    signature: toHex(signature),
    deposit_message_root: toHex(depositMessageRoot),
    deposit_data_root: toHex(depositDataRoot),
    fork_version: toHex(p.network.genesisForkVersion),
    network_name: p.network.name,
    deposit_cli_version: version,
  };
}

/**
 * The spec's is_valid_deposit_signature, as Electra's apply_pending_deposit checks a deposit for a
 * pubkey the state does not hold yet: bls.Verify(pubkey, compute_signing_root(DepositMessage,
 * compute_domain(DOMAIN_DEPOSIT, GENESIS_FORK_VERSION, zero root)), signature). Bytes that are no
 * valid public key (infinity, off the subgroup) or signature make it false, never an error.
 */
export function isValidDepositSignature(d: DepositDataValue, genesisForkVersion: Uint8Array): boolean {
  if (d.pubkey.length !== 48 || d.withdrawalCredentials.length !== 32 || d.signature.length !== 96)
    return false;
  const message: DepositMessageValue = {
    pubkey: d.pubkey,
    withdrawalCredentials: d.withdrawalCredentials,
    amount: d.amount,
  };
  const signingRoot = computeSigningRoot(
    DepositMessage.hashTreeRoot(message),
    computeDepositDomain(genesisForkVersion),
  );
  try {
    const pk = PublicKey.fromBytes(d.pubkey, true);
    const sig = Signature.fromBytes(d.signature, true, true);
    return blstVerify(signingRoot, pk, sig, false, false);
  } catch {
    return false;
  }
}

/** Deposits checked together per batch by depositSignaturesValid (a failed batch is checked one by one). */
const SIGNATURE_BATCH = 32;

/**
 * isValidDepositSignature of each deposit, by batches: the signatures of a batch are checked
 * together (verifyMultipleAggregateSignatures: random coefficients, one final exponentiation,
 * about twice as fast as one by one), and a batch that fails is checked one by one, so the answer
 * for each deposit is exactly isValidDepositSignature's.
 */
export function depositSignaturesValid(
  deposits: readonly DepositDataValue[],
  genesisForkVersion: Uint8Array,
): boolean[] {
  const domain = computeDepositDomain(genesisForkVersion);
  const out = new Array<boolean>(deposits.length).fill(false);
  for (let first = 0; first < deposits.length; first += SIGNATURE_BATCH) {
    const sets: Array<SignatureSet & { k: number }> = [];
    for (let k = first; k < Math.min(deposits.length, first + SIGNATURE_BATCH); k++) {
      const d = deposits[k] as DepositDataValue;
      if (d.pubkey.length !== 48 || d.withdrawalCredentials.length !== 32 || d.signature.length !== 96)
        continue;
      try {
        const pk = PublicKey.fromBytes(d.pubkey, true);
        const sig = Signature.fromBytes(d.signature, true, true);
        const root = DepositMessage.hashTreeRoot({
          pubkey: d.pubkey,
          withdrawalCredentials: d.withdrawalCredentials,
          amount: d.amount,
        });
        sets.push({ k, msg: computeSigningRoot(root, domain), pk, sig });
      } catch {
        // not a public key or a signature: invalid
      }
    }
    if (sets.length === 0) continue;
    let all = false;
    try {
      all = verifyMultipleAggregateSignatures(sets, false, false);
    } catch {
      all = false;
    }
    for (const s of sets) {
      out[s.k] = all || isValidDepositSignature(deposits[s.k] as DepositDataValue, genesisForkVersion);
    }
  }
  return out;
}

/** A JSON string as Python's json.dumps writes it (ensure_ascii: non-ASCII as lowercase \uXXXX). */
function pythonJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * deposit_data-<unix>.json text, byte-identical to Python's `json.dumps(entries)` as the deposit
 * CLIs write it: ", " and ": " separators, fields in DEPOSIT_DATA_FIELDS order, no trailing newline.
 */
export function serializeDepositDataFile(entries: readonly DepositDataJson[]): string {
  const parts: string[] = [];
  for (const e of entries) {
    if (!Number.isSafeInteger(e.amount) || e.amount < 0) {
      throw new ValidationError("amount", "must be a non-negative integer number of gwei");
    }
    const fields = DEPOSIT_DATA_FIELDS.map((k) => {
      const v = e[k];
      return `${pythonJsonString(k)}: ${typeof v === "number" ? String(v) : pythonJsonString(v)}`;
    });
    parts.push(`{${fields.join(", ")}}`);
  }
  return `[${parts.join(", ")}]`;
}

export { pubkeyFromSecret } from "./signing.js";
