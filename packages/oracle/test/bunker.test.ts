/**
 * Bunker mode and the finalization border with hand-computed figures (the arithmetic is in the
 * comments), and "bunker since" from stored reports.
 */
import { PoolLedger } from "@poolkeeper/ledger";
import { insertOracleReport } from "@poolkeeper/store";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BunkerInput,
  bunkerSinceRefSlot,
  decideBunkerMode,
  finalizationMaxTimestamp,
  isqrt,
  midtermPenaltyGwei,
  type SafeBorderInput,
} from "../src/bunker.js";
import { bunkerSince } from "../src/bunker-history.js";
import { CONSENSUS_VERSION, encodeReport, ReportDataType, reportHash } from "../src/report-data.js";
import { DEFAULT_SANITY_LIMITS } from "../src/sanity.js";

const GWEI = 10n ** 9n;
const G = 1_606_824_023;
const FRAMES = {
  slotsPerEpoch: 32,
  secondsPerSlot: 12,
  genesisTime: G,
  epochsPerFrame: 225,
  initialEpoch: 0,
};
const NETWORK_10M_ETH = 10n ** 16n; // gwei; √ = 10^8

/**
 * The report of frame 1 (ref slot 14,399, epoch 449) after the report of frame 0 (ref slot 7,199,
 * epoch 224): 225 epochs. Three pool validators, 96 ETH effective. Normal rebase =
 * 64 × 96e9 × 225 / √1e16 = 1.3824e15 / 1e8 = 13,824,000 gwei; abnormal below 90% of it,
 * 12,441,600 gwei.
 */
function input(over: Partial<BunkerInput> = {}, clBalanceGwei = 96_013_000_000n): BunkerInput {
  return {
    refSlot: 14_399,
    frames: FRAMES,
    pool: {
      clBalanceGwei,
      clPendingGwei: 0n,
      clDepositedGwei: 96n * GWEI,
      activeEffectiveBalanceGwei: 96n * GWEI,
    },
    withdrawalVaultWei: 1_000_000n * GWEI,
    previous: {
      lastRefSlot: 7_199,
      clBalanceWei: 96_000_000_000n * GWEI,
      clPendingWei: 0n,
      clDepositedWei: 96n * GWEI * GWEI,
      activeEffectiveBalanceGwei: null,
      networkActiveBalanceGwei: null,
    },
    poolSlashed: [],
    network: { totalActiveBalanceGwei: NETWORK_10M_ETH, slashedNotWithdrawable: [] },
    samples: null,
    ...over,
  };
}

