import type { Registry } from "@poolkeeper/registry";
import {
  type ChainTargetState,
  poolKeysForWatcher,
  recordKeyChainDeposits,
  type Store,
} from "@poolkeeper/store";

/** A pool validator as the registry knows it. */
export interface PoolKey {
  /** Lowercase hex without 0x. */
  pubkey: string;
  operatorId: number;
  /** Registry key state (deposited, active, exiting, slashed, ...). */
  keyState: string;
  /** Whether the key's deposit was already seen on chain (recorded by `recordChainDeposits`). */
  chainDepositSeen?: boolean;
}

/** A pool key's deposit as the chain first showed it: a pending deposit (Electra and later). */
export interface ChainDepositSeen {
  /** Lowercase hex without 0x. */
  pubkey: string;
  slot: number;
  amountGwei: bigint;
  withdrawalCredentials: Uint8Array;
  /** The epoch processed when the finalized state showed it. */
  seenEpoch: number;
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
  /** Record deposits seen on chain (the first record of a key stays); a source without it skips them. */
  recordChainDeposits?(deposits: ChainDepositSeen[]): Promise<void>;
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
        chainDepositSeen: k.chainDepositSeen,
      }));
    },
    async recordChainDeposits(deposits) {
      await recordKeyChainDeposits(store, deposits);
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
