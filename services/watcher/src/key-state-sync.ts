/**
 * Key-state sync: the registry key states an epoch's beacon statuses call for, and applying them
 * through the pool source. The transitions allowed are the lifecycle's (`WATCHER_TRANSITIONS`,
 * packages/store registry/lifecycle.ts), the same table the registry checks.
 */
import type { EpochDuties } from "@poolkeeper/beacon";
import type { Logger } from "@poolkeeper/core";
import { type ChainTargetState, WATCHER_TRANSITIONS } from "@poolkeeper/store";
import type { KeyStateChange, PoolKey, PoolSource, WatcherKeyState } from "./pool-source.js";

/** Whether the watcher may move a key from `current` to `to` (the registry's own rule). */
export function watcherMayMove(current: string, to: ChainTargetState): boolean {
  return (WATCHER_TRANSITIONS[to] as readonly string[]).includes(current);
}

/**
 * The key state a beacon status calls for, or null when nothing is to change.
 * deposited → active → exiting → exited; slashed from any live state, then exited.
 */
export function keyStateFor(status: string, slashed: boolean, current: string): WatcherKeyState | null {
  let want: WatcherKeyState | null;
  switch (status) {
    case "active_ongoing":
      want = slashed ? "slashed" : "active";
      break;
    case "active_exiting":
      want = slashed ? "slashed" : "exiting";
      break;
    case "active_slashed":
      want = "slashed";
      break;
    case "exited_slashed":
      want = current === "slashed" ? "exited" : "slashed";
      break;
    case "exited_unslashed":
    case "withdrawal_possible":
    case "withdrawal_done":
      want = slashed && current !== "slashed" ? "slashed" : "exited";
      break;
    default:
      want = null; // pending: stays deposited
  }
  if (want === null || want === current) return null;
  return watcherMayMove(current, want) ? want : null;
}

/** The changes an epoch's validator statuses call for, given the keys' current states. */
export function keyStateChanges(
  d: Pick<EpochDuties, "epoch" | "validators">,
  byIndex: ReadonlyMap<number, PoolKey>,
): KeyStateChange[] {
  const out: KeyStateChange[] = [];
  for (const v of d.validators) {
    const key = byIndex.get(v.validatorIndex);
    if (key === undefined || v.status === null) continue;
    const to = keyStateFor(v.status, v.slashed === true, key.keyState);
    if (to !== null) {
      out.push({
        pubkey: key.pubkey,
        to,
        reason: `beacon status ${v.status} at the end of epoch ${d.epoch}`,
      });
    }
  }
  return out;
}

/**
 * Move registry key states to what the epoch's statuses call for. The states are read again just
 * before (another worker may have moved them meanwhile, and the registry refuses a whole call
 * with one transition it does not allow); a refusal is retried on fresh states. The epoch is
 * already stored: a failure here is logged, and the next epoch's statuses make up for it.
 * `byIndex`'s key states are updated to the fresh ones.
 */
export async function syncKeyStates(
  pool: PoolSource,
  d: EpochDuties,
  byIndex: Map<number, PoolKey>,
  logger?: Logger,
): Promise<KeyStateChange[]> {
  if (
    d.validators.every((v) => v.status === null || v.status === "active_ongoing") &&
    [...byIndex.values()].every((k) => k.keyState === "active")
  ) {
    return [];
  }
  for (let attempt = 0; ; attempt++) {
    const fresh = new Map((await pool.keys()).map((k) => [k.pubkey, k.keyState]));
    for (const k of byIndex.values()) k.keyState = fresh.get(k.pubkey) ?? k.keyState;
    const changes = keyStateChanges(d, byIndex);
    if (changes.length === 0) return changes;
    try {
      await pool.setKeyStates(changes);
      return changes;
    } catch (e) {
      if (attempt >= 2) {
        logger?.warn(
          { epoch: d.epoch, err: e instanceof Error ? e.message : String(e) },
          "key states not updated; the next epoch will retry",
        );
        return [];
      }
    }
  }
}
