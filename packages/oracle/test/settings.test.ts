/**
 * The oracle's settings: sanity limits other than Lido's mainnet values from one JSON setting
 * (ORACLE_SANITY_LIMITS), each bad name or value named; the performance leeway.
 */
import { loadConfig, loadNetwork } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import { generateMemberKey, publicKeyOf } from "../src/consensus.js";
import { DEFAULT_SANITY_LIMITS, parseSanityLimits } from "../src/sanity.js";
import { ORACLE_ENV, oracleConfigFrom } from "../src/settings.js";

const members = [0, 1, 2].map((i) => `m${i}=${publicKeyOf(generateMemberKey())}`).join(",");
const env = (extra: Record<string, string> = {}) =>
  loadConfig(ORACLE_ENV, {
    ORACLE_MEMBERS: members,
    POOL_TREASURY: "0x00000000000000000000000000000000000000ee",
    ...extra,
  });

describe("oracle settings", () => {
  it("takes named limits from JSON over the mainnet defaults", () => {
    const cfg = oracleConfigFrom(
      env({
        ORACLE_SANITY_LIMITS:
          '{"annualBalanceIncreaseBP": 5000000, "requestTimestampMarginSeconds": 60, "maxPositiveTokenRebase": "1000000000"}',
        ORACLE_PERFORMANCE_LEEWAY_BP: "300",
      }),
      loadNetwork("hoodi"),
    );
    expect(cfg?.sanity).toEqual({
      ...DEFAULT_SANITY_LIMITS,
      annualBalanceIncreaseBP: 5_000_000,
      requestTimestampMarginSeconds: 60,
      maxPositiveTokenRebase: 1_000_000_000n,
    });
    expect(cfg?.performanceLeewayBP).toBe(300);
    expect(cfg?.quorum).toBe(2);
    expect(oracleConfigFrom(env(), loadNetwork("hoodi"))?.sanity).toEqual(DEFAULT_SANITY_LIMITS);
  });

  it("names an unknown limit, a bad value and bad JSON", () => {
    const bad = (json: string) => () =>
      oracleConfigFrom(env({ ORACLE_SANITY_LIMITS: json }), loadNetwork("hoodi"));
    expect(bad('{"annualIncrease": 5}')).toThrow(
      /ORACLE_SANITY_LIMITS: .*sanity\.annualIncrease.*is not a limit/,
    );
    expect(bad('{"requestTimestampMarginSeconds": -1}')).toThrow(/sanity\.requestTimestampMarginSeconds/);
    expect(bad('{"maxPositiveTokenRebase": 5}')).toThrow(/sanity\.maxPositiveTokenRebase.*decimal string/);
    expect(bad("[1]")).toThrow(/JSON object/);
    expect(bad("{")).toThrow(/not JSON/);
    expect(() => parseSanityLimits('{"simulatedShareRateDeviationBP": 20000}')).toThrow(/at most 10000/);
  });
});
