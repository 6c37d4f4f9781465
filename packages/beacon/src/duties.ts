/**
 * One epoch's duties for a set of pool validators, and what became of each, from finalized data:
 * - attester duties from the epoch's committees (the API's committees of a state, or computed from
 *   the SSZ state when the node cannot answer for a past epoch), results from the attestations in
 *   the canonical blocks of the inclusion window (epoch E and E+1), plus the rewards endpoint;
 * - proposer duties (API or computed, always checked against the canonical blocks' proposers),
 *   missed or orphaned;
 * - sync-committee participation from each block's sync aggregate;
 * - balances, status, slashings and exits.
 * The network's own aggregate over every active validator is computed from the same data.
 */
import type { ApiClient } from "@lodestar/api";
import { toHex0x } from "@poolkeeper/core";
import { BeaconError, BeaconErrorCode, invalidResponse } from "./errors.js";
import {
  type BeaconNodePool,
  NOT_FOUND,
  NodeCallError,
  type NotFound,
  valueOrNotFound,
} from "./node-pool.js";
import { attestationWeight } from "./scores.js";
import {
  computeEpochCommittees,
  computeEpochProposers,
  type ShufflingParams,
  stateCanShuffle,
} from "./shuffling.js";
import {
  NO_STATUS,
  readStateSsz,
  type StateScan,
  StateScanner,
  type StateScanOptions,
} from "./state-reader.js";
import {
  getBalanceArray,
  getStatusExceptions,
  positionsOf,
  resolvePubkeys,
  VALIDATOR_STATUSES,
  type ValidatorStatus,
} from "./validators.js";

const GENESIS_SLOT = 0;
/** A node that answered a state as JSON: read it whole through the lodestar client instead. */
const NOT_SSZ: unique symbol = Symbol("not-ssz");
/** A state streamed through a StateScanner: its scan, NOT_SSZ (the node answers JSON) or null (no node has it). */
type ScanOutcome = StateScan | typeof NOT_SSZ | null;

export interface AttestationRewards {
  source: bigint;
  target: bigint;
  head: bigint;
  inactivity: bigint;
}

export interface AttestationDuty {
  validatorIndex: number;
  slot: number;
  committeeIndex: number;
  included: boolean;
  inclusionSlot: number | null;
  inclusionDelay: number | null;
  /** Delay counted from the first block after the duty slot (missed slots are not the attester's fault). */
  optimalDelay: number | null;
  sourceCorrect: boolean;
  targetCorrect: boolean;
  headCorrect: boolean;
  /**
   * The validator's effective balance (gwei), from Electra on (0x02 validators up to 2048 ETH):
   * its attestation rewards are proportional to it, so its duty weighs as much. null before
   * Electra (at most 32 ETH: the duty weighs 1). Read from a state near the epoch (see
   * `EFFECTIVE_BALANCE_MAX_AGE_EPOCHS`).
   */
  effectiveBalance: number | null;
  rewards: AttestationRewards | null;
}

export type ProposalStatus = "proposed" | "missed" | "orphaned";

export interface ProposalDuty {
  validatorIndex: number;
  slot: number;
  status: ProposalStatus;
  blockRoot: string | null;
}

export interface SyncDuty {
  validatorIndex: number;
  /** Slots of the epoch with a canonical block (each one a sync duty). */
  assigned: number;
  included: number;
}

export interface ValidatorEpochState {
  validatorIndex: number;
  status: ValidatorStatus | null;
  slashed: boolean | null;
  exitEpoch: number | null;
  balanceStart: bigint | null;
  balanceEnd: bigint | null;
}

/**
 * Operations in the epoch's blocks that concern a validator: slashings, a signed voluntary exit,
 * or (Electra and later) an execution-layer withdrawal request for a full exit (EIP-7002: sent by
 * the validator's withdrawal address, signed by nobody; the exit it starts shows in the statuses).
 */
export const CHAIN_EVENT_KINDS = [
  "proposer_slashing",
  "attester_slashing",
  "voluntary_exit",
  "withdrawal_request",
] as const;
export type ChainEventKind = (typeof CHAIN_EVENT_KINDS)[number];
/** The event kinds that mean the validator was slashed. */
export const SLASHING_EVENT_KINDS: readonly ChainEventKind[] = ["proposer_slashing", "attester_slashing"];

export interface ChainEvent {
  kind: ChainEventKind;
  validatorIndex: number;
  slot: number;
}

/**
 * Attestation duties are counted (attAssigned, attIncluded) and weighed: each by its validator's
 * effective balance in units of 32 ETH (`attestationWeight`), as the spec's attestation rewards
 * are proportional to effective-balance increments. The sums are weighted; scores divide them by
 * the weights (a 2048 ETH validator's duty weighs 64 of a 32 ETH one).
 */
export interface DutyAggregate {
  attAssigned: number;
  attIncluded: number;
  /** Sum of the weights of the assigned attestations. */
  attWeightAssigned: number;
  /** Sum of the weights of the included attestations. */
  attWeightIncluded: number;
  /** Sum over included attestations of weight × (source + target + head) / 3. */
  attCorrectnessSum: number;
  /** Sum over included attestations of weight / optimalDelay. */
  attDelayScoreSum: number;
  /** Sum over included attestations of weight × correctness / optimalDelay (Rated's per-attestation score). */
  attEffectivenessSum: number;
  proposalsAssigned: number;
  proposalsMade: number;
  syncAssigned: number;
  syncIncluded: number;
}

export interface EpochDuties {
  epoch: number;
  attestations: AttestationDuty[];
  proposals: ProposalDuty[];
  sync: SyncDuty[];
  validators: ValidatorEpochState[];
  events: ChainEvent[];
  /** The whole network in the same epoch, for comparison. */
  network: DutyAggregate;
  sources: { committees: "api" | "state"; proposers: "api" | "state" };
}

export interface EpochDutiesOptions {
  /** Pool validator indices. */
  validators: readonly number[];
  /**
   * Require every block and state used to be finalized (default true). Only a replay of recordings
   * taken before finality may turn this off; the watcher never does.
   */
  requireFinalized?: boolean;
  /**
   * Rewards endpoint: "all" pool validators (default), only those whose attestation was not
   * perfect ("exceptions": missed, late or a wrong vote; what the watcher stores), or none (false).
   */
  rewards?: boolean | "all" | "exceptions";
  balances?: boolean;
  /** Parallel block requests (default 8). */
  concurrency?: number;
  /**
   * Blocks asked for as "ssz" (default; a node without SSZ answers JSON) or as "json" only (a node
   * whose SSZ answers are broken; the benchmark's peer).
   */
  blockWireFormat?: "ssz" | "json";
  /** Called with each phase's duration (benchmarks, metrics). */
  onPhase?: (phase: string, ms: number) => void;
}

