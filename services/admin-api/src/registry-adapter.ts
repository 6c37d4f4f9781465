import { type Logger, type Network, toHex0x } from "@poolkeeper/core";
import { serializeDepositDataFile } from "@poolkeeper/keys";
import { PoolLedger } from "@poolkeeper/ledger";
import {
  type Concentration,
  createRegistry,
  type DepositBatch,
  type DepositBatchSummary,
  type KeyRecord,
  type KeyState,
  type OperatorWithCounts,
  type Registry,
  type Review,
  type Simulation,
  type TargetLimit,
  toDepositDataJson,
} from "@poolkeeper/registry";
import {
  EVER_DEPOSITED_STATES,
  exitFiguresByOperator,
  type KeyListRow,
  keyListPages,
  type OperatorExitFigures,
  type Store,
} from "@poolkeeper/store";
import type {
  DepositBatchSummaryView,
  DepositBatchView,
  KeyView,
  OperatorView,
  RegistryPort,
  ReviewView,
  SimulationView,
} from "./port.js";

/**
 * The API's view of @poolkeeper/registry: registry objects become the contract's shapes (0x hex,
 * ISO dates), each built field by field and checked by the compiler against `Static<>` of the
 * contract's schema. No rule of the registry is re-implemented here.
 */

/** Keys that were ever deposited are `used` (Lido keys-API word). */
const USED: ReadonlySet<KeyState> = new Set(EVER_DEPOSITED_STATES);

function targetLimitView(t: TargetLimit | null): TargetLimit | null {
  return t === null ? null : { limit: t.limit, mode: t.mode };
}

