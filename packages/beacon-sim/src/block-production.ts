/**
 * Block production: attestations created from each validator's behaviour and packed into blocks
 * (merged aggregates, inclusion delays, participation flags, proposer rewards), scripted and pool
 * exits and slashings, the withdrawals sweep, sync aggregates, orphaned blocks. Owns the operation
 * pools and the execution payload and withdrawal cursors; the registry and history it writes to
 * belong to the chain.
 */
import { SecretKey } from "@chainsafe/blst";
import { BitArray } from "@chainsafe/ssz";
import {
  MAX_ATTESTATIONS,
  MAX_ATTESTATIONS_ELECTRA,
  MAX_COMMITTEES_PER_SLOT,
  MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP,
  MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP,
  MAX_WITHDRAWALS_PER_PAYLOAD,
  MIN_ACTIVATION_BALANCE,
  SYNC_COMMITTEE_SIZE,
} from "@lodestar/params";
import { type deneb, type electra, type phase0, ssz } from "@lodestar/types";
import type { SimChain } from "./chain.js";
import {
  BEHAVIOUR_CODE,
  baseRewardPerIncrement,
  type EpochBehaviour,
  FAR,
  FLAG_HEAD,
  FLAG_SOURCE,
  FLAG_TARGET,
  FLAG_WEIGHTS,
  GWEI,
  isElectraOrLater,
  isqrt,
  type PendingAttestation,
  type PendingOp,
  type PendingPartialWithdrawalEntry,
  PROPOSER_WEIGHT,
  type SimBlock,
  type StoredBlock,
  SYNC_REWARD_WEIGHT,
  WEIGHT_DENOMINATOR,
  ZERO_ROOT,
} from "./chain-types.js";
import { addressHex, BURN_ADDRESS, ExecutionBalances, priorityFeeWei } from "./el-balances.js";
import type { ChainHistory } from "./history.js";
import type { Registry } from "./registry.js";
import { hashOf } from "./rng.js";
import type { ParsedScenario } from "./scenario.js";

/** What block production reads from the chain (its public surface). */
export type ProducerHost = Pick<
  SimChain,
  | "seed"
  | "signature"
  | "genesisTime"
  | "secondsPerSlot"
  | "slotsPerEpoch"
  | "epochOf"
  | "startSlot"
  | "blockRootAtOrBefore"
  | "committeesPerSlot"
  | "committee"
  | "syncCommittee"
  | "syncPeriodOf"
  | "behaviourAt"
  | "voluntaryExitSigningRoot"
  | "secretKeyOfValidator"
  | "currentFinality"
  | "randaoReveal"
  | "randaoMixAtSlot"
>;

/**
 * Electra's on-chain aggregate of one vote across the committees of a slot (EIP-7549):
 * committee_bits name the committees, aggregation_bits are their bits in committee order, and
 * data.index is 0. `parts`: one aggregate per committee, same slot and vote.
 */
export function onChainAggregate(parts: readonly PendingAttestation[]): electra.Attestation {
  const sorted = [...parts].sort((x, y) => x.att.data.index - y.att.data.index);
  const first = sorted[0];
  if (first === undefined) throw new Error("an on-chain aggregate needs at least one committee");
  const committeeBits = BitArray.fromBitLen(MAX_COMMITTEES_PER_SLOT);
  let len = 0;
  for (const p of sorted) {
    committeeBits.set(p.att.data.index, true);
    len += p.att.aggregationBits.bitLen;
  }
  const aggregationBits = BitArray.fromBitLen(len);
  let off = 0;
  for (const p of sorted) {
    const bits = p.att.aggregationBits;
    for (let k = 0; k < bits.bitLen; k++) if (bits.get(k)) aggregationBits.set(off + k, true);
    off += bits.bitLen;
  }
  return {
    aggregationBits,
    data: { ...first.att.data, index: 0 },
    signature: first.att.signature,
    committeeBits,
  };
}