export function emptyAggregate(): DutyAggregate {
  return {
    attAssigned: 0,
    attIncluded: 0,
    attWeightAssigned: 0,
    attWeightIncluded: 0,
    attCorrectnessSum: 0,
    attDelayScoreSum: 0,
    attEffectivenessSum: 0,
    proposalsAssigned: 0,
    proposalsMade: 0,
    syncAssigned: 0,
    syncIncluded: 0,
  };
}

interface BlockInfo {
  slot: number;
  root: string;
  parentRoot: string;
  proposerIndex: number;
  // biome-ignore lint/suspicious/noExplicitAny: fork-dependent block body, read field by field below
  body: any;
}

interface StateView {
  epoch: number;
  fork: string;
  randaoMixes: Uint8Array[];
  activeIndices(epoch: number): Uint32Array;
  effectiveBalance(index: number): number;
  /** The registry index of a pubkey (a hash table over the state's bytes, built on first use). */
  indexOfPubkey(pubkey: Uint8Array): number | undefined;
  currentSyncCommittee: Uint8Array[];
  nextSyncCommittee: Uint8Array[];
  /** Fulu and later: the proposers of the state's epoch and the next, as the state records them. */
  proposerLookahead: number[] | null;
}

const SIGNED_DECIMAL = /^-?\d{1,20}(\.\d+)?$/;

/** A reward value read as signed gwei; a decimal fraction (some clients) is truncated toward zero. */
export function parseSignedGwei(v: unknown, field: string): bigint {
  if (typeof v !== "string" || !SIGNED_DECIMAL.test(v))
    throw invalidResponse("attestation rewards", `${field} is not a decimal number`);
  const dot = v.indexOf(".");
  return BigInt(dot === -1 ? v : v.slice(0, dot));
}

/** Validate the rewards answer by hand (hundreds of thousands of entries; a schema per entry is slow). */
export function parseAttestationRewards(
  json: unknown,
  asked: ReadonlySet<string>,
): Array<[number, AttestationRewards]> {
  const list = (json as { data?: { total_rewards?: unknown } } | null)?.data?.total_rewards;
  if (!Array.isArray(list)) throw invalidResponse("attestation rewards", "data.total_rewards is not a list");
  const out: Array<[number, AttestationRewards]> = [];
  for (const t of list as Array<Record<string, unknown>>) {
    const vi = t?.validator_index;
    if (typeof vi !== "string" || !/^\d{1,10}$/.test(vi))
      throw invalidResponse("attestation rewards", "validator_index is not an index");
    if (!asked.has(vi)) throw invalidResponse("attestation rewards", `validator ${vi} was not asked for`);
    out.push([
      Number(vi),
      {
        source: parseSignedGwei(t.source, "source"),
        target: parseSignedGwei(t.target, "target"),
        head: parseSignedGwei(t.head, "head"),
        inactivity: t.inactivity === undefined ? 0n : parseSignedGwei(t.inactivity, "inactivity"),
      },
    ]);
  }
  return out;
}

async function mapLimit<T, R>(xs: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await fn(xs[i] as T);
      }
    }),
  );
  return out;
}

/**
 * A perfect attestation: included in the very next slot (inclusion delay 1, so at the optimal
 * delay too) with source, target and head right, which earns every timely flag on chain. An
 * attestation at the optimal delay but a longer one (the slots after its duty slot were missed)
 * is not: the chain's timely-head flag needs delay 1 (and timely-source at most
 * √SLOTS_PER_EPOCH), so its rewards fall short; the attester is not at fault (its optimal delay
 * and scores say so), but its row, delay and rewards are kept.
 */
export function isPerfectAttestation(
  a: Pick<AttestationDuty, "included" | "inclusionDelay" | "sourceCorrect" | "targetCorrect" | "headCorrect">,
): boolean {
  return a.included && a.inclusionDelay === 1 && a.sourceCorrect && a.targetCorrect && a.headCorrect;
}

/** An aggregate attestation as the blocks carry it (phase0..Deneb: data.index; Electra: committee_bits). */
export interface AggregateLike {
  aggregationBits: { get(i: number): boolean; bitLen: number };
  committeeBits?: { getTrueBitIndexes(): number[] };
  data: { index: number };
}

/**
 * Record the first inclusion of every attester of one aggregate: inclSlot[v] = the block's slot and
 * flags[v] (1 target correct, 2 head correct) on first sight. The aggregation bits must cover the
 * named committees exactly (before Electra one committee, data.index; from Electra the committees
 * set in committee_bits, their members concatenated in committee order).
 */
export function markAttestation(
  a: AggregateLike,
  committeeOf: (committeeIndex: number) => ArrayLike<number> | undefined,
  inclusionSlot: number,
  targetOk: boolean,
  headOk: boolean,
  inclSlot: Int32Array,
  flags: Uint8Array,
  where: string,
): void {
  const committeeIdx = a.committeeBits !== undefined ? a.committeeBits.getTrueBitIndexes() : [a.data.index];
  const members: ArrayLike<number>[] = [];
  let expectedBits = 0;
  for (const ci of committeeIdx) {
    const c = committeeOf(ci);
    if (c === undefined) throw invalidResponse(where, `attestation for unknown committee ${ci}`);
    members.push(c);
    expectedBits += c.length;
  }
  // the committees (from whichever source) must fit the block's aggregation bits exactly
  if (a.aggregationBits.bitLen !== expectedBits) {
    throw invalidResponse(
      where,
      `attestation has ${a.aggregationBits.bitLen} bits, its committees ${expectedBits} members`,
    );
  }
  let offset = 0;
  for (const committee of members) {
    for (let i = 0; i < committee.length; i++) {
      if (!a.aggregationBits.get(offset + i)) continue;
      const v = committee[i] as number;
      if (inclSlot[v] === -1) {
        inclSlot[v] = inclusionSlot;
        flags[v] = (targetOk ? 1 : 0) | (headOk ? 2 : 0);
      }
    }
    offset += committee.length;
  }
}

/**
 * Effective balances are read from a state (the API has none for every validator) and kept for
 * this many epochs around it: they change by whole ETH and rarely (hysteresis), and a state read
 * per epoch costs seconds on a large chain. A validator beyond the kept ones reads a state again.
 */
