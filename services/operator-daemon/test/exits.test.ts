/**
 * Exit requests end to end: the admin API (a DAO request), the daemon in process (the stream, the
 * signature from its mnemonic, progress reports), beacon-sim over HTTP (the exit pooled, processed,
 * the validator exited_unslashed). Then what the daemon does with a request it cannot sign.
 */
import { createApiClient } from "@poolkeeper/contract";
import { toHex0x } from "@poolkeeper/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningOperatorDaemon, startOperatorDaemon } from "../src/index.js";
import { daemonSettings, initTestDaemon, pubkeysOf, recordingFetch, type TestDaemonDir } from "./fixtures.js";
import { activate, Captured, POOL_WC, type Pool, startPool, TEST_PASSWORD, waitFor } from "./harness.js";
import { startKeymanager } from "./keymanager.js";

let pool: Pool;
let d: TestDaemonDir;
let daemon: RunningOperatorDaemon;
const logs = new Captured();
const rec = recordingFetch();
let indices: number[];

beforeAll(async () => {
  pool = await startPool();
  d = await initTestDaemon(pool, { lowWater: 3, batchSize: 3 });
  daemon = await startOperatorDaemon(
    await daemonSettings(d.dir, { BEACON_URLS: pool.sim.url, DAEMON_PRESET: "minimal" }),
    { logger: logs.logger("daemon"), fetch: rec.fetch },
  );
  await waitFor("the daemon's first keys", async () => (await pool.keysOf(d.operatorId)).length === 3);
  // the keys become validators on the chain (deposited, active), as the watcher would record them
  const pks = pubkeysOf(d.mnemonic, 3);
  indices = pool.sim.chain.addValidators(
    pks.map((p) => Uint8Array.from(Buffer.from(p, "hex"))),
    POOL_WC,
  );
  activate(pool, indices);
  for (const [k, i] of indices.entries()) await pool.recordValidator(i, pks[k]!, d.operatorId);
}, 120_000);
afterAll(async () => {
  await daemon?.close();
  await pool?.close();
});

describe("exit requests", () => {
  it("a DAO request → signed from the mnemonic, accepted by beacon-sim, reported → exited_unslashed", async () => {
    const dao = createApiClient({ baseUrl: pool.apiUrl, token: pool.admin });
    const v = indices[1]!;
    const made = (await dao.createExit({ body: { validatorIndex: v, reason: "misbehaving" } })).data;
    await waitFor(
      "the exit to be submitted",
      async () => (await dao.getExit({ params: { id: made.id } })).data.state === "submitted",
    );
    const pooled = pool.sim.chain.pendingPoolExits().find((e) => e.message.validatorIndex === v);
    expect(pooled).toBeDefined();
    const history = (await dao.getExit({ params: { id: made.id } })).data.history!;
    expect(history.map((h) => h.state)).toEqual(["requested", "signed", "submitted"]);
    // the chain processes it: the validator exits
    pool.sim.chain.advanceEpochs(2);
    const chainEpoch = () => pool.sim.chain.epochOf(pool.sim.chain.headSlot);
    const exitEpoch = pool.sim.chain.validatorAt(v, chainEpoch()).exitEpoch;
    expect(exitEpoch).toBeLessThan(2 ** 40);
    pool.sim.chain.advanceTo(pool.sim.chain.startSlot(exitEpoch + 1));
    expect(pool.sim.chain.statusAt(v, chainEpoch())).toBe("exited_unslashed");
    await waitFor("the daemon to see the exit", async () => {
      await daemon.nextRound();
      return daemon.exits.followingCount === 0;
    });
    const metrics = await daemon.metrics.registry.metrics();
    for (const stage of ["requested", "signed", "submitted", "completed"])
      expect(metrics).toContain(`poolkeeper_daemon_exits_total{stage="${stage}"} 1`);
    // the signed exit went to the beacon node only: never into a log line or a body sent to the API
    const signature = toHex0x(pooled!.signature).slice(2);
    expect(logs.text()).not.toContain(signature);
    for (const s of rec.sent) expect(s.body).not.toContain(signature);
    for (const secret of [d.mnemonic, TEST_PASSWORD, d.token]) {
      expect(logs.text()).not.toContain(secret);
      for (const s of rec.sent) expect(s.body).not.toContain(secret);
    }
  }, 60_000);

  it("a request for a key this daemon did not derive is reported failed with the reason", async () => {
    const dao = createApiClient({ baseUrl: pool.apiUrl, token: pool.admin });
    // a key of this operator uploaded by hand (another mnemonic), a validator on the chain
    const foreign = await pool.uploadForeignKey(d.operatorId);
    const [i] = pool.sim.chain.addValidators([Uint8Array.from(Buffer.from(foreign, "hex"))], POOL_WC);
    activate(pool, [i!]);
    await pool.recordValidator(i!, foreign, d.operatorId);
    const made = (await dao.createExit({ body: { validatorIndex: i!, reason: "not the daemon's" } })).data;
    await waitFor("the failure report", async () =>
      ((await dao.getExit({ params: { id: made.id } })).data.history ?? []).some(
        (h) => h.detail?.includes("not derived") === true,
      ),
    );
    expect(pool.sim.chain.pendingPoolExits().some((e) => e.message.validatorIndex === i)).toBe(false);
  }, 60_000);
});

