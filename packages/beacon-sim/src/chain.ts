import { EventEmitter } from "node:events";
import { SecretKey } from "@chainsafe/blst";
import type { ChainForkConfig } from "@lodestar/config";
import {
  DOMAIN_RANDAO,
  MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD,
  MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD,
  MIN_DEPOSIT_AMOUNT,
} from "@lodestar/params";
import { type electra, type phase0, ssz } from "@lodestar/types";
import { type NetworkJson, PoolkeeperError, toHex, ValidationError } from "@poolkeeper/core";
import { isValidDepositSignature } from "@poolkeeper/keys";
import { BlockProducer, syncRewards } from "./block-production.js";
import { resolveChainOptions } from "./chain-options.js";
import {
  BEHAVIOUR_CODE,
  baseRewardPerIncrement,
  type CarriedDepositRequest,
  type ChainOptions,
  type DepositRequestRecord,
  type EpochShuffling,
  FAR,
  type FinalityState,
  GWEI,
  isElectraOrLater,
  newValidatorFields,
  type PendingDepositEntry,
  type SimFork,
  type Snapshot,
  type StoredBlock,
  type ValidatorFields,
  type ValidatorStatus,
  ZERO_ROOT,
} from "./chain-types.js";
import { Duties } from "./duties.js";
import { ElectraLedger, processConsolidationRequest, processWithdrawalRequest } from "./electra.js";
import {
  type AttestationRewards,
  attestationRewards,
  justifyAndFinalize,
  processEffectiveBalances,
  processInactivityAndRewards,
  processRegistryUpdates,
  processRegistryUpdatesElectra,
} from "./epoch-processing.js";
import { SIM_ERRORS } from "./errors.js";
import { blockEvent, finalizedEvent, headEvent } from "./events.js";
import { ChainHistory } from "./history.js";
import { secretKeyOf } from "./keys.js";
import { genesisValidators, Registry } from "./registry.js";
import { hashOf } from "./rng.js";
import {
  type BehaviourKind,
  behaviourCodes,
  type ParsedScenario,
  parseScenario,
  type ValidatorSelector,
} from "./scenario.js";
import {
  checkVoluntaryExit,
  computeDomain,
  voluntaryExitDomain,
  voluntaryExitSigningRoot,
} from "./voluntary-exits.js";

export type {
  AttestationDeltas,
  ChainOptions,
  Checkpoint,
  FinalityState,
  Snapshot,
  StoredBlock,
  ValidatorFields,
  ValidatorStatus,
} from "./chain-types.js";
export {
  FAR,
  FLAG_HEAD,
  FLAG_SOURCE,
  FLAG_TARGET,
  GVR_EXACT_LIMIT,
  newValidatorFields,
} from "./chain-types.js";

/** The deposit contract and chain id of a sim chain's network file, unless a devnet names its own. */
export const SIM_DEPOSIT_IDENTITY = {
  contractAddress: "0x4242424242424242424242424242424242424242",
  chainId: 32382,
} as const;

/** Attestation reward contexts kept (recent epochs). */
const REWARD_CONTEXTS_KEPT = 4;

export class SimChain extends EventEmitter {
  readonly config: ChainForkConfig;
  readonly seed: string;
  readonly slotsPerEpoch: number;
  readonly secondsPerSlot: number;
  readonly genesisTime: number;
  readonly genesisForkVersion: Uint8Array;
  readonly capellaForkVersion: Uint8Array;
  readonly denebForkVersion: Uint8Array;
  /** The fork of every state of this chain (it starts there). */
  readonly fork: SimFork;
  /** The state's fork.current_version (and previous_version: the chain starts at this fork). */
  readonly forkVersion: Uint8Array;
  genesisValidatorsRoot: Uint8Array = ZERO_ROOT;
  readonly stateRetentionEpochs: number;
  /** SSZ states kept once served (see ChainOptions.servedStatesKept and servedState). */
  readonly servedStatesKept: number;
  readonly signature: Uint8Array;
  private readonly randaoDomain: Uint8Array;

  /** Validators, balances, lifecycle epochs: see Registry. */
  private readonly registry: Registry;
  /** Electra and later: pending deposits and the balance churn. */
  private readonly ledger: ElectraLedger | undefined;
  /** Electra: deposit requests for the next canonical block (its slot is the pending deposit's). */
  private depositRequestQueue: Array<Omit<PendingDepositEntry, "slot">> = [];
  /** Electra: every deposit request a block carried, in deposit order (the execution layer's deposit log). */
  private readonly depositRequestLog: CarriedDepositRequest[] = [];
  /** Electra: withdrawal requests (EIP-7002), MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD per block. */
  private withdrawalRequestQueue: electra.WithdrawalRequest[] = [];
  /** Electra: consolidation requests (EIP-7251), MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD per block. */
  private consolidationRequestQueue: electra.ConsolidationRequest[] = [];

  headSlot = 0;
  /** Blocks, roots, per-epoch records and snapshots: see ChainHistory. */
  private readonly history: ChainHistory;
  /** Operation pools, attestation packing, withdrawals, sync aggregates: see BlockProducer. */
  private readonly producer: BlockProducer;
  /** Shufflings, committees, proposers, sync committees: see Duties. */
  private readonly duties: Duties;
  private readonly behaviourCache = new Map<number, { code: Uint8Array; delay: Uint8Array }>();
  private finality: FinalityState;
  private finalityStalled = false;
  private scenario: ParsedScenario;
  private totalActiveIncrements = 0;
  /** Attestation reward contexts of recent epochs (see attestationRewardContext). */
  private readonly rewardContexts = new Map<number, AttestationRewards>();

