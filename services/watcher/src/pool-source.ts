import type { Registry } from "@poolkeeper/registry";
import { type ChainTargetState, poolKeysForWatcher, type Store } from "@poolkeeper/store";

/** A pool validator as the registry knows it. */
export interface PoolKey {
  /** Lowercase hex without 0x. */
  pubkey: string;
  operatorId: number;
  /** Registry key state (deposited, active, exiting, slashed, ...). */
  keyState: string;
}

/** A state the chain (through the watcher) moves a key into (`CHAIN_TARGET_STATES`). */
export type WatcherKeyState = ChainTargetState;

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
