import type { Registry } from "@poolkeeper/registry";
import { poolKeysForWatcher, type Store } from "@poolkeeper/store";

/** A pool validator as the registry knows it. */
export interface PoolKey {
  /** Lowercase hex without 0x. */
  pubkey: string;
  operatorId: number;
  /** Registry key state (deposited, active, exiting, slashed, ...). */
  keyState: string;
}

export type WatcherKeyState = "active" | "exiting" | "exited" | "slashed";

export interface KeyStateChange {
  pubkey: string;
  to: WatcherKeyState;
  reason: string;
}

/** Where the watcher gets the pool's keys, and where it reports their state on chain. */
export interface PoolSource {
  keys(): Promise<PoolKey[]>;
  setKeyStates(changes: KeyStateChange[]): Promise<void>;
}

export const WATCHER_ACTOR = "watcher";

/** The registry's keys (deposited and later), state changes through `registry.setKeyStates`. */
export function registryPoolSource(store: Store, registry: Registry): PoolSource {
  return {
    async keys() {
      return (await poolKeysForWatcher(store)).map((k) => ({
        pubkey: k.pubkey,
        operatorId: k.operatorId,
        keyState: k.state,
      }));
    },
    async setKeyStates(changes) {
      if (changes.length === 0) return;
      await registry.setKeyStates(
        changes.map((c) => ({ pubkey: c.pubkey, to: c.to, reason: c.reason })),
        WATCHER_ACTOR,
      );
    },
  };
}

/** From which registry states the watcher may move a key (mirrors the registry's rule). */
const ALLOWED_FROM: Record<WatcherKeyState, readonly string[]> = {
  active: ["deposited"],
  exiting: ["deposited", "active"],
  exited: ["deposited", "active", "exiting", "slashed"],
  slashed: ["deposited", "active", "exiting"],
};

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
  return ALLOWED_FROM[want].includes(current) ? want : null;
}
