/**
 * Guardians against beacon-sim (Fulu, minimal preset, manual clock) and the real admin API
 * (listening, PostgreSQL when TEST_DATABASE_URL is set, else PGlite) with three guardians, quorum 2:
 * - a clean batch stays pending after one guardian's round and is released by the second; its
 *   deposit data file is handed out only then;
 * - a foreign deposit for a key of a pending batch (pending in the chain's queue) makes the first
 *   guardian that checks it pause deposits and refuse the batch: the key front_run with its
 *   evidence, the others cancelled, alerts raised, the file never handed out, allocation refused;
 * - a guardian started as a service reports its head (last-seen slot) and its signing key never
 *   appears in its log lines.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  buildApp,
  exitsPort,
  oraclePort,
  performancePort,
  poolPort,
  registryPort,
} from "@poolkeeper/admin-api";
import { BeaconNodePool, loadLodestar } from "@poolkeeper/beacon";
import { createApiClient } from "@poolkeeper/contract";
import { createLogger, loadNetwork, toHex0x } from "@poolkeeper/core";
import {
  DepositSecurity,
  type DepositSecurityConfig,
  generateGuardianKey,
  guardianPublicKey,
  simDepositLog,
} from "@poolkeeper/deposit-security";
import { buildDepositData, pubkeyFromSecret, withdrawalCredentials } from "@poolkeeper/keys";
import { PoolLedger } from "@poolkeeper/ledger";
import { fundPool } from "@poolkeeper/ledger/testing";
import { createApiToken } from "@poolkeeper/store";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Guardian } from "../src/guardian.js";
import { startGuardianService } from "../src/run.js";

type BeaconSimModule = typeof import("@poolkeeper/beacon-sim");
type Sim = Awaited<ReturnType<BeaconSimModule["startBeaconSim"]>>;

const S = 8;
const GWEI = 1_000_000_000;
const ETH = 10n ** 18n;
const POOL_ADDRESS = Uint8Array.from(new Array<number>(20).fill(0xaa));
const POOL_WC = withdrawalCredentials({ type: 1, address: POOL_ADDRESS });
const OTHER_WC = Uint8Array.from([1, ...new Array<number>(11).fill(0), ...new Array<number>(20).fill(0xbb)]);
const GUARDIAN_KEYS = [1, 2, 3].map((i) => generateGuardianKey(new Uint8Array(32).fill(40 + i)));
const CONFIG: DepositSecurityConfig = {
  guardians: GUARDIAN_KEYS.map((k, i) => ({ id: `g${i + 1}`, publicKey: guardianPublicKey(k) })),
  quorum: 2,
  maxAgeSlots: 64,
  pauseExpirySlots: 1000,
  silentSlots: 1000,
};
const KIND = TEST_STORE_KINDS[TEST_STORE_KINDS.length - 1]!;

describe(`deposit guardians against beacon-sim and the admin API on ${KIND}`, () => {
  let sim: BeaconSimModule;
  let s: Sim;
  let store: TestStore;
  let url: string;
  let close: () => Promise<void>;
  let adminToken: string;
  let guardianToken: string;
  let guardians: Guardian[];
  let beacon: BeaconNodePool;
  let allocate: (
    n: number,
  ) => Promise<{ id: number; keys: { keyId: number; depositData: { pubkey: string } }[] }>;
  const logger = createLogger({ name: "guardian-test", level: "silent" });
  const interop = 300; // interop keys 300.. are the operator's

  beforeAll(async () => {
    await loadLodestar("minimal");
    sim = await import("@poolkeeper/beacon-sim");
    s = await sim.startBeaconSim({
      validators: 32,
      fork: "fulu",
      scenario: { withdrawalCredentials: toHex0x(POOL_WC) },
    });
    s.chain.advanceTo(4 * S + 1);
    const dir = mkdtempSync(join(tmpdir(), "guardian-test-"));
    const networkFile = join(dir, "network.json");
    writeFileSync(
      networkFile,
      JSON.stringify(
        s.chain.networkJson("devnet", { contractAddress: `0x${"42".repeat(20)}`, chainId: 32382 }),
      ),
    );
    const network = loadNetwork(networkFile);
    store = await createTestStore(KIND);
    const registry = await registryPort({ store, network, withdrawalCredentials: POOL_WC, logger });
    const security = new DepositSecurity({
      store,
      config: CONFIG,
      refunder: new PoolLedger(store),
      currentSlot: () => s.chain.headSlot,
      network: network.name,
      logger,
    });
    const app = await buildApp({
      store,
      registry,
      security,
      securityPool: {
        withdrawalCredentials: toHex0x(POOL_WC),
        genesisForkVersion: toHex0x(network.genesisForkVersion),
      },
      performance: performancePort(store, network),
      pool: poolPort(store),
      exits: exitsPort(store, { network: network.name, deadlineEpochs: 900 }),
      oracle: oraclePort(store, null, {
        network: network.name,
        withdrawalCredentials: toHex0x(POOL_WC),
        genesisForkVersion: toHex0x(network.genesisForkVersion),
      }),
      logger,
      config: { rateLimitMax: 1_000_000 },
    });
    url = await app.listen({ port: 0, host: "127.0.0.1" });
    close = async () => {
      await app.close();
      await store.dispose();
      await s.close();
    };
    adminToken = (await createApiToken(store, { role: "admin", label: "t" })).token;
    guardianToken = (await createApiToken(store, { role: "guardian", label: "g" })).token;
    const admin = createApiClient({ baseUrl: url, token: adminToken });
    const op = await admin.createOperator({ body: { name: "op", rewardAddress: `0x${"0f".repeat(20)}` } });
    const entries = Array.from({ length: 8 }, (_, i) =>
      buildDepositData({
        secretKey: sim.secretKeyOf(interop + i),
        withdrawalCredentials: POOL_WC,
        amountGwei: 32_000_000_000n,
        network,
      }),
    );
    await admin.uploadKeys({ params: { id: op.data.id }, body: entries });
    await admin.updateOperator({ params: { id: op.data.id }, body: { vettedLimit: 8 } });
    await fundPool(store, 1000n * ETH);
    allocate = async (n) => (await admin.allocateDepositBatch({ body: { count: n } })).data;
    beacon = await BeaconNodePool.init({
      urls: [s.url],
      preset: "minimal",
      retries: 1,
      retryBaseMs: 10,
      timeoutMs: 10_000,
    });
    guardians = GUARDIAN_KEYS.map(
      (k, i) =>
        new Guardian(
          {
            api: createApiClient({ baseUrl: url, token: guardianToken }),
            beacon,
            el: simDepositLog(s.url),
            logger,
          },
          { guardianId: `g${i + 1}`, secretKey: k },
        ),
    );
  }, 120_000);
  afterAll(async () => {
    await close?.();
  });

  const dao = () => createApiClient({ baseUrl: url, token: adminToken });
  const fileStatus = async (id: number) =>
    (
      await fetch(`${url}/v1/deposits/batches/${id}/deposit_data`, {
        headers: { authorization: `Bearer ${adminToken}` },
      })
    ).status;

  it("a clean batch: pending after one guardian, released by the second, its file handed out only then", async () => {
    const batch = await allocate(3);
    const api = dao();
    expect((await api.getDepositBatch({ params: { id: batch.id } })).data.security?.status).toBe("pending");
    expect(await fileStatus(batch.id)).toBe(409);
    const r1 = await guardians[0]!.round();
    expect(r1.batches).toEqual([expect.objectContaining({ id: batch.id, outcome: "signed" })]);
    expect((await api.getDepositBatch({ params: { id: batch.id } })).data.security?.status).toBe("pending");
    await guardians[1]!.round();
    const sec = (await api.getDepositBatch({ params: { id: batch.id } })).data.security!;
    expect(sec.status).toBe("released");
    expect(sec.signers.sort()).toEqual(["g1", "g2"]);
    // which checks ran and when: each signature with its guardian's report
    expect(sec.messages[0]?.checks).toMatchObject({ counts: { clean: 3, front_run: 0 } });
    expect(await fileStatus(batch.id)).toBe(200);
    const status = (await api.getDepositSecurity()).data;
    expect(status.guardians.find((g) => g.id === "g1")?.lastSeenSlot).toBe(s.chain.headSlot);
  }, 120_000);

  it("a foreign deposit for a key of a pending batch: paused, refused whole, the key front_run with evidence", async () => {
    const batch = await allocate(3);
    const victim = batch.keys[1]!;
    const k =
      interop +
      (
        await store.query<{ n: number }>("SELECT count(*)::int - 1 AS n FROM key_data WHERE id <= $1", [
          victim.keyId,
        ])
      ).rows[0]!.n;
    expect(toHex0x(pubkeyFromSecret(sim.secretKeyOf(k)))).toBe(`0x${victim.depositData.pubkey}`);
    // the operator deposits 1 ETH for its own key with its own credentials first
    s.chain.requestDeposit({ ...sim.signedDeposit(s.chain, k, OTHER_WC, GWEI), amountGwei: GWEI });
    s.chain.advanceTo(s.chain.headSlot + 2);
    const r = await guardians[2]!.round();
    expect(r.batches).toEqual([expect.objectContaining({ id: batch.id, outcome: "refused" })]);
    const api = dao();
    const sec = (await api.getDepositBatch({ params: { id: batch.id } })).data.security!;
    expect(sec.status).toBe("refused");
    expect(sec.refusedBy).toBe("g3");
    expect(sec.evidence).toEqual([
      expect.objectContaining({
        keyId: victim.keyId,
        credentials: toHex0x(OTHER_WC),
        amountGwei: String(GWEI),
      }),
    ]);
    const key = (await api.getKey({ params: { pubkey: `0x${victim.depositData.pubkey}` } })).data;
    expect(key.state).toBe("front_run");
    const others = await store.query<{ state: string }>(
      "SELECT state FROM key_states WHERE deposit_batch_id = $1 AND key_id <> $2",
      [batch.id, victim.keyId],
    );
    expect(others.rows.map((x) => x.state)).toEqual(["cancelled", "cancelled"]);
    const status = (await api.getDepositSecurity()).data;
    expect(status).toMatchObject({ paused: true, pausedBy: "g3" });
    expect(await fileStatus(batch.id)).toBe(409);
    const alerts = (await api.listAlerts({ query: {} })).data.map((a) => a.kind);
    expect(alerts).toEqual(expect.arrayContaining(["deposit_front_run", "keys_unvetted", "deposits_paused"]));
    // a paused pool allocates nothing
    const refused = await fetch(`${url}/v1/deposits/batches`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ count: 1 }),
    });
    expect(refused.status).toBe(409);
  }, 120_000);

  it("a guardian started as a service reports its head; its key is in no log line", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const keyHex = Buffer.from(GUARDIAN_KEYS[0]!).toString("hex");
    const running = await startGuardianService(
      {
        BEACON_URLS: [s.url],
        GUARDIAN_PRESET: "minimal",
        ADMIN_API_URL: url,
        ADMIN_API_TOKEN: guardianToken,
        GUARDIAN_ID: "g1",
        GUARDIAN_KEY: `0x${keyHex}`,
        GUARDIAN_EL_SIM_URL: s.url,
        GUARDIAN_POLL_SECONDS: 1,
        METRICS_PORT: 0,
        METRICS_HOST: "127.0.0.1",
        LOG_LEVEL: "debug",
        LOG_FORMAT: "json",
      } as never,
      { logger: createLogger({ name: "guardian", level: "debug", destination: sink }) },
    );
    s.chain.advanceTo(s.chain.headSlot + 1);
    const want = s.chain.headSlot;
    const api = dao();
    for (let i = 0; i < 100; i++) {
      const g1 = (await api.getDepositSecurity()).data.guardians.find((g) => g.id === "g1");
      if (g1?.lastSeenSlot === want) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await api.getDepositSecurity()).data.guardians.find((g) => g.id === "g1")?.lastSeenSlot).toBe(
      want,
    );
    await running.close();
    const text = lines.join("");
    expect(text).toContain("deposit guardian started");
    expect(text.toLowerCase()).not.toContain(keyHex);
  }, 60_000);
});
