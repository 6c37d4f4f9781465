/**
 * The validator registry in typed arrays (index = validator index; no object per validator):
 * keys, withdrawal credentials, lifecycle epochs with the epoch from which each is visible,
 * live balances, effective balances (whole ETH) and inactivity scores. Owns deposits (append),
 * activations, exits (churn-limited queue) and slashings.
 */
import { hash } from "node:crypto";
import type { ChainForkConfig } from "@lodestar/config";
import {
  EFFECTIVE_BALANCE_INCREMENT,
  EPOCHS_PER_SLASHINGS_VECTOR,
  MAX_SEED_LOOKAHEAD,
  MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX,
  MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA,
  WHISTLEBLOWER_REWARD_QUOTIENT,
  WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA,
} from "@lodestar/params";
import { type phase0, ssz } from "@lodestar/types";
import { ValidationError } from "@poolkeeper/core";
import {
  type ChainOptions,
  FAR,
  GVR_EXACT_LIMIT,
  GWEI,
  grow,
  isElectraOrLater,
  newValidatorFields,
  type PendingDepositEntry,
  type SimFork,
  type Snapshot,
  type ValidatorFields,
  type ValidatorStatus,
} from "./chain-types.js";
import { maxEffectiveBalanceElectra, type PendingDepositTarget } from "./electra.js";
import { derivePubkeys, derivePubkeysCached, KEY_CACHE_MIN, secretKeyOf } from "./keys.js";
import { hashOf } from "./rng.js";
import type { ParsedScenario } from "./scenario.js";

/** The genesis validators from the options (which win) and the scenario, checked. */
export function genesisValidators(
  opts: ChainOptions,
  sc: ParsedScenario,
): { count: number; pubkeys: Uint8Array[] | undefined; withdrawalCredentials: Uint8Array | undefined } {
  const pubkeys = opts.pubkeys ?? sc.pubkeys?.map((h) => Buffer.from(h.slice(2), "hex"));
  const count = opts.validators ?? sc.validators ?? pubkeys?.length ?? 64;
  if (!Number.isInteger(count) || count < 1)
    throw new ValidationError("validators", "must be a positive integer");
  if (pubkeys !== undefined && pubkeys.length !== count) {
    throw new ValidationError("pubkeys", `has ${pubkeys.length} keys but validators is ${count}`);
  }
  if (pubkeys !== undefined) {
    const seen = new Set<string>();
    for (const [k, pk] of pubkeys.entries()) {
      const h = Buffer.from(pk).toString("hex");
      if (seen.has(h)) throw new ValidationError(`pubkeys[${k}]`, "appears twice");
      seen.add(h);
    }
  }
  const withdrawalCredentials =
    opts.withdrawalCredentials ??
    (sc.withdrawalCredentials !== undefined
      ? Buffer.from(sc.withdrawalCredentials.slice(2), "hex")
      : undefined);
  return { count, pubkeys, withdrawalCredentials };
}

export class Registry {
  n = 0;
  pubkeys = new Uint8Array(0);
  withdrawalCredentials = new Uint8Array(0);
  /** Epoch from which the validator is in the state. */
  addedEpoch = new Uint32Array(0);
  eligibilityEpoch = new Uint32Array(0);
  activationEpoch = new Uint32Array(0);
  activationSetAt = new Uint32Array(0);
  exitEpoch = new Uint32Array(0);
  withdrawableEpoch = new Uint32Array(0);
  /** Epoch from which exit/withdrawable epochs are visible. */
  exitSetAt = new Uint32Array(0);
  /** Epoch from which the validator shows as slashed (FAR: never). */
  slashedAt = new Uint32Array(0);
  balances = new Float64Array(0);
  effective = new Uint16Array(0);
  inactivityScores = new Uint32Array(0);
  private keyNumbers = new Int32Array(0);
  private nextKeyNumber = 0;
  private pubkeyTable = new Int32Array(0);
  /** Next validator to activate (validators activate in index order). */
  private activationPointer = 0;
  private readonly exitChurn = new Map<number, number>();
  private exitQueueEpoch = 0;
  /** Genesis validators (the genesis deposits). */
  genesisCount = 0;
  /** Electra and later: compute_exit_epoch_and_update_churn (set by the chain). */
  balanceExitEpoch: ((exitBalance: number, epoch: number) => number) | undefined;

