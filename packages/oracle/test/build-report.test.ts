/**
 * A member's report from its reads and the frame's context, checked by hand: the first report of
 * a pool with two deposited keys and 0.1 ETH of CL rewards, one validator below the performance
 * bar; the withdrawal requests made before the border finalized, the later one not; the same
 * inputs give the same bytes.
 */
import { EMPTY_LEDGER, QUEUE_SENTINEL } from "@poolkeeper/ledger";
import { describe, expect, it } from "vitest";
import { buildReport, type ReportClSide, unfinalizedAtRef } from "../src/build-report.js";
import type { FrameContext } from "../src/frame-context.js";
import { encodeReport } from "../src/report-data.js";
import { DEFAULT_SANITY_LIMITS } from "../src/sanity.js";

const ETH = 10n ** 18n;
const GWEI = 10n ** 9n;
const E27 = 10n ** 27n;
const TREASURY = "0x00000000000000000000000000000000000000ee";

function context(over: Partial<FrameContext> = {}): FrameContext {
  return {
    refSlot: 63,
    frame: { index: 1, firstEpoch: 4, lastEpoch: 7, refSlot: 63, refTimestamp: 10_000 },
    consensusVersion: 1,
    ledgerSeq: 3n,
    ledger: {
      ...EMPTY_LEDGER,
      totalShares: 64n * ETH,
      depositedValidators: 2,
      depositedWei: 64n * ETH,
    },
    queue: [],
    maxBatchId: 1,
    fees: { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: TREASURY },
    maxPositiveTokenRebase: 750_000n,
    requestTimestampMarginSeconds: 100,
    bunkerLimits: { ...DEFAULT_SANITY_LIMITS, requestTimestampMarginSeconds: 100 },
    bunkerSince: null,
    previousRefTimestamp: 9_000,
    performance: {
      complete: true,
      watcherEpoch: 8,
      networkPerformance: 0.99,
      threshold: 0.94,
      underperforming: [7],
    },
    exits: { operators: [], requested: [], maxExitWei: 19_200n * ETH },
    decision: null,
    votes: [],
    ...over,
  };
}

const cl: ReportClSide = {
  refSlot: 63,
  clValidators: 2,
  clDepositedGwei: 64_000_000_000n,
  clBalanceGwei: 64_100_000_000n,
  clPendingBalanceGwei: 0n,
  exitedValidators: 0,
  operators: [
    {
      operatorId: 3,
      activeValidators: 2,
      exitedValidators: 0,
      balanceGwei: 64_100_000_000n,
      activeIndices: [7, 9],
    },
  ],
  validators: [7, 9].map((index) => ({
    index,
    operatorId: 3,
    balanceGwei: 32_050_000_000n,
    exitable: true,
    exiting: false,
  })),
};
const border = { isBunkerMode: false, finalizationMaxTimestamp: 9_900 };

