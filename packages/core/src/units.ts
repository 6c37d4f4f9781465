import { ValidationError } from "./errors.js";

/** All amounts are bigint. 1 ETH = 10^9 gwei = 10^18 wei. */
export const GWEI_PER_ETH = 1_000_000_000n;
export const WEI_PER_GWEI = 1_000_000_000n;
export const WEI_PER_ETH = GWEI_PER_ETH * WEI_PER_GWEI;

export function ethToGwei(eth: bigint): bigint {
  return eth * GWEI_PER_ETH;
}

export function gweiToWei(gwei: bigint): bigint {
  return gwei * WEI_PER_GWEI;
}

/** Floor division wei → gwei (what the deposit contract does). */
export function weiToGwei(wei: bigint): bigint {
  return wei / WEI_PER_GWEI;
}

/**
 * Parse a decimal ETH amount ("32", "32.5", "0.000000001") into gwei exactly; more than 9
 * decimals or anything that is not a plain decimal is an error naming `field`.
 */
export function parseEthToGwei(value: string, field = "amount"): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value.trim());
  if (m === null) throw new ValidationError(field, `"${value}" is not an ETH amount (example: 32 or 32.5)`);
  const whole = BigInt(m[1]!);
  const frac = BigInt((m[2] ?? "").padEnd(9, "0"));
  return whole * GWEI_PER_ETH + frac;
}

/** Format gwei as a decimal ETH string without trailing zeros ("32", "32.5"). */
export function formatGweiAsEth(gwei: bigint): string {
  const neg = gwei < 0n;
  const abs = neg ? -gwei : gwei;
  const whole = abs / GWEI_PER_ETH;
  const frac = (abs % GWEI_PER_ETH).toString().padStart(9, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole}${frac === "" ? "" : `.${frac}`}`;
}

/** Format wei as a decimal ETH string, exact, without trailing zeros ("416", "0.5", "1.000000000000000001"). */
export function formatWeiAsEth(wei: bigint): string {
  const neg = wei < 0n;
  const abs = neg ? -wei : wei;
  const frac = (abs % WEI_PER_ETH).toString().padStart(18, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${abs / WEI_PER_ETH}${frac === "" ? "" : `.${frac}`}`;
}

/** Parse a non-negative decimal integer string into bigint, naming `field` on failure. */
export function parseUint(value: string | number | bigint, field: string): bigint {
  if (typeof value === "bigint") {
    if (value < 0n) throw new ValidationError(field, "must not be negative");
    return value;
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new ValidationError(field, "must be a non-negative integer");
    return BigInt(value);
  }
  if (!/^\d+$/.test(value)) throw new ValidationError(field, `"${value}" is not a non-negative integer`);
  return BigInt(value);
}
