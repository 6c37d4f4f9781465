/**
 * The Beacon API methods of one sim node, in the shape @lodestar/api's server routes expect
 * (async methods returning {data, meta}). A node sees the shared chain up to its own head (a node
 * stuck behind serves an older head and finality).
 */
import { routes } from "@lodestar/api";
import type { BeaconApiMethods } from "@lodestar/api/beacon/server";
import { ApiError } from "@lodestar/api/server";
import {
  type ForkName,
  MAX_EFFECTIVE_BALANCE,
  MAX_EFFECTIVE_BALANCE_ELECTRA,
  SYNC_COMMITTEE_SUBNET_COUNT,
} from "@lodestar/params";
import type { phase0, rewards } from "@lodestar/types";
import { isPoolkeeperError } from "@poolkeeper/core";
import type { SimChain, ValidatorStatus } from "./chain.js";
import { isElectraOrLater } from "./chain-types.js";
import { specJson } from "./spec-json.js";
import { partialWithdrawalValues, proposerLookahead, servedState } from "./ssz-state.js";

export const SIM_VERSION = "beacon-sim/v0.1.0";

/** What a node's faults change in the API's answers (the HTTP-level faults live in server.ts). */
export interface NodeView {
  readonly chain: SimChain;
  /** The node's head: the chain head, or less when the node is stuck. */
  headSlot(): number;
  isSyncing(): boolean;
}

type StatusFilter = ValidatorStatus | "active" | "pending" | "exited" | "withdrawal";

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;
const fromHex = (s: string) => new Uint8Array(Buffer.from(s.replace(/^0x/, ""), "hex"));

function statusMatches(status: ValidatorStatus, filters: Set<string>): boolean {
  if (filters.size === 0) return true;
  if (filters.has(status)) return true;
  const general = status.split("_")[0] ?? "";
  return filters.has(general);
}

export interface ResolvedState {
  slot: number;
  epoch: number;
  finalized: boolean;
}

export class NodeApi {
  constructor(readonly view: NodeView) {}

  get chain(): SimChain {
    return this.view.chain;
  }

  finalizedEpochInView(): number {
    const c = this.chain;
    return c.finalityAt(c.epochOf(this.view.headSlot()))?.finalized.epoch ?? 0;
  }

  isFinalizedSlot(slot: number): boolean {
    return slot <= this.chain.startSlot(this.finalizedEpochInView());
  }

  resolveState(stateId: string | number): ResolvedState {
    const c = this.chain;
    const head = this.view.headSlot();
    let slot: number | undefined;
    const id = String(stateId);
    if (id === "head") slot = head;
    else if (id === "genesis") slot = 0;
    else if (id === "finalized") slot = c.startSlot(this.finalizedEpochInView());
    else if (id === "justified")
      slot = c.startSlot(c.finalityAt(c.epochOf(head))?.currentJustified.epoch ?? 0);
    else if (/^\d+$/.test(id)) {
      slot = Number(id);
      if (slot > head) throw new ApiError(404, `No state found for id '${id}'`);
    } else if (/^0x[0-9a-fA-F]{64}$/.test(id)) {
      slot = c.slotOfStateRoot(fromHex(id));
      if (slot === undefined || slot > head) throw new ApiError(404, `No state found for id '${id}'`);
    } else throw new ApiError(400, `Invalid state id '${id}'`);
    const epoch = c.epochOf(slot);
    if (c.snapshot(epoch) === undefined)
      throw new ApiError(
        404,
        `No state found for id '${id}' (pruned: oldest kept epoch is ${c.oldestSnapshotEpoch()})`,
      );
    return { slot, epoch, finalized: this.isFinalizedSlot(slot) };
  }