export const EFFECTIVE_BALANCE_MAX_AGE_EPOCHS = 32;
const GWEI_PER_ETH = 1_000_000_000;

export class EpochDutiesReader {
  private readonly S: number;
  private readonly shuffling: ShufflingParams;
  /** Effective balances in whole ETH by validator index, from the state of `epoch`. */
  private ebCache: { epoch: number; eth: Uint16Array } | undefined;
  /** The last balances read at a finalized state, by position in `indices` (see balancesAt). */
  private balanceCache: { slot: number; indices: readonly number[]; gwei: Float64Array } | undefined;

  constructor(private readonly pool: BeaconNodePool) {
    const p = pool.lodestar.params;
    this.S = pool.spec.slotsPerEpoch;
    this.shuffling = {
      slotsPerEpoch: p.SLOTS_PER_EPOCH,
      shuffleRoundCount: p.SHUFFLE_ROUND_COUNT,
      targetCommitteeSize: p.TARGET_COMMITTEE_SIZE,
      maxCommitteesPerSlot: p.MAX_COMMITTEES_PER_SLOT,
      epochsPerHistoricalVector: p.EPOCHS_PER_HISTORICAL_VECTOR,
      minSeedLookahead: p.MIN_SEED_LOOKAHEAD,
    };
  }

  /** The canonical block at `slot`, or null for an empty slot (every eligible node agrees). */
  async block(
    slot: number,
    requireFinalized: boolean,
    minFinalizedEpoch: number | undefined,
    wireFormat: "ssz" | "json" = "ssz",
  ): Promise<BlockInfo | null> {
    return this.pool.request(
      `block ${slot}`,
      async (api) => {
        // SSZ where the node offers it (decoded with the fork's type named by Eth-Consensus-Version),
        // else JSON: the client asks for both, SSZ first
        const v = await api.beacon.getBlockV2({ blockId: slot }, { responseWireFormat: wireFormat });
        const signed = valueOrNotFound(v);
        if (signed === NOT_FOUND) return NOT_FOUND;
        const meta = v.meta();
        const msg = signed.message;
        if (msg.slot !== slot) throw invalidResponse(`block ${slot}`, `answer is for slot ${msg.slot}`);
        if (requireFinalized && meta.finalized !== true)
          throw invalidResponse(`block ${slot}`, "not finalized on this node");
        // the root comes from the header route, checked against the header's own hash tree root and
        // the block's fields (the body root is not recomputed: list limits of a preset may differ
        // between client versions)
        const hres = await api.beacon.getBlockHeader({ blockId: slot });
        const h = valueOrNotFound(hres);
        if (h === NOT_FOUND) throw invalidResponse(`header ${slot}`, "block exists but header does not");
        const hm = h.header.message;
        if (!h.canonical) throw invalidResponse(`header ${slot}`, "not canonical");
        if (
          hm.slot !== slot ||
          hm.proposerIndex !== msg.proposerIndex ||
          toHex0x(hm.parentRoot) !== toHex0x(msg.parentRoot)
        ) {
          throw invalidResponse(`header ${slot}`, "does not match the block");
        }
        const root = toHex0x(this.pool.lodestar.types.ssz.phase0.BeaconBlockHeader.hashTreeRoot(hm));
        if (root !== toHex0x(h.root))
          throw invalidResponse(`header ${slot}`, "root is not the header's hash tree root");
        return {
          slot,
          root,
          parentRoot: toHex0x(msg.parentRoot),
          proposerIndex: msg.proposerIndex,
          body: msg.body,
        };
      },
      { minFinalizedEpoch },
    );
  }

  private async loadState(stateId: string, minFinalizedEpoch: number | undefined): Promise<StateView | null> {
    const S = this.S;
    return this.pool.request(
      `state ${stateId}`,
      async (api: ApiClient) => {
        // the SSZ bytes read in place (BeaconStateReader), not decoded into a million objects
        const st = await readStateSsz(api, stateId, this.pool.lodestar.types);
        if (st === NOT_FOUND) return NOT_FOUND;
        const view: StateView = {
          epoch: Math.floor(st.slot / S),
          fork: st.fork,
          randaoMixes: st.randaoMixes(),
          activeIndices: (epoch) => st.activeIndices(epoch),
          effectiveBalance: (i) => (i < st.validatorCount ? st.effectiveBalance(i) : 0),
          indexOfPubkey: (pubkey) => st.indexOfPubkey(pubkey),
          currentSyncCommittee: st.currentSyncCommittee(),
          nextSyncCommittee: st.nextSyncCommittee(),
          proposerLookahead: st.proposerLookahead(),
        };
        return view;
      },
      { minFinalizedEpoch },
    );
  }

  /**
   * Effective balance (gwei) by validator index for `epoch`'s duties, or null before Electra
   * (every effective balance at most 32 ETH: each duty weighs 1, no state read). Kept from a state
   * within EFFECTIVE_BALANCE_MAX_AGE_EPOCHS of the epoch that has the validators below `n`.
   */
  private async effectiveBalances(
    epoch: number,
    n: number,
    minFinalizedEpoch: number | undefined,
    stateCache: { state?: StateView },
    startScan: Promise<ScanOutcome> | undefined,
  ): Promise<(v: number) => number | null> {
    if (epoch < this.pool.config.ELECTRA_FORK_EPOCH) return () => null;
    const c = this.ebCache;
    if (!this.effectiveBalancesKept(epoch) || (c?.eth.length ?? 0) < n || stateCache.state !== undefined) {
      // a state already read whole (duties computed from it) gives them; else one streamed read
      // (the epoch's first state, streamed from the start of the epoch's reads when it was due)
      const scan =
        stateCache.state === undefined
          ? await this.scanEffectiveBalances(epoch, minFinalizedEpoch, startScan)
          : null;
      if (scan !== null) {
        let eth = scan.eth;
        if (eth.length < n) {
          eth = new Uint16Array(n);
          eth.set(scan.eth);
        }
        this.ebCache = { epoch: Math.floor(scan.slot / this.S), eth };
      } else {
        stateCache.state ??= await this.stateFor(epoch, minFinalizedEpoch);
        const st = stateCache.state;
        const eth = new Uint16Array(n);
        for (let i = 0; i < n; i++) eth[i] = Math.floor(st.effectiveBalance(i) / GWEI_PER_ETH);
        this.ebCache = { epoch: st.epoch, eth };
      }
    }
    const eth = (this.ebCache as { eth: Uint16Array }).eth;
    return (v) => (eth[v] ?? 0) * GWEI_PER_ETH;
  }

