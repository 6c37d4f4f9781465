/**
 * The expected wait of a withdrawal request made now, from the oracle's own rules (the public
 * page's withdrawals section):
 *
 *  1. finalization: a report finalizes requests made up to its safe border, the ref epoch less the
 *     request margin in whole epochs (`finalizationDefaultShift`, outside bunker mode). A request
 *     made at `now` is finalizable by the first frame whose ref epoch is at least
 *     epoch(now) + shift; the wait is until that frame's ref slot.
 *  2. exits: when the unfinalized stETH (this request's included) is more than the buffer, that
 *     report asks validators to exit (the ejector, ejector.ts). Their ether comes back after the
 *     exit churn (Electra's activation-exit churn: at least MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA,
 *     128 ETH per epoch, which is the figure used when the network's is unknown — a wait no
 *     shorter than the chain's), MAX_SEED_LOOKAHEAD + 1 epochs to the exit epoch, and
 *     MIN_VALIDATOR_WITHDRAWABILITY_DELAY epochs; the first report after that finalizes.
 *
 * In bunker mode finalization is held back by the bunker's borders: no figure is given.
 * Not counted: the chain's exit queue backlog of other exits and the withdrawals sweep (the admin
 * API reads no beacon node); operators' time to sign the exit is within the deadline of the exit
 * request. Pure.
 */
import { finalizationDefaultShift } from "./bunker.js";
import { type FrameConfig, frameAt, frameOfEpoch } from "./frames.js";

export const MAX_SEED_LOOKAHEAD = 4;
export const MIN_VALIDATOR_WITHDRAWABILITY_DELAY_EPOCHS = 256;
/** Electra's MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA: 128 ETH per epoch, in gwei. */
export const MIN_EXIT_CHURN_GWEI_PER_EPOCH = 128_000_000_000n;
const VALIDATOR_WEI = 32n * 10n ** 18n;
const GWEI = 10n ** 9n;

export interface WithdrawalWaitInput {
  /** Unix seconds. */
  now: number;
  frames: FrameConfig;
  requestTimestampMarginSeconds: number;
  isBunkerMode: boolean;
  /** Unfinalized stETH, wei, with the request (the queue's size). */
  demandWei: bigint;
  /** What the pool holds to pay it: the buffer (wei). */
  bufferWei: bigint;
  /** The network's activation-exit churn per epoch (gwei); default the Electra minimum. */
  exitChurnGweiPerEpoch?: bigint;
}

export type WithdrawalWait =
  | {
      bunker: false;
      seconds: number;
      finalizationSeconds: number;
      exitSeconds: number;
      validatorsToExit: number;
      nextReportRefSlot: number;
    }
  | { bunker: true };

/** The first frame whose ref epoch is at least `epoch`. */
function firstFrameWithRefEpochAtLeast(f: FrameConfig, epoch: number) {
  const frame = frameOfEpoch(f, Math.max(epoch, f.initialEpoch));
  return frame ?? frameAt(f, 0);
}

export function expectedWithdrawalWait(i: WithdrawalWaitInput): WithdrawalWait {
  if (i.isBunkerMode) return { bunker: true };
  const f = i.frames;
  const epochSeconds = f.slotsPerEpoch * f.secondsPerSlot;
  const nowEpoch = Math.max(0, Math.floor((i.now - f.genesisTime) / epochSeconds));
  const shift = finalizationDefaultShift(f, i.requestTimestampMarginSeconds);
  const report = firstFrameWithRefEpochAtLeast(f, nowEpoch + shift);
  const finalizationSeconds = Math.max(0, report.refTimestamp - i.now);
  const shortfall = i.demandWei > i.bufferWei ? i.demandWei - i.bufferWei : 0n;
  if (shortfall === 0n) {
    return {
      bunker: false,
      seconds: finalizationSeconds,
      finalizationSeconds,
      exitSeconds: 0,
      validatorsToExit: 0,
      nextReportRefSlot: report.refSlot,
    };
  }
  const validators = (shortfall + VALIDATOR_WEI - 1n) / VALIDATOR_WEI;
  const churn = i.exitChurnGweiPerEpoch ?? MIN_EXIT_CHURN_GWEI_PER_EPOCH;
  const churnEpochs = Number((validators * 32n * GWEI + churn - 1n) / churn);
  const reportEpoch = Math.floor(report.refSlot / f.slotsPerEpoch);
  // exit epoch: after the churn from the report's epoch; withdrawable MIN_..._DELAY later
  const withdrawableEpoch =
    reportEpoch + MAX_SEED_LOOKAHEAD + 1 + churnEpochs - 1 + MIN_VALIDATOR_WITHDRAWABILITY_DELAY_EPOCHS;
  const last = firstFrameWithRefEpochAtLeast(f, withdrawableEpoch + shift);
  const seconds = Math.max(finalizationSeconds, last.refTimestamp - i.now);
  return {
    bunker: false,
    seconds,
    finalizationSeconds,
    exitSeconds: seconds - finalizationSeconds,
    validatorsToExit: Number(validators),
    nextReportRefSlot: report.refSlot,
  };
}
