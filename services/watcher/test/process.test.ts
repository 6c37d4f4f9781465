/**
 * The watcher process as an operator starts it: `node --import tsx services/watcher/src/main.ts`
 * with its environment. Bad configuration exits 1 naming the variable (no secret echoed); a good
 * one follows a beacon-sim, processes finalized epochs into PostgreSQL, serves /metrics and stops
 * on SIGTERM.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLodestar } from "@poolkeeper/beacon";
import { JobQueue } from "@poolkeeper/queue";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, describe, expect, it } from "vitest";
import { REDIS_URL, spawnWatcher, until } from "./helpers.js";
import { freePort } from "./private-deps.js";

const WC = `0x01${"00".repeat(11)}${"b9".repeat(20)}`;

describe("watcher process", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  });

  it("exits 1 on bad configuration, naming the variable and not the secrets", async () => {
    const p = spawnWatcher({
      BEACON_URLS: "ftp://user:beaconpass77@x",
      REDIS_URL: "redis://:redispass88@127.0.0.1:6379",
      POOLKEEPER_NETWORK: "hoodi",
      POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC,
    });
    children.push(p.child);
    expect(await p.exited).toBe("1");
    expect(p.output()).toContain("BEACON_URLS");
    expect(p.output()).not.toContain("beaconpass77");
    expect(p.output()).not.toContain("redispass88");
  });

  it("follows the chain, stores finalized epochs, serves /metrics, stops on SIGTERM", async () => {
    await loadLodestar("minimal");
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    const sim = await startBeaconSim({ validators: 64, seed: "process" });
    let store: TestStore | undefined;
    const dir = mkdtempSync(join(tmpdir(), "pk-watcher-net-"));
    try {
      store = await createTestStore("postgres");
      // a network file for the sim's chain (a devnet's, as an operator would write it)
      const c = sim.chain;
      const networkFile = join(dir, "sim.json");
      writeFileSync(
        networkFile,
        JSON.stringify(c.networkJson("sim", { contractAddress: `0x${"42".repeat(20)}`, chainId: 1337 })),
      );
      const databaseUrl = store.databaseUrl as string;
      const onSim = (network: string, wc: string) => ({
        BEACON_URLS: sim.url,
        REDIS_URL,
        DATABASE_URL: databaseUrl,
        POOLKEEPER_NETWORK: network,
        POOLKEEPER_WITHDRAWAL_CREDENTIALS: wc,
        WATCHER_PRESET: "minimal",
      });
      // nodes of another chain than the configured network: refused at start
      const wrong = spawnWatcher(onSim("hoodi", WC));
      children.push(wrong.child);
      expect(await wrong.exited).toBe("1");
      expect(wrong.output()).toContain("POOLKEEPER_NETWORK: the beacon nodes are on another chain");
      const metricsPort = await freePort();
      const prefix = `pkwp-${Date.now().toString(36)}`;
      const p = spawnWatcher({
        ...onSim(networkFile, WC),
        WATCHER_START_EPOCH: "1",
        REDIS_PREFIX: prefix,
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: "info",
      });
      children.push(p.child);
      await until("watcher started", () => p.output().includes("watcher started"), 30_000).catch((e) => {
        throw new Error(`${e}: ${p.output()}`);
      });
      for (let i = 0; i < 8; i++) {
        sim.chain.advanceEpochs(1);
        await new Promise((r) => setTimeout(r, 100));
      }
      const last = sim.chain.currentFinality().finalized.epoch - 2;
      const db = store;
      await until("epochs stored", async () => {
        const r = await db.query<{ n: bigint }>(
          "SELECT count(*) AS n FROM watcher_network_epochs WHERE network = 'sim'",
        );
        return Number(r.rows[0]?.n) === last;
      });
      let metrics = "";
      await until("checkpoint metric", async () => {
        metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return new RegExp(`poolkeeper_watcher_checkpoint_epoch ${last}\n`).test(metrics);
      });
      expect(metrics).toContain("poolkeeper_watcher_beacon_node_up");
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe("0");
      // the database now belongs to "sim" and WC: a restart with other credentials, or with
      // another network of the same chain, is refused with one line naming both values
      const otherWc = `0x01${"00".repeat(11)}${"c7".repeat(20)}`;
      const renamed = join(dir, "sim2.json");
      const sim2 = c.networkJson("sim2", { contractAddress: `0x${"42".repeat(20)}`, chainId: 1337 });
      writeFileSync(renamed, JSON.stringify(sim2));
      const fork = `0x${sim2.genesisForkVersion}`;
      for (const [network, wc, line] of [
        [
          networkFile,
          otherWc,
          `error: POOLKEEPER_WITHDRAWAL_CREDENTIALS: configured ${otherWc} but this database belongs to a pool with ${WC}; use the database of those credentials or a new one\n`,
        ],
        [
          renamed,
          WC,
          `error: POOLKEEPER_NETWORK: configured sim2 (fork ${fork}) but this database belongs to sim (fork ${fork}); use the database of that network or a new one\n`,
        ],
      ] as const) {
        const refused = spawnWatcher({ ...onSim(network, wc), REDIS_PREFIX: prefix });
        children.push(refused.child);
        expect(await refused.exited, refused.output()).toBe("1");
        expect(refused.output()).toContain(line);
      }
      const q = new JobQueue("watcher.epoch", { url: REDIS_URL, prefix });
      await q.obliterate();
      await q.close();
    } finally {
      await sim.close();
      await store?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