  resolveBlock(blockId: string | number): ReturnType<SimChain["blockAt"]> & object {
    const c = this.chain;
    const head = this.view.headSlot();
    const id = String(blockId);
    let b: ReturnType<SimChain["blockAt"]>;
    if (id === "head") b = c.blockByRoot(c.blockRootAtOrBefore(head));
    else if (id === "genesis") b = c.blockAt(0);
    else if (id === "finalized")
      b = c.blockByRoot(c.finalityAt(c.epochOf(head))?.finalized.root ?? new Uint8Array(32)) ?? c.blockAt(0);
    else if (id === "justified")
      b =
        c.blockByRoot(c.finalityAt(c.epochOf(head))?.currentJustified.root ?? new Uint8Array(32)) ??
        c.blockAt(0);
    else if (/^\d+$/.test(id)) b = Number(id) <= head ? c.blockAt(Number(id)) : undefined;
    else if (/^0x[0-9a-fA-F]{64}$/.test(id)) {
      b = c.blockByRoot(fromHex(id));
      if (b !== undefined && b.slot > head) b = undefined;
    } else throw new ApiError(400, `Invalid block id '${id}'`);
    if (b === undefined) throw new ApiError(404, `No block found for id '${id}'`);
    return b;
  }

  /** Validator indices for ids (indices or 0x pubkeys); unknown ids are skipped, as the spec says. */
  resolveIds(ids: Array<string | number> | undefined, count: number): number[] | undefined {
    if (ids === undefined || ids.length === 0) return undefined;
    const out: number[] = [];
    for (const raw of ids) {
      const id = String(raw);
      if (/^\d+$/.test(id)) {
        const i = Number(id);
        if (i < count) out.push(i);
      } else if (/^0x[0-9a-fA-F]{96}$/.test(id)) {
        const i = this.chain.indexOfPubkey(fromHex(id));
        if (i >= 0 && i < count) out.push(i);
      } else throw new ApiError(400, `Invalid validator id '${id}'`);
    }
    return out;
  }

  validatorResponse(i: number, epoch: number): routes.beacon.ValidatorResponse {
    const c = this.chain;
    return {
      index: i,
      balance: c.balanceAt(i, epoch),
      status: c.statusAt(i, epoch),
      validator: { ...c.validatorAt(i, epoch) },
    } as routes.beacon.ValidatorResponse;
  }

  /**
   * Lodestar's getStateValidatorIndex: an index or a 0x pubkey to the validator's index in a state
   * of `count` validators, or the status and reason Lodestar answers for it.
   */
  validatorIndexOf(raw: string | number, count: number): number | { code: 400 | 404; reason: string } {
    const id = String(raw);
    if (id.startsWith("0x")) {
      if (!/^0x([0-9a-fA-F]{2})*$/.test(id)) return { code: 400, reason: "Invalid pubkey hex encoding" };
      const i = id.length === 98 ? this.chain.indexOfPubkey(fromHex(id)) : -1;
      if (i < 0) return { code: 404, reason: "Validator pubkey not found in state" };
      if (i >= count) return { code: 404, reason: "Validator pubkey from future state" };
      return i;
    }
    const i = /^\d+$/.test(id) ? Number(id) : Number.NaN;
    if (!Number.isSafeInteger(i)) return { code: 400, reason: "Invalid validator index" };
    if (i >= count) return { code: 404, reason: "Validator index from future state" };
    return i;
  }

  /**
   * Indices of the validators of a state matching ids and statuses, as Lodestar selects them: ids in
   * request order (duplicates: 400; unknown or invalid ids: left out), else every validator in index
   * order; statuses exact or general (`active`, `pending`, `exited`, `withdrawal`).
   */
  selectValidators(
    epoch: number,
    ids: Array<string | number> | undefined,
    statuses: StatusFilter[] | undefined,
  ): number[] {
    const count = this.chain.countAt(epoch);
    assertUnique(ids, "Duplicate validator IDs provided");
    assertUnique(statuses, "Duplicate statuses provided");
    const filters = new Set<string>(statuses ?? []);
    const out: number[] = [];
    if (ids !== undefined && ids.length > 0) {
      for (const id of ids) {
        const i = this.validatorIndexOf(id, count);
        if (
          typeof i === "number" &&
          (filters.size === 0 || statusMatches(this.chain.statusAt(i, epoch), filters))
        )
          out.push(i);
      }
    } else if (filters.size === 0) {
      for (let i = 0; i < count; i++) out.push(i);
    } else {
      for (let i = 0; i < count; i++) if (statusMatches(this.chain.statusAt(i, epoch), filters)) out.push(i);
    }
    return out;
  }