describe("bunker mode", () => {
  it("isqrt is the floor of the square root", () => {
    expect(isqrt(10n ** 16n)).toBe(10n ** 8n);
    expect(isqrt(10n ** 16n - 1n)).toBe(10n ** 8n - 1n);
    expect(isqrt(2n ** 127n)).toBe(13_043_817_825_332_782_212n);
  });

  it("a normal report: 13,000,000 + 1,000,000 vault = 14,000,000 gwei ≥ 12,441,600: off", () => {
    const d = decideBunkerMode(input());
    expect(d).toEqual({ isBunkerMode: false, reasons: [], clRebaseGwei: 14_000_000n });
  });

  it("the first report is not checked (as Lido)", () => {
    expect(decideBunkerMode(input({ previous: null }, 90n * GWEI))).toEqual({
      isBunkerMode: false,
      reasons: [],
      clRebaseGwei: null,
    });
  });

  it("case 1: a negative CL rebase, new deposits counted in the principal", () => {
    // 32 ETH newly seen: principal 96 + 32 = 128 ETH; 127.9985 ETH + 0.001 vault − 128 = −500,000 gwei
    const d = decideBunkerMode(
      input({
        pool: {
          clBalanceGwei: 127_998_500_000n,
          clPendingGwei: 0n,
          clDepositedGwei: 128n * GWEI,
          activeEffectiveBalanceGwei: 96n * GWEI,
        },
      }),
    );
    expect(d.isBunkerMode).toBe(true);
    expect(d.clRebaseGwei).toBe(-500_000n);
    expect(d.reasons[0]).toEqual({ case: "negative_cl_rebase", clRebaseGwei: -500_000n });
  });

  it("case 1 counts the vault's transfer, not its balance, when the limiter leaves part", () => {
    // 95.9995 ETH + 0.0004 ETH transferred − 96 ETH = −100,000 gwei (the balance would give +500,000)
    const d = decideBunkerMode(input({ withdrawalVaultTransferWei: 400_000n * GWEI }, 95_999_500_000n), {
      ...DEFAULT_SANITY_LIMITS,
      rebaseCheckNearestEpochDistance: 0,
      rebaseCheckDistantEpochDistance: 0,
    });
    expect(d.clRebaseGwei).toBe(-100_000n);
    expect(d.reasons.map((r) => r.case)).toEqual(["negative_cl_rebase", "abnormal_cl_rebase"]);
  });

  describe("case 2: the midterm slashing penalty", () => {
    // a pool validator slashed with withdrawable epoch 5,449: penalty at 5,449 − 4,096 = 1,353, frame 6
    const pool = [{ index: 7, effectiveBalanceGwei: 32n * GWEI, withdrawableEpoch: 5_449 }];
    it("a mass slashing: 1,000 × 32 ETH in the window → 307,200,000 gwei > one frame's 14,000,000", () => {
      // adjusted = 3 × 3.2e13 = 9.6e13; per increment 9.6e13 / (1e16 / 1e9) = 9,600,000; × 32 = 307,200,000
      const slashed = Array.from({ length: 1000 }, () => ({
        effectiveBalanceGwei: 32n * GWEI,
        withdrawableEpoch: 5_449,
      }));
      // one earlier slashing, out of the window at epoch 1,353 (withdrawable 1,000 < 1,353), and
      // one already withdrawable at the ref epoch: neither counts
      slashed.push({ effectiveBalanceGwei: 32n * GWEI, withdrawableEpoch: 1_000 });
      slashed.push({ effectiveBalanceGwei: 32n * GWEI, withdrawableEpoch: 400 });
      const d = decideBunkerMode(
        input({
          poolSlashed: pool,
          network: { totalActiveBalanceGwei: NETWORK_10M_ETH, slashedNotWithdrawable: slashed },
        }),
      );
      expect(d.reasons).toEqual([
        {
          case: "high_midterm_slashing_penalty",
          frame: 6,
          midtermPenaltyGwei: 307_200_000n,
          frameClRebaseGwei: 14_000_000n,
        },
      ]);
    });
    it("a lone slashing: 3 × 32e9 / 1e7 × 32 = 307,200 gwei < 14,000,000: off", () => {
      expect(midtermPenaltyGwei(32n * GWEI, 32n * GWEI, NETWORK_10M_ETH)).toBe(307_200n);
      const d = decideBunkerMode(
        input({
          poolSlashed: pool,
          network: {
            totalActiveBalanceGwei: NETWORK_10M_ETH,
            slashedNotWithdrawable: [{ effectiveBalanceGwei: 32n * GWEI, withdrawableEpoch: 5_449 }],
          },
        }),
      );
      expect(d.isBunkerMode).toBe(false);
    });
    it("one frame's rebase from a report over 449 epochs: 14,000,000 × 225 / 449", () => {
      // the previous report at ref slot 31 (epoch 0: 449 epochs before); 10 slashed pool validators:
      // window 10 × 32e9 → 3 × 3.2e11 / 1e7 = 96,000 per increment × 32 = 3,072,000 each, 30,720,000 in all
      const ten = Array.from({ length: 10 }, (_, k) => ({
        index: k,
        effectiveBalanceGwei: 32n * GWEI,
        withdrawableEpoch: 5_449,
      }));
      const d = decideBunkerMode(
        input({
          previous: { ...input().previous!, lastRefSlot: 31 },
          poolSlashed: ten,
          network: {
            totalActiveBalanceGwei: NETWORK_10M_ETH,
            slashedNotWithdrawable: ten.map(({ effectiveBalanceGwei, withdrawableEpoch }) => ({
              effectiveBalanceGwei,
              withdrawableEpoch,
            })),
          },
        }),
      );
      // 14,000,000 × 225 / 449 = 7,015,590 (rounded toward zero)
      expect(d.reasons.find((r) => r.case === "high_midterm_slashing_penalty")).toEqual({
        case: "high_midterm_slashing_penalty",
        frame: 6,
        midtermPenaltyGwei: 30_720_000n,
        frameClRebaseGwei: 7_015_590n,
      });
    });
  });

  describe("case 3: an abnormal CL rebase", () => {
    // 96.005 ETH + 0.001 vault − 96 ETH = 6,000,000 gwei: below 12,441,600
    const low = (over: Partial<BunkerInput> = {}) => input(over, 96_005_000_000n);
    const sample = {
      clPendingGwei: 0n,
      clDepositedGwei: 96n * GWEI,
      withdrawnFromVaultWei: 0n,
    };
    it("without samples it cannot be cleared: on", () => {
      const d = decideBunkerMode(low());
      expect(d.clRebaseGwei).toBe(6_000_000n);
      expect(d.reasons).toEqual([
        {
          case: "abnormal_cl_rebase",
          clRebaseGwei: 6_000_000n,
          normalClRebaseGwei: 13_824_000n,
          mistakeRateBP: 1000,
          nearestClRebaseGwei: null,
          distantClRebaseGwei: null,
        },
      ]);
    });
    it("a negative nearest sample: on; both samples positive: off", () => {
      // nearest: (96.005 − 96.006 ETH) + (0.001 − 0.0009 vault) = −1,000,000 + 100,000 = −900,000
      // distant: (96.005 − 96.000) + (0.001 − 0) = 6,000,000
      const nearest = { ...sample, clBalanceGwei: 96_006_000_000n, withdrawalVaultWei: 900_000n * GWEI };
      const distant = { ...sample, clBalanceGwei: 96_000_000_000n, withdrawalVaultWei: 0n };
      const on = decideBunkerMode(low({ samples: { nearest, distant } }));
      expect(on.reasons).toEqual([
        expect.objectContaining({ nearestClRebaseGwei: -900_000n, distantClRebaseGwei: 6_000_000n }),
      ]);
      // the same nearest sample with 0.002 ETH taken from the vault by a report since: +1,100,000
      const off = decideBunkerMode(
        low({ samples: { nearest: { ...nearest, withdrawnFromVaultWei: 2_000_000n * GWEI }, distant } }),
      );
      expect(off.isBunkerMode).toBe(false);
    });
    it("with both sample distances 0 the abnormal rebase alone turns it on", () => {
      const d = decideBunkerMode(low(), {
        ...DEFAULT_SANITY_LIMITS,
        rebaseCheckNearestEpochDistance: 0,
        rebaseCheckDistantEpochDistance: 0,
      });
      expect(d.isBunkerMode).toBe(true);
    });
    it("the means of the effective balances: the previous report's figures count half", () => {
      // pool mean (96 + 32) / 2 = 64 ETH: normal 64 × 64e9 × 225 / 1e8 = 9,216,000 (6,000,000 still abnormal);
      // the network at 2.5e15 before: mean 6.25e15, ⌊√⌋ = 79,056,941 → 64 × 96e9 × 225 / 79,056,941 = 17,486,130
      const d = decideBunkerMode(
        low({
          previous: { ...input().previous!, activeEffectiveBalanceGwei: 32n * GWEI },
        }),
      );
      expect(d.reasons[0]).toMatchObject({ normalClRebaseGwei: 9_216_000n });
      const e = decideBunkerMode(
        low({ previous: { ...input().previous!, networkActiveBalanceGwei: 25n * 10n ** 14n } }),
      );
      expect(e.reasons[0]).toMatchObject({ normalClRebaseGwei: 17_486_130n });
    });
  });

  it("refuses a bad input, naming the field", () => {
    expect(() => decideBunkerMode(input({ withdrawalVaultTransferWei: 2n * 10n ** 18n }))).toThrow(
      /withdrawalVaultTransferWei/,
    );
    expect(() =>
      decideBunkerMode(input({ previous: { ...input().previous!, lastRefSlot: 14_399 } })),
    ).toThrow(/previous.lastRefSlot/);
  });
});

