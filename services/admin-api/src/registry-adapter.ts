import { type Logger, type Network, toHex0x } from "@poolkeeper/core";
import { serializeDepositDataFile } from "@poolkeeper/keys";
import {
  createRegistry,
  type DepositBatch,
  type KeyRecord,
  type KeyState,
  type OperatorWithCounts,
  type Registry,
  toDepositDataJson,
} from "@poolkeeper/registry";
import { EVER_DEPOSITED_STATES, keyListPages, type Store } from "@poolkeeper/store";
import type { DepositBatchView, Json, KeyDetailView, KeyView, OperatorView, RegistryPort } from "./port.js";

/**
 * The API's view of @poolkeeper/registry: registry objects become wire shapes (0x hex, ISO
 * dates, bigint as decimal strings). No rule of the registry is re-implemented here.
 */

/** Any registry value as JSON: Uint8Array → 0x hex, Date → ISO string, bigint → decimal string. */
export function toWire(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return toHex0x(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toWire);
  if (typeof v === "object") {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toWire(x);
    return out;
  }
  return null;
}

/**
 * A registry result in its wire shape: `toWire` turns Date, Uint8Array and bigint into strings;
 * the route's response schema (fast-json-stringify) checks the shape when it is sent.
 */
function wire<T>(v: unknown): T {
  return toWire(v) as unknown as T;
}

/** A deposit batch with each key's deposit data in the deposit_data.json format (for the deposit contract). */
function batchView(batch: DepositBatch): DepositBatchView {
  return wire({
    ...batch,
    keys: batch.keys.map((k) => ({ ...k, depositData: toDepositDataJson(k.depositData) })),
  });
}

export function operatorView(o: OperatorWithCounts): OperatorView {
  return {
    id: o.id,
    name: o.name,
    rewardAddress: o.rewardAddress,
    active: o.active,
    vettedLimit: o.vettedLimit,
    targetLimit: o.targetLimit === null ? null : { limit: o.targetLimit.limit, mode: o.targetLimit.mode },
    keys: { ...o.keys },
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

const STREAM_PAGE_SIZE = 5000;

const USED_STATES: ReadonlySet<KeyState> = new Set(EVER_DEPOSITED_STATES);

export function keyView(k: KeyRecord): KeyView {
  return {
    id: k.id,
    key: toHex0x(k.depositData.pubkey),
    depositSignature: toHex0x(k.depositData.signature),
    operatorId: k.operatorId,
    state: k.state,
    used: USED_STATES.has(k.state),
  };
}

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
      return registry.vetKeys(operatorId, by.actor, by.reason);
    },
    streamKeysJson(filter) {
      let count = 0;
      let last: number | null = null;
      const limit = filter.limit;
      const pages = keyListPages(registry.store, {
        ...(filter.operatorId !== undefined ? { operatorId: filter.operatorId } : {}),
        ...(filter.state !== undefined ? { state: filter.state } : {}),
        ...(filter.cursor !== undefined ? { afterId: Number(filter.cursor) } : {}),
        ...(limit !== undefined ? { limit } : {}),
        pageSize: STREAM_PAGE_SIZE,
      });
      async function* chunks(): AsyncGenerator<string> {
        for await (const page of pages) {
          count += page.count;
          last = page.lastId;
          yield page.json;
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
      const detail: KeyDetailView = {
        ...keyView(k),
        withdrawalCredentials: toHex0x(k.depositData.withdrawalCredentials),
        depositDataRoot: toHex0x(k.depositData.depositDataRoot),
        history: k.history.map((e) => ({
          from: e.fromState,
          to: e.toState,
          actor: e.actor,
          reason: e.reason,
          at: e.at.toISOString(),
        })),
      };
      return detail;
    },
    async simulateAllocation(input) {
      return wire(await registry.simulateAllocation(input));
    },
    async allocateDepositBatch(count, by) {
      const batch = await registry.allocateDepositBatch(count, by.actor);
      return { batch: batchView(batch), keyCount: batch.keyCount };
    },
    async getBatch(id) {
      return batchView(await registry.getDepositBatch(id));
    },
    async batchDepositDataFile(id) {
      const batch = await registry.getDepositBatch(id);
      return serializeDepositDataFile(batch.keys.map((k) => toDepositDataJson(k.depositData)));
    },
    async listBatches(limit, before) {
      const list = await registry.listDepositBatches({
        limit,
        ...(before !== undefined ? { cursor: Number(before) } : {}),
      });
      return list.map((b) => wire(b));
    },
    async review() {
      return wire(await registry.review());
    },
    async audit(limit, before, target) {
      const entries = await registry.listAudit({
        limit,
        ...(before !== undefined ? { cursor: before } : {}),
        ...(target !== undefined ? { target } : {}),
      });
      return entries.map((e) => wire(e));
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
}

/** Build the registry over `store` for the pool's network and credentials, as the API's port. */
export async function registryPort(opts: RegistryPortOpts): Promise<RegistryPort> {
  const registry = createRegistry(
    { store: opts.store, ...(opts.logger !== undefined ? { logger: opts.logger } : {}) },
    { network: opts.network, withdrawalCredentials: opts.withdrawalCredentials },
  );
  return portFromRegistry(registry);
}
