/**
 * The watcher process rides out a Redis outage and a PostgreSQL outage (a private Redis and a
 * private PostgreSQL cluster, stopped and started again under it) while epochs are finalized: it
 * stays up, logs one JSON line per outage (no raw error dumps, no unhandled rejection), and
 * afterwards has stored every epoch exactly once, the ones finalized during the outages included
 * (Redis comes back empty: the epochs queued before are lost with it and scheduled again).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLodestar } from "@poolkeeper/beacon";
import type { TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryPoolDatabase, spawnWatcher, until, watcherEnv } from "./helpers.js";
import { freePort, PrivatePostgres, PrivateRedis } from "./private-deps.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const POOL_SIZE = 16;

interface LogLine {
  level: number;
  msg: string;
  epoch?: number;
  dependency?: string;
}

describe("watcher process through a Redis outage and a PostgreSQL outage", () => {
  let sim: Sim;
  let dir: string;
  let networkFile: string;
  let redis: PrivateRedis | undefined;
  let pg: PrivatePostgres | undefined;
  let store: TestStore | undefined;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    await loadLodestar("minimal");
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    sim = await startBeaconSim({ validators: 32, seed: "outage", secondsPerSlot: 1 });
    dir = mkdtempSync(join(tmpdir(), "pk-watcher-outage-"));
    networkFile = join(dir, "sim.json");
    writeFileSync(
      networkFile,
      JSON.stringify(
        sim.chain.networkJson("sim", { contractAddress: `0x${"42".repeat(20)}`, chainId: 1337 }),
      ),
    );
    [redis, pg] = await Promise.all([PrivateRedis.start(), PrivatePostgres.start()]);
    store = await registryPoolDatabase(sim.chain, networkFile, {
      perOperator: POOL_SIZE / 2,
      serverUrl: pg.url,
    });
  }, 120_000);
  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await sim?.close();
    await redis?.stop();
    await store?.close().catch(() => undefined);
    await pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function storedEpochs(): Promise<number[]> {
    const r = await (store as TestStore).query<{ epoch: bigint }>(
      "SELECT epoch FROM watcher_network_epochs WHERE network = 'sim' ORDER BY epoch",
    );
    return r.rows.map((x) => Number(x.epoch));
  }
  const lastProcessable = () => sim.chain.currentFinality().finalized.epoch - 2;

  it("stays up, logs one line per outage, and stores every epoch exactly once", async () => {
    const r = redis as PrivateRedis;
    const db = pg as PrivatePostgres;
    const metricsPort = await freePort();
    const p = spawnWatcher({
      ...watcherEnv({
        beaconUrl: sim.url,
        redisUrl: r.url,
        prefix: "pkw-outage",
        databaseUrl: (store as TestStore).databaseUrl as string,
        networkFile,
      }),
      METRICS_PORT: String(metricsPort),
    });
    const up = async (dep: string) => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return new RegExp(`poolkeeper_watcher_dependency_up\\{dependency="${dep}"\\} (\\d)`).exec(text)?.[1];
    };
    child = p.child;
    const output = () => p.output().slice(-4000);
    const lines = (): LogLine[] =>
      p
        .output()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as LogLine);
    const caughtUp = async () => (await storedEpochs()).length === lastProcessable();
    await until("watcher started", () => p.output().includes("watcher started"), 30_000, output);
    sim.chain.advanceEpochs(6);
    await until("epochs stored before the outages", caughtUp, 30_000, output);

    /** The dependency stops; epochs are finalized meanwhile; it comes back (Redis: empty). */
    const outage = async (
      dep: "redis" | "postgres",
      stop: () => Promise<void>,
      start: () => Promise<void>,
    ) => {
      await stop();
      sim.chain.advanceEpochs(2);
      await until(
        `the ${dep} outage logged`,
        () => p.output().includes(`"msg":"${dep} unavailable"`),
        20_000,
        output,
      );
      await new Promise((res) => setTimeout(res, 3000)); // retries go on meanwhile
      expect(p.child.exitCode).toBeNull();
      expect(await up(dep)).toBe("0");
      await start();
      await until(`the epochs finalized while ${dep} was down`, caughtUp, 60_000, output);
      await until(`${dep} up again in the metrics`, async () => (await up(dep)) === "1", 10_000, output);
    };
    await outage(
      "redis",
      () => r.stop(),
      () => r.start(),
    );
    // PostgreSQL: a fast shutdown, which terminates the connections
    await outage(
      "postgres",
      () => db.stop(),
      () => db.start(),
    );

    p.child.kill("SIGTERM");
    expect(await p.exited).toBe("0");

    // every line is one JSON object (JSON.parse above throws otherwise), one line per outage
    const all = lines();
    expect(all.filter((l) => l.msg === "redis unavailable")).toHaveLength(1);
    expect(all.filter((l) => l.msg === "postgres unavailable")).toHaveLength(1);
    expect(all.filter((l) => /unhandled/i.test(l.msg))).toEqual([]);
    // nothing else at warning level or above: the errors during an outage belong to its line
    expect(all.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([
      "redis unavailable",
      "postgres unavailable",
    ]);
    // each epoch processed at most once (never twice), every one stored exactly once, contiguous
    const processed = all.filter((l) => l.msg === "epoch processed").map((l) => l.epoch);
    expect(new Set(processed).size).toBe(processed.length);
    const last = lastProcessable();
    expect(last).toBeGreaterThanOrEqual(6);
    expect(await storedEpochs()).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const s = store as TestStore;
    const perEpoch = await s.query<{ epoch: bigint; rows: bigint; duties: bigint }>(
      `SELECT epoch, count(*) AS rows, sum(att_assigned) AS duties FROM watcher_operator_epochs
       WHERE network = 'sim' GROUP BY epoch ORDER BY epoch`,
    );
    expect(perEpoch.rows.map((x) => [Number(x.epoch), Number(x.rows), Number(x.duties)])).toEqual(
      Array.from({ length: last }, (_, i) => [i + 1, 2, POOL_SIZE]),
    );
  }, 240_000);
});