  private dependentRoot(slot: number): string {
    return hex(this.chain.blockRootAtOrBefore(Math.max(0, slot)));
  }

  /** The epoch of the node's head state: duties are answered from it, as Lodestar does. */
  private headEpoch(): number {
    return this.chain.epochOf(this.view.headSlot());
  }

  /**
   * Lodestar's getPubkeysForIndices: every index must be in the head state (a plain Error there,
   * so 500), before any duty is computed. Also its 400 for an empty list.
   */
  private dutyPubkeys(indices: readonly number[]): Uint8Array[] {
    if (indices.length === 0) throw new ApiError(400, "No validator to get attester duties");
    const count = this.chain.countAt(this.headEpoch());
    return indices.map((i) => {
      if (i >= count)
        throw new ApiError(500, `validatorIndex ${i} too high. Current validator count ${count}`);
      return this.chain.pubkeyOf(i);
    });
  }

  methods(): BeaconApiMethods {
    const c = this.chain;
    const view = this.view;
    const stateMeta = (s: ResolvedState) => ({ executionOptimistic: false, finalized: s.finalized });
    const version = c.fork as ForkName;
    /** Lodestar: the Electra lists of a state, 400 before Electra. */
    const electraState = (stateId: string | number, what: string) => {
      const s = this.resolveState(stateId);
      const e = c.snapshot(s.epoch)?.electra;
      if (e === undefined)
        throw new ApiError(400, `Cannot retrieve ${what} for pre-electra state fork=${c.fork}`);
      return { e, meta: { ...stateMeta(s), version } };
    };

    const beacon: Partial<BeaconApiMethods["beacon"]> = {
      getGenesis: async () => ({
        data: {
          genesisTime: c.genesisTime,
          genesisValidatorsRoot: c.genesisValidatorsRoot,
          genesisForkVersion: c.genesisForkVersion,
        },
      }),
      getStateRoot: async ({ stateId }) => {
        const s = this.resolveState(stateId);
        return { data: { root: c.stateRootAt(s.slot) }, meta: stateMeta(s) };
      },
      getStateFork: async ({ stateId }) => {
        const s = this.resolveState(stateId);
        return {
          data: { previousVersion: c.forkVersion, currentVersion: c.forkVersion, epoch: 0 },
          meta: stateMeta(s),
        };
      },
      getStateFinalityCheckpoints: async ({ stateId }) => {
        const s = this.resolveState(stateId);
        const f = c.finalityAt(s.epoch);
        if (f === undefined) throw new ApiError(404, `No state found for id '${stateId}'`);
        return {
          data: {
            previousJustified: f.previousJustified,
            currentJustified: f.currentJustified,
            finalized: f.finalized,
          },
          meta: stateMeta(s),
        };
      },
      getStateValidator: async ({ stateId, validatorId }) => {
        const s = this.resolveState(stateId);
        const i = this.validatorIndexOf(validatorId, c.countAt(s.epoch));
        if (typeof i !== "number") throw new ApiError(i.code, i.reason);
        return { data: this.validatorResponse(i, s.epoch), meta: stateMeta(s) };
      },
      getStateValidators: async ({ stateId, validatorIds, statuses }) => {
        const s = this.resolveState(stateId);
        const sel = this.selectValidators(s.epoch, validatorIds, statuses);
        return { data: sel.map((i) => this.validatorResponse(i, s.epoch)), meta: stateMeta(s) };
      },
      postStateValidators: async ({ stateId, validatorIds, statuses }) => {
        const s = this.resolveState(stateId);
        const sel = this.selectValidators(s.epoch, validatorIds, statuses);
        return { data: sel.map((i) => this.validatorResponse(i, s.epoch)), meta: stateMeta(s) };
      },
      getStateValidatorBalances: async ({ stateId, validatorIds }) => {
        const s = this.resolveState(stateId);
        const sel = this.selectValidators(s.epoch, validatorIds, undefined);
        return { data: sel.map((i) => ({ index: i, balance: c.balanceAt(i, s.epoch) })), meta: stateMeta(s) };
      },
      postStateValidatorBalances: async ({ stateId, validatorIds }) => {
        const s = this.resolveState(stateId);
        const sel = this.selectValidators(s.epoch, validatorIds, undefined);
        return { data: sel.map((i) => ({ index: i, balance: c.balanceAt(i, s.epoch) })), meta: stateMeta(s) };
      },
      getEpochCommittees: async ({ stateId, epoch, index, slot }) => {
        // Lodestar: the epoch defaults to the state's (not the slot's), within one epoch of it;
        // an index beyond the committees of a slot selects nothing.
        const s = this.resolveState(stateId);
        const e = epoch ?? s.epoch;
        if (Math.abs(e - s.epoch) > 1)
          throw new ApiError(400, `Epoch ${e} must be within one epoch of state epoch ${s.epoch}`);
        if (slot !== undefined && c.epochOf(slot) !== e)
          throw new ApiError(400, `Slot ${slot} is not in epoch ${e}`);
        const cps = c.committeesPerSlot(e);
        const data: routes.beacon.EpochCommitteeResponse[] = [];
        for (let sl = c.startSlot(e); sl < c.startSlot(e + 1); sl++) {
          if (slot !== undefined && sl !== slot) continue;
          for (let ci = 0; ci < cps; ci++) {
            if (index !== undefined && ci !== index) continue;
            data.push({ index: ci, slot: sl, validators: Array.from(c.committee(sl, ci)) });
          }
        }
        return { data, meta: stateMeta(s) };
      },
      getEpochSyncCommittees: async ({ stateId, epoch }) => {
        const s = this.resolveState(stateId);
        const period = c.syncPeriodOf(epoch ?? s.epoch);
        // A state holds its current and next sync committee only (Lodestar: an epoch cache error).
        if (period !== c.syncPeriodOf(s.epoch) && period !== c.syncPeriodOf(s.epoch) + 1)
          throw new ApiError(500, "EPOCH_CONTEXT_ERROR_NO_SYNC_COMMITTEE");
        const validators = Array.from(c.syncCommittee(period));
        const size = validators.length / SYNC_COMMITTEE_SUBNET_COUNT;
        const validatorAggregates: number[][] = [];
        for (let k = 0; k < SYNC_COMMITTEE_SUBNET_COUNT; k++)
          validatorAggregates.push(validators.slice(k * size, (k + 1) * size));
        return { data: { validators, validatorAggregates }, meta: stateMeta(s) };
      },
      getBlockHeader: async ({ blockId }) => {
        const b = this.resolveBlock(blockId);
        return {
          data: this.headerResponse(b),
          meta: { executionOptimistic: false, finalized: this.isFinalizedSlot(b.slot) },
        };
      },
      getBlockHeaders: async ({ slot, parentRoot }) => {
        const head = view.headSlot();
        let out: NonNullable<ReturnType<SimChain["blockAt"]>>[] = [];
        if (parentRoot !== undefined) {
          const parent = c.blockByRoot(fromHex(parentRoot));
          if (parent !== undefined) {
            const parentHex = hex(parent.root);
            for (let sl = parent.slot + 1; sl <= head; sl++) {
              for (const o of c.orphansAt(sl)) if (hex(o.message.parentRoot) === parentHex) out.push(o);
              const b = c.blockAt(sl);
              if (b !== undefined) {
                out.push(b);
                break;
              }
            }
          }
          if (slot !== undefined) out = out.filter((b) => b.slot === slot);
        } else {
          const b =
            slot !== undefined
              ? slot <= head
                ? c.blockAt(slot)
                : undefined
              : c.blockByRoot(c.blockRootAtOrBefore(head));
          if (b !== undefined) out.push(b);
          if (slot !== undefined && slot <= head) out.push(...c.orphansAt(slot));
        }
        return {
          data: out.map((b) => this.headerResponse(b)),
          meta: { executionOptimistic: false, finalized: out.every((b) => this.isFinalizedSlot(b.slot)) },
        };
      },
      getBlockRoot: async ({ blockId }) => {
        const b = this.resolveBlock(blockId);
        return {
          data: { root: b.root },
          meta: { executionOptimistic: false, finalized: this.isFinalizedSlot(b.slot) },
        };
      },
      getBlockV2: async ({ blockId }) => {
        const b = this.resolveBlock(blockId);
        return {
          data: { message: b.message, signature: b.signature },
          meta: {
            version,
            executionOptimistic: false,
            finalized: this.isFinalizedSlot(b.slot),
          },
        };
      },
      getBlockAttestationsV2: async ({ blockId }) => {
        const b = this.resolveBlock(blockId);
        return {
          data: b.message.body.attestations,
          meta: {
            version,
            executionOptimistic: false,
            finalized: this.isFinalizedSlot(b.slot),
          },
        };
      },
      getAttestationsRewards: async ({ epoch, validatorIds }) => {
        const head = view.headSlot();
        if (c.epochOf(head) < epoch + 2)
          throw new ApiError(404, `Rewards of epoch ${epoch} are not known before epoch ${epoch + 2}`);
        const ctx = c.attestationRewardContext(epoch);
        if (ctx === undefined) throw new ApiError(404, `Epoch ${epoch} is pruned`);
        const count = c.countAt(epoch + 1);
        const idx = this.resolveIds(validatorIds, count) ?? Array.from({ length: count }, (_, i) => i);
        const idealRewards: rewards.AttestationsRewards["idealRewards"] = [];
        const maxEth =
          (isElectraOrLater(c.fork) ? MAX_EFFECTIVE_BALANCE_ELECTRA : MAX_EFFECTIVE_BALANCE) / 1e9;
        for (let eth = 0; eth <= maxEth; eth++) {
          const r = ctx.ideal(eth);
          idealRewards.push({ ...r, inclusionDelay: 0, inactivity: 0, effectiveBalance: eth * 1e9 });
        }
        const totalRewards: rewards.AttestationsRewards["totalRewards"] = [];
        for (const i of idx) {
          const d = ctx.deltas(i);
          if (d === undefined) continue;
          totalRewards.push({
            validatorIndex: i,
            head: d.head,
            target: d.target,
            source: d.source,
            inclusionDelay: 0,
            inactivity: d.inactivity,
          });
        }
        return {
          data: { idealRewards, totalRewards },
          meta: { executionOptimistic: false, finalized: this.isFinalizedSlot(c.startSlot(epoch + 1)) },
        };
      },
      getBlockRewards: async ({ blockId }) => {
        const b = this.resolveBlock(blockId);
        const r = b.rewards;
        return {
          data: {
            proposerIndex: b.message.proposerIndex,
            total: r.attestations + r.syncAggregate + r.proposerSlashings + r.attesterSlashings,
            attestations: r.attestations,
            syncAggregate: r.syncAggregate,
            proposerSlashings: r.proposerSlashings,
            attesterSlashings: r.attesterSlashings,
          },
          meta: { executionOptimistic: false, finalized: this.isFinalizedSlot(b.slot) },
        };
      },
      getSyncCommitteeRewards: async ({ blockId, validatorIds }) => {
        const b = this.resolveBlock(blockId);
        const rewards = c.syncRewardsOfBlock(b.slot) ?? [];
        const want = this.resolveIds(validatorIds, c.n);
        const set = want === undefined ? undefined : new Set(want);
        return {
          data: rewards.filter((r) => set === undefined || set.has(r.validatorIndex)),
          meta: { executionOptimistic: false, finalized: this.isFinalizedSlot(b.slot) },
        };
      },
      submitPoolVoluntaryExit: async ({ signedVoluntaryExit }) => {
        try {
          c.submitVoluntaryExit(signedVoluntaryExit);
        } catch (e) {
          if (isPoolkeeperError(e)) throw new ApiError(400, e.message);
          throw e;
        }
      },
      getPoolAttestationsV2: async ({ slot, committeeIndex }) => ({
        data: c.poolAttestations({ slot, committeeIndex }),
        meta: { version },
      }),
      getPoolVoluntaryExits: async () => ({ data: c.pendingPoolExits() as phase0.SignedVoluntaryExit[] }),
      getPendingDeposits: async ({ stateId }) => {
        const { e, meta } = electraState(stateId, "pending deposits");
        return { data: e.pendingDeposits, meta };
      },
      getPendingPartialWithdrawals: async ({ stateId }) => {
        const { e, meta } = electraState(stateId, "pending partial withdrawals");
        return { data: partialWithdrawalValues(e), meta };
      },
      getPendingConsolidations: async ({ stateId }) => {
        const { e, meta } = electraState(stateId, "pending consolidations");
        return { data: e.pendingConsolidations, meta };
      },
      getProposerLookahead: async ({ stateId }) => {
        const s = this.resolveState(stateId);
        if (c.fork !== "fulu")
          throw new ApiError(400, `Cannot retrieve proposer lookahead for pre-fulu state fork=${c.fork}`);
        return { data: proposerLookahead(c, s.epoch), meta: { ...stateMeta(s), version } };
      },
    };

    const node: Partial<BeaconApiMethods["node"]> = {
      getNodeVersion: async () => ({ data: { version: SIM_VERSION } }),
      getSyncingStatus: async () => {
        const head = view.headSlot();
        const syncing = view.isSyncing();
        return {
          data: {
            headSlot: head,
            syncDistance: c.headSlot - head,
            isSyncing: syncing,
            isOptimistic: false,
            elOffline: false,
          },
        };
      },
      getHealth: async ({ syncingStatus }) => {
        if (view.isSyncing()) return { status: (syncingStatus ?? 206) as 206 };
        return { status: 200 };
      },
      getPeerCount: async () => ({
        data: { disconnected: 0, connecting: 0, connected: 1, disconnecting: 0 },
      }),
    };

    const config: Partial<BeaconApiMethods["config"]> = {
      getSpec: async () => ({ data: specJson(c) }),
      getDepositContract: async () => ({
        data: { chainId: c.config.DEPOSIT_CHAIN_ID, address: c.config.DEPOSIT_CONTRACT_ADDRESS },
      }),
      getForkSchedule: async () => ({
        data: [
          { previousVersion: c.genesisForkVersion, currentVersion: c.genesisForkVersion, epoch: 0 },
          { previousVersion: c.genesisForkVersion, currentVersion: c.config.ALTAIR_FORK_VERSION, epoch: 0 },
          {
            previousVersion: c.config.ALTAIR_FORK_VERSION,
            currentVersion: c.config.BELLATRIX_FORK_VERSION,
            epoch: 0,
          },
          {
            previousVersion: c.config.BELLATRIX_FORK_VERSION,
            currentVersion: c.capellaForkVersion,
            epoch: 0,
          },
          { previousVersion: c.capellaForkVersion, currentVersion: c.denebForkVersion, epoch: 0 },
          ...(isElectraOrLater(c.fork)
            ? [
                {
                  previousVersion: c.denebForkVersion,
                  currentVersion: c.config.ELECTRA_FORK_VERSION,
                  epoch: 0,
                },
              ]
            : []),
          ...(c.fork === "fulu"
            ? [
                {
                  previousVersion: c.config.ELECTRA_FORK_VERSION,
                  currentVersion: c.config.FULU_FORK_VERSION,
                  epoch: 0,
                },
              ]
            : []),
        ],
      }),
    };

    const debug: Partial<BeaconApiMethods["debug"]> = {
      getStateV2: async ({ stateId }) => {
        const s = this.resolveState(stateId);
        const bytes = servedState(c, s.slot);
        return {
          data: bytes,
          meta: { version, executionOptimistic: false, finalized: s.finalized },
        };
      },
    };

    const validator: Partial<BeaconApiMethods["validator"]> = {
      getProposerDuties: async ({ epoch }) => this.proposerDuties(epoch),
      getProposerDutiesV2: async ({ epoch }) => this.proposerDuties(epoch),
      getAttesterDuties: async ({ epoch, indices }) => {
        if (indices.length === 0) throw new ApiError(400, "No validator to get attester duties");
        const cur = this.headEpoch();
        if (epoch > cur + 1) throw new ApiError(400, "Cannot get duties for epoch more than one ahead");
        const pubkeys = this.dutyPubkeys(indices);
        // The head state's epoch cache knows the previous, current and next shufflings only.
        if (epoch < cur - 1) throw new ApiError(500, "EPOCH_CONTEXT_ERROR_DECISION_ROOT_EPOCH_OUT_OF_RANGE");
        const positions = c.committeePositions(epoch);
        const cps = c.committeesPerSlot(epoch);
        const data: routes.validator.AttesterDuty[] = [];
        indices.forEach((i, k) => {
          const p = positions(i);
          if (p === undefined) return;
          data.push({
            pubkey: pubkeys[k] ?? c.pubkeyOf(i),
            validatorIndex: i,
            committeeIndex: p.committeeIndex,
            committeeLength: p.committeeLength,
            committeesAtSlot: cps,
            validatorCommitteeIndex: p.position,
            slot: p.slot,
          });
        });
        return {
          data,
          meta: { executionOptimistic: false, dependentRoot: this.dependentRoot(c.startSlot(epoch - 1) - 1) },
        };
      },
      getSyncCommitteeDuties: async ({ epoch, indices }) => {
        if (indices.length === 0) throw new ApiError(400, "No validator to get attester duties");
        const pubkeys = this.dutyPubkeys(indices);
        const period = c.syncPeriodOf(epoch);
        const headPeriod = c.syncPeriodOf(this.headEpoch());
        // The head state holds the current and the next sync committee only.
        if (period !== headPeriod && period !== headPeriod + 1)
          throw new ApiError(500, "EPOCH_CONTEXT_ERROR_NO_SYNC_COMMITTEE");
        const positions = syncPositions(c.syncCommittee(period));
        const data: routes.validator.SyncDuty[] = [];
        indices.forEach((i, k) => {
          const list = positions.get(i);
          if (list !== undefined)
            data.push({
              pubkey: pubkeys[k] ?? c.pubkeyOf(i),
              validatorIndex: i,
              validatorSyncCommitteeIndices: list,
            });
        });
        return { data, meta: { executionOptimistic: false } };
      },
      getLiveness: async ({ epoch, indices }) => {
        // Lodestar: what it saw in the previous, current and next epoch (nothing yet in the next)
        if (indices.length === 0) return { data: [] };
        const cur = this.headEpoch();
        if (epoch < cur - 1 || epoch > cur + 1)
          throw new ApiError(
            400,
            `Request epoch ${epoch} is more than one epoch before or after the current epoch ${cur}`,
          );
        const seen = epoch <= cur && c.participationFlags(epoch) !== undefined;
        return { data: indices.map((i) => ({ index: i, isLive: seen && c.isLive(i, epoch) })) };
      },
    };

    const events: Partial<BeaconApiMethods["events"]> = {
      eventstream: async ({ topics, signal, onEvent }) => {
        const wanted = new Set<string>(topics);
        const listeners: Array<[string, (m: { slot?: number; epoch?: number }) => void]> = [];
        for (const t of [
          routes.events.EventType.head,
          routes.events.EventType.block,
          routes.events.EventType.finalizedCheckpoint,
        ] as const) {
          if (!wanted.has(t)) continue;
          const fn = (m: { slot?: number; epoch?: number }) => {
            if (m.slot !== undefined && m.slot > view.headSlot()) return;
            if (m.epoch !== undefined && c.startSlot(m.epoch) > view.headSlot()) return;
            onEvent({ type: t, message: m } as unknown as routes.events.BeaconEvent);
          };
          c.on(t, fn);
          listeners.push([t, fn]);
        }
        signal.addEventListener("abort", () => {
          for (const [t, fn] of listeners) c.off(t, fn);
        });
      },
    };

    return {
      beacon: notImplemented(beacon),
      node: notImplemented(node),
      config: notImplemented(config),
      debug: notImplemented(debug),
      validator: notImplemented(validator),
      events: notImplemented(events),
      lightclient: notImplemented({}),
      lodestar: notImplemented({}),
      proof: notImplemented({}),
    } as unknown as BeaconApiMethods;
  }

