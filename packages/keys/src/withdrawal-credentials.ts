import { createHash } from "node:crypto";
import { GWEI_PER_ETH, toChecksumAddress, toHex, ValidationError } from "@poolkeeper/core";

/**
 * Withdrawal credentials (32 bytes):
 * - 0x00 (BLS): 0x00 ‖ sha256(withdrawal BLS pubkey)[1:]
 * - 0x01 (execution address): 0x01 ‖ 11 zero bytes ‖ 20-byte address
 * - 0x02 (compounding, EIP-7251): 0x02 ‖ 11 zero bytes ‖ 20-byte address
 */
export type WithdrawalCredentialsType = 0 | 1 | 2;

export type WithdrawalCredentialsSpec =
  | { type: 0; withdrawalPubkey: Uint8Array }
  | { type: 1 | 2; address: Uint8Array };

export type ParsedWithdrawalCredentials =
  | { type: 0; pubkeyHash: Uint8Array }
  | { type: 1 | 2; address: Uint8Array };

/** MIN_ACTIVATION_BALANCE: the deposit of a new validator with 0x00 or 0x01 credentials. */
export const MIN_ACTIVATION_BALANCE_GWEI = 32n * GWEI_PER_ETH;
/** MAX_EFFECTIVE_BALANCE_ELECTRA: the largest first deposit for 0x02 (compounding) credentials. */
export const MAX_EFFECTIVE_BALANCE_ELECTRA_GWEI = 2048n * GWEI_PER_ETH;

export function withdrawalCredentials(spec: WithdrawalCredentialsSpec): Uint8Array {
  const out = new Uint8Array(32);
  if (spec.type === 0) {
    if (!(spec.withdrawalPubkey instanceof Uint8Array) || spec.withdrawalPubkey.length !== 48) {
      throw new ValidationError("withdrawalPubkey", "must be a 48-byte BLS public key");
    }
    out.set(createHash("sha256").update(spec.withdrawalPubkey).digest().subarray(1), 1);
    out[0] = 0x00;
    return out;
  }
  if (spec.type !== 1 && spec.type !== 2) {
    throw new ValidationError("withdrawalCredentials.type", "must be 0, 1 or 2");
  }
  if (!(spec.address instanceof Uint8Array) || spec.address.length !== 20) {
    throw new ValidationError("withdrawalAddress", "must be a 20-byte execution address");
  }
  out[0] = spec.type;
  out.set(spec.address, 12);
  return out;
}

/**
 * Parse 32 bytes of withdrawal credentials. Unknown prefixes, and 0x01/0x02 credentials whose
 * bytes 1..11 are not zero, are rejected: no tool writes them and funds sent to them may be lost.
 */
export function parseWithdrawalCredentials(
  wc: Uint8Array,
  field = "withdrawal_credentials",
): ParsedWithdrawalCredentials {
  if (!(wc instanceof Uint8Array) || wc.length !== 32) throw new ValidationError(field, "must be 32 bytes");
  const prefix = wc[0]!;
  if (prefix === 0x00) return { type: 0, pubkeyHash: wc.slice(1) };
  if (prefix === 0x01 || prefix === 0x02) {
    for (let i = 1; i < 12; i++) {
      if (wc[i] !== 0) {
        throw new ValidationError(
          field,
          `0x0${prefix} credentials must have 11 zero bytes between the prefix and the address`,
        );
      }
    }
    return { type: prefix, address: wc.slice(12) };
  }
  throw new ValidationError(
    field,
    `unknown prefix 0x${prefix.toString(16).padStart(2, "0")} (expected 0x00, 0x01 or 0x02)`,
  );
}

/** A one-line description for people: "0x01 (execution address 0x0F51…)". */
export function describeWithdrawalCredentials(wc: Uint8Array): string {
  const parsed = parseWithdrawalCredentials(wc);
  if (parsed.type === 0) return `0x00 (BLS withdrawal key, hash 0x${toHex(parsed.pubkeyHash)})`;
  const kind = parsed.type === 1 ? "execution address" : "compounding, execution address";
  return `0x0${parsed.type} (${kind} ${toChecksumAddress(parsed.address)})`;
}

/**
 * The amounts (gwei, inclusive) a new validator's deposit may have for these credentials:
 * exactly 32 ETH for 0x00/0x01, 32 to 2048 ETH for 0x02 (EIP-7251).
 */
export function depositAmountRange(type: WithdrawalCredentialsType): { min: bigint; max: bigint } {
  return type === 2
    ? { min: MIN_ACTIVATION_BALANCE_GWEI, max: MAX_EFFECTIVE_BALANCE_ELECTRA_GWEI }
    : { min: MIN_ACTIVATION_BALANCE_GWEI, max: MIN_ACTIVATION_BALANCE_GWEI };
}
