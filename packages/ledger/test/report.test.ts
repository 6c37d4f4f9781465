/**
 * Applying oracle reports, against figures worked out by hand from Lido's Accounting and
 * OracleReportSanityChecker formulas (each expected number below is written out, not recomputed
 * by the code under test): fees on rewards, a capped positive rebase, a negative rebase, an
 * operator whose validators did not perform, withdrawals finalized with the burn spread over
 * two reports.
 */
import { describe, expect, it } from "vitest";
import { LedgerBook } from "../src/book.js";
import { stateFromJson, stateToJson } from "../src/codec.js";
import type { FeeConfig, ReportInput } from "../src/report.js";
import { simulatedShareRate } from "../src/report.js";
import { totalPooledEther } from "../src/rules.js";
import { E27 } from "../src/shares.js";

const ETH = 10n ** 18n;
const A = "0x00000000000000000000000000000000000000aa";
const T = "0x00000000000000000000000000000000000000ee";
const O1 = "0x0000000000000000000000000000000000000001";
const O2 = "0x0000000000000000000000000000000000000002";
const FEES: FeeConfig = { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: T };

function report(over: Partial<ReportInput>): ReportInput {
  return {
    refSlot: 100,
    timestamp: 1_000,
    timeElapsed: 1_000,
    clValidators: 2,
    clDepositedWei: 64n * ETH,
    clBalanceWei: 64n * ETH,
    clPendingWei: 0n,
    withdrawalVaultWei: 0n,
    elRewardsVaultWei: 0n,
    finalizationBatches: [],
    simulatedShareRate: 0n,
    operators: [
      { operatorId: "1", rewardAddress: O1, activeValidators: 1, rewardedValidators: 1 },
      { operatorId: "2", rewardAddress: O2, activeValidators: 1, rewardedValidators: 0 },
    ],
    ...over,
  };
}

function pool(submitEth: bigint): LedgerBook {
  const b = new LedgerBook();
  b.submit(A, submitEth * ETH);
  b.deposit("1", 2, 64n * ETH);
  return b;
}

describe("a report with rewards", () => {
  it("10% fee on 0.03 ETH of rewards: shares minted so that the fee is worth 0.003 ETH; 5% to operators by performing validators, 5% and the rounding to the treasury", () => {
    const b = pool(64n);
    const { entry } = b.report(
      report({ clBalanceWei: 64n * ETH + 10n ** 16n, elRewardsVaultWei: 2n * 10n ** 16n }),
      FEES,
    );
    if (entry.kind !== "report") throw new Error("not a report");
    const o = entry.outcome;
    expect(o.principalClBalanceWei).toBe(64n * ETH); // the two keys appear: 2 × 32 ETH of principal
    expect(o.elRewardsWei).toBe(20_000_000_000_000_000n);
    expect(o.rewardsWei).toBe(30_000_000_000_000_000n);
    expect(o.feeWei).toBe(3_000_000_000_000_000n);
    expect(o.postTotalPooledEther).toBe(64_030_000_000_000_000_000n);
    // 0.003e18 × 64e18 / (64.03e18 − 0.003e18)
    expect(o.sharesToMintAsFees).toBe(2_998_734_908_710_387n);
    expect(o.mints).toEqual([
      { account: O1, shares: 749_683_727_177_596n, operatorId: "1" },
      { account: T, shares: 1_499_367_454_355_194n, operatorId: null },
    ]);
    // operator 2's validator did not perform: its half of the operators' part stays with the pool
    expect(o.sharesNotMinted).toBe(749_683_727_177_597n);
    expect(b.sharesOf(O2)).toBe(0n);
    expect(b.state.bufferedWei).toBe(20_000_000_000_000_000n);
    expect(b.state.elRewardsCollectedWei).toBe(20_000_000_000_000_000n);
    expect(b.state.withdrawalsCollectedWei).toBe(0n);
  });

  it("when every validator performed, the minted shares are worth the fee, rounded down by a few wei at most", () => {
    const b = pool(64n);
    const ops = report({}).operators.map((o) => ({ ...o, rewardedValidators: 1 }));
    b.report(
      report({ clBalanceWei: 64n * ETH + 10n ** 16n, elRewardsVaultWei: 2n * 10n ** 16n, operators: ops }),
      FEES,
    );
    const minted = b.balanceOf(T) + b.balanceOf(O1) + b.balanceOf(O2);
    expect(minted).toBeLessThanOrEqual(3_000_000_000_000_000n);
    expect(minted).toBeGreaterThan(3_000_000_000_000_000n - 5n);
    expect(b.balanceOf(T)).toBeLessThanOrEqual(1_500_000_000_000_000n);
  });

  it("the positive rebase limiter takes 0.038 of 1 ETH of execution-layer rewards (0.075% of 64 ETH less the CL's 0.01)", () => {
    const b = pool(64n);
    const { entry } = b.report(
      report({ clBalanceWei: 64n * ETH + 10n ** 16n, elRewardsVaultWei: ETH }),
      FEES,
    );
    if (entry.kind !== "report") throw new Error("not a report");
    expect(entry.outcome.elRewardsWei).toBe(38_000_000_000_000_000n);
    expect(entry.outcome.rewardsWei).toBe(48_000_000_000_000_000n);
    expect(totalPooledEther(b.state)).toBe(64_048_000_000_000_000_000n);
    // the ledger counts what it took, not what the vault held
    expect(b.state.elRewardsCollectedWei).toBe(38_000_000_000_000_000n);
    // the next report: 0.5 ETH from the withdrawal vault (the CL side down as much, no rebase)
    // comes first under the limiter; the EL vault's 0.962 ETH left gets 0.075% of 64.048 ETH
    b.report(
      report({
        refSlot: 200,
        timestamp: 2_000,
        clBalanceWei: 64n * ETH + 10n ** 16n - 5n * 10n ** 17n,
        withdrawalVaultWei: 5n * 10n ** 17n,
        elRewardsVaultWei: 962n * 10n ** 15n,
      }),
      FEES,
    );
    expect(b.state.withdrawalsCollectedWei).toBe(5n * 10n ** 17n);
    // 64.048e18 × 750,000 / 1e9 = 48,036,000,000,000,000
    expect(b.state.elRewardsCollectedWei).toBe(38_000_000_000_000_000n + 48_036_000_000_000_000n);
  });

  it("a state stored before the collected totals existed reads them as 0", () => {
    const b = pool(64n);
    const json = stateToJson(b.state);
    delete json.withdrawalsCollectedWei;
    delete json.elRewardsCollectedWei;
    expect(stateFromJson(json)).toEqual(b.state);
    expect(stateToJson(stateFromJson(json))).toMatchObject({
      withdrawalsCollectedWei: "0",
      elRewardsCollectedWei: "0",
    });
  });

  it("a negative rebase mints nothing and lowers the share rate; the CL loss is never capped", () => {
    const b = pool(64n);
    const { entry } = b.report(report({ clBalanceWei: 63n * ETH + 9n * 10n ** 17n }), FEES);
    if (entry.kind !== "report") throw new Error("not a report");
    expect(entry.outcome.sharesToMintAsFees).toBe(0n);
    expect(entry.outcome.mints).toEqual([]);
    expect(entry.outcome.postShareRate).toBe((639n * E27) / 640n);
    expect(b.balanceOf(A)).toBe(63_900_000_000_000_000_000n);
  });

  it("deposits a report does not see yet count at their amount; pending deposits at their pending balance", () => {
    const b = pool(64n);
    b.report(
      report({ clValidators: 1, clDepositedWei: 32n * ETH, clBalanceWei: 0n, clPendingWei: 32n * ETH }),
      FEES,
    );
    expect(totalPooledEther(b.state)).toBe(64n * ETH);
    expect(b.state.clPendingWei).toBe(32n * ETH);
  });
});