  /**
   * @param churnLimit the exit churn limit of the head state, asked on every exit (before Electra).
   */
  constructor(
    private readonly config: ChainForkConfig,
    private readonly keyCacheDir: string | undefined,
    private readonly churnLimit: () => number,
    readonly fork: SimFork = "deneb",
  ) {}

  /** get_max_effective_balance of validator i in whole ETH (32 before Electra). */
  maxEffectiveEth(i: number): number {
    if (!isElectraOrLater(this.fork)) return 32;
    return maxEffectiveBalanceElectra(this.withdrawalCredentials[i * 32] ?? 0) / GWEI;
  }

  /**
   * The eth1 deposit count blocks vote for: every validator's deposit before Electra; from Electra
   * on the genesis deposits only (later deposits are deposit requests).
   */
  eth1DepositCount(): number {
    return isElectraOrLater(this.fork) ? this.genesisCount : this.n;
  }

  /** Whether validator i's credentials let the sweep withdraw (0x01; from Electra also 0x02). */
  hasExecutionCredentials(i: number): boolean {
    const prefix = this.withdrawalCredentials[i * 32] ?? 0;
    return prefix === 1 || (prefix === 2 && isElectraOrLater(this.fork));
  }

  /** Validators in the state of `epoch` (a prefix: later ones are added later or still pending). */
  countInState(epoch: number): number {
    let n = this.n;
    while (n > 0 && (this.addedEpoch[n - 1] ?? 0) > epoch) n--;
    return n;
  }

  /**
   * Electra: what process_pending_deposits applies to. A deposit's validator has its index from the
   * request on (addedEpoch FAR until the deposit is applied, in queue order).
   */
  depositTarget(epoch: number): PendingDepositTarget {
    return {
      indexInState: (pk) => {
        const i = this.indexOfPubkey(pk);
        return i >= 0 && (this.addedEpoch[i] ?? FAR) !== FAR ? i : -1;
      },
      exitEpoch: (i) => this.exitEpoch[i] ?? FAR,
      withdrawableEpoch: (i) => this.withdrawableEpoch[i] ?? FAR,
      addValidator: (d: PendingDepositEntry) => {
        const i = this.indexOfPubkey(d.pubkey);
        if (i < 0) throw new Error("pending deposit of an unknown pubkey");
        this.withdrawalCredentials.set(d.withdrawalCredentials, i * 32);
        this.addedEpoch[i] = epoch;
        this.eligibilityEpoch[i] = FAR;
        this.balances[i] = d.amount;
        const inc = d.amount - (d.amount % EFFECTIVE_BALANCE_INCREMENT);
        this.effective[i] = Math.min(inc / GWEI, this.maxEffectiveEth(i));
      },
      increaseBalance: (i, amount) => {
        this.balances[i] = (this.balances[i] ?? 0) + amount;
      },
    };
  }