/** Sync committee rewards of a block: per member (summed over repeated positions), the signed amount. */
export function syncRewards(
  b: StoredBlock,
  members: Uint32Array,
): Array<{ validatorIndex: number; reward: number }> {
  const bits = b.message.body.syncAggregate.syncCommitteeBits;
  const byIndex = new Map<number, number>();
  for (let k = 0; k < members.length; k++) {
    const v = members[k] ?? 0;
    const r = bits.get(k) ? b.syncParticipantReward : -b.syncParticipantReward;
    byIndex.set(v, (byIndex.get(v) ?? 0) + r);
  }
  return [...byIndex.entries()].map(([validatorIndex, reward]) => ({ validatorIndex, reward }));
}

export class BlockProducer {
  /** Attestations waiting for inclusion. */
  private pending: PendingAttestation[] = [];
  /** Scripted exits and slashings for the next block. */
  readonly pendingOps: PendingOp[] = [];
  /** Submitted voluntary exits for the next block. */
  readonly poolExits: phase0.SignedVoluntaryExit[] = [];
  /** Slots whose proposer does not propose (scripted). */
  readonly missedSlots = new Set<number>();
  /** Slots whose block (if any) is orphaned (scripted). */
  readonly orphanedSlots = new Set<number>();
  private withdrawalIndex = 0;
  private nextWithdrawalValidator = 0;
  private lastPayloadHash: Uint8Array;
  private blockNumber = 0;
  /** Electra: the deposit requests the next canonical block carries (set by the chain). */
  takeDepositRequests: ((slot: number) => electra.DepositRequest[]) | undefined;
  /** Electra: the withdrawal requests the next canonical block carries, processed as it takes them. */
  takeWithdrawalRequests: ((slot: number) => electra.WithdrawalRequest[]) | undefined;
  /** Electra: the consolidation requests the next canonical block carries, processed as it takes them. */
  takeConsolidationRequests: ((slot: number) => electra.ConsolidationRequest[]) | undefined;
  /** Electra: state.pending_partial_withdrawals, which the sweep serves first (set by the chain). */
  pendingPartialWithdrawals: PendingPartialWithdrawalEntry[] | undefined;
  /** Wei each address received on the execution layer (withdrawals and priority fees), by slot. */
  readonly elBalances = new ExecutionBalances();
  /** Withdrawal address → fee recipient (lowercase 0x-hex; set by the chain from its options). */
  feeRecipients = new Map<string, string>();

  constructor(
    private readonly host: ProducerHost,
    private readonly reg: Registry,
    private readonly history: ChainHistory,
  ) {
    this.lastPayloadHash = hashOf(host.seed, "payload", -1);
  }

  /** The genesis block (slot 0, empty body), stored. */
  genesisBlock(): {
    message: SimBlock;
    root: Uint8Array;
    bodyRoot: Uint8Array;
    stateRoot: Uint8Array;
  } {
    const built = this.buildBlockMessage(
      0,
      0,
      ZERO_ROOT,
      [],
      [],
      [],
      [],
      [],
      new BitArray(new Uint8Array(SYNC_COMMITTEE_SIZE / 8), SYNC_COMMITTEE_SIZE),
    );
    this.storeBlock(built, 0);
    return built;
  }

  storeBlock(
    b: { message: SimBlock; root: Uint8Array; bodyRoot: Uint8Array; stateRoot: Uint8Array },
    syncParticipantReward: number,
    rewards: StoredBlock["rewards"] = {
      attestations: 0,
      syncAggregate: 0,
      proposerSlashings: 0,
      attesterSlashings: 0,
    },
  ): StoredBlock {
    const stored: StoredBlock = {
      slot: b.message.slot,
      root: b.root,
      message: b.message,
      signature: this.host.signature,
      bodyRoot: b.bodyRoot,
      syncParticipantReward,
      rewards,
    };
    return this.history.addBlock(stored);
  }

