import { describe, expect, it } from "vitest";
import { expectedWithdrawalWait, type WithdrawalWaitInput } from "../src/withdrawal-wait.js";

const ETH = 10n ** 18n;
// Epochs of 8 slots of 6 s (48 s), frames of 2 epochs from genesis at 1000; a 96 s margin is 2 epochs.
const base: WithdrawalWaitInput = {
  now: 1000 + 10 * 48 + 5, // epoch 10
  frames: { slotsPerEpoch: 8, secondsPerSlot: 6, genesisTime: 1000, epochsPerFrame: 2, initialEpoch: 0 },
  requestTimestampMarginSeconds: 96,
  isBunkerMode: false,
  demandWei: 10n * ETH,
  bufferWei: 40n * ETH,
};

describe("expectedWithdrawalWait (hand-worked)", () => {
  it("buffer covers the queue: the first report whose border passes the request", () => {
    // border = ref epoch - 2 must reach epoch 10: ref epoch >= 12, the frame of epochs 12-13,
    // ref slot 14*8-1 = 111 at 1000 + 111*6 = 1666; 1666 - 1485 = 181 s.
    expect(expectedWithdrawalWait(base)).toEqual({
      bunker: false,
      seconds: 181,
      finalizationSeconds: 181,
      exitSeconds: 0,
      validatorsToExit: 0,
      nextReportRefSlot: 111,
    });
  });

  it("a shortfall waits for exits: churn, seed lookahead, withdrawability delay, then a report", () => {
    // 100 ETH short: 4 validators = 128 ETH = one epoch of the 128 ETH churn. The report's epoch
    // is 13; exit epoch 13+5 = 18, withdrawable 18+256 = 274; border 274 needs ref epoch 276:
    // frame 276-277, ref slot 278*8-1 = 2223 at 1000 + 2223*6 = 14338; 14338 - 1485 = 12853 s.
    const w = expectedWithdrawalWait({ ...base, demandWei: 100n * ETH, bufferWei: 0n });
    expect(w).toEqual({
      bunker: false,
      seconds: 12853,
      finalizationSeconds: 181,
      exitSeconds: 12672,
      validatorsToExit: 4,
      nextReportRefSlot: 111,
    });
  });

  it("more exits take more churn epochs; a larger churn takes fewer", () => {
    // 257 ETH: 9 validators, 288 ETH = 3 epochs at 128: withdrawable 276, ref epoch >= 278:
    // frame 278-279, ref slot 2239 at 14434.
    const slow = expectedWithdrawalWait({ ...base, demandWei: 257n * ETH, bufferWei: 0n });
    expect(slow).toMatchObject({ validatorsToExit: 9, seconds: 14434 - 1485 });
    // at 256 ETH per epoch: 2 epochs, withdrawable 275, ref epoch >= 277: the 276-277 frame.
    const fast = expectedWithdrawalWait({
      ...base,
      demandWei: 257n * ETH,
      bufferWei: 0n,
      exitChurnGweiPerEpoch: 256_000_000_000n,
    });
    expect(fast).toMatchObject({ validatorsToExit: 9, seconds: 14338 - 1485 });
  });

  it("gives no figure in bunker mode", () => {
    expect(expectedWithdrawalWait({ ...base, isBunkerMode: true })).toEqual({ bunker: true });
  });
});
