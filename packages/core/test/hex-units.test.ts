import { describe, expect, it } from "vitest";
import {
  formatGweiAsEth,
  formatWeiAsEth,
  fromHex,
  parseAddress,
  parseEthToGwei,
  parseUint,
  toChecksumAddress,
  toHex,
  toHex0x,
  ValidationError,
} from "../src/index.js";

describe("hex", () => {
  it("round-trips and checks lengths", () => {
    const b = fromHex("0xAbCd", "x", 2);
    expect(toHex(b)).toBe("abcd");
    expect(toHex0x(b)).toBe("0xabcd");
    expect(() => fromHex("abc", "pubkey")).toThrow("pubkey: has an odd number of hex digits");
    expect(() => fromHex("zz", "pubkey")).toThrow("pubkey: is not hexadecimal");
    expect(() => fromHex("aa", "pubkey", 48)).toThrow(
      "pubkey: must be 48 bytes (96 hex digits), got 1 bytes",
    );
  });

  it("checks EIP-55 addresses", () => {
    // EIP-55 examples.
    const good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    expect(toChecksumAddress(parseAddress(good, "a"))).toBe(good);
    expect(toHex(parseAddress(good.toLowerCase(), "a"))).toBe(good.slice(2).toLowerCase());
    expect(() => parseAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "withdrawal-address")).toThrow(
      /withdrawal-address: .* fails its EIP-55 checksum/,
    );
    expect(() => parseAddress("0x1234", "withdrawal-address")).toThrow(ValidationError);
  });
});

describe("units", () => {
  it("parses ETH exactly into gwei", () => {
    expect(parseEthToGwei("32")).toBe(32_000_000_000n);
    expect(parseEthToGwei("2048")).toBe(2_048_000_000_000n);
    expect(parseEthToGwei("0.000000001")).toBe(1n);
    expect(() => parseEthToGwei("1.0000000001", "amount-eth")).toThrow(/amount-eth/);
    expect(() => parseEthToGwei("-1", "amount-eth")).toThrow(/amount-eth/);
    expect(formatGweiAsEth(32_500_000_000n)).toBe("32.5");
    expect(formatGweiAsEth(-1n)).toBe("-0.000000001");
    expect(formatWeiAsEth(416n * 10n ** 18n)).toBe("416");
    expect(formatWeiAsEth(10n ** 18n + 1n)).toBe("1.000000000000000001");
    expect(formatWeiAsEth(-(10n ** 17n) * 5n)).toBe("-0.5");
    expect(formatWeiAsEth(0n)).toBe("0");
  });

  it("parses non-negative integers", () => {
    expect(parseUint("18446744073709551615", "epoch")).toBe(18446744073709551615n);
    expect(() => parseUint("1e3", "epoch")).toThrow(/epoch: "1e3" is not a non-negative integer/);
    expect(() => parseUint(-1, "epoch")).toThrow(/epoch/);
  });
});