  /** Whether the kept effective balances serve `epoch` (see EFFECTIVE_BALANCE_MAX_AGE_EPOCHS). */
  private effectiveBalancesKept(epoch: number): boolean {
    const c = this.ebCache;
    return c !== undefined && Math.abs(c.epoch - epoch) < EFFECTIVE_BALANCE_MAX_AGE_EPOCHS;
  }

  /**
   * Effective balances from the SSZ state of the epoch's first slot (`first`: that state already
   * being streamed), else the finalized one (the states `stateFor` would take), streamed: 2 bytes a
   * validator kept, not the state. null when no node answers SSZ or has such a state (the caller
   * reads a state whole, JSON included).
   */
  private async scanEffectiveBalances(
    epoch: number,
    minFinalizedEpoch: number | undefined,
    first?: Promise<ScanOutcome>,
  ): Promise<{ slot: number; eth: Uint16Array } | null> {
    for (const id of [String(epoch * this.S), "finalized"]) {
      const given = id === String(epoch * this.S) && first !== undefined ? await first : undefined;
      const scan =
        given !== undefined && (given === null || given === NOT_SSZ || given.eth !== null)
          ? given
          : await this.streamState(id, { effectiveBalances: true }, minFinalizedEpoch);
      if (scan === NOT_SSZ) return null;
      if (scan?.eth != null && stateCanShuffle(Math.floor(scan.slot / this.S), epoch, this.shuffling))
        return { slot: scan.slot, eth: scan.eth };
    }
    return null;
  }

  /**
   * The SSZ state `stateId` streamed through a StateScanner (what `want` asks for kept, never the
   * state): NOT_SSZ when the node answers JSON, null when no node has the state.
   */
  private streamState(
    stateId: string,
    want: StateScanOptions,
    minFinalizedEpoch: number | undefined,
  ): Promise<ScanOutcome> {
    return this.pool.requestStream(
      `state ${stateId}`,
      `eth/v2/debug/beacon/states/${stateId}`,
      "application/octet-stream",
      async (res): Promise<StateScan | typeof NOT_SSZ> => {
        if (!(res.header("content-type") ?? "").startsWith("application/octet-stream")) {
          res.cancel();
          return NOT_SSZ;
        }
        const scanner = new StateScanner(
          this.pool.lodestar.types,
          res.header("eth-consensus-version") ?? "",
          want,
        );
        await res.forEachChunk((chunk) => scanner.push(chunk));
        return scanner.finish();
      },
      { minFinalizedEpoch },
    );
  }

  /** A state able to reproduce the shuffling of `epoch`: the epoch's first slot, else "finalized". */
  private async stateFor(epoch: number, minFinalizedEpoch: number | undefined): Promise<StateView> {
    for (const id of [String(epoch * this.S), "finalized"]) {
      const st = await this.loadState(id, minFinalizedEpoch);
      if (st !== null && stateCanShuffle(st.epoch, epoch, this.shuffling)) return st;
    }
    throw new BeaconError(
      BeaconErrorCode.unavailable,
      `epoch ${epoch}: no node has a state to compute its duties from`,
      {
        epoch,
      },
    );
  }

  private async committeesFromApi(
    epoch: number,
    minFinalizedEpoch: number | undefined,
  ): Promise<{ cps: number; committees: Uint32Array[] } | null> {
    const S = this.S;
    try {
      return await this.pool.request(
        `committees of epoch ${epoch}`,
        async (api) => {
          // SSZ where the node offers it: a million indices as JSON strings is most of the cost
          const res = await api.beacon.getEpochCommittees(
            { stateId: String(epoch * S), epoch },
            { responseWireFormat: "ssz" },
          );
          if (!res.ok && res.status >= 400 && res.status < 500) return NOT_FOUND;
          const list = valueOrNotFound(res);
          if (list === NOT_FOUND) return NOT_FOUND;
          return validateCommittees(list, epoch, S);
        },
        { minFinalizedEpoch },
      );
    } catch (e) {
      if (e instanceof BeaconError && e.code === BeaconErrorCode.unavailable) return null;
      throw e;
    }
  }

  private async proposersFromApi(epoch: number): Promise<number[] | null> {
    const S = this.S;
    try {
      return await this.pool.request(`proposer duties of epoch ${epoch}`, async (api) => {
        const res = await api.validator.getProposerDuties({ epoch });
        if (!res.ok && res.status < 500) return NOT_FOUND;
        const duties = valueOrNotFound(res);
        if (duties === NOT_FOUND) return NOT_FOUND;
        const out = new Array<number>(S).fill(-1);
        for (const d of duties) {
          const k = d.slot - epoch * S;
          if (k < 0 || k >= S || out[k] !== -1)
            throw invalidResponse("proposer duties", `unexpected slot ${d.slot}`);
          out[k] = d.validatorIndex;
        }
        if (out.includes(-1)) throw invalidResponse("proposer duties", "a slot of the epoch has no proposer");
        return out;
      });
    } catch (e) {
      if (e instanceof BeaconError && e.code === BeaconErrorCode.unavailable) return null;
      throw e;
    }
  }

  /** Proposer per slot of `epoch`; checked against every canonical block present. */
  async proposers(
    epoch: number,
    blocks: Map<number, BlockInfo>,
    minFinalizedEpoch: number | undefined,
    stateCache: { state?: StateView },
  ): Promise<{ proposers: number[]; source: "api" | "state" }> {
    // slot 0 holds the genesis block: nobody proposed it (its proposer_index is 0 by definition)
    const check = (list: number[]): boolean =>
      list.every((v, k) => {
        const slot = epoch * this.S + k;
        const b = blocks.get(slot);
        return slot === GENESIS_SLOT || b === undefined || b.proposerIndex === v;
      });
    const fromApi = await this.proposersFromApi(epoch);
    if (fromApi !== null && check(fromApi)) return { proposers: fromApi, source: "api" };
    stateCache.state ??= await this.stateFor(epoch, minFinalizedEpoch);
    const st = stateCache.state;
    // Fulu: the state holds its epoch's and the next epoch's proposers (EIP-7917)
    const la = st.proposerLookahead;
    const off = (epoch - st.epoch) * this.S;
    if (la !== null && off >= 0 && off + this.S <= la.length) {
      const fromState = la.slice(off, off + this.S);
      if (check(fromState)) return { proposers: fromState, source: "state" };
    }
    const p = this.pool.lodestar.params;
    const computed = computeEpochProposers(
      epoch,
      st.activeIndices(epoch),
      st.effectiveBalance,
      st.randaoMixes,
      this.shuffling,
      {
        electra:
          st.fork !== "phase0" &&
          st.fork !== "altair" &&
          st.fork !== "bellatrix" &&
          st.fork !== "capella" &&
          st.fork !== "deneb",
        maxEffectiveBalance: p.MAX_EFFECTIVE_BALANCE,
        maxEffectiveBalanceElectra: p.MAX_EFFECTIVE_BALANCE_ELECTRA,
      },
    );
    if (!check(computed)) {
      throw invalidResponse(
        `proposers of epoch ${epoch}`,
        "computed proposers disagree with the canonical blocks (state too far from the epoch?)",
      );
    }
    return { proposers: computed, source: "state" };
  }

