/** Payloads of the Beacon API events the chain emits (block, head, finalized_checkpoint), as served on /eth/v1/events. */
import type { Checkpoint } from "./chain-types.js";

const hex0x = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

export function blockEvent(slot: number, root: Uint8Array) {
  return { slot, block: hex0x(root), executionOptimistic: false };
}

/** depPrev, depCur: the duty dependent roots (last block before the previous and current epochs). */
export function headEvent(
  slot: number,
  root: Uint8Array,
  stateRoot: Uint8Array,
  epochTransition: boolean,
  depPrev: Uint8Array,
  depCur: Uint8Array,
) {
  return {
    slot,
    block: hex0x(root),
    state: hex0x(stateRoot),
    epochTransition,
    previousDutyDependentRoot: hex0x(depPrev),
    currentDutyDependentRoot: hex0x(depCur),
    executionOptimistic: false,
  };
}

export function finalizedEvent(fin: Checkpoint, stateRoot: Uint8Array) {
  return { block: hex0x(fin.root), state: hex0x(stateRoot), epoch: fin.epoch, executionOptimistic: false };
}