describe("buildReport", () => {
  it("rewards one of two validators (the other under the bar) and simulates the share rate as the ledger will", () => {
    const r = buildReport(context(), cl, { withdrawalVaultWei: 0n, elRewardsVaultWei: 0n }, border);
    expect(r.operators).toEqual([
      {
        operatorId: 3,
        activeValidators: 2,
        exitedValidators: 0,
        rewardedValidators: 1,
        balanceGwei: 64_100_000_000n,
      },
    ]);
    expect(r.clBalanceGwei * GWEI).toBe(64_100_000_000_000_000_000n);
    // by hand: principal 64 ETH, rewards 0.1 ETH, fee 0.01 ETH; post pooled 64.1 ETH;
    // fee shares = 0.01 × 64 / (64.1 − 0.01) ETH; the operators' half split 1 of 2 validators, the
    // treasury's half whole; the unrewarded validator's quarter is not minted
    const post = (641n * ETH) / 10n;
    const fee = ETH / 100n;
    const mint = (fee * 64n * ETH) / (post - fee);
    const opsPart = mint / 2n;
    const minted = opsPart / 2n + (mint - opsPart);
    expect(r.simulatedShareRate).toBe((post * E27) / (64n * ETH + minted));
    expect(r.withdrawalFinalizationBatches).toEqual([]);
    expect(r.isBunkerMode).toBe(false);
    expect(
      encodeReport(buildReport(context(), cl, { withdrawalVaultWei: 0n, elRewardsVaultWei: 0n }, border)),
    ).toEqual(encodeReport(r));
  });

  it("finalizes the requests made before the border, not the one after", () => {
    const queued = (id: number, steth: bigint, timestamp: number) => ({
      id,
      cumulativeSteth: steth,
      cumulativeShares: steth,
      timestamp,
      reportTimestamp: 0,
    });
    const ctx = context({
      ledger: {
        ...context().ledger,
        bufferedWei: 10n * ETH,
        totalShares: 74n * ETH,
        queueShares: 3n * ETH,
        unfinalizedSteth: 3n * ETH,
        lastRequestId: 3,
      },
      queue: [QUEUE_SENTINEL, queued(1, ETH, 9_100), queued(2, 2n * ETH, 9_800), queued(3, 3n * ETH, 9_950)],
    });
    const r = buildReport(ctx, cl, { withdrawalVaultWei: 0n, elRewardsVaultWei: 0n }, border);
    expect(r.withdrawalFinalizationBatches).toEqual([2]);
    const bunker = buildReport(
      ctx,
      cl,
      { withdrawalVaultWei: 0n, elRewardsVaultWei: 0n },
      {
        isBunkerMode: true,
        finalizationMaxTimestamp: 9_500,
      },
    );
    expect(bunker.withdrawalFinalizationBatches).toEqual([1]);
    expect(bunker.isBunkerMode).toBe(true);
  });

  it("asks validators to exit for what the queue still needs after the buffer and the vaults (the ejector rule)", () => {
    // 50 ETH asked after the border (not finalized), 10 ETH buffered, 5 ETH in the withdrawal
    // vault: 35 ETH missing, two validators of 32.05 ETH. Operator 4 (3 validators) is above its
    // share (2.5) first; then a tie at 2 each, lowest index first: operator 3's validator 7.
    const ctx = context({
      ledger: {
        ...context().ledger,
        bufferedWei: 10n * ETH,
        totalShares: 124n * ETH,
        queueShares: 50n * ETH,
        unfinalizedSteth: 50n * ETH,
        lastRequestId: 1,
      },
      queue: [
        QUEUE_SENTINEL,
        {
          id: 1,
          cumulativeSteth: 50n * ETH,
          cumulativeShares: 50n * ETH,
          timestamp: 9_950,
          reportTimestamp: 0,
        },
      ],
    });
    const validators = [
      ...cl.validators,
      ...[11, 12, 13].map((index) => ({ ...cl.validators[0]!, index, operatorId: 4 })),
    ];
    const vaults = { withdrawalVaultWei: 5n * ETH, elRewardsVaultWei: 0n };
    const r = buildReport(ctx, { ...cl, validators }, vaults, border);
    expect(r.withdrawalFinalizationBatches).toEqual([]);
    expect(r.validatorsToExit).toEqual([
      { operatorId: 3, validatorIndex: 7 },
      { operatorId: 4, validatorIndex: 11 },
    ]);
    // validator 7 asked already: it counts as coming back, 2.95 ETH missing, one more from operator 4
    const asked = buildReport(
      { ...ctx, exits: { ...ctx.exits, requested: [7] } },
      { ...cl, validators },
      vaults,
      border,
    );
    expect(asked.validatorsToExit).toEqual([{ operatorId: 4, validatorIndex: 11 }]);
    // a hard target limit of 0 on operator 3 puts its validators first
    const limited = buildReport(
      {
        ...ctx,
        exits: { ...ctx.exits, operators: [{ operatorId: 3, targetLimit: 0, targetLimitMode: "hard" }] },
      },
      { ...cl, validators },
      vaults,
      border,
    );
    expect(limited.validatorsToExit).toEqual([
      { operatorId: 3, validatorIndex: 7 },
      { operatorId: 3, validatorIndex: 9 },
    ]);
    // the same request made after the ref slot (timestamp 10,050 > 10,000) is the next report's
    // demand: nothing asked now, although the pinned ledger already holds it
    const later = buildReport(
      { ...ctx, queue: [QUEUE_SENTINEL, { ...ctx.queue[1]!, timestamp: 10_050 }] },
      { ...cl, validators },
      vaults,
      border,
    );
    expect(later.validatorsToExit).toEqual([]);
    // the buffer covers it: nothing asked
    const covered = buildReport(
      { ...ctx, ledger: { ...ctx.ledger, bufferedWei: 60n * ETH, totalShares: 174n * ETH } },
      { ...cl, validators },
      vaults,
      border,
    );
    expect(covered.validatorsToExit).toEqual([]);
  });

  it("counts as demand only the unfinalized requests made at or before the ref slot", () => {
    const q = (id: number, steth: bigint, timestamp: number) => ({
      id,
      cumulativeSteth: steth,
      cumulativeShares: steth,
      timestamp,
      reportTimestamp: 0,
    });
    // 1 finalized (1 ETH in all), 2 and 3 before the ref timestamp, 4 after it
    const queue = [
      undefined,
      q(1, ETH, 9_000),
      q(2, 3n * ETH, 9_500),
      q(3, 6n * ETH, 10_000),
      q(4, 10n * ETH, 10_001),
    ];
    expect(unfinalizedAtRef(queue, 1, 10_000)).toBe(5n * ETH);
    expect(unfinalizedAtRef(queue, 1, 9_999)).toBe(2n * ETH);
    expect(unfinalizedAtRef(queue, 3, 10_000)).toBe(0n);
    expect(unfinalizedAtRef(queue, 1, 20_000)).toBe(9n * ETH);
    expect(unfinalizedAtRef([QUEUE_SENTINEL], 0, 20_000)).toBe(0n);
  });

  it("refuses figures of another slot than the frame's ref slot", () => {
    expect(() =>
      buildReport(
        context(),
        { ...cl, refSlot: 62 },
        { withdrawalVaultWei: 0n, elRewardsVaultWei: 0n },
        border,
      ),
    ).toThrow(/slot 62, not ref slot 63/);
  });
});