  buildBlockMessage(
    slot: number,
    proposer: number,
    parentRoot: Uint8Array,
    attestations: phase0.Attestation[] | electra.Attestation[],
    exits: phase0.SignedVoluntaryExit[],
    proposerSlashings: phase0.ProposerSlashing[],
    attesterSlashings: phase0.AttesterSlashing[],
    withdrawals: deneb.ExecutionPayload["withdrawals"],
    syncBits: BitArray,
    canonical = true,
    executionRequests: electra.ExecutionRequests = { deposits: [], withdrawals: [], consolidations: [] },
    feeRecipient: Uint8Array = new Uint8Array(20),
  ): { message: SimBlock; root: Uint8Array; bodyRoot: Uint8Array; stateRoot: Uint8Array } {
    const blockHash = hashOf(this.host.seed, canonical ? "payload" : "orphan-payload", slot);
    const stateRoot = hashOf(this.host.seed, canonical ? "state" : "orphan-state", slot);
    const payload: deneb.ExecutionPayload = {
      parentHash: slot === 0 ? ZERO_ROOT : this.lastPayloadHash,
      feeRecipient,
      stateRoot: hashOf(this.host.seed, "el-state", slot),
      receiptsRoot: hashOf(this.host.seed, "receipts", slot),
      logsBloom: new Uint8Array(256),
      // get_randao_mix of the state before this block's randao reveal
      prevRandao: this.host.randaoMixAtSlot(Math.max(0, slot - 1)),
      blockNumber: slot === 0 ? 0 : this.blockNumber + 1,
      gasLimit: 30_000_000,
      gasUsed: slot === 0 ? 0 : 15_000_000,
      timestamp: this.host.genesisTime + slot * this.host.secondsPerSlot,
      extraData: new Uint8Array(0),
      baseFeePerGas: 7n,
      blockHash: slot === 0 ? ZERO_ROOT : blockHash,
      transactions: [],
      withdrawals,
      blobGasUsed: 0n,
      excessBlobGas: 0n,
    };
    const common = {
      randaoReveal: slot === 0 ? this.host.signature : this.host.randaoReveal(slot, proposer),
      eth1Data: {
        depositRoot: hashOf(this.host.seed, "deposit-root"),
        depositCount: BigInt(this.reg.eth1DepositCount()),
        blockHash: hashOf(this.host.seed, "eth1"),
      },
      graffiti: Buffer.from("beacon-sim".padEnd(32, "\0")),
      proposerSlashings,
      attesterSlashings,
      deposits: [],
      voluntaryExits: exits,
      syncAggregate: { syncCommitteeBits: syncBits, syncCommitteeSignature: this.host.signature },
      executionPayload: payload,
      blsToExecutionChanges: [],
      blobKzgCommitments: [],
    };
    let message: SimBlock;
    let bodyRoot: Uint8Array;
    if (isElectraOrLater(this.reg.fork)) {
      // Electra: on-chain aggregates across committees (EIP-7549) and the execution requests.
      const body: electra.BeaconBlockBody = {
        ...common,
        attestations: attestations as electra.Attestation[],
        executionRequests,
      };
      message = { slot, proposerIndex: proposer, parentRoot, stateRoot, body };
      bodyRoot = ssz.electra.BeaconBlockBody.hashTreeRoot(body);
    } else {
      const body: deneb.BeaconBlockBody = { ...common, attestations: attestations as phase0.Attestation[] };
      message = { slot, proposerIndex: proposer, parentRoot, stateRoot, body };
      bodyRoot = ssz.deneb.BeaconBlockBody.hashTreeRoot(body);
    }
    const root = ssz.phase0.BeaconBlockHeader.hashTreeRoot({
      slot,
      proposerIndex: proposer,
      parentRoot,
      stateRoot,
      bodyRoot,
    });
    if (slot !== 0 && canonical) {
      this.lastPayloadHash = blockHash;
      this.blockNumber++;
    }
    return { message, root, bodyRoot, stateRoot };
  }