describe("DAEMON_EXIT_SIGNER=none (an operator who handles exits elsewhere)", () => {
  it("keys are still topped up, but the exit stream is not followed: the request stays requested", async () => {
    const noneLogs = new Captured();
    const e = await initTestDaemon(pool, { lowWater: 1, batchSize: 1 });
    const other = await startOperatorDaemon(
      await daemonSettings(e.dir, {
        BEACON_URLS: pool.sim.url,
        DAEMON_PRESET: "minimal",
        DAEMON_EXIT_SIGNER: "none",
      }),
      { logger: noneLogs.logger("daemon") },
    );
    try {
      await waitFor("the key", async () => (await pool.keysOf(e.operatorId)).length === 1);
      const [pk] = pubkeysOf(e.mnemonic, 1);
      const [i] = pool.sim.chain.addValidators([Uint8Array.from(Buffer.from(pk!, "hex"))], POOL_WC);
      activate(pool, [i!]);
      await pool.recordValidator(i!, pk!, e.operatorId);
      const dao = createApiClient({ baseUrl: pool.apiUrl, token: pool.admin });
      const made = (await dao.createExit({ body: { validatorIndex: i!, reason: "ignored" } })).data;
      for (let r = 0; r < 3; r++) await other.nextRound();
      const now = (await dao.getExit({ params: { id: made.id } })).data;
      expect(now.state).toBe("requested");
      expect(now.history!.map((h) => h.state)).toEqual(["requested"]);
      expect(pool.sim.chain.pendingPoolExits().some((x) => x.message.validatorIndex === i)).toBe(false);
      expect(noneLogs.text()).toContain("exit requests are not followed (DAEMON_EXIT_SIGNER=none)");
      expect(noneLogs.text()).not.toContain("exit stream connected");
    } finally {
      await other.close();
    }
  }, 60_000);
});

describe("the Keymanager API path", () => {
  it("keystores imported with slashing protection, the exit signed by the validator client", async () => {
    const km = await startKeymanager(pool.network, (pk) =>
      pool.sim.chain.indexOfPubkey(Buffer.from(pk, "hex")),
    );
    const kmLogs = new Captured();
    const kmRec = recordingFetch();
    const e = await initTestDaemon(pool, { lowWater: 2, batchSize: 2, keymanagerUrl: km.url });
    const other = await startOperatorDaemon(
      await daemonSettings(e.dir, {
        BEACON_URLS: pool.sim.url,
        DAEMON_PRESET: "minimal",
        DAEMON_EXIT_SIGNER: "keymanager",
        DAEMON_KEYMANAGER_TOKEN: km.token,
      }),
      { logger: kmLogs.logger("daemon"), fetch: kmRec.fetch },
    );
    try {
      await waitFor("the keys", async () => (await pool.keysOf(e.operatorId)).length === 2);
      const pks = pubkeysOf(e.mnemonic, 2);
      expect(km.imported).toEqual(pks);
      const idx = pool.sim.chain.addValidators(
        pks.map((p) => Uint8Array.from(Buffer.from(p, "hex"))),
        POOL_WC,
      );
      activate(pool, idx);
      for (const [k, i] of idx.entries()) await pool.recordValidator(i, pks[k]!, e.operatorId);
      const dao = createApiClient({ baseUrl: pool.apiUrl, token: pool.admin });
      const made = (await dao.createExit({ body: { validatorIndex: idx[0]!, reason: "keymanager" } })).data;
      await waitFor(
        "the exit to be submitted",
        async () => (await dao.getExit({ params: { id: made.id } })).data.state === "submitted",
      );
      expect(km.exitsSigned).toBe(1);
      expect(pool.sim.chain.pendingPoolExits().some((x) => x.message.validatorIndex === idx[0])).toBe(true);
      // the keystores and their passwords went to the Keymanager API only
      const toKm = kmRec.sent.filter((s) => s.url.startsWith(km.url) && s.url.endsWith("/keystores"));
      expect(toKm).toHaveLength(1);
      const passwords = (JSON.parse(toKm[0]!.body) as { passwords: string[] }).passwords;
      for (const s of kmRec.sent.filter((x) => !x.url.startsWith(km.url)))
        for (const pw of passwords) expect(s.body).not.toContain(pw);
      for (const pw of [...passwords, km.token, e.mnemonic]) expect(kmLogs.text()).not.toContain(pw);
    } finally {
      await other.close();
      await km.close();
    }
  }, 90_000);
});