  /** Proposal duties of `epoch` only (blocks of that epoch), for the pool's validators. */
  async proposalDuties(
    epoch: number,
    validators: readonly number[],
    opts: { requireFinalized?: boolean; concurrency?: number } = {},
  ): Promise<ProposalDuty[]> {
    const requireFinalized = opts.requireFinalized ?? true;
    const minFinalizedEpoch = requireFinalized ? epoch + 1 : undefined;
    const slots = Array.from({ length: this.S }, (_, k) => epoch * this.S + k);
    const fetched = await mapLimit(slots, opts.concurrency ?? 8, (s) =>
      this.block(s, requireFinalized, minFinalizedEpoch),
    );
    const blocks = new Map<number, BlockInfo>();
    for (const b of fetched) if (b !== null) blocks.set(b.slot, b);
    const { proposers } = await this.proposers(epoch, blocks, minFinalizedEpoch, {});
    return this.toProposals(epoch, proposers, blocks, memberOf(validators), emptyAggregate());
  }

  private async toProposals(
    epoch: number,
    proposers: number[],
    blocks: Map<number, BlockInfo>,
    inPool: (v: number) => boolean,
    network: DutyAggregate,
  ): Promise<ProposalDuty[]> {
    const proposals: ProposalDuty[] = [];
    for (let k = 0; k < this.S; k++) {
      const slot = epoch * this.S + k;
      if (slot === GENESIS_SLOT) continue; // the genesis block is no proposal duty
      const v = proposers[k] as number;
      const b = blocks.get(slot);
      network.proposalsAssigned++;
      if (b !== undefined) network.proposalsMade++;
      if (!inPool(v)) continue;
      let status: ProposalStatus = b === undefined ? "missed" : "proposed";
      if (b === undefined && (await this.orphaned(slot, v))) status = "orphaned";
      proposals.push({ validatorIndex: v, slot, status, blockRoot: b?.root ?? null });
    }
    return proposals;
  }