  constructor(opts: ChainOptions = {}) {
    super();
    this.setMaxListeners(0);
    const o = resolveChainOptions(opts);
    this.scenario = o.scenario;
    const sc = this.scenario;
    this.seed = o.seed;
    this.slotsPerEpoch = o.slotsPerEpoch;
    this.secondsPerSlot = o.secondsPerSlot;
    this.genesisTime = o.genesisTime;
    this.stateRetentionEpochs = o.stateRetentionEpochs;
    this.servedStatesKept = o.servedStatesKept;
    this.history = new ChainHistory(this.slotsPerEpoch, this.stateRetentionEpochs);
    this.config = o.config;
    this.genesisForkVersion = this.config.GENESIS_FORK_VERSION;
    this.capellaForkVersion = this.config.CAPELLA_FORK_VERSION;
    this.denebForkVersion = this.config.DENEB_FORK_VERSION;
    this.fork = o.fork;
    this.forkVersion = this.config.getForkInfo(0).version;
    this.signature = SecretKey.fromBytes(secretKeyOf(0)).sign(hashOf(this.seed, "signature")).toBytes();
    this.registry = new Registry(this.config, o.keyCacheDir, () => this.churnLimit(), this.fork);
    this.producer = new BlockProducer(this, this.registry, this.history);
    this.producer.feeRecipients = o.feeRecipients;
    this.duties = new Duties(this.registry, this.history, this.slotsPerEpoch);

    // Genesis registry.
    const genesis = genesisValidators(opts, sc);
    this.appendValidators(genesis.count, genesis.pubkeys, genesis.withdrawalCredentials, 0, true);
    if (isElectraOrLater(this.fork)) {
      const ledger = new ElectraLedger(this.config, genesis.count, FAR, (d) =>
        this.isValidDepositSignature(d),
      );
      this.ledger = ledger;
      this.registry.balanceExitEpoch = (exitBalance, epoch) =>
        ledger.computeExitEpochAndUpdateChurn(exitBalance, epoch, this.totalActiveIncrements * GWEI);
      this.producer.pendingPartialWithdrawals = ledger.pendingPartialWithdrawals;
      // Requests are processed as the block that carries them is built, at that block's epoch,
      // at most `perBlock` of them (the rest wait for the next block, as in the execution layer).
      const takeAndProcess =
        <R>(queue: R[], perBlock: number, process: (r: R, epoch: number, totalActive: number) => void) =>
        (slot: number): R[] => {
          const requests = queue.splice(0, perBlock);
          for (const r of requests) process(r, this.epochOf(slot), this.totalActiveIncrements * GWEI);
          return requests;
        };
      this.producer.takeWithdrawalRequests = takeAndProcess(
        this.withdrawalRequestQueue,
        MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD,
        (r, epoch, total) => processWithdrawalRequest(ledger, this.registry, r, epoch, this.config, total),
      );
      this.producer.takeConsolidationRequests = takeAndProcess(
        this.consolidationRequestQueue,
        MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD,
        (r, epoch, total) => processConsolidationRequest(ledger, this.registry, r, epoch, this.config, total),
      );
      this.producer.takeDepositRequests = (slot) =>
        this.depositRequestQueue.splice(0).map((d) => {
          const index = ledger.addDepositRequest({ ...d, slot });
          this.depositRequestLog.push({ ...d, index, slot });
          return { ...d, index: BigInt(index) };
        });
    }

    this.finality = {
      previousJustified: { epoch: 0, root: ZERO_ROOT },
      currentJustified: { epoch: 0, root: ZERO_ROOT },
      finalized: { epoch: 0, root: ZERO_ROOT },
      bits: [false, false, false, false],
    };
    this.genesisValidatorsRoot = this.registry.genesisValidatorsRoot(this.seed);
    this.randaoDomain = computeDomain(DOMAIN_RANDAO, this.forkVersion, this.genesisValidatorsRoot);
    this.totalActiveIncrements = this.registry.totalActiveIncrements(0);

    // Genesis block (slot 0, empty body).
    const genesisBlock = this.producer.genesisBlock();
    this.history.rootAtSlot[0] = this.blockAt(0)?.root ?? ZERO_ROOT;
    this.history.setStateRoot(0, genesisBlock.stateRoot);
    this.takeSnapshot(0);
    for (const s of this.scenario.missedSlots) this.producer.missedSlots.add(s);
    for (const s of this.scenario.orphanedSlots) this.producer.orphanedSlots.add(s);
    for (const ex of this.scenario.exits) this.checkIndex(ex.validator, "scenario.exits.validator");
    for (const sl of this.scenario.slashings) this.checkIndex(sl.validator, "scenario.slashings.validator");
    if (this.ledger === undefined) {
      for (const field of ["withdrawalRequests", "consolidationRequests"] as const)
        if (this.scenario[field].length > 0)
          throw new ValidationError(
            `scenario.${field}`,
            `need an electra or fulu chain (fork is ${this.fork})`,
          );
      if (this.scenario.deposits.some((d) => d.amount !== undefined && d.amount !== 32 * GWEI))
        throw new ValidationError("scenario.deposits.amount", "must be 32 ETH before electra");
    }
  }