export function operatorView(o: OperatorWithCounts): OperatorView {
  return {
    id: o.id,
    name: o.name,
    rewardAddress: o.rewardAddress,
    active: o.active,
    vettedLimit: o.vettedLimit,
    targetLimit: targetLimitView(o.targetLimit),
    keys: { ...o.keys },
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

export function keyView(k: KeyRecord): KeyView {
  return {
    id: k.id,
    key: toHex0x(k.depositData.pubkey),
    depositSignature: toHex0x(k.depositData.signature),
    operatorId: k.operatorId,
    state: k.state,
    used: USED.has(k.state),
  };
}

/**
 * One key of the list as the contract's `Key` JSON text, written by hand for speed: every field
 * has a fixed format (integers, hex, a state from the table's CHECK set), so nothing needs
 * escaping. The fields and their order are `keyView`'s (services/admin-api/test/stream.test.ts
 * compares the two).
 */
export function keyListJson(x: KeyListRow): string {
  return (
    `{"id":${x.id},"key":"0x${x.pubkey}","depositSignature":"0x${x.signature}","operatorId":${x.operator_id},` +
    `"state":"${x.state}","used":${USED.has(x.state)}}`
  );
}

function concentrationView(c: Concentration): Concentration {
  return { top1Share: c.top1Share, top5Share: c.top5Share, hhi: c.hhi, nakamoto33: c.nakamoto33 };
}

function batchSummaryView(b: DepositBatchSummary): DepositBatchSummaryView {
  return { id: b.id, actor: b.actor, createdAt: b.createdAt.toISOString(), keyCount: b.keyCount };
}

/** A deposit batch with each key's deposit data in the deposit_data.json format (for the deposit contract). */
function batchView(batch: DepositBatch): DepositBatchView {
  return {
    ...batchSummaryView(batch),
    perOperator: batch.perOperator.map((p) => ({ operatorId: p.operatorId, count: p.count })),
    keys: batch.keys.map((k) => ({
      position: k.position,
      keyId: k.keyId,
      operatorId: k.operatorId,
      depositData: toDepositDataJson(k.depositData),
    })),
  };
}

const NO_EXITS = { requested: 0, open: 0, late: 0, triggered: 0, lastTriggeredAt: null };

function reviewView(r: Review, exits: readonly OperatorExitFigures[]): ReviewView {
  const byOperator = new Map(exits.map((e) => [e.operatorId, e]));
  const exitsOf = (id: number) => {
    const e = byOperator.get(id);
    if (e === undefined) return NO_EXITS;
    const { operatorId: _, lastTriggeredAt, ...counts } = e;
    return { ...counts, lastTriggeredAt: lastTriggeredAt === null ? null : lastTriggeredAt.toISOString() };
  };
  return {
    operators: r.operators.map((o) => ({
      operatorId: o.operatorId,
      name: o.name,
      active: o.active,
      vettedLimit: o.vettedLimit,
      targetLimit: targetLimitView(o.targetLimit),
      keys: { ...o.keys },
      activeShare: o.activeShare,
      capacityLeft: o.capacityLeft,
      exits: exitsOf(o.operatorId),
    })),
    totals: { ...r.totals },
    concentration: concentrationView(r.concentration),
    stakedConcentration: concentrationView(r.stakedConcentration),
    at: r.at.toISOString(),
  };
}

function simulationView(s: Simulation): SimulationView {
  return {
    requested: s.requested,
    allocated: s.allocated,
    operators: s.operators.map((o) => ({
      operatorId: o.operatorId,
      name: o.name,
      before: { staked: o.before.staked, share: o.before.share },
      allocated: o.allocated,
      after: { staked: o.after.staked, share: o.after.share },
    })),
    before: concentrationView(s.before),
    after: concentrationView(s.after),
  };
}

const STREAM_PAGE_SIZE = 5000;

export function portFromRegistry(registry: Registry): RegistryPort {
  // One read of the operators serves both gauges of a scrape.
  let scrape: { at: number; ops: Promise<OperatorWithCounts[]> } | undefined;
  const operatorsForMetrics = () => {
    if (scrape === undefined || Date.now() - scrape.at > 1000) {
      scrape = { at: Date.now(), ops: registry.listOperators() };
      scrape.ops.catch(() => {
        scrape = undefined;
      });
    }
    return scrape.ops;
  };
  return {
    async listOperators() {
      return (await registry.listOperators()).map(operatorView);
    },
    async getOperator(id) {
      return operatorView(await registry.getOperator(id));
    },
    async createOperator(input, by) {
      return operatorView(await registry.createOperator(input, by.actor, by.reason));
    },
    async updateOperator(id, patch, by) {
      return operatorView(await registry.updateOperator(id, patch, by.actor, by.reason));
    },
    async uploadKeys(operatorId, entries, by) {
      const r = await registry.uploadKeys(operatorId, entries, by.actor);
      return { operatorId: r.operatorId, count: r.count, firstKeyId: r.firstKeyId, lastKeyId: r.lastKeyId };
    },
    async removeKey(operatorId, pubkey, by) {
      await registry.removeKey(operatorId, pubkey, by.actor, by.reason);
    },
    async vetKeys(operatorId, by) {
      const r = await registry.vetKeys(operatorId, by.actor, by.reason);
      return { vetted: r.vetted };
    },
    streamKeysJson(filter) {
      let count = 0;
      let last: number | null = null;
      const limit = filter.limit;
      const pages = keyListPages(registry.store, {
        ...(filter.operatorId !== undefined ? { operatorId: filter.operatorId } : {}),
        ...(filter.state !== undefined ? { state: filter.state } : {}),
        ...(filter.cursor !== undefined ? { afterId: filter.cursor } : {}),
        ...(limit !== undefined ? { limit } : {}),
        pageSize: STREAM_PAGE_SIZE,
      });
      async function* chunks(): AsyncGenerator<string> {
        for await (const page of pages) {
          const rows = page.rows;
          const parts = new Array<string>(rows.length);
          for (let k = 0; k < rows.length; k++) parts[k] = keyListJson(rows[k]!);
          count += rows.length;
          last = page.lastId;
          yield parts.join(",");
        }
      }
      return {
        chunks: chunks(),
        count: () => count,
        // A full page may have more after it; a short page (or no limit) is the end.
        nextCursor: () => (limit !== undefined && count === limit && last !== null ? String(last) : null),
      };
    },
    async getKey(pubkey) {
      const k = await registry.getKey(pubkey);
      const history = k.history.map((e) => ({
        from: e.fromState,
        to: e.toState,
        actor: e.actor,
        reason: e.reason,
        at: e.at.toISOString(),
      }));
      // The first event is the upload: who uploaded the key first, and when (see README: key squatting).
      const upload = history.find((e) => e.from === null);
      return {
        ...keyView(k),
        withdrawalCredentials: toHex0x(k.depositData.withdrawalCredentials),
        depositDataRoot: toHex0x(k.depositData.depositDataRoot),
        uploadedBy: upload?.actor ?? null,
        uploadedAt: upload?.at ?? null,
        chainDeposit:
          k.chainDeposit === null
            ? null
            : {
                slot: k.chainDeposit.slot,
                amountGwei: k.chainDeposit.amountGwei.toString(),
                withdrawalCredentials: toHex0x(k.chainDeposit.withdrawalCredentials),
                seenEpoch: k.chainDeposit.seenEpoch,
              },
        history,
      };
    },
    async simulateAllocation(input) {
      return simulationView(await registry.simulateAllocation(input));
    },
    async allocateDepositBatch(count, by) {
      return batchView(await registry.allocateDepositBatch(count, by.actor));
    },
    async getBatch(id) {
      return batchView(await registry.getDepositBatch(id));
    },
    async batchDepositDataFile(id) {
      const batch = await registry.getDepositBatch(id);
      return serializeDepositDataFile(batch.keys.map((k) => toDepositDataJson(k.depositData)));
    },
    async listBatches(page) {
      const list = await registry.listDepositBatches({
        limit: page.limit,
        ...(page.cursor !== undefined ? { cursor: Number(page.cursor) } : {}),
      });
      return list.map(batchSummaryView);
    },
    async review() {
      return reviewView(await registry.review(), await exitFiguresByOperator(registry.store));
    },
    async audit(page) {
      const entries = await registry.listAudit({
        limit: page.limit,
        ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
        ...(page.target !== undefined ? { target: page.target } : {}),
      });
      return entries.map((e) => ({
        id: e.id,
        actor: e.actor,
        action: e.action,
        target: e.target,
        reason: e.reason,
        before: e.before,
        after: e.after,
        at: e.at.toISOString(),
      }));
    },
    async keysByState() {
      const counts: Record<string, number> = {};
      for (const o of await operatorsForMetrics()) {
        for (const [state, n] of Object.entries(o.keys)) {
          if (state === "total") continue;
          counts[state] = (counts[state] ?? 0) + n;
        }
      }
      return counts;
    },
    async operatorCounts() {
      const ops = await operatorsForMetrics();
      const active = ops.filter((o) => o.active).length;
      return { active, inactive: ops.length - active };
    },
  };
}

export interface RegistryPortOpts {
  store: Store;
  network: Network;
  withdrawalCredentials: Uint8Array;
  logger?: Logger;
  /** With governance: limit changes beyond the step and operator changes need a proposal. */
  governance?: { limitStep: number };
}

/** Build the registry over `store` for the pool's network and credentials, as the API's port. */
export async function registryPort(opts: RegistryPortOpts): Promise<RegistryPort> {
  return portFromRegistry(apiRegistry(opts));
}

/** The API's registry (its port is `portFromRegistry` of it; governance's effects use it too). */
export function apiRegistry(opts: RegistryPortOpts): Registry {
  return createRegistry(
    {
      store: opts.store,
      // every deposit batch is paid from the pool's buffer, in the batch's transaction
      payer: new PoolLedger(opts.store),
      ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    },
    { network: opts.network, withdrawalCredentials: opts.withdrawalCredentials },
    opts.governance === undefined ? {} : { governance: opts.governance },
  );
}
