/**
 * Report frames, after Lido's HashConsensus: frames of `epochsPerFrame` epochs from
 * `initialEpoch`; a frame's report is about its ref slot, the last slot of the frame, and may be
 * built only once that slot is finalized. A ref slot without a block still has a state (the
 * state at that slot, after empty-slot processing), which is what the report reads.
 */
import { ValidationError } from "@poolkeeper/core";

export interface FrameConfig {
  slotsPerEpoch: number;
  secondsPerSlot: number;
  /** Unix seconds of slot 0. */
  genesisTime: number;
  /** Lido's mainnet value is 225 (one day); the devnet uses a few epochs. */
  epochsPerFrame: number;
  initialEpoch: number;
}

export interface Frame {
  index: number;
  firstEpoch: number;
  lastEpoch: number;
  /** The last slot of the frame: what the report describes. */
  refSlot: number;
  /** Unix seconds of the ref slot. */
  refTimestamp: number;
}

export const DEFAULT_EPOCHS_PER_FRAME = 225;

export function checkFrameConfig(c: FrameConfig): FrameConfig {
  for (const k of ["slotsPerEpoch", "secondsPerSlot", "epochsPerFrame"] as const)
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0) throw new ValidationError(k, "must be a positive integer");
  for (const k of ["genesisTime", "initialEpoch"] as const)
    if (!Number.isSafeInteger(c[k]) || c[k] < 0)
      throw new ValidationError(k, "must be a non-negative integer");
  return c;
}

export function frameAt(c: FrameConfig, index: number): Frame {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new ValidationError("frame", "must be a non-negative integer");
  const firstEpoch = c.initialEpoch + index * c.epochsPerFrame;
  const lastEpoch = firstEpoch + c.epochsPerFrame - 1;
  const refSlot = (lastEpoch + 1) * c.slotsPerEpoch - 1;
  return { index, firstEpoch, lastEpoch, refSlot, refTimestamp: c.genesisTime + refSlot * c.secondsPerSlot };
}

/** The frame an epoch falls in; null before the initial epoch. */
export function frameOfEpoch(c: FrameConfig, epoch: number): Frame | null {
  if (epoch < c.initialEpoch) return null;
  return frameAt(c, Math.floor((epoch - c.initialEpoch) / c.epochsPerFrame));
}

/** The frame whose ref slot is `refSlot`; null when it is not a ref slot. */
export function frameOfRefSlot(c: FrameConfig, refSlot: number): Frame | null {
  if ((refSlot + 1) % c.slotsPerEpoch !== 0) return null;
  const f = frameOfEpoch(c, Math.floor(refSlot / c.slotsPerEpoch));
  return f !== null && f.refSlot === refSlot ? f : null;
}

/**
 * The newest frame whose ref slot is finalized, given the finalized checkpoint's epoch: a
 * finalized checkpoint at epoch E makes final the block at E's first slot and everything before
 * it, so a ref slot (the last slot of an epoch) is final once E is past the frame's last epoch.
 * Null while none is.
 */
export function lastReportableFrame(c: FrameConfig, finalizedEpoch: number): Frame | null {
  const f = frameOfEpoch(c, finalizedEpoch - 1);
  if (f === null) return null;
  if (f.lastEpoch <= finalizedEpoch - 1) return f;
  return f.index === 0 ? null : frameAt(c, f.index - 1);
}