  produceBlock(slot: number, proposer: number, epoch: number, totalActiveIncrements: number): StoredBlock {
    const parentRoot = this.history.rootAtSlot[slot - 1] ?? ZERO_ROOT;
    const totalInc = totalActiveIncrements;
    const brpi = baseRewardPerIncrement(totalInc);

    const { included, proposerNumerator } = this.packAttestations(slot, epoch, brpi);
    const attestationReward = Math.floor(
      proposerNumerator / (((WEIGHT_DENOMINATOR - PROPOSER_WEIGHT) * WEIGHT_DENOMINATOR) / PROPOSER_WEIGHT),
    );
    let proposerReward = attestationReward;
    let syncReward = 0;

    const { exits, proposerSlashings, attesterSlashings, proposerSlashingReward, attesterSlashingReward } =
      this.includeOperations(slot, proposer, epoch);
    const withdrawals = this.sweepWithdrawals(epoch);

    // Sync aggregate: members that are online this epoch sign the parent.
    const members = this.host.syncCommittee(this.host.syncPeriodOf(epoch));
    const bits = BitArray.fromBitLen(SYNC_COMMITTEE_SIZE);
    const behaviour = this.host.behaviourAt(epoch);
    const maxParticipantRewards = Math.floor(
      (totalInc * brpi * SYNC_REWARD_WEIGHT) / WEIGHT_DENOMINATOR / this.host.slotsPerEpoch,
    );
    const participantReward = Math.floor(maxParticipantRewards / SYNC_COMMITTEE_SIZE);
    const perParticipantProposer = Math.floor(
      (participantReward * PROPOSER_WEIGHT) / (WEIGHT_DENOMINATOR - PROPOSER_WEIGHT),
    );
    for (let k = 0; k < members.length; k++) {
      const v = members[k] ?? 0;
      const on =
        behaviour.code[v] !== BEHAVIOUR_CODE.offline &&
        (this.reg.slashedAt[v] ?? FAR) === FAR &&
        this.reg.isActiveAt(v, epoch);
      if (on) {
        bits.set(k, true);
        this.reg.balances[v] = (this.reg.balances[v] ?? 0) + participantReward;
        syncReward += perParticipantProposer;
      } else {
        this.reg.balances[v] = Math.max(0, (this.reg.balances[v] ?? 0) - participantReward);
      }
    }
    proposerReward += syncReward;
    this.reg.balances[proposer] = (this.reg.balances[proposer] ?? 0) + proposerReward;

    const built = this.buildBlockMessage(
      slot,
      proposer,
      parentRoot,
      included,
      exits,
      proposerSlashings,
      attesterSlashings,
      withdrawals,
      bits,
      true,
      // in the spec's order: deposits, withdrawals, consolidations
      {
        deposits: this.takeDepositRequests?.(slot) ?? [],
        withdrawals: this.takeWithdrawalRequests?.(slot) ?? [],
        consolidations: this.takeConsolidationRequests?.(slot) ?? [],
      },
      Buffer.from(this.feeRecipientOf(proposer).slice(2), "hex"),
    );
    this.creditExecutionLayer(slot, proposer, withdrawals);
    this.history.markProposed(epoch, proposer);
    return this.storeBlock(built, participantReward, {
      attestations: attestationReward,
      syncAggregate: syncReward,
      proposerSlashings: proposerSlashingReward,
      attesterSlashings: attesterSlashingReward,
    });
  }

  /**
   * Attestations within the inclusion window (deneb: previous and current epoch) go into the block
   * at `slot`; sets the participation flags they earn and returns the proposer's reward numerator.
   */
  /**
   * The operations pool's attestations (getPoolAttestationsV2): the aggregates waiting for
   * inclusion that the node has seen by `headSlot` (includable in the next block: late ones show
   * when they arrive; expired ones not), one per committee and vote; from Electra on in Electra form
   * (committee_bits naming that committee, data.index 0). Filters: slot, committee index.
   */
  poolAttestations(
    headSlot: number,
    filter: { slot?: number; committeeIndex?: number },
  ): phase0.Attestation[] | electra.Attestation[] {
    const nextEpoch = this.host.epochOf(headSlot + 1);
    const seen = this.pending.filter(
      (p) =>
        p.includeFrom <= headSlot + 1 &&
        this.host.epochOf(p.slot) + 1 >= nextEpoch &&
        (filter.slot === undefined || p.slot === filter.slot) &&
        (filter.committeeIndex === undefined || p.att.data.index === filter.committeeIndex),
    );
    if (isElectraOrLater(this.reg.fork)) return seen.map((p) => onChainAggregate([p]));
    return seen.map((p) => p.att);
  }

