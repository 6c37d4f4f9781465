/**
 * What the chain remembers: blocks (canonical by slot, all by root, orphans), block and state roots
 * by slot, per-epoch records (participation flags, inclusion delays, proposers, inactivity penalties,
 * leak) and the epoch snapshots. Pruning drops everything older than the retention window, like a
 * pruned node (the genesis block stays).
 */
import {
  type ElectraFields,
  type FinalityState,
  type Snapshot,
  type StoredBlock,
  ZERO_ROOT,
} from "./chain-types.js";

const key = (root: Uint8Array) => Buffer.from(root).toString("hex");

export class ChainHistory {
  private readonly blocks = new Map<number, StoredBlock>();
  private readonly blocksByRoot = new Map<string, StoredBlock>();
  private readonly orphansBySlot = new Map<number, StoredBlock[]>();
  /** Root of the latest block at or before each slot. */
  readonly rootAtSlot: Uint8Array[] = [];
  private readonly stateRootBySlot: Uint8Array[] = [];
  private readonly slotByStateRoot = new Map<string, number>();
  private readonly snapshots = new Map<number, Snapshot>();
  /** Participation flags per epoch (FLAG_SOURCE | FLAG_TARGET | FLAG_HEAD per validator). */
  readonly flags = new Map<number, Uint8Array>();
  /** Inclusion delay of each validator's first included attestation, per epoch. */
  readonly inclusionDelay = new Map<number, Uint8Array>();
  private readonly proposedIn = new Map<number, Set<number>>();
  readonly inactivityPenalties = new Map<number, Float64Array>();
  /** Whether the inactivity leak was on for the rewards of an epoch. */
  readonly leakAt = new Map<number, boolean>();

  constructor(
    private readonly slotsPerEpoch: number,
    private readonly retentionEpochs: number,
  ) {}

  addBlock(stored: StoredBlock): StoredBlock {
    this.blocks.set(stored.slot, stored);
    this.blocksByRoot.set(key(stored.root), stored);
    return stored;
  }

  /** A non-canonical block: reachable by root and in orphansAt(slot), never by slot. */
  addOrphan(stored: StoredBlock): void {
    this.blocksByRoot.set(key(stored.root), stored);
    let list = this.orphansBySlot.get(stored.slot);
    if (list === undefined) {
      list = [];
      this.orphansBySlot.set(stored.slot, list);
    }
    list.push(stored);
  }

  blockAt(slot: number): StoredBlock | undefined {
    return this.blocks.get(slot);
  }
  blockByRoot(root: Uint8Array): StoredBlock | undefined {
    return this.blocksByRoot.get(key(root));
  }
  orphansAt(slot: number): readonly StoredBlock[] {
    return this.orphansBySlot.get(slot) ?? [];
  }

  setStateRoot(slot: number, root: Uint8Array): void {
    this.stateRootBySlot[slot] = root;
    this.slotByStateRoot.set(key(root), slot);
  }
  stateRootAt(slot: number): Uint8Array {
    return this.stateRootBySlot[slot] ?? ZERO_ROOT;
  }
  slotOfStateRoot(root: Uint8Array): number | undefined {
    return this.slotByStateRoot.get(key(root));
  }

  /** The flags of `epoch`, grown to at least n validators (with the inclusion delays beside them). */
  ensureFlags(epoch: number, n: number): Uint8Array {
    let f = this.flags.get(epoch);
    if (f === undefined || f.length < n) {
      const nf = new Uint8Array(Math.max(n, 16));
      if (f !== undefined) nf.set(f);
      f = nf;
      this.flags.set(epoch, f);
      const d = new Uint8Array(f.length);
      const old = this.inclusionDelay.get(epoch);
      if (old !== undefined) d.set(old);
      this.inclusionDelay.set(epoch, d);
    }
    return f;
  }

  markProposed(epoch: number, proposer: number): void {
    let set = this.proposedIn.get(epoch);
    if (set === undefined) {
      set = new Set();
      this.proposedIn.set(epoch, set);
    }
    set.add(proposer);
  }

  /** Attested (any flag) or proposed in `epoch`. */
  isLive(i: number, epoch: number): boolean {
    const f = this.flags.get(epoch);
    if (f !== undefined && (f[i] ?? 0) !== 0) return true;
    return this.proposedIn.get(epoch)?.has(i) ?? false;
  }

  snapshot(epoch: number): Snapshot | undefined {
    return this.snapshots.get(epoch);
  }

  /** Oldest epoch whose snapshot is still kept. */
  oldestSnapshotEpoch(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const e of this.snapshots.keys()) if (e < min) min = e;
    return min;
  }

  /** Keeps the state of `epoch` (copies of the first n balances and effective balances) and prunes. */
  takeSnapshot(
    epoch: number,
    n: number,
    balances: Float64Array,
    effective: Uint16Array,
    finality: FinalityState,
    totalActiveIncrements: number,
    electra?: ElectraFields,
  ): void {
    this.snapshots.set(epoch, {
      n,
      balances: balances.slice(0, n),
      effective: effective.slice(0, n),
      finality: {
        previousJustified: { ...finality.previousJustified },
        currentJustified: { ...finality.currentJustified },
        finalized: { ...finality.finalized },
        bits: [...finality.bits],
      },
      totalActiveIncrements,
      ...(electra === undefined ? {} : { electra }),
    });
    const drop = epoch - this.retentionEpochs;
    if (drop > 0) {
      this.snapshots.delete(drop);
      this.flags.delete(drop - 1);
      this.inclusionDelay.delete(drop - 1);
      this.inactivityPenalties.delete(drop - 1);
      this.proposedIn.delete(drop - 1);
      // Block bodies of the dropped epoch go too (a pruned node); the genesis block stays.
      const spe = this.slotsPerEpoch;
      for (let sl = Math.max(1, (drop - 1) * spe); sl < drop * spe; sl++) {
        for (const b of [this.blocks.get(sl), ...(this.orphansBySlot.get(sl) ?? [])]) {
          if (b !== undefined) this.blocksByRoot.delete(key(b.root));
        }
        this.blocks.delete(sl);
        this.orphansBySlot.delete(sl);
      }
    }
  }
}