  // ---------------------------------------------------------------- registry

  /** Validators in the registry (all epochs up to the head's next). */
  get n(): number {
    return this.registry.n;
  }
  get pubkeys(): Uint8Array {
    return this.registry.pubkeys;
  }
  get withdrawalCredentials(): Uint8Array {
    return this.registry.withdrawalCredentials;
  }
  /** Epoch from which the validator is in the state. */
  get addedEpoch(): Uint32Array {
    return this.registry.addedEpoch;
  }
  get eligibilityEpoch(): Uint32Array {
    return this.registry.eligibilityEpoch;
  }
  get activationEpoch(): Uint32Array {
    return this.registry.activationEpoch;
  }
  get activationSetAt(): Uint32Array {
    return this.registry.activationSetAt;
  }
  get exitEpoch(): Uint32Array {
    return this.registry.exitEpoch;
  }
  get withdrawableEpoch(): Uint32Array {
    return this.registry.withdrawableEpoch;
  }
  /** Epoch from which exit/withdrawable epochs are visible. */
  get exitSetAt(): Uint32Array {
    return this.registry.exitSetAt;
  }
  /** Epoch from which the validator shows as slashed (FAR: never). */
  get slashedAt(): Uint32Array {
    return this.registry.slashedAt;
  }
  /** Live balances (gwei). */
  get balances(): Float64Array {
    return this.registry.balances;
  }
  /** Live effective balances (whole ETH). */
  get effective(): Uint16Array {
    return this.registry.effective;
  }
  get inactivityScores(): Uint32Array {
    return this.registry.inactivityScores;
  }

  private checkIndex(i: number, field: string): void {
    if (!Number.isInteger(i) || i < 0) throw new ValidationError(field, "must be a validator index");
  }

  private appendValidators(
    count: number,
    pubkeys: Uint8Array[] | undefined,
    wc: Uint8Array | undefined,
    addedEpoch: number,
    genesis: boolean,
  ): number[] {
    const added = this.registry.append(count, pubkeys, wc, addedEpoch, genesis);
    this.behaviourCache.clear();
    return added;
  }

  /**
   * This chain as a poolkeeper network file (what `loadNetwork(path)` reads): its fork versions,
   * genesis validators root and timing, with the deposit contract and chain id a devnet gives it.
   */
  networkJson(
    name: string,
    deposit: { contractAddress: string; chainId: number } = SIM_DEPOSIT_IDENTITY,
  ): NetworkJson {
    return {
      name,
      genesisForkVersion: toHex(this.genesisForkVersion),
      genesisValidatorsRoot: toHex(this.genesisValidatorsRoot),
      genesisTime: this.genesisTime,
      secondsPerSlot: this.secondsPerSlot,
      slotsPerEpoch: this.slotsPerEpoch,
      capellaForkVersion: toHex(this.capellaForkVersion),
      depositContractAddress: deposit.contractAddress,
      chainId: deposit.chainId,
    };
  }

  /** Index of a 48-byte pubkey in the registry, or -1. */
  indexOfPubkey(pk: Uint8Array): number {
    return this.registry.indexOfPubkey(pk);
  }

  pubkeyOf(i: number): Uint8Array {
    return this.registry.pubkeyOf(i);
  }

  /** The eth1 deposit count (before Electra: every validator; from Electra: the genesis deposits). */
  eth1DepositCount(): number {
    return this.registry.eth1DepositCount();
  }

  withdrawalCredentialsOf(i: number): Uint8Array {
    return this.registry.withdrawalCredentialsOf(i);
  }

  /** The secret key of a generated validator (undefined for given pubkeys). For tests only. */
  secretKeyOfValidator(i: number): Uint8Array | undefined {
    return this.registry.secretKeyOf(i);
  }

  /**
   * Deposits. Deneb: new validators appear in the state from the next epoch, become eligible then,
   * and activate once that epoch is finalized (plus the usual 1 + MAX_SEED_LOOKAHEAD epochs,
   * churn-limited). Electra and later: each is a deposit request in the next block, queued in
   * pending_deposits (see depositRequests); returns the validator indices the deposits will have.
   */
  addValidators(
    pubkeys: Uint8Array[] | number,
    withdrawalCredentials?: Uint8Array,
    amountGwei?: number,
  ): number[] {
    if (withdrawalCredentials !== undefined && withdrawalCredentials.length !== 32)
      throw new ValidationError("withdrawalCredentials", "must be 32 bytes");
    if (this.ledger !== undefined)
      return this.depositRequests(pubkeys, withdrawalCredentials, amountGwei ?? 32 * GWEI);
    if (amountGwei !== undefined && amountGwei !== 32 * GWEI)
      throw new ValidationError("amount", "must be 32 ETH before electra (deposits are whole validators)");
    const epoch = this.epochOf(this.headSlot) + 1;
    if (typeof pubkeys === "number")
      return this.appendValidators(pubkeys, undefined, withdrawalCredentials, epoch, false);
    const seen = new Set<string>();
    for (const [k, pk] of pubkeys.entries()) {
      if (pk.length !== 48) throw new ValidationError(`pubkeys[${k}]`, "must be 48 bytes");
      if (this.indexOfPubkey(pk) !== -1)
        throw new ValidationError(`pubkeys[${k}]`, "is already in the registry");
      const h = Buffer.from(pk).toString("hex");
      if (seen.has(h)) throw new ValidationError(`pubkeys[${k}]`, "appears twice in this batch");
      seen.add(h);
    }
    return this.appendValidators(pubkeys.length, pubkeys, withdrawalCredentials, epoch, false);
  }