describe("withdrawals finalized by reports", () => {
  it("finalized at the simulated share rate; the shares burnt only as far as the limiter allows, the rest in the next report", () => {
    const b = pool(74n); // 10 ETH stays in the buffer
    b.requestWithdrawal(A, 10n * ETH, 500); // 10 shares at rate 1
    const base = report({ elRewardsVaultWei: ETH });
    const sim = simulatedShareRate(b.state, base, FEES);
    // 74 ETH + 0.0555 ETH of EL rewards (the limit: 0.075% of 74) over 74 shares; no fee: the CL side did not grow
    expect(sim).toBe(1_000_750_000_000_000_000_000_000_000n);
    const { entry } = b.report({ ...base, finalizationBatches: [1], simulatedShareRate: sim }, FEES);
    if (entry.kind !== "report") throw new Error("not a report");
    const o = entry.outcome;
    expect(o.etherToFinalizeWei).toBe(10n * ETH);
    expect(o.sharesToFinalize).toBe(10n * ETH);
    expect(o.sharesBurnt).toBe(9_992_505_684_736_447_664n);
    expect(b.state.burnerShares).toBe(7_494_315_263_552_336n);
    expect(b.state.totalShares).toBe(64_007_494_315_263_552_336n);
    expect(b.state.bufferedWei).toBe(55_500_000_000_000_000n);
    expect(b.state.lockedWei).toBe(10n * ETH);
    expect(b.claim(A, 1).entry).toMatchObject({ wei: 10n * ETH });
    // the next report burns the rest
    b.report(report({ refSlot: 200, timestamp: 2_000 }), FEES);
    expect(b.state.burnerShares).toBe(0n);
    expect(b.state.totalShares).toBe(64n * ETH);
  });
});

describe("refusals", () => {
  it("an old ref slot, more validators than deposited, batches out of order: named, nothing applied", () => {
    const b = pool(64n);
    b.report(report({}), FEES);
    const before = b.state;
    expect(() => b.report(report({}), FEES)).toThrow(
      /refSlot: must be after the last applied report's ref slot 100/,
    );
    expect(() => b.report(report({ refSlot: 101, timestamp: 1_001, clValidators: 3 }), FEES)).toThrow(
      /clValidators: must be between the last report's 2 and the 2 keys deposited/,
    );
    expect(() =>
      b.report(
        report({ refSlot: 101, timestamp: 1_001, finalizationBatches: [1], simulatedShareRate: E27 }),
        FEES,
      ),
    ).toThrow(/finalizationBatches\[0\]/);
    expect(() =>
      b.report(report({ refSlot: 101, timestamp: 1_001 }), { ...FEES, operatorsFeeBP: 1001 }),
    ).toThrow(/fees.operatorsFeeBP/);
    expect(b.state).toBe(before);
  });
});