  /** Everything about `epoch` for `opts.validators`. */
  async epochDuties(epoch: number, opts: EpochDutiesOptions): Promise<EpochDuties> {
    const S = this.S;
    const requireFinalized = opts.requireFinalized ?? true;
    // the inclusion window of epoch E ends with the last slot of E+1: E+2 must be finalized
    const minFinalizedEpoch = requireFinalized ? epoch + 2 : undefined;
    const first = epoch * S;
    let tPhase = performance.now();
    const phase = (name: string): void => {
      const now = performance.now();
      opts.onPhase?.(name, now - tPhase);
      tPhase = now;
    };
    // balances and statuses do not depend on the blocks: read in parallel, from the SSZ states of
    // the epoch's first slot and the next epoch's (streamed, one pass each; the start one only
    // when its balances are not kept from the previous epoch or the effective balances are due)
    const wantBalances = opts.balances !== false;
    const startBalancesKept = this.balancesKept(first, minFinalizedEpoch);
    const ebDue = epoch >= this.pool.config.ELECTRA_FORK_EPOCH && !this.effectiveBalancesKept(epoch);
    const startScan =
      ebDue || (wantBalances && !startBalancesKept)
        ? this.streamState(
            String(first),
            {
              effectiveBalances: ebDue,
              validators:
                wantBalances && !startBalancesKept
                  ? { indices: opts.validators, slotsPerEpoch: S }
                  : undefined,
            },
            minFinalizedEpoch,
          )
        : undefined;
    startScan?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    const statesPromise: Promise<ValidatorEpochState[]> = wantBalances
      ? this.validatorStates(epoch, opts.validators, minFinalizedEpoch, startScan)
      : Promise.resolve([]);
    statesPromise.catch(() => undefined);
    const slots = Array.from({ length: 2 * S }, (_, k) => first + k);
    const fetched = await mapLimit(slots, opts.concurrency ?? 8, (s) =>
      this.block(s, requireFinalized, minFinalizedEpoch, opts.blockWireFormat),
    );
    const blocks = new Map<number, BlockInfo>();
    for (const b of fetched) if (b !== null) blocks.set(b.slot, b);
    const present = [...blocks.values()].sort((a, b) => a.slot - b.slot);
    for (let i = 1; i < present.length; i++) {
      const a = present[i - 1] as BlockInfo;
      const b = present[i] as BlockInfo;
      if (b.parentRoot !== a.root) {
        throw invalidResponse(
          `blocks of epoch ${epoch}`,
          `block ${b.slot} does not descend from block ${a.slot}`,
        );
      }
    }
    const firstBlock = present[0];
    if (firstBlock === undefined) throw invalidResponse(`blocks of epoch ${epoch}`, "no block in two epochs");
    const rootAt = (slot: number): string => {
      let r = firstBlock.parentRoot;
      for (const b of present) {
        if (b.slot > slot) break;
        r = b.root;
      }
      return r;
    };
    const nextBlockSlotAfter = (slot: number): number | null => {
      for (const b of present) if (b.slot > slot) return b.slot;
      return null;
    };

    phase("blocks");
    // committees
    const stateCache: { state?: StateView } = {};
    let committeesSource: "api" | "state" = "api";
    let cm = await this.committeesFromApi(epoch, minFinalizedEpoch);
    if (cm === null) {
      stateCache.state ??= await this.stateFor(epoch, minFinalizedEpoch);
      const c = computeEpochCommittees(
        epoch,
        stateCache.state.activeIndices(epoch),
        stateCache.state.randaoMixes,
        this.shuffling,
      );
      cm = { cps: c.committeesPerSlot, committees: c.committees };
      committeesSource = "state";
    }
    const { cps, committees } = cm;
    phase("committees");

    // duty position of every active validator
    let maxIndex = 0;
    for (const c of committees) for (const v of c) if (v > maxIndex) maxIndex = v;
    const n = maxIndex + 1;
    const dutySlot = new Int32Array(n).fill(-1);
    const dutyCommittee = new Int32Array(n).fill(-1);
    committees.forEach((c, k) => {
      const slot = first + Math.floor(k / cps);
      for (const v of c) {
        if (dutySlot[v] !== -1)
          throw invalidResponse(`committees of epoch ${epoch}`, `validator ${v} in two committees`);
        dutySlot[v] = slot;
        dutyCommittee[v] = k % cps;
      }
    });
    const inclSlot = new Int32Array(n).fill(-1);
    const flags = new Uint8Array(n); // 1 target correct, 2 head correct
    const targetRoot = rootAt(first);

    const events: ChainEvent[] = [];
    const exitRequests: Array<{ pubkey: string; slot: number }> = [];
    for (const b of present) {
      const atts = (b.body.attestations ?? []) as Array<{
        aggregationBits: { get(i: number): boolean; bitLen: number };
        committeeBits?: { getTrueBitIndexes(): number[] };
        data: {
          slot: number;
          index: number;
          beaconBlockRoot: Uint8Array;
          target: { epoch: number; root: Uint8Array };
        };
      }>;
      for (const a of atts) {
        const d = a.data;
        if (d.slot < first || d.slot >= first + S || d.slot >= b.slot) continue;
        const slotK = d.slot - first;
        const tgtOk = d.target.epoch === epoch && toHex0x(d.target.root) === targetRoot;
        const headOk = toHex0x(d.beaconBlockRoot) === rootAt(d.slot);
        markAttestation(
          a,
          (ci) => committees[slotK * cps + ci],
          b.slot,
          tgtOk,
          headOk,
          inclSlot,
          flags,
          `block ${b.slot}`,
        );
      }
      if (b.slot < first + S) {
        for (const ps of b.body.proposerSlashings ?? []) {
          events.push({
            kind: "proposer_slashing",
            validatorIndex: ps.signedHeader1.message.proposerIndex,
            slot: b.slot,
          });
        }
        for (const as of b.body.attesterSlashings ?? []) {
          const one = new Set<number>(as.attestation1.attestingIndices);
          for (const v of as.attestation2.attestingIndices as number[]) {
            if (one.has(v)) events.push({ kind: "attester_slashing", validatorIndex: v, slot: b.slot });
          }
        }
        for (const ex of b.body.voluntaryExits ?? []) {
          events.push({ kind: "voluntary_exit", validatorIndex: ex.message.validatorIndex, slot: b.slot });
        }
        // EIP-7002 full exits (amount 0; a partial withdrawal is no exit): named by pubkey
        for (const wr of b.body.executionRequests?.withdrawals ?? []) {
          if (BigInt(wr.amount) === 0n)
            exitRequests.push({ pubkey: toHex0x(wr.validatorPubkey), slot: b.slot });
        }
      }
    }
    if (exitRequests.length > 0) {
      const idx = await resolvePubkeys(
        this.pool,
        exitRequests.map((r) => r.pubkey),
        { stateId: "finalized", minFinalizedEpoch },
      );
      for (const r of exitRequests) {
        const v = idx.get(r.pubkey);
        // a request for an unknown pubkey is ignored by the chain too
        if (v !== undefined) events.push({ kind: "withdrawal_request", validatorIndex: v, slot: r.slot });
      }
    }

    // network aggregate over every validator with a duty, each weighted by its effective balance
    const effectiveBalance = await this.effectiveBalances(epoch, n, minFinalizedEpoch, stateCache, startScan);
    const network = emptyAggregate();
    // the first block after each duty slot of the epoch: an included attestation's optimal delay
    const nextBlock = new Int32Array(S);
    for (let k = 0; k < S; k++) nextBlock[k] = nextBlockSlotAfter(first + k) ?? first + k + 1;
    const optimalDelayOf = (v: number): number =>
      (inclSlot[v] as number) - (nextBlock[(dutySlot[v] as number) - first] as number) + 1;
    const correctnessOf = (v: number): number => (1 + (flags[v]! & 1) + ((flags[v]! >> 1) & 1)) / 3;
    // one pass over a million validators: no Map lookup, no object per validator
    for (let v = 0; v < n; v++) {
      if (dutySlot[v] === -1) continue;
      const w = attestationWeight(effectiveBalance(v));
      network.attAssigned++;
      network.attWeightAssigned += w;
      if (inclSlot[v] === -1) continue;
      network.attIncluded++;
      network.attWeightIncluded += w;
      const corr = correctnessOf(v);
      const opt = optimalDelayOf(v);
      network.attCorrectnessSum += w * corr;
      network.attDelayScoreSum += w / opt;
      network.attEffectivenessSum += (w * corr) / opt;
    }

    phase("attestations");
    // proposers
    const { proposers, source: proposersSource } = await this.proposers(
      epoch,
      blocks,
      minFinalizedEpoch,
      stateCache,
    );
    const inPool = memberOf(opts.validators);
    const proposals = await this.toProposals(epoch, proposers, blocks, inPool, network);

    phase("proposers");
    // sync committee
    const syncCommittee = await this.syncCommittee(epoch, minFinalizedEpoch, stateCache);
    const syncAssigned = new Map<number, number>();
    const syncIncluded = new Map<number, number>();
    for (const b of present) {
      if (b.slot >= first + S) break;
      const bits = b.body.syncAggregate?.syncCommitteeBits as { get(i: number): boolean } | undefined;
      if (bits === undefined) continue;
      syncCommittee.forEach((v, pos) => {
        network.syncAssigned++;
        const ok = bits.get(pos);
        if (ok) network.syncIncluded++;
        if (inPool(v)) {
          syncAssigned.set(v, (syncAssigned.get(v) ?? 0) + 1);
          if (ok) syncIncluded.set(v, (syncIncluded.get(v) ?? 0) + 1);
        }
      });
    }
    const sync: SyncDuty[] = [...syncAssigned.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([v, assigned]) => ({ validatorIndex: v, assigned, included: syncIncluded.get(v) ?? 0 }));

    phase("sync");
    // pool attestations (+ rewards)
    const attestations: AttestationDuty[] = [];
    for (const v of opts.validators) {
      if (v >= n || dutySlot[v] === -1) continue;
      const s = inclSlot[v] as number;
      const included = s !== -1;
      attestations.push({
        validatorIndex: v,
        slot: dutySlot[v] as number,
        committeeIndex: dutyCommittee[v] as number,
        included,
        inclusionSlot: included ? s : null,
        inclusionDelay: included ? s - (dutySlot[v] as number) : null,
        optimalDelay: included ? optimalDelayOf(v) : null,
        sourceCorrect: included,
        targetCorrect: included && (flags[v]! & 1) === 1,
        headCorrect: included && (flags[v]! & 2) === 2,
        effectiveBalance: effectiveBalance(v),
        rewards: null,
      });
    }
    phase("pool attestations");
    const rewardsFor =
      opts.rewards === false
        ? []
        : opts.rewards === "exceptions"
          ? attestations.filter((a) => !isPerfectAttestation(a)).map((a) => a.validatorIndex)
          : opts.validators;
    const rewards =
      rewardsFor.length === 0 ? null : await this.attestationRewards(epoch, rewardsFor, minFinalizedEpoch);
    if (rewards !== null) for (const a of attestations) a.rewards = rewards.get(a.validatorIndex) ?? null;
    phase("rewards");
    const validators = await statesPromise;
    phase("balances and statuses (waited)");
    const poolEvents = events.filter((e) => inPool(e.validatorIndex));
    return {
      epoch,
      attestations,
      proposals,
      sync,
      validators,
      events: poolEvents,
      network,
      sources: { committees: committeesSource, proposers: proposersSource },
    };
  }

