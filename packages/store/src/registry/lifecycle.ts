/**
 * The key lifecycle and the words built on it, defined once: the states, the transitions the
 * database allows (mirrored by the SQL function pk_key_transition_allowed; a test compares the
 * two pair by pair on PGlite and PostgreSQL), the groups of states, and the attestation flag bits
 * the watcher stores and the performance queries read.
 */

import { KEY_STATES, type KeyStateName } from "@poolkeeper/core";

/** The key states, in lifecycle order, are defined in core (vocabulary.ts) for every layer. */
export { KEY_STATES, type KeyStateName };

/**
 * Every allowed state change, from → the states it may go to. vetted → submitted is the DAO
 * lowering a vetted limit; vetted → deposited happens only by inserting a deposit batch; the
 * rest after deposited are the chain's, applied by the watcher, except deposited → front_run or
 * cancelled: the keys of a batch deposit security refused (migration 0037).
 */
export const KEY_TRANSITIONS: Readonly<Record<KeyStateName, readonly KeyStateName[]>> = {
  submitted: ["vetted", "removed"],
  vetted: ["submitted", "removed", "deposited"],
  deposited: ["active", "exiting", "exited", "slashed", "front_run", "cancelled"],
  active: ["exiting", "exited", "slashed"],
  exiting: ["exited", "slashed"],
  slashed: ["exited"],
  exited: [],
  removed: [],
  front_run: [],
  cancelled: [],
};

export function isKeyTransitionAllowed(from: KeyStateName, to: KeyStateName): boolean {
  return KEY_TRANSITIONS[from].includes(to);
}

/** States that hold pool ETH on the beacon chain: an operator's "fill" for MinFirst. */
export const STAKED_STATES: readonly KeyStateName[] = ["deposited", "active", "exiting", "slashed"];
/** Every state a key can reach once deposited ("used": never deposited again, never removed). */
export const EVER_DEPOSITED_STATES: readonly KeyStateName[] = [
  "deposited",
  "active",
  "exiting",
  "exited",
  "slashed",
  "front_run",
  "cancelled",
];
/**
 * The keys of a deposit batch refused by deposit security (never sent): `front_run` (a guardian
 * found a deposit for it with other credentials), `cancelled` (its other keys). Final; they keep
 * their batch and count against the vetted limit, as every key ever deposited.
 */
export const REFUSED_STATES: readonly KeyStateName[] = ["front_run", "cancelled"];
/** States of a key with no deposit batch (never deposited): `deposit_batch_id IS NULL` exactly here. */
export const UNDEPOSITED_STATES: readonly KeyStateName[] = ["submitted", "vetted", "removed"];
/** States counted against an operator's vetted limit: vetted and every deposited state. */
export const VETTED_LIMIT_STATES: readonly KeyStateName[] = ["vetted", ...EVER_DEPOSITED_STATES];
/**
 * Every named group of states: the SQL constraints and triggers may only use these lists
 * (`IN (...)` or, for its complement, `NOT IN (...)`); a test reads the live definitions.
 */
export const STATE_GROUPS = {
  all: KEY_STATES as readonly KeyStateName[],
  staked: STAKED_STATES,
  everDeposited: EVER_DEPOSITED_STATES,
  undeposited: UNDEPOSITED_STATES,
  vettedLimit: VETTED_LIMIT_STATES,
  refused: REFUSED_STATES,
} as const;

/** States whose validators can have duties: what the watcher follows (= the staked states). */
export const WATCHED_STATES: readonly KeyStateName[] = STAKED_STATES;

/** The states the chain (through the watcher) moves a key into: each with the states it may leave. */
export const CHAIN_TARGET_STATES = ["active", "exiting", "exited", "slashed"] as const;
export type ChainTargetState = (typeof CHAIN_TARGET_STATES)[number];
const leavesFor = (to: ChainTargetState) =>
  EVER_DEPOSITED_STATES.filter((from) => isKeyTransitionAllowed(from, to));
export const WATCHER_TRANSITIONS: Readonly<Record<ChainTargetState, readonly KeyStateName[]>> = {
  active: leavesFor("active"),
  exiting: leavesFor("exiting"),
  exited: leavesFor("exited"),
  slashed: leavesFor("slashed"),
};

/** SQL list literal of states, for queries: `state IN ${sqlStateList(STAKED_STATES)}`. */
export function sqlStateList(states: readonly KeyStateName[]): string {
  return `(${states.map((s) => `'${s}'`).join(", ")})`;
}

/** Bits of an epoch's attestation record (watcher_exceptions.att_flags). */
export const ATT_FLAG = { source: 1, target: 2, head: 4 } as const;
export const ATT_FLAGS_ALL = ATT_FLAG.source | ATT_FLAG.target | ATT_FLAG.head;

export interface AttestationCorrectness {
  sourceCorrect: boolean;
  targetCorrect: boolean;
  headCorrect: boolean;
}

export function encodeAttFlags(a: AttestationCorrectness): number {
  return (
    (a.sourceCorrect ? ATT_FLAG.source : 0) |
    (a.targetCorrect ? ATT_FLAG.target : 0) |
    (a.headCorrect ? ATT_FLAG.head : 0)
  );
}

export function decodeAttFlags(flags: number): AttestationCorrectness {
  return {
    sourceCorrect: (flags & ATT_FLAG.source) !== 0,
    targetCorrect: (flags & ATT_FLAG.target) !== 0,
    headCorrect: (flags & ATT_FLAG.head) !== 0,
  };
}