  /**
   * Electra deposit requests (EIP-6110), carried by the next canonical block (execution_requests):
   * each deposit joins pending_deposits with that block's slot. A new pubkey gets the next validator index now and
   * enters the state when process_pending_deposits applies its first deposit (with that deposit's
   * credentials: the first one wins); a known pubkey gets a top-up.
   */
  private depositRequests(
    pubkeys: Uint8Array[] | number,
    wc: Uint8Array | undefined,
    amount: number,
  ): number[] {
    checkDepositRequestAmount(amount);
    let indices: number[];
    if (typeof pubkeys === "number") indices = this.appendValidators(pubkeys, undefined, wc, FAR, false);
    else {
      indices = [];
      const fresh: Uint8Array[] = [];
      const freshIndex = new Map<string, number>();
      for (const [k, pk] of pubkeys.entries()) {
        if (pk.length !== 48) throw new ValidationError(`pubkeys[${k}]`, "must be 48 bytes");
        const known = this.indexOfPubkey(pk);
        const h = Buffer.from(pk).toString("hex");
        const i = known !== -1 ? known : (freshIndex.get(h) ?? this.n + fresh.length);
        if (known === -1 && !freshIndex.has(h)) {
          freshIndex.set(h, i);
          fresh.push(pk);
        }
        indices.push(i);
      }
      if (fresh.length > 0) this.appendValidators(fresh.length, fresh, wc, FAR, false);
    }
    for (const i of indices)
      this.depositRequestQueue.push({
        pubkey: this.pubkeyOf(i).slice(),
        withdrawalCredentials: (wc ?? this.withdrawalCredentialsOf(i)).slice(),
        amount,
        signature: this.signature.slice(),
        unchecked: true,
      });
    return indices;
  }

  /**
   * is_valid_deposit_signature: the DepositMessage signed over DOMAIN_DEPOSIT with the chain's
   * GENESIS_FORK_VERSION and a zero genesis validators root.
   */
  isValidDepositSignature(d: Omit<PendingDepositEntry, "slot">): boolean {
    return isValidDepositSignature(
      {
        pubkey: d.pubkey,
        withdrawalCredentials: d.withdrawalCredentials,
        amount: BigInt(d.amount),
        signature: d.signature,
      },
      this.genesisForkVersion,
    );
  }

  /**
   * One execution-layer deposit request (EIP-6110) with its own signature, for the next canonical
   * block. Electra and later. It is queued whatever its signature (the deposit contract does not
   * check it); process_pending_deposits checks it when the state does not hold the key yet:
   * invalid, the deposit is dropped, valid, the validator is added with its credentials, and any
   * later deposit to the key is a top-up (so the first valid deposit's credentials win). Returns
   * the validator index the deposit goes to: a key already in the registry (or with a valid
   * deposit queued) keeps its index, a new key with a valid signature gets the registry's next
   * one now; undefined for a new key whose signature is invalid (no validator will come of it).
   */
  requestDeposit(d: {
    pubkey: Uint8Array;
    withdrawalCredentials: Uint8Array;
    amountGwei: number;
    signature: Uint8Array;
  }): number | undefined {
    if (this.ledger === undefined)
      throw new ValidationError(
        "deposit request",
        `needs an electra or fulu chain (this one is ${this.fork})`,
      );
    if (d.pubkey.length !== 48) throw new ValidationError("pubkey", "must be 48 bytes");
    if (d.withdrawalCredentials.length !== 32)
      throw new ValidationError("withdrawalCredentials", "must be 32 bytes");
    if (d.signature.length !== 96) throw new ValidationError("signature", "must be 96 bytes");
    checkDepositRequestAmount(d.amountGwei);
    const entry = {
      pubkey: d.pubkey.slice(),
      withdrawalCredentials: d.withdrawalCredentials.slice(),
      amount: d.amountGwei,
      signature: d.signature.slice(),
    };
    // The same check as when the deposit is applied (a pure function of the deposit), made now to
    // give the key its index: validators enter the state in index order, so a deposit that will
    // be dropped must not hold one.
    let index: number | undefined = this.indexOfPubkey(entry.pubkey);
    if (index === -1)
      index = this.isValidDepositSignature(entry)
        ? this.appendValidators(1, [entry.pubkey], entry.withdrawalCredentials, FAR, false)[0]
        : undefined;
    this.depositRequestQueue.push(entry);
    return index;
  }