  /** Appends `count` validators (pubkeys given, or generated), in the state from `addedEpoch`. */
  append(
    count: number,
    pubkeys: Uint8Array[] | undefined,
    wc: Uint8Array | undefined,
    addedEpoch: number,
    genesis: boolean,
  ): number[] {
    const start = this.n;
    const end = start + count;
    this.pubkeys = grow(this.pubkeys, end * 48);
    this.withdrawalCredentials = grow(this.withdrawalCredentials, end * 32);
    this.addedEpoch = grow(this.addedEpoch, end);
    this.eligibilityEpoch = grow(this.eligibilityEpoch, end);
    this.activationEpoch = grow(this.activationEpoch, end);
    this.activationSetAt = grow(this.activationSetAt, end);
    this.exitEpoch = grow(this.exitEpoch, end);
    this.withdrawableEpoch = grow(this.withdrawableEpoch, end);
    this.exitSetAt = grow(this.exitSetAt, end);
    this.slashedAt = grow(this.slashedAt, end);
    this.balances = grow(this.balances, end);
    this.effective = grow(this.effective, end);
    this.inactivityScores = grow(this.inactivityScores, end);
    this.keyNumbers = grow(this.keyNumbers, end);
    if (pubkeys !== undefined) {
      if (pubkeys.length !== count) throw new ValidationError("pubkeys", "count mismatch");
      for (let k = 0; k < count; k++) {
        const pk = pubkeys[k];
        if (pk === undefined || pk.length !== 48)
          throw new ValidationError(`pubkeys[${k}]`, "must be 48 bytes");
        this.pubkeys.set(pk, (start + k) * 48);
        this.keyNumbers[start + k] = -1;
      }
    } else {
      if (
        this.nextKeyNumber === 0 &&
        start === 0 &&
        count >= KEY_CACHE_MIN &&
        this.keyCacheDir !== undefined
      ) {
        derivePubkeysCached(count, this.pubkeys, this.keyCacheDir);
      } else derivePubkeys(this.nextKeyNumber, count, this.pubkeys, start * 48);
      for (let k = 0; k < count; k++) this.keyNumbers[start + k] = this.nextKeyNumber + k;
      this.nextKeyNumber += count;
    }
    for (let i = start; i < end; i++) {
      if (wc !== undefined) this.withdrawalCredentials.set(wc, i * 32);
      else {
        const h = hash("sha256", this.pubkeys.subarray(i * 48, i * 48 + 48), "buffer");
        this.withdrawalCredentials.set(h, i * 32);
        this.withdrawalCredentials[i * 32] = 0;
      }
      this.addedEpoch[i] = addedEpoch;
      this.eligibilityEpoch[i] = genesis ? 0 : addedEpoch;
      this.activationEpoch[i] = genesis ? 0 : FAR;
      this.activationSetAt[i] = genesis ? 0 : FAR;
      this.exitEpoch[i] = FAR;
      this.withdrawableEpoch[i] = FAR;
      this.exitSetAt[i] = FAR;
      this.slashedAt[i] = FAR;
      // Electra: a deposit's validator waits outside the state (addedEpoch FAR) with no balance.
      this.balances[i] = addedEpoch === FAR ? 0 : 32 * GWEI;
      this.effective[i] = addedEpoch === FAR ? 0 : 32;
      this.inactivityScores[i] = 0;
    }
    this.n = end;
    this.indexPubkeys(start, end);
    if (genesis) {
      this.activationPointer = end;
      this.genesisCount = end;
    }
    return Array.from({ length: count }, (_, k) => start + k);
  }

  /** Open-addressing table: pubkey → index, keyed by the first 4 bytes (no string per key). */
  private indexPubkeys(start: number, end: number): void {
    if (this.pubkeyTable.length < end * 2) {
      let size = 1024;
      while (size < end * 2) size *= 2;
      this.pubkeyTable = new Int32Array(size).fill(-1);
      start = 0;
    }
    const mask = this.pubkeyTable.length - 1;
    const dv = new DataView(this.pubkeys.buffer, this.pubkeys.byteOffset);
    for (let i = start; i < end; i++) {
      let h = (dv.getUint32(i * 48 + 1, true) ^ dv.getUint32(i * 48 + 20, true)) & mask;
      while (this.pubkeyTable[h] !== -1) h = (h + 1) & mask;
      this.pubkeyTable[h] = i;
    }
  }