  /**
   * Lodestar's proposer duties: every slot of the epoch (slot 0 too), up to the next epoch; older
   * epochs from the state at their first slot. The dependent root is that of the state answering:
   * for the previous, current and next epoch the head state's (the last block before the current
   * epoch), for older ones the block before the epoch; the genesis block when that is before slot 0.
   */
  private proposerDuties(epoch: number) {
    const c = this.chain;
    const cur = this.headEpoch();
    if (epoch > cur + 1)
      throw new ApiError(400, `Requested epoch ${epoch} must not be more than one epoch in the future`);
    if (c.snapshot(Math.min(epoch, cur)) === undefined)
      throw new ApiError(404, `No state found for id '${c.startSlot(epoch)}'`);
    const data: routes.validator.ProposerDuty[] = [];
    for (let sl = c.startSlot(epoch); sl < c.startSlot(epoch + 1); sl++) {
      const v = c.proposerAt(sl);
      data.push({ slot: sl, validatorIndex: v, pubkey: c.pubkeyOf(v) });
    }
    const stateEpoch = epoch >= cur - 1 ? cur : epoch;
    return {
      data,
      meta: { executionOptimistic: false, dependentRoot: this.dependentRoot(c.startSlot(stateEpoch) - 1) },
    };
  }

  headerResponse(b: NonNullable<ReturnType<SimChain["blockAt"]>>): routes.beacon.BlockHeaderResponse {
    const m = b.message;
    return {
      root: b.root,
      canonical: b.canonical !== false,
      header: {
        message: {
          slot: m.slot,
          proposerIndex: m.proposerIndex,
          parentRoot: m.parentRoot,
          stateRoot: m.stateRoot,
          bodyRoot: b.bodyRoot,
        },
        signature: b.signature,
      },
    };
  }
}