  private packAttestations(
    slot: number,
    epoch: number,
    brpi: number,
  ): { included: phase0.Attestation[] | electra.Attestation[]; proposerNumerator: number } {
    // Aggregates of
    // the same vote of the same committee are merged (disjoint bits); newest first, as a proposer
    // maximising rewards would; at most MAX_ATTESTATIONS, the rest wait or expire (missed).
    // Electra: the same vote of every committee of a slot is one on-chain aggregate
    // (committee_bits), at most MAX_ATTESTATIONS_ELECTRA of them.
    const included: phase0.Attestation[] = [];
    const keep: PendingAttestation[] = [];
    const merged = new Map<string, PendingAttestation>();
    for (const p of this.pending) {
      if (this.host.epochOf(p.slot) + 1 < epoch) continue; // expired: missed
      if (p.includeFrom > slot) {
        keep.push(p);
        continue;
      }
      const key = `${p.slot}:${p.att.data.index}:${p.headOk ? 1 : 0}${p.targetOk ? 1 : 0}`;
      const m = merged.get(key);
      if (m === undefined) {
        merged.set(key, p);
        continue;
      }
      const bits = m.att.aggregationBits.clone();
      bits.mergeOrWith(p.att.aggregationBits);
      const members = new Uint32Array(m.members.length + p.members.length);
      members.set(m.members);
      members.set(p.members, m.members.length);
      merged.set(key, { ...m, members, att: { ...m.att, aggregationBits: bits } });
    }
    const ordered = [...merged.values()].sort(
      (x, y) => y.slot - x.slot || x.att.data.index - y.att.data.index,
    );
    const electraBlock = isElectraOrLater(this.reg.fork);
    let chosen: PendingAttestation[];
    let groups: PendingAttestation[][] = [];
    if (electraBlock) {
      const byVote = new Map<string, PendingAttestation[]>();
      for (const p of ordered) {
        const key = `${p.slot}:${p.headOk ? 1 : 0}${p.targetOk ? 1 : 0}`;
        const g = byVote.get(key);
        if (g !== undefined) g.push(p);
        else if (byVote.size < MAX_ATTESTATIONS_ELECTRA) byVote.set(key, [p]);
        else keep.push(p);
      }
      groups = [...byVote.values()];
      chosen = groups.flat();
    } else {
      keep.push(...ordered.slice(MAX_ATTESTATIONS));
      chosen = ordered.slice(0, MAX_ATTESTATIONS);
    }
    let proposerNumerator = 0;
    const sqrtSpe = Math.max(1, isqrt(this.host.slotsPerEpoch));
    for (const p of chosen) {
      const attEpoch = this.host.epochOf(p.slot);
      included.push(p.att);
      const delay = slot - p.slot;
      const f = this.history.ensureFlags(attEpoch, this.reg.n);
      const d = this.history.inclusionDelay.get(attEpoch);
      for (const v of p.members) {
        let add = 0;
        if (delay <= sqrtSpe) add |= FLAG_SOURCE;
        if (p.targetOk) add |= FLAG_TARGET;
        if (p.headOk && p.targetOk && delay === 1) add |= FLAG_HEAD;
        const newly = add & ~(f[v] ?? 0);
        if (newly === 0) continue;
        if ((f[v] ?? 0) === 0 && d !== undefined) d[v] = Math.min(255, delay);
        f[v] = (f[v] ?? 0) | newly;
        const base = (this.reg.effective[v] ?? 0) * brpi;
        if (newly & FLAG_SOURCE) proposerNumerator += base * (FLAG_WEIGHTS[0] ?? 0);
        if (newly & FLAG_TARGET) proposerNumerator += base * (FLAG_WEIGHTS[1] ?? 0);
        if (newly & FLAG_HEAD) proposerNumerator += base * (FLAG_WEIGHTS[2] ?? 0);
      }
    }
    this.pending = keep;
    if (electraBlock) return { included: groups.map(onChainAggregate), proposerNumerator };
    return { included, proposerNumerator };
  }