describe("the finalization border", () => {
  // shift = ⌈7,680 / (32 × 12)⌉ = 20 epochs
  const base = (over: Partial<SafeBorderInput> = {}): SafeBorderInput => ({
    refSlot: 14_399,
    frames: FRAMES,
    isBunkerMode: false,
    bunkerSinceTimestamp: null,
    lastReportRefSlot: 7_199,
    poolSlashed: [],
    lastFinalizedRequestTimestamp: null,
    ...over,
  });
  const at = (epoch: number) => G + epoch * 384;

  it("outside bunker mode: the ref epoch 449 − 20 = 429", () => {
    expect(finalizationMaxTimestamp(base())).toEqual({ maxTimestamp: at(429), epoch: 429, kind: "default" });
  });
  it("bunker mode starting now: the last report's epoch 224 − 20 = 204", () => {
    expect(finalizationMaxTimestamp(base({ isBunkerMode: true }))).toEqual({
      maxTimestamp: at(204),
      epoch: 204,
      kind: "negative_rebase",
    });
  });
  it("bunker mode going on: the border stays before its start, at most 1,350 epochs back", () => {
    const since = G + 7_199 * 12; // the frame-0 report turned it on (epoch 224)
    const next = base({
      refSlot: 21_599,
      isBunkerMode: true,
      bunkerSinceTimestamp: since,
      lastReportRefSlot: 14_399,
    });
    expect(finalizationMaxTimestamp(next).epoch).toBe(204);
    // frame 10's report (epoch 2,474): max(2,474 − 1,350, 204) = 1,124
    const later = { ...next, refSlot: 11 * 225 * 32 - 1, lastReportRefSlot: 10 * 225 * 32 - 1 };
    expect(finalizationMaxTimestamp(later)).toEqual({
      maxTimestamp: at(1124),
      epoch: 1124,
      kind: "negative_rebase",
    });
  });
  it("a slashing still running moves it to its frame's start − 20", () => {
    // bunker since the frame-1 report (epoch 449): negative border 429; slashed at epoch 300
    // (withdrawable 8,492, exit 305): frame 1 starts at 225 → 205
    const b = base({
      refSlot: 21_599,
      isBunkerMode: true,
      bunkerSinceTimestamp: G + 14_399 * 12,
      lastReportRefSlot: 14_399,
      poolSlashed: [{ index: 1, effectiveBalanceGwei: 32n * GWEI, withdrawableEpoch: 8_492, exitEpoch: 305 }],
    });
    expect(finalizationMaxTimestamp(b)).toEqual({
      maxTimestamp: at(205),
      epoch: 205,
      kind: "associated_slashings",
    });
    // a slashing already withdrawable at the ref epoch does not count
    const done = { ...b, poolSlashed: [{ ...b.poolSlashed[0]!, withdrawableEpoch: 600, exitEpoch: 305 }] };
    expect(finalizationMaxTimestamp(done)).toMatchObject({ epoch: 429, kind: "negative_rebase" });
  });
  it("the earlier of the two borders; a hidden slashing epoch takes the start of Lido's search", () => {
    // frame 3's report (epoch 899), bunker since frame 2's (epoch 674): negative border 654
    const b = base({
      refSlot: 28_799,
      isBunkerMode: true,
      bunkerSinceTimestamp: G + 21_599 * 12,
      lastReportRefSlot: 21_599,
    });
    // slashed at epoch 700 (withdrawable 8,892, exit 705): frame 3 starts at 675 → 655 > 654
    const detectable = {
      index: 2,
      effectiveBalanceGwei: 32n * GWEI,
      withdrawableEpoch: 8_892,
      exitEpoch: 705,
    };
    expect(finalizationMaxTimestamp({ ...b, poolSlashed: [detectable] })).toMatchObject({
      epoch: 654,
      kind: "negative_rebase",
    });
    // withdrawable − exit = 256: the epoch is hidden; start = max(last finalized request's epoch
    // 100, activation 460) = 460, frame 2 starts at 450 → 430
    const hidden = {
      index: 3,
      effectiveBalanceGwei: 32n * GWEI,
      withdrawableEpoch: 9_000,
      exitEpoch: 8_744,
      activationEpoch: 460,
    };
    expect(
      finalizationMaxTimestamp({ ...b, poolSlashed: [hidden], lastFinalizedRequestTimestamp: at(100) + 5 }),
    ).toEqual({ maxTimestamp: at(430), epoch: 430, kind: "associated_slashings" });
    expect(() => finalizationMaxTimestamp({ ...b, poolSlashed: [{ ...hidden, exitEpoch: 8_800 }] })).toThrow(
      /exitEpoch/,
    );
  });
  it("never before genesis", () => {
    const b = base({
      isBunkerMode: true,
      poolSlashed: [{ index: 1, effectiveBalanceGwei: 32n * GWEI, withdrawableEpoch: 8_292, exitEpoch: 105 }],
    });
    expect(finalizationMaxTimestamp(b)).toEqual({ maxTimestamp: G, epoch: 0, kind: "associated_slashings" });
  });
});