  /** Index of a 48-byte pubkey in the registry, or -1. */
  indexOfPubkey(pk: Uint8Array): number {
    if (pk.length !== 48 || this.pubkeyTable.length === 0) return -1;
    const mask = this.pubkeyTable.length - 1;
    const dv = new DataView(pk.buffer, pk.byteOffset, 48);
    let h = (dv.getUint32(1, true) ^ dv.getUint32(20, true)) & mask;
    for (;;) {
      const i = this.pubkeyTable[h] ?? -1;
      if (i === -1) return -1;
      if (Buffer.compare(this.pubkeys.subarray(i * 48, i * 48 + 48), pk) === 0) return i;
      h = (h + 1) & mask;
    }
  }

  pubkeyOf(i: number): Uint8Array {
    return this.pubkeys.subarray(i * 48, i * 48 + 48);
  }

  withdrawalCredentialsOf(i: number): Uint8Array {
    return this.withdrawalCredentials.subarray(i * 32, i * 32 + 32);
  }

  /** The secret key of a generated validator (undefined for given pubkeys). */
  secretKeyOf(i: number): Uint8Array | undefined {
    const k = this.keyNumbers[i];
    return k === undefined || k < 0 || i >= this.n ? undefined : secretKeyOf(k);
  }

  isActiveAt(i: number, epoch: number): boolean {
    return (this.activationEpoch[i] ?? FAR) <= epoch && epoch < (this.exitEpoch[i] ?? FAR);
  }

  /** Fills `out` with the fields of validator i as visible in the state of `epoch` (snap: that state). */
  read(i: number, epoch: number, out: ValidatorFields, snap: Snapshot | undefined): ValidatorFields {
    out.pubkey = this.pubkeys.subarray(i * 48, i * 48 + 48);
    out.withdrawalCredentials = this.withdrawalCredentials.subarray(i * 32, i * 32 + 32);
    out.effectiveBalance = (snap?.effective[i] ?? this.effective[i] ?? 0) * GWEI;
    out.slashed = (this.slashedAt[i] ?? FAR) <= epoch;
    const elig = this.eligibilityEpoch[i] ?? FAR;
    out.activationEligibilityEpoch = elig <= epoch ? elig : Number.POSITIVE_INFINITY;
    const act = this.activationEpoch[i] ?? FAR;
    out.activationEpoch =
      (this.activationSetAt[i] ?? FAR) <= epoch && act !== FAR ? act : Number.POSITIVE_INFINITY;
    const exitVisible = (this.exitSetAt[i] ?? FAR) <= epoch;
    const exit = this.exitEpoch[i] ?? FAR;
    const wd = this.withdrawableEpoch[i] ?? FAR;
    out.exitEpoch = exitVisible && exit !== FAR ? exit : Number.POSITIVE_INFINITY;
    out.withdrawableEpoch = exitVisible && wd !== FAR ? wd : Number.POSITIVE_INFINITY;
    return out;
  }

  private readonly statusScratch = newValidatorFields();

  status(
    i: number,
    epoch: number,
    fields: ValidatorFields | undefined,
    snap: Snapshot | undefined,
  ): ValidatorStatus {
    // a status per validator of a large filtered list: one scratch record, not one allocated each
    const v = fields ?? this.read(i, epoch, this.statusScratch, snap);
    const balance = snap?.balances[i] ?? 0;
    if (v.activationEligibilityEpoch === Number.POSITIVE_INFINITY) return "pending_initialized";
    if (v.activationEpoch > epoch) return "pending_queued";
    if (epoch < v.exitEpoch) {
      if (v.exitEpoch === Number.POSITIVE_INFINITY) return "active_ongoing";
      return v.slashed ? "active_slashed" : "active_exiting";
    }
    if (epoch < v.withdrawableEpoch) return v.slashed ? "exited_slashed" : "exited_unslashed";
    return balance > 0 ? "withdrawal_possible" : "withdrawal_done";
  }

  /** Sum of the effective balances (whole ETH) of the validators active at `epoch`, at least 1. */
  totalActiveIncrements(epoch: number): number {
    let t = 0;
    const n = this.n;
    for (let i = 0; i < n; i++) if (this.isActiveAt(i, epoch)) t += this.effective[i] ?? 0;
    return Math.max(1, t);
  }