  /** Scripted exits and slashings, then pool exits: included in the block at `slot` and applied. */
  private includeOperations(slot: number, proposer: number, epoch: number) {
    let proposerSlashingReward = 0;
    let attesterSlashingReward = 0;
    const exits: phase0.SignedVoluntaryExit[] = [];
    const proposerSlashings: phase0.ProposerSlashing[] = [];
    const attesterSlashings: phase0.AttesterSlashing[] = [];
    for (const op of this.pendingOps.splice(0)) {
      const v = op.validator;
      if (op.kind === "exit") {
        if ((this.reg.exitEpoch[v] ?? FAR) !== FAR || !this.reg.isActiveAt(v, epoch)) continue;
        const message = { epoch, validatorIndex: v };
        const sk = this.host.secretKeyOfValidator(v);
        const signature =
          sk !== undefined
            ? SecretKey.fromBytes(sk).sign(this.host.voluntaryExitSigningRoot(message)).toBytes()
            : this.host.signature;
        exits.push({ message, signature });
        this.reg.initiateExit(v, epoch);
      } else {
        if ((this.reg.slashedAt[v] ?? FAR) !== FAR) continue;
        const whistleblowerReward = this.reg.slash(v, epoch, proposer);
        if (op.kind === "proposer-slashing") {
          proposerSlashings.push(this.fakeProposerSlashing(v, slot));
          proposerSlashingReward += whistleblowerReward;
        } else {
          attesterSlashings.push(this.fakeAttesterSlashing(v, slot));
          attesterSlashingReward += whistleblowerReward;
        }
      }
    }
    for (const ex of this.poolExits.splice(0)) {
      const v = ex.message.validatorIndex;
      if ((this.reg.exitEpoch[v] ?? FAR) !== FAR) continue;
      exits.push(ex);
      this.reg.initiateExit(v, epoch);
    }

    return { exits, proposerSlashings, attesterSlashings, proposerSlashingReward, attesterSlashingReward };
  }

  /** Where the proposer's EL rewards go: `feeRecipients` of its withdrawal address, the address itself, or the burn address (0x00 credentials). */
  feeRecipientOf(proposer: number): string {
    if (!this.reg.hasExecutionCredentials(proposer)) return BURN_ADDRESS;
    const own = addressHex(this.reg.withdrawalCredentials.subarray(proposer * 32 + 12, proposer * 32 + 32));
    return this.feeRecipients.get(own) ?? own;
  }

  /** The execution layer's side of a canonical block: its withdrawals and its priority fee paid. */
  private creditExecutionLayer(
    slot: number,
    proposer: number,
    withdrawals: deneb.ExecutionPayload["withdrawals"],
  ): void {
    for (const w of withdrawals)
      this.elBalances.credit(addressHex(w.address), slot, w.amount * 1_000_000_000n);
    this.elBalances.credit(this.feeRecipientOf(proposer), slot, priorityFeeWei(this.host.seed, slot));
  }

