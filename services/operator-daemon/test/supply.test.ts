import { promises as fs, readFileSync } from "node:fs";
import { join } from "node:path";
import { decryptKeystore } from "@poolkeeper/keys";
import { describe, expect, it } from "vitest";
import { readState, startOperatorDaemon } from "../src/index.js";
import { daemonSettings, initTestDaemon, pubkeysOf, recordingFetch } from "./fixtures.js";
import { Captured, TEST_PASSWORD, usePool, waitFor } from "./harness.js";

const pool = usePool();

describe("the key supply", () => {
  it("tops up as deposit batches consume keys: indices 0..n-1 in upload order, keystores in Teku's layout", async () => {
    const d = await initTestDaemon(pool, { lowWater: 6, batchSize: 4 });
    const logs = new Captured();
    const rec = recordingFetch();
    const daemon = await startOperatorDaemon(await daemonSettings(d.dir), {
      logger: logs.logger("daemon"),
      fetch: rec.fetch,
    });
    try {
      // the keys reach the pool just before the daemon records the batch done: wait for both
      await waitFor(
        "the first top-up",
        async () =>
          (await pool.keysOf(d.operatorId)).length === 8 && (await readState(d.dir)).pending === null,
      );
      expect(await readState(d.dir)).toEqual({ version: 1, nextIndex: 8, pending: null });
      // a deposit batch takes 5 of the 8: the supply (3) is below 6, one batch of 4 brings it to 7
      await pool.consume(d.operatorId, 5);
      await waitFor(
        "the top-up after the batch",
        async () => (await pool.keysOf(d.operatorId)).length === 12,
      );
      await daemon.nextRound();
      expect(await pool.keysOf(d.operatorId)).toEqual(pubkeysOf(d.mnemonic, 12));
      expect(await readState(d.dir)).toEqual({ version: 1, nextIndex: 12, pending: null });
      // Teku's layout: keys/<name>.json with passwords/<name>.txt; each opens with its password
      const keys = (await fs.readdir(join(d.dir, "validator-keys", "keys"))).sort();
      expect(keys).toHaveLength(12);
      const ks7 = JSON.parse(
        readFileSync(join(d.dir, "validator-keys", "keys", "keystore-m_12381_3600_7_0_0.json"), "utf8"),
      );
      const pw7 = readFileSync(
        join(d.dir, "validator-keys", "passwords", "keystore-m_12381_3600_7_0_0.txt"),
        "utf8",
      );
      expect(ks7.path).toBe("m/12381/3600/7/0/0");
      expect(ks7.pubkey).toBe(pubkeysOf(d.mnemonic, 8)[7]);
      expect((await decryptKeystore(ks7, pw7)).length).toBe(32);
      expect(await fs.readdir(join(d.dir, "staging"))).toEqual([]);
      const metrics = await (await fetch(`${daemon.metricsServer.url}/metrics`)).text();
      expect(metrics).toMatch(/poolkeeper_daemon_keys_uploaded_total 12/);
      expect(metrics).toMatch(/poolkeeper_daemon_next_index 12/);
      expect(metrics).toMatch(/poolkeeper_daemon_supply_keys 7/);
      expect(await (await fetch(`${daemon.metricsServer.url}/health`)).text()).toBe("ok\n");
      // no secret in the daemon's log or in any body it sent
      const secrets = [
        d.mnemonic,
        ...d.mnemonic
          .split(" ")
          .slice(0, 3)
          .map((_, i, w) => w.slice(i, i + 3).join(" ")),
        TEST_PASSWORD,
        d.token,
        pw7,
        ks7.crypto.cipher.message,
      ];
      const bodies = rec.sent.map((s) => `${s.url} ${s.body}`).join("\n");
      for (const s of secrets) {
        expect(logs.text()).not.toContain(s);
        expect(bodies).not.toContain(s);
      }
      expect(bodies).toContain("deposit_data_root"); // the upload was recorded
    } finally {
      await daemon.close();
    }
  }, 90_000);

  it("an upload whose answer was lost is found by its pubkeys, not sent again", async () => {
    const d = await initTestDaemon(pool, { lowWater: 3, batchSize: 3 });
    let uploads = 0;
    const rec = recordingFetch(async (url, init, res) => {
      if (init?.method === "POST" && url.endsWith(`/v1/operators/${d.operatorId}/keys`)) {
        uploads++;
        if (uploads === 1) {
          await res.body?.cancel();
          throw new TypeError("fetch failed: the connection was reset"); // the answer is lost
        }
      }
      return res;
    });
    const logs = new Captured();
    const daemon = await startOperatorDaemon(await daemonSettings(d.dir), {
      logger: logs.logger("daemon"),
      fetch: rec.fetch,
    });
    try {
      await waitFor(
        "the batch to finish",
        async () => (await readState(d.dir)).nextIndex === 3 && (await readState(d.dir)).pending === null,
      );
      expect(uploads).toBe(1); // the retry looked the keys up and found all three
      expect(await pool.keysOf(d.operatorId)).toEqual(pubkeysOf(d.mnemonic, 3));
      expect(rec.sent.filter((s) => s.url.includes("/v1/keys/0x"))).toHaveLength(3);
      expect(logs.text()).toContain("an earlier upload whose answer was lost");
    } finally {
      await daemon.close();
    }
  }, 60_000);
});