  /**
   * Whether `proposer` produced a block at `slot` that lost the fork choice. A node answering 4xx
   * (no such block, or a node without the route) means no; a node failure is not an answer: it
   * fails the epoch (retried) rather than storing an orphaned proposal as missed for good.
   */
  private async orphaned(slot: number, proposer: number): Promise<boolean> {
    const headers = await this.pool.request(`headers at slot ${slot}`, async (api) => {
      const res = await api.beacon.getBlockHeaders({ slot });
      if (!res.ok && res.status < 500) return NOT_FOUND;
      return valueOrNotFound(res);
    });
    return (headers ?? []).some(
      (h) => !h.canonical && h.header.message.slot === slot && h.header.message.proposerIndex === proposer,
    );
  }

  private async syncCommittee(
    epoch: number,
    minFinalizedEpoch: number | undefined,
    stateCache: { state?: StateView },
  ): Promise<number[]> {
    const S = this.S;
    let fromApi: number[] | null = null;
    try {
      fromApi = await this.pool.request(
        `sync committee of epoch ${epoch}`,
        async (api): Promise<number[] | NotFound> => {
          const res = await api.beacon.getEpochSyncCommittees({ stateId: String(epoch * S), epoch });
          if (!res.ok && res.status < 500) return NOT_FOUND;
          const v = valueOrNotFound(res);
          if (v === NOT_FOUND) return NOT_FOUND;
          if (v.validators.length !== this.pool.lodestar.params.SYNC_COMMITTEE_SIZE) {
            throw invalidResponse("sync committee", `${v.validators.length} members`);
          }
          return v.validators;
        },
        { minFinalizedEpoch },
      );
    } catch (e) {
      if (!(e instanceof BeaconError && e.code === BeaconErrorCode.unavailable)) throw e;
    }
    if (fromApi !== null) return fromApi;
    stateCache.state ??= await this.stateFor(epoch, minFinalizedEpoch);
    const st = stateCache.state;
    const period = (e: number) => Math.floor(e / this.pool.spec.epochsPerSyncCommitteePeriod);
    const pks =
      period(epoch) === period(st.epoch)
        ? st.currentSyncCommittee
        : period(epoch) === period(st.epoch) + 1
          ? st.nextSyncCommittee
          : null;
    if (pks === null)
      throw invalidResponse(
        "sync committee",
        `state of epoch ${st.epoch} cannot give epoch ${epoch}'s committee`,
      );
    return pks.map((pk) => {
      const i = st.indexOfPubkey(pk);
      if (i === undefined) throw invalidResponse("sync committee", "member pubkey not in the registry");
      return i;
    });
  }

  /** Signed reward values read from the raw JSON (the 1.48 client decodes negatives as unsigned). */
  async attestationRewards(
    epoch: number,
    indices: readonly number[],
    minFinalizedEpoch: number | undefined,
  ): Promise<Map<number, AttestationRewards> | null> {
    const out = new Map<number, AttestationRewards>();
    const chunks: string[][] = [];
    // large requests: a node computes an epoch's rewards per request (replay), so fewer is cheaper
    const size = 250_000;
    for (let i = 0; i < indices.length; i += size) chunks.push(indices.slice(i, i + size).map(String));
    let missing = false;
    try {
      await mapLimit(chunks, 2, async (chunk) => {
        const asked = new Set(chunk);
        const r = await this.pool.requestJson(
          `attestation rewards of epoch ${epoch}`,
          `eth/v1/beacon/rewards/attestations/${epoch}`,
          (json) => parseAttestationRewards(json, asked),
          { method: "POST", body: chunk, minFinalizedEpoch, idempotent: true },
        );
        if (r === null) missing = true;
        else for (const [v, rw] of r) out.set(v, rw);
      });
    } catch (e) {
      if (e instanceof BeaconError && e.code === BeaconErrorCode.unavailable) return null;
      throw e;
    }
    return missing ? null : out;
  }

  /** Whether the kept balances are those of the finalized state at `slot` (see balancesAt). */
  private balancesKept(slot: number, minFinalizedEpoch: number | undefined): boolean {
    return this.balanceCache?.slot === slot && minFinalizedEpoch !== undefined;
  }

  /**
   * Balances of `indices` at `slot` (see getBalanceArray). The last answer is kept: the watcher's
   * next epoch starts at the state this one ended at, so its start balances are those (only
   * validators not in the kept answer are asked for). Kept only for finalized states.
   */
  private async balancesAt(
    slot: number,
    indices: readonly number[],
    minFinalizedEpoch: number | undefined,
  ): Promise<Float64Array | null> {
    const kept = this.balanceCache;
    if (kept === undefined || !this.balancesKept(slot, minFinalizedEpoch)) {
      const got = await getBalanceArray(this.pool, indices, { stateId: slot, minFinalizedEpoch });
      this.keepBalances(slot, indices, got, minFinalizedEpoch);
      return got;
    }
    const out = new Float64Array(indices.length);
    const pos = positionsOf(kept.indices);
    const missing: number[] = [];
    const missingAt: number[] = [];
    indices.forEach((v, k) => {
      const p = v < pos.length ? (pos[v] as number) : -1;
      if (p === -1) {
        missing.push(v);
        missingAt.push(k);
      } else out[k] = kept.gwei[p] as number;
    });
    if (missing.length > 0) {
      const got = await getBalanceArray(this.pool, missing, { stateId: slot, minFinalizedEpoch });
      if (got === null) return null;
      missingAt.forEach((k, j) => {
        out[k] = got[j] as number;
      });
    }
    return out;
  }