  /** The capella withdrawals sweep: full withdrawals once withdrawable, partial above the max effective balance (2048 ETH for 0x02 from Electra). */
  private sweepWithdrawals(epoch: number): deneb.ExecutionPayload["withdrawals"] {
    const withdrawals: deneb.ExecutionPayload["withdrawals"] = [];
    // Electra: pending partial withdrawals first (withdrawable ones, in queue order, at most
    // MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP), each only while the validator is not exiting
    // and keeps MIN_ACTIVATION_BALANCE.
    const partials = this.pendingPartialWithdrawals;
    if (partials !== undefined) {
      let processed = 0;
      for (const w of partials) {
        if (w.withdrawableEpoch > epoch || withdrawals.length === MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP)
          break;
        const i = w.validatorIndex;
        const bal = this.reg.balances[i] ?? 0;
        if (
          (this.reg.exitEpoch[i] ?? FAR) === FAR &&
          (this.reg.effective[i] ?? 0) * GWEI >= MIN_ACTIVATION_BALANCE &&
          bal > MIN_ACTIVATION_BALANCE
        ) {
          const amount = Math.min(bal - MIN_ACTIVATION_BALANCE, w.amount);
          withdrawals.push({
            index: this.withdrawalIndex++,
            validatorIndex: i,
            address: this.reg.withdrawalCredentials.slice(i * 32 + 12, i * 32 + 32),
            amount: BigInt(amount),
          });
          this.reg.balances[i] = bal - amount;
        }
        processed++;
      }
      partials.splice(0, processed);
    }
    if (this.reg.n > 0) {
      const bound = Math.min(this.reg.n, MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP);
      let idx = this.nextWithdrawalValidator % this.reg.n;
      for (let k = 0; k < bound && withdrawals.length < MAX_WITHDRAWALS_PER_PAYLOAD; k++) {
        const bal = this.reg.balances[idx] ?? 0;
        if (this.reg.hasExecutionCredentials(idx) && bal > 0) {
          const address = this.reg.withdrawalCredentials.slice(idx * 32 + 12, idx * 32 + 32);
          const maxEffective = this.reg.maxEffectiveEth(idx) * GWEI;
          let amount = 0;
          if ((this.reg.withdrawableEpoch[idx] ?? FAR) <= epoch) amount = bal;
          else if ((this.reg.effective[idx] ?? 0) * GWEI === maxEffective && bal > maxEffective)
            amount = bal - maxEffective;
          if (amount > 0) {
            withdrawals.push({
              index: this.withdrawalIndex++,
              validatorIndex: idx,
              address,
              amount: BigInt(amount),
            });
            this.reg.balances[idx] = bal - amount;
          }
        }
        idx = (idx + 1) % this.reg.n;
      }
      const last = withdrawals[withdrawals.length - 1];
      this.nextWithdrawalValidator =
        withdrawals.length === MAX_WITHDRAWALS_PER_PAYLOAD && last !== undefined
          ? (last.validatorIndex + 1) % this.reg.n
          : (this.nextWithdrawalValidator + bound) % this.reg.n;
    }

    return withdrawals;
  }

  /** Whether the proposer of `slot` proposes (not missed, slashed, offline or not proposing), and whether that block is orphaned. */
  proposal(
    slot: number,
    proposer: number,
    behaviour: EpochBehaviour,
  ): { proposes: boolean; orphaned: boolean } {
    const proposes =
      proposer >= 0 &&
      !this.missedSlots.has(slot) &&
      (this.reg.slashedAt[proposer] ?? FAR) === FAR &&
      behaviour.code[proposer] !== BEHAVIOUR_CODE.offline &&
      behaviour.code[proposer] !== BEHAVIOUR_CODE["no-proposals"];
    const orphaned =
      proposes &&
      (behaviour.code[proposer] === BEHAVIOUR_CODE["orphaned-proposals"] || this.orphanedSlots.has(slot));
    return { proposes, orphaned };
  }

  /** Scripted exits and slashings of `epoch` (validators below n) for its first block. */
  queueScripted(sc: Pick<ParsedScenario, "exits" | "slashings">, epoch: number, n: number): void {
    for (const ex of sc.exits)
      if (ex.epoch === epoch && ex.validator < n)
        this.pendingOps.push({ kind: "exit", validator: ex.validator });
    for (const sl of sc.slashings)
      if (sl.epoch === epoch && sl.validator < n)
        this.pendingOps.push({
          kind: sl.kind === "proposer" ? "proposer-slashing" : "attester-slashing",
          validator: sl.validator,
        });
  }

  /**
   * A block that loses the fork choice: it exists (by root, `canonical: false`, a `block` event) but
   * the chain goes on from its parent; nothing in it counts (no attestations, rewards or operations).
   */

  produceOrphan(slot: number, proposer: number): StoredBlock {
    const parentRoot = this.history.rootAtSlot[slot - 1] ?? ZERO_ROOT;
    const bits = BitArray.fromBitLen(SYNC_COMMITTEE_SIZE);
    const built = this.buildBlockMessage(slot, proposer, parentRoot, [], [], [], [], [], bits, false);
    const stored: StoredBlock = {
      slot,
      root: built.root,
      message: built.message,
      signature: this.host.signature,
      bodyRoot: built.bodyRoot,
      syncParticipantReward: 0,
      rewards: { attestations: 0, syncAggregate: 0, proposerSlashings: 0, attesterSlashings: 0 },
      canonical: false,
    };
    this.history.addOrphan(stored);
    return stored;
  }

