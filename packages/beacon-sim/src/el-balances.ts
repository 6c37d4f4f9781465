/**
 * What the sim's execution layer pays each address, cumulative by slot: the withdrawals the
 * consensus layer sweeps to it (amount gwei × 1e9) and the execution-layer rewards of the blocks
 * it is the fee recipient of. The sim has no transactions: an address only receives.
 *
 * EL rewards: every canonical block pays its proposer's fee recipient a priority fee of 0.01 to
 * 0.05 ETH, whole gwei, drawn from the chain's seed and the slot (sha256(seed, "priority-fee",
 * slot), its first 6 bytes modulo 40,000,001 gwei, plus 0.01 ETH): the same for every sim with
 * the same seed. A validator's fee recipient is `feeRecipients[its withdrawal address]` when set
 * (a pool's validators pay its EL rewards vault), else its own withdrawal address, or the burn
 * address for validators with BLS (0x00) credentials.
 */
import { ValidationError } from "@poolkeeper/core";
import { hashOf } from "./rng.js";

export const BURN_ADDRESS = "0x000000000000000000000000000000000000dead";
export const MIN_PRIORITY_FEE_GWEI = 10_000_000n;
export const MAX_PRIORITY_FEE_GWEI = 50_000_000n;
const GWEI = 1_000_000_000n;
const ADDRESS = /^0x[0-9a-f]{40}$/;

/** An address as the sim keys it: 0x and 40 lowercase hex digits; a ValidationError naming `field` otherwise. */
export function parseAddress(value: unknown, field: string): string {
  if (typeof value !== "string" || !ADDRESS.test(value.toLowerCase()))
    throw new ValidationError(field, "must be an address: 0x and 40 hex digits");
  return value.toLowerCase();
}

export function addressHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString("hex")}`;
}

/** The priority fee the block of `slot` pays its fee recipient, in wei. */
export function priorityFeeWei(seed: string, slot: number): bigint {
  const h = hashOf(seed, "priority-fee", slot);
  const draw = BigInt(Buffer.from(h.subarray(0, 6)).readUIntBE(0, 6));
  return (MIN_PRIORITY_FEE_GWEI + (draw % (MAX_PRIORITY_FEE_GWEI - MIN_PRIORITY_FEE_GWEI + 1n))) * GWEI;
}

/** `feeRecipients` checked and keyed by lowercase address. */
export function parseFeeRecipients(map: Record<string, string> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [from, to] of Object.entries(map ?? {}))
    out.set(parseAddress(from, "feeRecipients"), parseAddress(to, `feeRecipients.${from}`));
  return out;
}

/** Cumulative wei received per address, appended slot by slot. */
export class ExecutionBalances {
  private readonly byAddress = new Map<string, { slots: number[]; cumulative: bigint[] }>();

  /** Credit `wei` at `slot` (slots never go back). */
  credit(address: string, slot: number, wei: bigint): void {
    if (wei === 0n) return;
    let a = this.byAddress.get(address);
    if (a === undefined) {
      a = { slots: [], cumulative: [] };
      this.byAddress.set(address, a);
    }
    const n = a.slots.length;
    const before = n === 0 ? 0n : a.cumulative[n - 1]!;
    if (n > 0 && a.slots[n - 1] === slot) a.cumulative[n - 1] = before + wei;
    else {
      a.slots.push(slot);
      a.cumulative.push(before + wei);
    }
  }

  /** Everything `address` received up to and including `slot`. */
  receivedAt(address: string, slot: number): bigint {
    const a = this.byAddress.get(address);
    if (a === undefined) return 0n;
    let lo = 0;
    let hi = a.slots.length; // the first entry after `slot`
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a.slots[mid]! <= slot) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0n : a.cumulative[lo - 1]!;
  }
}
