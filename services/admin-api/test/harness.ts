import { Writable } from "node:stream";
import { createLogger, toHex0x } from "@poolkeeper/core";
import { type GovernanceSetup, poolIdOf } from "@poolkeeper/governance";
import { PoolLedger } from "@poolkeeper/ledger";
import { keysWei, TEST_STAKER } from "@poolkeeper/ledger/testing";
import {
  CONSENSUS_VERSION,
  encodeReport,
  type OracleConfig,
  publicKeyOf,
  type ReportData,
  ReportDataType,
  reportHash,
  signVote,
} from "@poolkeeper/oracle";
import { createApiToken, type StoreKind } from "@poolkeeper/store";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { exitsPort } from "../src/exits-adapter.js";
import type { GovernanceWiring } from "../src/governance-adapter.js";
import type { AdminApiConfig, App } from "../src/index.js";
import { buildApp, type PerformanceTiming, performancePort } from "../src/index.js";
import { oraclePort } from "../src/oracle-adapter.js";
import { poolPort } from "../src/pool-adapter.js";
import { apiRegistry, portFromRegistry } from "../src/registry-adapter.js";
import { wireSecurityAndGovernance } from "../src/security-wiring.js";
import { POOL_WC, TEST_NETWORK } from "./deposit-fixtures.js";

/** Everything the logger wrote, as text: tests assert secrets never appear in it. */
export class CapturedLogs {
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
}

export interface Harness {
  kind: StoreKind;
  store: TestStore;
  app: App;
  logs: CapturedLogs;
  /** Bearer tokens by role; operator tokens are made with `operatorToken(id)`. */
  admin: string;
  dao: string;
  operatorToken(operatorId: number, label?: string): Promise<string>;
  /** A token of role `oracle` (an oracle member's process). */
  oracleToken(): Promise<string>;
  /** A new token of role guardian (a deposit guardian's process). */
  guardianToken(): Promise<string>;
  /** Every token created, so that tests can grep logs and responses for them. */
  secrets: string[];
  /**
   * A staker submits 32 ETH per key through `POST /v1/pool/submit`: every deposit batch is paid
   * from the pool's buffer, so a test stakes for its batches first.
   */
  stakeForKeys(keys: number): Promise<void>;
  /** With `opts.governance`: the governance store and its wiring. */
  governance: GovernanceWiring | undefined;
  close(): Promise<void>;
}

export interface HarnessOpts {
  /** Network of the performance routes (name and timing); default TEST_NETWORK. */
  performanceNetwork?: PerformanceTiming;
  /** The oracle's members and settings (default none: votes answer 503). */
  oracle?: OracleConfig;
  /** EXIT_DEADLINE_EPOCHS of the exit requests (default 900). */
  exitDeadlineEpochs?: number;
  /** A DAO (members, quorum, timelock, step) and the clock of its proposals: governance on. */
  governance?: { setup: GovernanceSetup; now?: () => Date };
}

/** The pool id of the harness's network and credentials (what DAO signatures are bound to). */
export const TEST_POOL_ID = poolIdOf({
  genesisValidatorsRoot: TEST_NETWORK.genesisValidatorsRoot,
  genesisForkVersion: TEST_NETWORK.genesisForkVersion,
  withdrawalCredentials: POOL_WC,
});

export async function createHarness(
  kind: StoreKind,
  config: Partial<AdminApiConfig> = {},
  opts: HarnessOpts = {},
): Promise<Harness> {
  const logs = new CapturedLogs();
  const logger = createLogger({ name: "admin-api-test", level: "debug", destination: logs.stream });
  const store = await createTestStore(kind);
  const registryCore = apiRegistry({
    store,
    network: TEST_NETWORK,
    withdrawalCredentials: POOL_WC,
    logger,
    ...(opts.governance !== undefined ? { governance: { limitStep: opts.governance.setup.limitStep } } : {}),
  });
  const registry = portFromRegistry(registryCore);
  let oracle = opts.oracle ?? null;
  const { security, governed: governance } = await wireSecurityAndGovernance(
    {
      store,
      config: null,
      refunder: new PoolLedger(store),
      currentSlot: () => 0,
      network: TEST_NETWORK.name,
      logger,
    },
    { maxAgeSlots: 64, pauseExpirySlots: 7200, silentSlots: 64 },
    opts.governance === undefined
      ? null
      : {
          store,
          setup: opts.governance.setup,
          poolId: TEST_POOL_ID,
          oracle,
          registry: registryCore,
          logger,
          ...(opts.governance.now !== undefined ? { now: opts.governance.now } : {}),
        },
  );
  if (oracle !== null && governance !== undefined && governance.oracleParameters !== null)
    oracle = { ...oracle, parameters: governance.oracleParameters };
  const app = await buildApp({
    store,
    registry,
    security,
    performance: performancePort(store, opts.performanceNetwork ?? TEST_NETWORK),
    pool: poolPort(store),
    exits: exitsPort(store, {
      network: (opts.performanceNetwork ?? TEST_NETWORK).name,
      deadlineEpochs: opts.exitDeadlineEpochs ?? 900,
    }),
    oracleConfig: oracle,
    ...(governance !== undefined ? { governance: governance.port } : {}),
    oracle: oraclePort(store, oracle, {
      network: TEST_NETWORK.name,
      withdrawalCredentials: toHex0x(POOL_WC),
      genesisForkVersion: toHex0x(TEST_NETWORK.genesisForkVersion),
    }),
    logger,
    config: { rateLimitMax: 1_000_000, ...config },
  });
  await app.ready();
  const secrets: string[] = [];
  const make = async (role: string, operatorId?: number, label?: string) => {
    const { token } = await createApiToken(store, {
      role,
      ...(operatorId !== undefined ? { operatorId } : {}),
      label: label ?? `${role} test token`,
    });
    secrets.push(token);
    return token;
  };
  const admin = await make("admin");
  return {
    kind,
    store,
    app,
    logs,
    admin,
    dao: await make("dao"),
    operatorToken: (id, label) => make("operator", id, label),
    oracleToken: () => make("oracle"),
    guardianToken: () => make("guardian"),
    secrets,
    governance,
    async stakeForKeys(keys) {
      const r = await app.inject({
        method: "POST",
        url: "/v1/pool/submit",
        headers: bearer(admin),
        payload: { account: TEST_STAKER, amount: keysWei(keys).toString() },
      });
      if (r.statusCode !== 200) throw new Error(`staking for ${keys} keys: ${r.statusCode} ${r.body}`);
    },
    async close() {
      await app.close();
      await store.dispose();
    },
  };
}