  /** Non-canonical (orphaned) blocks at a slot. */

  private attestationData(
    slot: number,
    index: number,
    headRoot: Uint8Array,
    targetRoot: Uint8Array,
  ): phase0.AttestationData {
    const epoch = this.host.epochOf(slot);
    const src = this.host.currentFinality().currentJustified;
    return {
      slot,
      index,
      beaconBlockRoot: headRoot,
      source: { epoch: src.epoch, root: src.root },
      target: { epoch, root: targetRoot },
    };
  }

  createAttestations(slot: number, epoch: number, behaviour: { code: Uint8Array; delay: Uint8Array }): void {
    if (slot === 0) return;
    const cps = this.host.committeesPerSlot(epoch);
    const headRoot = this.history.rootAtSlot[slot] ?? ZERO_ROOT;
    const targetRoot = this.host.blockRootAtOrBefore(this.host.startSlot(epoch));
    const wrongHead = hashOf(this.host.seed, "wrong-head", slot);
    const wrongTarget = hashOf(this.host.seed, "wrong-target", epoch);
    for (let c = 0; c < cps; c++) {
      const members = this.host.committee(slot, c);
      // Group members by (delay, variant).
      const groups = new Map<string, number[]>();
      for (let k = 0; k < members.length; k++) {
        const v = members[k] ?? 0;
        const code = behaviour.code[v] ?? 0;
        if (code === BEHAVIOUR_CODE.offline || (this.reg.slashedAt[v] ?? FAR) !== FAR) continue;
        const variant =
          code === BEHAVIOUR_CODE["wrong-head"] ? "h" : code === BEHAVIOUR_CODE["wrong-target"] ? "t" : "ok";
        const key = `${behaviour.delay[v] ?? 1}:${variant}`;
        let g = groups.get(key);
        if (g === undefined) {
          g = [];
          groups.set(key, g);
        }
        g.push(k);
      }
      for (const [key, positions] of groups) {
        const [delayStr, variant] = key.split(":");
        const delay = Number(delayStr);
        const bits = BitArray.fromBitLen(members.length);
        const ms = new Uint32Array(positions.length);
        positions.forEach((p, j) => {
          bits.set(p, true);
          ms[j] = members[p] ?? 0;
        });
        const headOk = variant === "ok";
        const targetOk = variant !== "t";
        const data = this.attestationData(
          slot,
          c,
          headOk ? headRoot : wrongHead,
          targetOk ? targetRoot : wrongTarget,
        );
        this.pending.push({
          includeFrom: slot + delay,
          slot,
          members: ms,
          att: { aggregationBits: bits, data, signature: this.host.signature },
          headOk,
          targetOk,
        });
      }
    }
  }

  private fakeProposerSlashing(v: number, slot: number): phase0.ProposerSlashing {
    const header = (k: number): phase0.ProposerSlashing["signedHeader1"] => ({
      message: {
        slot: BigInt(Math.max(0, slot - 1)),
        proposerIndex: v,
        parentRoot: ZERO_ROOT,
        stateRoot: ZERO_ROOT,
        bodyRoot: hashOf(this.host.seed, "double-proposal", v, k),
      },
      signature: this.host.signature,
    });
    return { signedHeader1: header(1), signedHeader2: header(2) };
  }

  private fakeAttesterSlashing(v: number, slot: number): phase0.AttesterSlashing {
    const epoch = this.host.epochOf(slot);
    const att = (k: number): phase0.AttesterSlashing["attestation1"] => ({
      attestingIndices: [v],
      data: {
        slot: BigInt(Math.max(0, slot - 1)),
        index: 0n,
        beaconBlockRoot: hashOf(this.host.seed, "double-vote", v, k),
        source: { epoch: BigInt(Math.max(0, epoch - 1)), root: ZERO_ROOT },
        target: { epoch: BigInt(epoch), root: ZERO_ROOT },
      },
      signature: this.host.signature,
    });
    return { attestation1: att(1), attestation2: att(2) };
  }
}