  /** Activations at the transition into `epoch`: eligible once finalized, in index order, churn-limited. */
  activate(epoch: number, finalizedEpoch: number, churn: number): void {
    const n = this.n;
    let activated = 0;
    while (this.activationPointer < n && activated < churn) {
      const i = this.activationPointer;
      const elig = this.eligibilityEpoch[i] ?? FAR;
      if (elig > finalizedEpoch || (this.addedEpoch[i] ?? FAR) > epoch) break;
      this.activationEpoch[i] = epoch + MAX_SEED_LOOKAHEAD;
      this.activationSetAt[i] = epoch;
      this.activationPointer++;
      activated++;
    }
  }

  /**
   * Sets validator i's exit epoch (withdrawable MIN_VALIDATOR_WITHDRAWABILITY_DELAY later), visible
   * from epoch + 1.
   */
  setExit(i: number, exitEpoch: number, epoch: number): void {
    this.exitEpoch[i] = exitEpoch;
    this.withdrawableEpoch[i] = exitEpoch + this.config.MIN_VALIDATOR_WITHDRAWABILITY_DELAY;
    this.exitSetAt[i] = epoch + 1;
  }

  /** initiate_validator_exit, visible from epoch + 1. */
  initiateExit(i: number, epoch: number): void {
    if ((this.exitEpoch[i] ?? FAR) !== FAR) return;
    if (this.balanceExitEpoch !== undefined) {
      this.setExit(i, this.balanceExitEpoch((this.effective[i] ?? 0) * GWEI, epoch), epoch);
      return;
    }
    let exit = Math.max(epoch + 1 + MAX_SEED_LOOKAHEAD, this.exitQueueEpoch);
    if ((this.exitChurn.get(exit) ?? 0) >= this.churnLimit()) exit++;
    this.exitQueueEpoch = exit;
    this.exitChurn.set(exit, (this.exitChurn.get(exit) ?? 0) + 1);
    this.setExit(i, exit, epoch);
  }

  /** Slashes i; returns the whistleblower (= proposer) reward. */
  slash(i: number, epoch: number, whistleblower: number): number {
    if ((this.slashedAt[i] ?? FAR) !== FAR) return 0;
    this.initiateExit(i, epoch);
    this.slashedAt[i] = epoch + 1;
    this.withdrawableEpoch[i] = Math.max(this.withdrawableEpoch[i] ?? 0, epoch + EPOCHS_PER_SLASHINGS_VECTOR);
    const eff = (this.effective[i] ?? 0) * GWEI;
    const electra = isElectraOrLater(this.fork);
    const penaltyQuotient = electra
      ? MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA
      : MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX;
    this.balances[i] = Math.max(0, (this.balances[i] ?? 0) - Math.floor(eff / penaltyQuotient));
    const reward = Math.floor(
      eff / (electra ? WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA : WHISTLEBLOWER_REWARD_QUOTIENT),
    );
    this.balances[whistleblower] = (this.balances[whistleblower] ?? 0) + reward;
    return reward;
  }

  /**
   * The genesis validators root: the real hash tree root up to GVR_EXACT_LIMIT validators, above a
   * deterministic stand-in (documented; clients read it from /genesis).
   */
  genesisValidatorsRoot(seed: string): Uint8Array {
    if (this.n <= GVR_EXACT_LIMIT) {
      const validators: phase0.Validator[] = [];
      for (let i = 0; i < this.n; i++)
        validators.push({
          ...this.read(i, 0, newValidatorFields(), undefined),
          pubkey: this.pubkeyOf(i).slice(),
          withdrawalCredentials: this.withdrawalCredentialsOf(i).slice(),
        });
      return ssz.phase0.Validators.hashTreeRoot(validators);
    }
    return hashOf(seed, "genesis-validators-root", this.n, this.pubkeys.subarray(0, 48 * 1024));
  }
}