/** An oracle of members m1, m2, … with these signing keys, quorum 2, frames of 2 epochs of 8 slots. */
export function testOracleConfig(keys: readonly Uint8Array[]): OracleConfig {
  return {
    members: keys.map((k, i) => ({ id: `m${i + 1}`, publicKey: publicKeyOf(k) })),
    quorum: 2,
    frames: { slotsPerEpoch: 8, secondsPerSlot: 6, genesisTime: 1_000, epochsPerFrame: 2, initialEpoch: 0 },
    fees: { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: "0x00000000000000000000000000000000000000ee" },
  };
}

/** A report of this consensus version: the empty report with `fields`. */
export function testReport(fields: Partial<ReportData> & { refSlot: number }): ReportData {
  return { ...ReportDataType.defaultValue(), consensusVersion: CONSENSUS_VERSION, ...fields };
}

/** A POST /v1/oracle/votes body: member m{i+1}'s vote for `r`, signed with `keys[i]`, with the report's SSZ bytes. */
export function voteBody(keys: readonly Uint8Array[], i: number, r: ReportData) {
  return {
    ...signVote(keys[i]!, `m${i + 1}`, r.refSlot, reportHash(r)),
    report: `0x${Buffer.from(encodeReport(r)).toString("hex")}`,
  };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

let opSeq = 0;
/** A unique operator body for POST /v1/operators. */
export function operatorBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  opSeq++;
  const addr = `0x${(opSeq + 0x1000).toString(16).padStart(40, "0")}`;
  return {
    name: `op-${process.pid}-${opSeq}-${Math.random().toString(36).slice(2, 8)}`,
    rewardAddress: addr,
    ...extra,
  };
}

/** A new operator made by the admin token: its id. */
export async function createOperator(h: Harness, extra: Record<string, unknown> = {}): Promise<number> {
  const r = await h.app.inject({
    method: "POST",
    url: "/v1/operators",
    headers: bearer(h.admin),
    payload: operatorBody(extra),
  });
  if (r.statusCode !== 201) throw new Error(`creating an operator: ${r.statusCode} ${r.body}`);
  return (r.json() as { data: { id: number } }).data.id;
}

/** POST /v1/operators/{id}/keys with `token` (default: the admin's): the response. */
export function uploadKeys(h: Harness, operatorId: number, entries: unknown[], token = h.admin) {
  return h.app.inject({
    method: "POST",
    url: `/v1/operators/${operatorId}/keys`,
    headers: bearer(token),
    payload: entries as object[],
  });
}

/**
 * Upload and vet each operator's keys (its vetted limit must cover them), stake for `count` keys
 * and deposit a batch of `count`: the batch's id.
 */
export async function depositKeys(
  h: Harness,
  keys: readonly (readonly [operatorId: number, entries: unknown[]])[],
  count: number,
): Promise<number> {
  for (const [id, entries] of keys) {
    const up = await uploadKeys(h, id, entries);
    if (up.statusCode !== 201) throw new Error(`uploading keys: ${up.statusCode} ${up.body}`);
    const vet = await h.app.inject({
      method: "POST",
      url: `/v1/operators/${id}/keys/vet`,
      headers: bearer(h.admin),
      payload: {},
    });
    if (vet.statusCode !== 200) throw new Error(`vetting keys: ${vet.statusCode} ${vet.body}`);
  }
  await h.stakeForKeys(count);
  const batch = await h.app.inject({
    method: "POST",
    url: "/v1/deposits/batches",
    headers: bearer(h.admin),
    payload: { count },
  });
  if (batch.statusCode !== 201)
    throw new Error(`depositing ${count} keys: ${batch.statusCode} ${batch.body}`);
  return (batch.json() as { data: { id: number } }).data.id;
}
