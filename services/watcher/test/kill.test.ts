/**
 * kill -9 in the middle of an epoch: the watcher process (`node --import tsx .../main.ts`, real
 * PostgreSQL + Redis, beacon-sim with slow block requests so an epoch is in flight) is SIGKILLed
 * after its first stored epoch, started again, and must end with every epoch stored exactly once,
 * contiguous, with the same rows as a run that was never killed.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLodestar } from "@poolkeeper/beacon";
import { JobQueue } from "@poolkeeper/queue";
import type { TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_URL, registryPoolDatabase, spawnWatcher, until, watcherEnv } from "./helpers.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const POOL_SIZE = 32;
const TABLES = [
  "watcher_network_epochs",
  "watcher_operator_epochs",
  "watcher_validator_epochs",
  "watcher_validators",
];

describe("watcher process killed with SIGKILL mid-epoch", () => {
  let sim: Sim;
  let dir: string;
  let networkFile: string;
  const stores: TestStore[] = [];
  const children: ChildProcess[] = [];
  const prefixes: string[] = [];
  let last = 0;

  beforeAll(async () => {
    await loadLodestar("minimal");
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    sim = await startBeaconSim({
      validators: 64,
      seed: "h5-kill",
      scenario: { behaviours: [{ validators: "20-23", behaviour: "offline", from: 2, to: 5 }] },
    });
    dir = mkdtempSync(join(tmpdir(), "pk-watcher-kill-"));
    const c = sim.chain;
    networkFile = join(dir, "sim.json");
    writeFileSync(
      networkFile,
      JSON.stringify(c.networkJson("sim", { contractAddress: `0x${"42".repeat(20)}`, chainId: 1337 })),
    );
    sim.chain.advanceEpochs(11);
    last = sim.chain.currentFinality().finalized.epoch - 2;
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const prefix of prefixes) {
      const q = new JobQueue("watcher.epoch", { url: REDIS_URL, prefix });
      await q.obliterate().catch(() => undefined);
      await q.close();
    }
    await sim?.close();
    for (const s of stores) await s.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function poolDatabase(): Promise<TestStore> {
    const store = await registryPoolDatabase(sim.chain, networkFile, { perOperator: POOL_SIZE / 2 });
    stores.push(store);
    return store;
  }

  function env(store: TestStore, prefix: string, lockMs: string | null = "2000"): Record<string, string> {
    const e = watcherEnv({
      beaconUrl: sim.url,
      redisUrl: REDIS_URL,
      prefix,
      databaseUrl: store.databaseUrl as string,
      networkFile,
    });
    if (lockMs !== null) e.WATCHER_JOB_LOCK_MS = lockMs;
    return e;
  }

  /** A pool database and a queue prefix; block requests slow, so an epoch is in flight for a while. */
  async function slowRun(tag: string) {
    const store = await poolDatabase();
    const prefix = `${tag}-${Date.now().toString(36)}`;
    prefixes.push(prefix);
    sim.node.addFault({ kind: "slow", delayMs: 400, pathContains: "/blocks/" });
    return { store, prefix, queue: new JobQueue("watcher.epoch", { url: REDIS_URL, prefix }) };
  }

  async function storedEpochs(store: TestStore): Promise<number[]> {
    const r = await store.query<{ epoch: bigint }>(
      "SELECT epoch FROM watcher_network_epochs WHERE network = 'sim' ORDER BY epoch",
    );
    return r.rows.map((x) => Number(x.epoch));
  }

  /** Every row of the watcher's tables and its alerts, without timestamps, in a fixed order. */
  async function snapshot(store: TestStore): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES) {
      const cols = await store.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND data_type NOT LIKE 'timestamp%'
         ORDER BY ordinal_position`,
        [t],
      );
      const list = cols.rows.map((c) => `"${c.column_name}"`).join(", ");
      const r = await store.query(`SELECT ${list} FROM ${t} ORDER BY ${list}`);
      out[t] = r.rows;
    }
    const a = await store.query(
      "SELECT kind, dedup_key, operator_id, validator_index, epoch, message FROM watcher_alerts ORDER BY dedup_key",
    );
    out.watcher_alerts = a.rows;
    return out;
  }

  async function runToEnd(store: TestStore, prefix: string): Promise<void> {
    const p = spawnWatcher(env(store, prefix));
    children.push(p.child);
    await until(
      "all epochs stored",
      async () => (await storedEpochs(store)).length >= last,
      60_000,
      () => p.output().slice(-3000),
    );
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe("0");
  }

  it("ends with each epoch stored exactly once, contiguous, and the same rows as a run never killed", async () => {
    expect(last).toBeGreaterThanOrEqual(6);
    // the reference: one run, never killed
    const reference = await poolDatabase();
    const refPrefix = `pkwk-ref-${Date.now().toString(36)}`;
    prefixes.push(refPrefix);
    await runToEnd(reference, refPrefix);
    const want = await snapshot(reference);
    expect(want.watcher_validators).toHaveLength(POOL_SIZE);
    expect(want.watcher_alerts?.length).toBeGreaterThan(0); // the offline validators

    // the killed run: block requests are slow, so an epoch is in flight when the kill comes
    const { store, prefix, queue } = await slowRun("pkwk");
    try {
      const first = spawnWatcher(env(store, prefix));
      children.push(first.child);
      await until(
        "first epoch stored",
        async () => (await storedEpochs(store)).length >= 1,
        60_000,
        () => first.output().slice(-3000),
      );
      await until("an epoch in flight", async () => ((await queue.counts()).active ?? 0) >= 1, 30_000);
      await new Promise((r) => setTimeout(r, 300)); // well inside its block requests
      first.child.kill("SIGKILL");
      expect(await first.exited).toBe("SIGKILL");
      const atKill = await storedEpochs(store);
      expect(atKill.length).toBeLessThan(last); // killed before the end
      expect((await queue.counts()).active).toBeGreaterThanOrEqual(1); // the dead process's job, still locked

      sim.node.clearFaults();
      await runToEnd(store, prefix);
    } finally {
      sim.node.clearFaults();
      await queue.close();
    }

    const epochs = await storedEpochs(store);
    expect(epochs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const dup = await store.query<{ n: bigint }>(
      "SELECT count(*) AS n FROM (SELECT epoch FROM watcher_operator_epochs GROUP BY network, epoch, operator_id HAVING count(*) > 1) d",
    );
    expect(Number(dup.rows[0]?.n)).toBe(0);
    const cp = await store.query<{ last_epoch: bigint }>(
      "SELECT last_epoch FROM watcher_checkpoint WHERE network = 'sim'",
    );
    expect(Number(cp.rows[0]?.last_epoch)).toBe(last);
    const got = await snapshot(store);
    for (const t of TABLES) expect([t, got[t]]).toEqual([t, want[t]]);
    // per-validator alerts are the same; operator_underperforming judges the window stored when it
    // fires, so after a crash (an epoch finished later than the next ones) it may fire at another
    // epoch with other figures: the same operators, once each
    const perValidator = (rows: unknown[] | undefined) =>
      (rows as Array<{ kind: string }>).filter((a) => a.kind !== "operator_underperforming");
    expect(perValidator(got.watcher_alerts)).toEqual(perValidator(want.watcher_alerts));
    const operators = (rows: unknown[] | undefined) =>
      (rows as Array<{ kind: string; dedup_key: string }>)
        .filter((a) => a.kind === "operator_underperforming")
        .map((a) => a.dedup_key);
    expect(operators(got.watcher_alerts)).toEqual(operators(want.watcher_alerts));
  });

  it("another watcher process takes over the epoch of one killed with SIGKILL within 30 s (default lock)", async () => {
    const { store, prefix, queue } = await slowRun("pkwt");
    try {
      const a = spawnWatcher(env(store, prefix, null));
      const b = spawnWatcher(env(store, prefix, null));
      children.push(a.child, b.child);
      const output = () => `A:\n${a.output().slice(-2000)}\nB:\n${b.output().slice(-2000)}`;
      // an epoch that process A is working on
      let held: { id: string; epoch: number } | undefined;
      await until(
        "an epoch in flight in process A",
        async () => {
          for (const job of await queue.queue.getActive()) {
            if (job.processedBy?.endsWith(`:${a.child.pid}`) && job.id !== undefined)
              held = { id: job.id, epoch: (job.data as { epoch: number }).epoch };
          }
          return held !== undefined;
        },
        60_000,
        output,
      );
      const epoch = (held as { epoch: number }).epoch;
      a.child.kill("SIGKILL");
      expect(await a.exited).toBe("SIGKILL");
      sim.node.clearFaults();
      expect(await storedEpochs(store)).not.toContain(epoch);
      // taken over by B: stored, and the job finished by B
      await until(
        "the dead process's epoch stored by the other",
        async () => (await storedEpochs(store)).includes(epoch),
        30_000,
        output,
      );
      await until(
        "its job completed",
        async () => (await queue.queue.getJob((held as { id: string }).id))?.finishedOn !== undefined,
      );
      const job = await queue.queue.getJob((held as { id: string }).id);
      expect(job?.processedBy).toMatch(new RegExp(`:${b.child.pid}$`));
      expect(b.output()).toContain(`"epoch":${epoch},`);
      await until("all epochs stored", async () => (await storedEpochs(store)).length >= last, 60_000);
      expect(await storedEpochs(store)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      b.child.kill("SIGTERM");
      expect(await b.exited).toBe("0");
    } finally {
      sim.node.clearFaults();
      await queue.close();
    }
  });
});