  private keepBalances(
    slot: number,
    indices: readonly number[],
    gwei: Float64Array | null,
    minFinalizedEpoch: number | undefined,
  ): void {
    if (gwei !== null && minFinalizedEpoch !== undefined)
      this.balanceCache = { slot, indices: indices.slice(), gwei };
  }

  /**
   * Balances at the start and end of the epoch and the statuses at its end. Read from the SSZ
   * states at the epoch's first slot (`startScan`, when its balances are not kept from the previous
   * epoch's end) and the next epoch's, streamed (a status as the Beacon API derives it from the
   * validator's record; a validator not in the end state has none); from a node without SSZ states,
   * by the validator routes: two POSTs of balances, and the statuses that are not active_ongoing
   * (only those are listed by the node; every other validator in the end state is active_ongoing).
   */
  private async validatorStates(
    epoch: number,
    indices: readonly number[],
    minFinalizedEpoch: number | undefined,
    startScan: Promise<ScanOutcome> | undefined,
  ): Promise<ValidatorEpochState[]> {
    const S = this.S;
    const soft = <T>(p: Promise<T>): Promise<T | null> =>
      p.catch((e: unknown) => {
        if (e instanceof BeaconError && e.code === BeaconErrorCode.unavailable) return null;
        throw e;
      });
    const endSlot = (epoch + 1) * S;
    const endScanP = soft(
      this.streamState(String(endSlot), { validators: { indices, slotsPerEpoch: S } }, minFinalizedEpoch),
    );
    const startP = (async () => {
      const scan = startScan === undefined ? null : await soft(startScan);
      const got = scan !== null && scan !== NOT_SSZ ? (scan.validators?.balance ?? null) : null;
      if (got === null) return soft(this.balancesAt(epoch * S, indices, minFinalizedEpoch));
      // kept only when it is also the end (the next epoch's start is this one's end)
      return got;
    })();
    startP.catch(() => undefined); // awaited below unless the end state fails first
    const endScan = await endScanP;
    const scanned = endScan !== null && endScan !== NOT_SSZ ? endScan.validators : null;
    if (scanned !== null) {
      const start = await startP;
      this.keepBalances(endSlot, indices, scanned.balance, minFinalizedEpoch);
      const end = scanned.balance;
      return indices.map((v, k) => {
        const code = scanned.status[k] as number;
        if (code === NO_STATUS) {
          return {
            validatorIndex: v,
            status: null,
            slashed: null,
            exitEpoch: null,
            balanceStart: gweiAt(start, k),
            balanceEnd: null,
          };
        }
        const exit = scanned.exitEpoch[k] as number;
        return {
          validatorIndex: v,
          status: VALIDATOR_STATUSES[code] as ValidatorStatus,
          slashed: scanned.slashed[k] === 1,
          exitEpoch: code === STATUS_ACTIVE_ONGOING || !(exit < 2 ** 53) ? null : exit,
          balanceStart: gweiAt(start, k),
          balanceEnd: gweiAt(end, k),
        };
      });
    }
    const [start, end, exceptions] = await Promise.all([
      startP,
      soft(this.balancesAt(endSlot, indices, minFinalizedEpoch)),
      soft(getStatusExceptions(this.pool, indices, { stateId: endSlot, minFinalizedEpoch })),
    ]);
    const exBy = new Map((exceptions ?? []).map((v) => [v.index, v]));
    return indices.map((v, k) => {
      const e = exBy.get(v);
      // absent from the status answer means active_ongoing only for a validator in the state: one
      // without a balance there is not in the registry yet (its deposit pending, or the index
      // resolved at a later state), and its status is unknown
      const known = exceptions !== null && end !== null && (e !== undefined || !Number.isNaN(end[k]));
      return {
        validatorIndex: v,
        status: e?.status ?? (known ? "active_ongoing" : null),
        slashed: e?.slashed ?? (known ? false : null),
        exitEpoch: e?.exitEpoch ?? null,
        balanceStart: gweiAt(start, k),
        balanceEnd: gweiAt(end, k),
      };
    });
  }
}

const STATUS_ACTIVE_ONGOING = VALIDATOR_STATUSES.indexOf("active_ongoing");

/** A balance by position as gwei, null where the state has no such validator (NaN) or none was read. */
function gweiAt(a: Float64Array | null, k: number): bigint | null {
  return a === null || Number.isNaN(a[k]) ? null : BigInt(a[k] as number);
}

/** Membership of a set of validator indices by a bitmap (hundreds of thousands: no Set). */
function memberOf(indices: readonly number[]): (v: number) => boolean {
  let max = -1;
  for (const v of indices) if (v > max) max = v;
  const bits = new Uint8Array(max + 1);
  for (const v of indices) bits[v] = 1;
  return (v) => bits[v] === 1;
}

function validateCommittees(
  list: Array<{ index: number; slot: number; validators: ArrayLike<number> }>,
  epoch: number,
  S: number,
): { cps: number; committees: Uint32Array[] } {
  const first = epoch * S;
  const perSlot = new Map<number, number>();
  for (const c of list) {
    if (c.slot < first || c.slot >= first + S)
      throw invalidResponse("committees", `slot ${c.slot} outside epoch ${epoch}`);
    perSlot.set(c.slot, Math.max(perSlot.get(c.slot) ?? 0, c.index + 1));
  }
  const cps = perSlot.get(first) ?? 0;
  if (
    cps === 0 ||
    perSlot.size !== S ||
    [...perSlot.values()].some((x) => x !== cps) ||
    list.length !== cps * S
  ) {
    throw invalidResponse("committees", `epoch ${epoch} is not ${S} slots × same committee count`);
  }
  const committees = new Array<Uint32Array>(cps * S);
  for (const c of list) committees[(c.slot - first) * cps + c.index] = Uint32Array.from(c.validators);
  return { cps, committees };
}

export { NodeCallError };
