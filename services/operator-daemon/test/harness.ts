/**
 * A pool for the daemon's tests: beacon-sim (its chain's network is the pool's), the admin API on
 * a real socket over a PostgreSQL database (startAdminApi, as the process runs it), an operator with its token, and helpers that stake, vet and
 * deposit (a deposit batch consumes the operator's keys). Everything the API logs is captured.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createApiToken, startAdminApi } from "@poolkeeper/admin-api";
import { type BeaconSim, startBeaconSim } from "@poolkeeper/beacon-sim";
import { createApiClient } from "@poolkeeper/contract";
import { createLogger, type Logger, loadNetwork, type Network } from "@poolkeeper/core";
import { generateKeys, generateMnemonic } from "@poolkeeper/keys";
import { keysWei, TEST_STAKER } from "@poolkeeper/ledger/testing";
import { openStore, type Store } from "@poolkeeper/store";
import { createTestDatabase } from "@poolkeeper/store/testing";
import { afterAll, beforeAll } from "vitest";

export const POOL_WC_HEX = "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f";
export const POOL_WC = Uint8Array.from(Buffer.from(POOL_WC_HEX.slice(2), "hex"));
export const TEST_MNEMONIC =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art";
export const TEST_PASSWORD = "daemon test password 🔑";

/** Everything written to it, as text: tests grep it for secrets. */
export class Captured {
  readonly chunks: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer | string, _enc, cb) => {
      this.chunks.push(chunk.toString());
      cb();
    },
  });
  text(): string {
    return this.chunks.join("");
  }
  logger(name: string): Logger {
    return createLogger({ name, level: "debug", destination: this.stream });
  }
}

export interface Pool {
  sim: BeaconSim;
  network: Network;
  networkFile: string;
  tmp: string;
  store: Store;
  apiUrl: string;
  admin: string;
  apiLogs: Captured;
  newOperator(vettedLimit?: number): Promise<{ id: number; token: string }>;
  /** Vet the operator's keys, stake for `count` keys and deposit a batch of `count`. */
  consume(operatorId: number, count: number): Promise<void>;
  /** A validator on the chain as the watcher records it (what exit requests are made for). */
  recordValidator(index: number, pubkey: string, operatorId: number): Promise<void>;
  /** Upload one key of another mnemonic for this operator (admin token): its pubkey. */
  uploadForeignKey(operatorId: number): Promise<string>;
  /** The operator's keys in the registry (pubkeys, lower-case hex without 0x), upload order. */
  keysOf(operatorId: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startPool(opts: { validators?: number } = {}): Promise<Pool> {
  const sim = await startBeaconSim({ validators: opts.validators ?? 16, fork: "deneb" });
  const tmp = mkdtempSync(join(tmpdir(), "pk-daemon-"));
  const networkFile = join(tmp, "network.json");
  writeFileSync(
    networkFile,
    JSON.stringify(
      sim.chain.networkJson("daemon-sim", {
        contractAddress: "0x00000000219ab540356cbb839cbe05303d7705fa",
        chainId: 1337,
      }),
    ),
  );
  const network = loadNetwork(networkFile);
  const apiLogs = new Captured();
  const logger = apiLogs.logger("admin-api");
  const db = await createTestDatabase();
  const api = await startAdminApi(
    {
      DATABASE_URL: db.url,
      POOLKEEPER_NETWORK: networkFile,
      POOLKEEPER_WITHDRAWAL_CREDENTIALS: POOL_WC_HEX,
      HOST: "127.0.0.1",
      API_RATE_LIMIT_PER_MINUTE: "1000000",
    },
    { port: 0, logger },
  );
  const store = await openStore({ databaseUrl: db.url });
  const apiUrl = api.url;
  const admin = (await createApiToken(store, { role: "admin", label: "daemon test admin" })).token;
  const adminApi = createApiClient({ baseUrl: apiUrl, token: admin });
  return {
    sim,
    network,
    networkFile,
    tmp,
    store,
    apiUrl,
    admin,
    apiLogs,
    async newOperator(vettedLimit = 100_000) {
      const name = `op-${Math.random().toString(36).slice(2, 10)}`;
      const rewardAddress = `0x${Buffer.from(name.padEnd(20, "x")).toString("hex").slice(0, 40)}`;
      const op = (await adminApi.createOperator({ body: { name, rewardAddress, vettedLimit } })).data;
      const { token } = await createApiToken(store, { role: "operator", operatorId: op.id, label: name });
      return { id: op.id, token };
    },
    async consume(operatorId, count) {
      await adminApi.vetKeys({ params: { id: operatorId }, body: {} });
      await adminApi.submitToPool({ body: { account: TEST_STAKER, amount: keysWei(count).toString() } });
      await adminApi.allocateDepositBatch({ body: { count } });
    },
    async recordValidator(index, pubkey, operatorId) {
      await store.query(
        `INSERT INTO watcher_validators (network, validator_index, pubkey, operator_id, first_epoch)
         VALUES ($1, $2, decode($3, 'hex'), $4, 0)`,
        [network.name, index, pubkey, operatorId],
      );
    },
    async uploadForeignKey(operatorId) {
      const r = await generateKeys({
        mnemonic: generateMnemonic(),
        network,
        startIndex: 0,
        count: 1,
        withdrawalAddress: POOL_WC.slice(12),
        noKeystores: true,
        outDir: join(tmp, `foreign-${Math.random().toString(36).slice(2)}`),
      });
      const d = r.deposits[0]!;
      await adminApi.uploadKeys({ params: { id: operatorId }, body: [{ ...d, amount: Number(d.amount) }] });
      return d.pubkey;
    },
    async keysOf(operatorId) {
      const list = await adminApi.listKeys({ query: { operator: operatorId } });
      return list.data.map((k) => k.key.replace(/^0x/, "").toLowerCase());
    },
    async close() {
      await api.close();
      await store.close();
      await db.drop();
      await sim.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Advance the sim's chain until these validators are active (at most `maxEpochs`). */
export function activate(pool: Pool, indices: readonly number[], maxEpochs = 64): void {
  const c = pool.sim.chain;
  for (let n = 0; n < maxEpochs; n++) {
    const epoch = c.epochOf(c.headSlot);
    if (indices.every((i) => c.statusAt(i, epoch) === "active_ongoing")) return;
    c.advanceEpochs(1);
  }
  throw new Error(`validators ${indices.join(", ")} did not activate in ${maxEpochs} epochs`);
}

/**
 * One pool for a test file: started before its tests, closed after them. The returned object
 * forwards to it (use it inside tests and hooks only).
 */
export function usePool(): Pool {
  let pool: Pool | undefined;
  beforeAll(async () => {
    pool = await startPool();
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
  });
  return new Proxy({} as Pool, {
    get(_t, prop) {
      if (pool === undefined) throw new Error("the pool is used before beforeAll started it");
      return Reflect.get(pool, prop);
    },
  });
}