/** Validator index → its positions in a sync committee. */
function syncPositions(members: Uint32Array): Map<number, number[]> {
  const out = new Map<number, number[]>();
  members.forEach((v, k) => {
    const list = out.get(v);
    if (list === undefined) out.set(v, [k]);
    else list.push(k);
  });
  return out;
}

/** Lodestar's assertUniqueItems: 400 naming the repeated items. */
function assertUnique(items: ReadonlyArray<string | number> | undefined, message: string): void {
  if (items === undefined) return;
  // ids compare as strings; a canonical decimal (the common case: hundreds of thousands of
  // indices) is kept as its number, which is one string exactly, and the others as strings
  let seenIndices = new Uint8Array(1024); // a bitmap, grown as needed
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const item of items) {
    const n = canonicalIndex(item);
    if (n >= seenIndices.length) {
      const grown = new Uint8Array(Math.max(n + 1, seenIndices.length * 2));
      grown.set(seenIndices);
      seenIndices = grown;
    }
    const dup = n >= 0 ? seenIndices[n] === 1 : seen.has(String(item));
    if (dup && !dups.includes(String(item))) dups.push(String(item));
    if (n >= 0) seenIndices[n] = 1;
    else seen.add(String(item));
  }
  if (dups.length > 0) throw new ApiError(400, `${message}: ${dups.join(", ")}`);
}

/** The number a canonical decimal id stands for (no sign, no leading zero, below 2^24: the bitmap's bound), else -1. */
function canonicalIndex(item: string | number): number {
  if (typeof item === "number") return Number.isInteger(item) && item >= 0 && item < 2 ** 24 ? item : -1;
  const len = item.length;
  if (len === 0 || len > 8 || (len > 1 && item.charCodeAt(0) === 48)) return -1;
  let n = 0;
  for (let k = 0; k < len; k++) {
    const d = item.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n < 2 ** 24 ? n : -1;
}

/** Every method not implemented answers 501 (instead of a TypeError → 500). */
function notImplemented<T extends object>(impl: T): T {
  return new Proxy(impl, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (v !== undefined || typeof prop !== "string") return v;
      return async () => {
        throw new ApiError(501, `${prop} is not implemented by beacon-sim`);
      };
    },
  });
}
