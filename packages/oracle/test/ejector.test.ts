/**
 * Lido's ejector rule, cases computed by hand: ether is in ETH below (×10^18 wei), validators of
 * 32 ETH unless said.
 */
import { describe, expect, it } from "vitest";
import { chooseValidatorsToExit, type EjectorInput, type EjectorValidator } from "../src/ejector.js";

const ETH = 10n ** 18n;
const v32 = (index: number, operatorId: number, over: Partial<EjectorValidator> = {}): EjectorValidator => ({
  index,
  operatorId,
  balanceGwei: 32_000_000_000n,
  exitable: true,
  exiting: false,
  ...over,
});

function input(over: Partial<EjectorInput>): EjectorInput {
  return {
    demandWei: 0n,
    bufferWei: 0n,
    vaultsWei: 0n,
    validators: [],
    operators: [],
    requested: new Set(),
    maxExitWei: 19_200n * ETH,
    ...over,
  };
}

/** Operators 1 (validators 10..13), 2 (20..21), 3 (30..35): 4, 2 and 6 validators. */
const POOL = [
  ...[10, 11, 12, 13].map((i) => v32(i, 1)),
  ...[20, 21].map((i) => v32(i, 2)),
  ...[30, 31, 32, 33, 34, 35].map((i) => v32(i, 3)),
];
const NO_LIMITS = [1, 2, 3].map((operatorId) => ({ operatorId, targetLimit: null, targetLimitMode: null }));

describe("chooseValidatorsToExit", () => {
  it("no exit when the buffer and the vaults cover the queue", () => {
    const r = chooseValidatorsToExit(
      input({
        demandWei: 100n * ETH,
        bufferWei: 60n * ETH,
        vaultsWei: 40n * ETH,
        validators: POOL,
        operators: NO_LIMITS,
      }),
    );
    expect(r).toEqual({ shortfallWei: 0n, validatorsToExit: [], exitingWei: 0n, capped: false });
  });

  it("validators already exiting or asked to exit count as coming back", () => {
    // 100 asked, 20 in the buffer, 32 from exiting validator 13, 32 from asked validator 20: 16 missing
    const validators = POOL.map((v) => (v.index === 13 ? { ...v, exitable: false, exiting: true } : v));
    const r = chooseValidatorsToExit(
      input({
        demandWei: 100n * ETH,
        bufferWei: 20n * ETH,
        validators,
        operators: NO_LIMITS,
        requested: new Set([20]),
      }),
    );
    expect(r.shortfallWei).toBe(16n * ETH);
    // operator 3 has the largest stake (6 against a share of (3 + 1 + 6) / 3): its lowest index
    expect(r.validatorsToExit).toEqual([{ operatorId: 3, validatorIndex: 30 }]);
    expect(r.exitingWei).toBe(32n * ETH);
  });

  it("Lido's order: above a hard target first, then above a soft one, then the stake above its share", () => {
    // operator 2: hard limit 0 (2 above); operator 1: soft limit 1 (3 above); operator 3: none (6)
    const operators = [
      { operatorId: 1, targetLimit: 1, targetLimitMode: "soft" as const },
      { operatorId: 2, targetLimit: 0, targetLimitMode: "hard" as const },
      { operatorId: 3, targetLimit: null, targetLimitMode: null },
    ];
    const r = chooseValidatorsToExit(input({ demandWei: 7n * 32n * ETH, validators: POOL, operators }));
    // 20, 21 (hard: 2 → 0), then 10, 11, 12 (soft: 3 → 0), then operator 3's stake: 30, 31
    expect(r.validatorsToExit).toEqual([
      { operatorId: 1, validatorIndex: 10 },
      { operatorId: 1, validatorIndex: 11 },
      { operatorId: 1, validatorIndex: 12 },
      { operatorId: 2, validatorIndex: 20 },
      { operatorId: 2, validatorIndex: 21 },
      { operatorId: 3, validatorIndex: 30 },
      { operatorId: 3, validatorIndex: 31 },
    ]);
    expect(r.capped).toBe(false);
  });

  it("without limits: the largest stake above its share, re-evaluated after each choice; ties by lowest index", () => {
    // 3 validators' worth: operator 3 (6 → 5 → 4), then 4 against 4 of operator 1: lowest index (10 < 32)
    const r = chooseValidatorsToExit(
      input({ demandWei: 3n * 32n * ETH, validators: POOL, operators: NO_LIMITS }),
    );
    expect(r.validatorsToExit.map((v) => v.validatorIndex)).toEqual([10, 30, 31]);
  });

  it("never more than the per-report cap", () => {
    const r = chooseValidatorsToExit(
      input({ demandWei: 1000n * ETH, validators: POOL, operators: NO_LIMITS, maxExitWei: 100n * ETH }),
    );
    // 3 × 32 = 96 ≤ 100 < 128
    expect(r.validatorsToExit).toHaveLength(3);
    expect(r.exitingWei).toBe(96n * ETH);
    expect(r.capped).toBe(true);
    expect(r.shortfallWei).toBe(1000n * ETH);
  });

  it("a shortfall of one wei asks one validator; nothing to exit asks none", () => {
    const one = chooseValidatorsToExit(input({ demandWei: 1n, validators: POOL, operators: NO_LIMITS }));
    expect(one.validatorsToExit).toHaveLength(1);
    const none = chooseValidatorsToExit(
      input({
        demandWei: 10n * ETH,
        validators: POOL.map((v) => ({ ...v, exitable: false })),
        operators: NO_LIMITS,
      }),
    );
    expect(none.validatorsToExit).toEqual([]);
    expect(none.shortfallWei).toBe(10n * ETH);
  });
});