describe("bunker since", () => {
  it("the first of the applied bunker reports up to the newest applied one", () => {
    const p = (refSlot: number, isBunkerMode: boolean, applied = true) => ({
      refSlot,
      isBunkerMode,
      applied,
    });
    expect(
      bunkerSinceRefSlot([p(5, true), p(4, true), p(3, false, false), p(2, true), p(1, false), p(0, true)]),
    ).toBe(2);
    expect(bunkerSinceRefSlot([p(5, false), p(4, true)])).toBeNull();
    expect(bunkerSinceRefSlot([p(5, true, false), p(4, false)])).toBeNull();
    expect(bunkerSinceRefSlot([])).toBeNull();
  });

  describe("from the stored reports", () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await createTestStore("pglite");
    });
    afterAll(() => store?.dispose());
    it("reads isBunkerMode of the decided reports", async () => {
      const { seq } = await new PoolLedger(store).submit(`0x${"11".repeat(20)}`, 10n ** 18n);
      const put = async (refSlot: number, isBunkerMode: boolean, status: "applied" | "refused") => {
        const r = {
          ...ReportDataType.defaultValue(),
          consensusVersion: CONSENSUS_VERSION,
          refSlot,
          isBunkerMode,
        };
        await insertOracleReport(store, {
          refSlot,
          reportHash: reportHash(r),
          report: encodeReport(r),
          status,
          sanity: [],
          historyPoint: null,
          ledgerSeq: status === "applied" ? seq : null,
        });
      };
      expect(await bunkerSince(store, FRAMES)).toBeNull();
      await put(7_199, false, "applied");
      await put(14_399, true, "applied");
      expect(await bunkerSince(store, FRAMES)).toEqual({ refSlot: 14_399, timestamp: G + 14_399 * 12 });
      await put(21_599, false, "refused");
      await put(28_799, true, "applied");
      expect(await bunkerSince(store, FRAMES)).toEqual({ refSlot: 14_399, timestamp: G + 14_399 * 12 });
      await put(36_000 - 1, false, "applied");
      expect(await bunkerSince(store, FRAMES)).toBeNull();
    });
  });
});