  /**
   * The execution layer's deposit log (EIP-6110 deposit requests), in deposit order: those carried
   * by a block at `fromSlot` or later (with their deposit index and the block's slot), then those
   * queued for the next block (index and slot null: the execution layer has them, the consensus
   * layer not yet). Empty before Electra (the sim has no deposit contract log there).
   */
  depositRequestsFrom(fromSlot: number): DepositRequestRecord[] {
    const log = this.depositRequestLog;
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((log[mid] as CarriedDepositRequest).slot < fromSlot) lo = mid + 1;
      else hi = mid;
    }
    const out: DepositRequestRecord[] = log.slice(lo);
    for (const d of this.depositRequestQueue) out.push({ ...d, index: null, slot: null });
    return out;
  }

  /**
   * An execution-layer withdrawal request (EIP-7002), carried by the next canonical block: amount 0
   * asks for a full exit, more a partial withdrawal (0x02 validators only). `sourceAddress` is the
   * requesting address (default: the validator's own withdrawal address, so the request is
   * authorised); a request the chain rejects (another address, not active, already exiting) is
   * carried and dropped, as on a real chain. Electra and later.
   */
  requestWithdrawal(validator: number, opts: { amountGwei?: number; sourceAddress?: Uint8Array } = {}): void {
    if (this.ledger === undefined)
      throw new ValidationError(
        "withdrawal request",
        `needs an electra or fulu chain (this one is ${this.fork})`,
      );
    this.checkIndex(validator, "validator");
    if (validator >= this.n) throw new ValidationError("validator", "is not in the registry");
    const amount = opts.amountGwei ?? 0;
    if (!Number.isSafeInteger(amount) || amount < 0)
      throw new ValidationError("amountGwei", "must be a non-negative integer (0: full exit)");
    if (opts.sourceAddress !== undefined && opts.sourceAddress.length !== 20)
      throw new ValidationError("sourceAddress", "must be 20 bytes");
    this.withdrawalRequestQueue.push({
      sourceAddress: (opts.sourceAddress ?? this.withdrawalCredentialsOf(validator).subarray(12)).slice(),
      validatorPubkey: this.pubkeyOf(validator).slice(),
      amount: BigInt(amount),
    });
  }
  /**
   * An execution-layer consolidation request (EIP-7251), carried by a coming canonical block (at
   * most MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD per block): `source` into `target` (a 0x02
   * validator), or with source = target a switch of a 0x01 validator to compounding credentials.
   * `sourceAddress` is the requesting address (default: the source's own withdrawal address); a
   * request the chain rejects is carried and dropped, as on a real chain. Electra and later.
   */
  requestConsolidation(source: number, target: number, opts: { sourceAddress?: Uint8Array } = {}): void {
    if (this.ledger === undefined)
      throw new ValidationError(
        "consolidation request",
        `needs an electra or fulu chain (this one is ${this.fork})`,
      );
    for (const [i, field] of [
      [source, "source"],
      [target, "target"],
    ] as const) {
      this.checkIndex(i, field);
      if (i >= this.n) throw new ValidationError(field, "is not in the registry");
    }
    if (opts.sourceAddress !== undefined && opts.sourceAddress.length !== 20)
      throw new ValidationError("sourceAddress", "must be 20 bytes");
    this.consolidationRequestQueue.push({
      sourceAddress: (opts.sourceAddress ?? this.withdrawalCredentialsOf(source).subarray(12)).slice(),
      sourcePubkey: this.pubkeyOf(source).slice(),
      targetPubkey: this.pubkeyOf(target).slice(),
    });
  }

  // ---------------------------------------------------------------- time

  epochOf(slot: number): number {
    return Math.floor(slot / this.slotsPerEpoch);
  }
  startSlot(epoch: number): number {
    return epoch * this.slotsPerEpoch;
  }
  /** The slot of the wall clock (for a wall-clock driver). */
  wallClockSlot(nowMs = Date.now()): number {
    return Math.max(0, Math.floor((nowMs / 1000 - this.genesisTime) / this.secondsPerSlot));
  }

  advanceTo(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0)
      throw new ValidationError("slot", "must be a non-negative integer");
    while (this.headSlot < slot) this.produceSlot(this.headSlot + 1);
  }
  advanceEpochs(n: number): void {
    this.advanceTo(this.startSlot(this.epochOf(this.headSlot) + n));
  }

  // ---------------------------------------------------------------- scripting

  /** Appends a behaviour rule at runtime (later rules override earlier ones). */
  setBehaviour(
    validators: ValidatorSelector,
    behaviour: BehaviourKind,
    opts: { from?: number; to?: number; delay?: number } = {},
  ): void {
    const rule = parseScenario({
      behaviours: [
        {
          validators,
          behaviour,
          from: opts.from ?? this.epochOf(this.headSlot),
          to: opts.to,
          delay: opts.delay,
        },
      ],
    }).behaviours[0];
    if (rule === undefined) throw new ValidationError("behaviour", "invalid");
    this.scenario.behaviours.push(rule);
    this.behaviourCache.clear();
  }
  scheduleExit(validator: number, epoch: number): void {
    this.checkIndex(validator, "validator");
    this.scenario.exits.push({ validator, epoch });
  }
  scheduleSlashing(validator: number, epoch: number, kind: "attester" | "proposer" = "attester"): void {
    this.checkIndex(validator, "validator");
    this.scenario.slashings.push({ validator, epoch, kind });
  }
  missSlot(slot: number): void {
    this.producer.missedSlots.add(slot);
  }
  /** The block of `slot` (if its proposer proposes) is orphaned. */
  orphanSlot(slot: number): void {
    this.producer.orphanedSlots.add(slot);
  }
  /** Finality (and justification) stop advancing while stalled. */
  stallFinality(stalled: boolean): void {
    this.finalityStalled = stalled;
  }

  behaviourAt(epoch: number): { code: Uint8Array; delay: Uint8Array } {
    const hit = this.behaviourCache.get(epoch);
    if (hit !== undefined && hit.code.length >= this.n) return hit;
    const v = behaviourCodes(this.scenario.behaviours, epoch, this.n, BEHAVIOUR_CODE);
    this.behaviourCache.set(epoch, v);
    if (this.behaviourCache.size > 8) {
      const first = this.behaviourCache.keys().next().value;
      if (first !== undefined) this.behaviourCache.delete(first);
    }
    return v;
  }

  // ---------------------------------------------------------------- committees and duties

  isActiveAt(i: number, epoch: number): boolean {
    return this.registry.isActiveAt(i, epoch);
  }

  /** Number of validators in the state of `epoch`. */
  countAt(epoch: number): number {
    return this.duties.countAt(epoch);
  }

  shuffling(epoch: number): EpochShuffling {
    return this.duties.shuffling(epoch);
  }

  committeesPerSlot(epoch: number): number {
    return this.duties.committeesPerSlot(epoch);
  }

  /** Members of committee `index` at `slot`, in committee order. */
  committee(slot: number, index: number): Uint32Array {
    return this.duties.committee(slot, index);
  }

  /** For attester duties: where validator i sits in the committees of `epoch`. */
  committeePositions(epoch: number): ReturnType<Duties["committeePositions"]> {
    return this.duties.committeePositions(epoch);
  }

  /** Node faults listed in the scenario file. */
  scenarioFaults(): ParsedScenario["faults"] {
    return this.scenario.faults;
  }

  pendingPoolExits(): readonly phase0.SignedVoluntaryExit[] {
    return this.producer.poolExits;
  }

  /** The attestations in the operations pool at the head (see BlockProducer.poolAttestations). */
  poolAttestations(
    filter: { slot?: number; committeeIndex?: number } = {},
  ): phase0.Attestation[] | electra.Attestation[] {
    return this.producer.poolAttestations(this.headSlot, filter);
  }

  /** The randao mix of `epoch` as the served state holds it (genesis mix before epoch 0). */
  randaoMix(epoch: number): Uint8Array {
    return this.duties.randaoMix(epoch);
  }

  /** The mix a state at `slot` holds for its epoch. */
  randaoMixAtSlot(slot: number): Uint8Array {
    return this.duties.randaoMixAtSlot(slot);
  }

  /**
   * The proposer's randao reveal for `slot`: its BLS signature over the epoch (DOMAIN_RANDAO, deneb
   * fork version, genesis validators root), as a real validator client makes it; with the interop
   * keys this reproduces a Lodestar dev chain's randao mixes. Given pubkeys (secret unknown): the
   * constant signature.
   */
  randaoReveal(slot: number, proposer: number): Uint8Array {
    const sk = this.registry.secretKeyOf(proposer);
    if (sk === undefined) return this.signature;
    const root = ssz.phase0.SigningData.hashTreeRoot({
      objectRoot: ssz.Epoch.hashTreeRoot(this.epochOf(slot)),
      domain: this.randaoDomain,
    });
    return SecretKey.fromBytes(sk).sign(root).toBytes();
  }

  /** get_seed(state, epoch, domain). */
  epochSeed(epoch: number, domain: Uint8Array): Uint8Array {
    return this.duties.epochSeed(epoch, domain);
  }

  /**
   * Proposers of an epoch by the spec's compute_proposer_index, with the effective balances of the
   * epoch's state (cached once that state exists; before, a prediction from the current ones).
   */
  proposersOf(epoch: number): Int32Array {
    return this.duties.proposersOf(epoch);
  }

  proposerAt(slot: number): number {
    return this.duties.proposerAt(slot);
  }

  syncPeriodOf(epoch: number): number {
    return this.duties.syncPeriodOf(epoch);
  }

  /** SYNC_COMMITTEE_SIZE members (with repetition when there are few validators). */
  syncCommittee(period: number): Uint32Array {
    return this.duties.syncCommittee(period);
  }

  // ---------------------------------------------------------------- lookups

  blockAt(slot: number): StoredBlock | undefined {
    return this.history.blockAt(slot);
  }
  blockByRoot(root: Uint8Array): StoredBlock | undefined {
    return this.history.blockByRoot(root);
  }
  /** Root of the latest block at or before `slot` (slot ≤ head). */
  blockRootAtOrBefore(slot: number): Uint8Array {
    return this.history.rootAtSlot[Math.min(slot, this.headSlot)] ?? ZERO_ROOT;
  }
  stateRootAt(slot: number): Uint8Array {
    return this.history.stateRootAt(slot);
  }
  slotOfStateRoot(root: Uint8Array): number | undefined {
    return this.history.slotOfStateRoot(root);
  }
  snapshot(epoch: number): Snapshot | undefined {
    return this.history.snapshot(epoch);
  }
  /** Finality as seen by the state of `epoch`. */
  finalityAt(epoch: number): FinalityState | undefined {
    return this.history.snapshot(epoch)?.finality;
  }
  participationFlags(epoch: number): Uint8Array | undefined {
    return this.history.flags.get(epoch);
  }
  inclusionDelays(epoch: number): Uint8Array | undefined {
    return this.history.inclusionDelay.get(epoch);
  }
  currentFinality(): FinalityState {
    return this.finality;
  }
  /** Oldest epoch whose snapshot is still kept. */
  oldestSnapshotEpoch(): number {
    return this.history.oldestSnapshotEpoch();
  }

  isLive(i: number, epoch: number): boolean {
    return this.history.isLive(i, epoch);
  }

  /** Registry fields as visible in the state of `epoch`. */
  validatorAt(i: number, epoch: number): ValidatorFields {
    return this.readValidator(i, epoch, newValidatorFields());
  }

  /** Fills `out` (no allocation; for bulk work) with the fields of validator i in the state of `epoch`. */
  readValidator(
    i: number,
    epoch: number,
    out: ValidatorFields,
    snap = this.history.snapshot(epoch),
  ): ValidatorFields {
    return this.registry.read(i, epoch, out, snap);
  }

  balanceAt(i: number, epoch: number): number {
    const snap = this.history.snapshot(epoch);
    if (snap === undefined)
      throw new PoolkeeperError(SIM_ERRORS.STATE_NOT_AVAILABLE, `state of epoch ${epoch} is not available`);
    return snap.balances[i] ?? 0;
  }

  statusAt(
    i: number,
    epoch: number,
    fields?: ValidatorFields,
    snap = this.history.snapshot(epoch),
  ): ValidatorStatus {
    return this.registry.status(i, epoch, fields, snap);
  }

  // ---------------------------------------------------------------- rewards

  baseRewardPerIncrement(totalActiveIncrements: number): number {
    return baseRewardPerIncrement(totalActiveIncrements);
  }

  /**
   * Attestation rewards of `epoch` (flags of that epoch, effective balances of the state of
   * epoch + 1, as applied at the transition into epoch + 2). Undefined until then.
   */
  attestationRewardContext(epoch: number): AttestationRewards | undefined {
    if (this.epochOf(this.headSlot) < epoch + 2) return undefined;
    // final once epoch + 2 has begun (the epoch's flags, the next state's effective balances): the
    // last few kept, as a node keeps its recent rewards caches (a pruned state answers no more)
    if (this.history.snapshot(epoch + 1) === undefined) {
      this.rewardContexts.delete(epoch);
      return undefined;
    }
    let ctx = this.rewardContexts.get(epoch);
    if (ctx === undefined) {
      ctx = attestationRewards(this.registry, this.history, epoch);
      if (ctx === undefined) return undefined;
      this.rewardContexts.set(epoch, ctx);
      for (const e of this.rewardContexts.keys())
        if (this.rewardContexts.size > REWARD_CONTEXTS_KEPT) this.rewardContexts.delete(e);
    }
    return ctx;
  }

  /** Sync committee rewards of the block at `slot`: per member position, the signed amount. */
  syncRewardsOfBlock(slot: number): Array<{ validatorIndex: number; reward: number }> | undefined {
    const b = this.history.blockAt(slot);
    if (b === undefined || slot === 0) return undefined;
    return syncRewards(b, this.syncCommittee(this.syncPeriodOf(this.epochOf(slot))));
  }

  // ---------------------------------------------------------------- exits

  private churnLimit(): number {
    const active = this.shuffling(this.epochOf(this.headSlot)).active.length;
    return Math.max(
      this.config.MIN_PER_EPOCH_CHURN_LIMIT,
      Math.floor(active / this.config.CHURN_LIMIT_QUOTIENT),
    );
  }

  /** Domain for voluntary exits (EIP-7044: capella fork version from deneb on). */
  voluntaryExitDomain(): Uint8Array {
    return voluntaryExitDomain(this.capellaForkVersion, this.genesisValidatorsRoot);
  }

  voluntaryExitSigningRoot(exit: phase0.VoluntaryExit): Uint8Array {
    return voluntaryExitSigningRoot(exit, this.voluntaryExitDomain());
  }

  /** Validates a signed voluntary exit against the head state and queues it for the next block. */
  submitVoluntaryExit(signed: phase0.SignedVoluntaryExit): void {
    const cur = this.epochOf(this.headSlot);
    checkVoluntaryExit(signed, this.registry, cur, this.countAt(cur), this.producer.poolExits, (m) =>
      this.voluntaryExitSigningRoot(m),
    );
    this.producer.poolExits.push(signed);
  }

  // ---------------------------------------------------------------- production

  private produceSlot(slot: number): void {
    const epoch = this.epochOf(slot);
    const isEpochStart = slot % this.slotsPerEpoch === 0;
    const prevFinalizedEpoch = this.finality.finalized.epoch;
    if (isEpochStart) this.processEpoch(epoch);

    // Scripted operations of this epoch, included in its first block.
    if (isEpochStart) {
      this.producer.queueScripted(this.scenario, epoch, this.n);
      for (const w of this.scenario.withdrawalRequests)
        if (w.epoch === epoch)
          this.requestWithdrawal(w.validator, {
            amountGwei: w.amount,
            sourceAddress:
              w.sourceAddress === undefined ? undefined : Buffer.from(w.sourceAddress.slice(2), "hex"),
          });
      for (const r of this.scenario.consolidationRequests)
        if (r.epoch === epoch)
          this.requestConsolidation(r.source, r.target, {
            sourceAddress:
              r.sourceAddress === undefined ? undefined : Buffer.from(r.sourceAddress.slice(2), "hex"),
          });
      for (const d of this.scenario.deposits) {
        if (d.epoch !== epoch) continue;
        const wc =
          d.withdrawalCredentials !== undefined
            ? Buffer.from(d.withdrawalCredentials.slice(2), "hex")
            : undefined;
        if (d.pubkeys !== undefined)
          this.addValidators(
            d.pubkeys.map((h) => Buffer.from(h.slice(2), "hex")),
            wc,
            d.amount,
          );
        else this.addValidators(d.count ?? 0, wc, d.amount);
      }
    }

    const behaviour = this.behaviourAt(epoch);
    const proposer = this.proposerAt(slot);
    const { proposes, orphaned } = this.producer.proposal(slot, proposer, behaviour);

    this.history.setStateRoot(slot, hashOf(this.seed, "state", slot));
    this.history.ensureFlags(epoch, this.n);
    if (epoch > 0) this.history.ensureFlags(epoch - 1, this.n);
    let produced: StoredBlock | undefined;
    if (orphaned) {
      const orphan = this.producer.produceOrphan(slot, proposer);
      this.emit("block", blockEvent(slot, orphan.root));
    } else if (proposes)
      produced = this.producer.produceBlock(slot, proposer, epoch, this.totalActiveIncrements);
    this.history.rootAtSlot[slot] = produced?.root ?? this.history.rootAtSlot[slot - 1] ?? ZERO_ROOT;
    this.duties.recordSlot(slot, produced?.message.body.randaoReveal);
    this.headSlot = slot;

    // Attestations of this slot (to the head after this slot's block, if any).
    this.producer.createAttestations(slot, epoch, behaviour);

    if (produced !== undefined) {
      this.emit("block", blockEvent(slot, produced.root));
      const depPrev = this.blockRootAtOrBefore(Math.max(0, this.startSlot(epoch - 1) - 1));
      const depCur = this.blockRootAtOrBefore(Math.max(0, this.startSlot(epoch) - 1));
      this.emit(
        "head",
        headEvent(slot, produced.root, produced.message.stateRoot, isEpochStart, depPrev, depCur),
      );
    }
    if (isEpochStart && this.finality.finalized.epoch !== prevFinalizedEpoch) {
      this.emitFinalized();
    }
    this.emit("slot", slot);
  }

  private emitFinalized(): void {
    const fin = this.finality.finalized;
    this.emit("finalized_checkpoint", finalizedEvent(fin, this.stateRootAt(this.startSlot(fin.epoch))));
  }

  /**
   * Wei `address` (lowercase 0x-hex) received on the execution layer up to and including `slot`:
   * withdrawals swept to it and the priority fees of blocks it was the fee recipient of.
   */
  receivedWei(address: string, slot: number): bigint {
    return this.producer.elBalances.receivedAt(address, slot);
  }

  /** Non-canonical (orphaned) blocks at a slot. */
  orphansAt(slot: number): readonly StoredBlock[] {
    return this.history.orphansAt(slot);
  }

  // ---------------------------------------------------------------- epoch processing

  private stalledAt(epoch: number): boolean {
    if (this.finalityStalled) return true;
    return this.scenario.finality.some((f) => epoch >= f.from && (f.to === undefined || epoch < f.to));
  }

  /** Runs at the first slot of `epoch`: processes the end of epoch - 1. */
  private processEpoch(epoch: number): void {
    const cur = epoch - 1;
    if (cur > 1 && !this.stalledAt(epoch)) {
      justifyAndFinalize(this.finality, cur, this.registry, this.history, this.totalActiveIncrements, (e) =>
        this.blockRootAtOrBefore(this.startSlot(e)),
      );
    }
    if (epoch - 2 >= 0)
      processInactivityAndRewards(
        this.registry,
        this.history,
        this.config,
        epoch,
        this.finality.finalized.epoch,
      );
    const finalizedEpoch = this.finality.finalized.epoch;
    if (this.ledger !== undefined) {
      processRegistryUpdatesElectra(this.registry, this.config, epoch, finalizedEpoch);
      this.ledger.processPendingDeposits(
        this.registry.depositTarget(epoch),
        cur,
        this.startSlot(finalizedEpoch),
        this.totalActiveIncrements * GWEI,
      );
      this.ledger.processPendingConsolidations(this.registry, cur);
    } else {
      const activeCount = this.shuffling(Math.max(0, cur)).active.length;
      processRegistryUpdates(this.registry, this.config, epoch, finalizedEpoch, activeCount);
    }
    processEffectiveBalances(this.registry);
    this.totalActiveIncrements = this.registry.totalActiveIncrements(epoch);
    this.takeSnapshot(epoch);
  }

  private takeSnapshot(epoch: number): void {
    const r = this.registry;
    this.history.takeSnapshot(
      epoch,
      r.countInState(epoch),
      r.balances,
      r.effective,
      this.finality,
      this.totalActiveIncrements,
      this.ledger?.fields(),
    );
  }
}

/** A deposit request's amount: the deposit contract's minimum (1 ETH), whole gwei. */
function checkDepositRequestAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < MIN_DEPOSIT_AMOUNT)
    throw new ValidationError("amount", "must be an integer number of gwei, at least 1 ETH");
}
