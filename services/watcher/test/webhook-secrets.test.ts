/**
 * A webhook URL carries its secret in the path (Slack, Discord) or the query (`sig`, `code`): it
 * must never reach a log line, nor the failed job that BullMQ stores in Redis (failedReason,
 * stacktrace), whether the webhook answers an error or cannot be reached. Real Redis, real
 * PostgreSQL, beacon-sim over HTTP.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BeaconNodePool, loadLodestar } from "@poolkeeper/beacon";
import { JobQueue } from "@poolkeeper/queue";
import { getWatcherAlert, insertWatcherAlert } from "@poolkeeper/store";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Watcher } from "../src/index.js";
import { capturedLogger, redisConn, StaticPool, until } from "./helpers.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const SECRETS = ["T0SECRETAAA", "B0SECRETBBB", "xyzSECRETCCC", "SIGSECRETDDD", "CODESECRETEEE", "/services/"];
const SECRET_PATH = `/services/${SECRETS[0]}/${SECRETS[1]}/${SECRETS[2]}?sig=${SECRETS[3]}&code=${SECRETS[4]}`;

/** Every value stored under the prefix, as text (hashes, lists, sorted sets, streams, strings). */
async function redisDump(q: JobQueue<"watcher.webhook">, prefix: string): Promise<string> {
  const client = await q.queue.getBackend().client;
  const out: string[] = [];
  for (const key of (await client.runCommand("keys", [`${prefix}:*`])) as string[]) {
    const type = (await client.runCommand("type", [key])) as string;
    if (type === "hash") out.push(JSON.stringify(await client.hgetall(key)));
    else if (type === "list") out.push(JSON.stringify(await client.lrange(key, 0, -1)));
    else if (type === "zset") out.push(JSON.stringify(await client.zrange(key, 0, -1)));
    else if (type === "set") out.push(JSON.stringify(await client.smembers(key)));
    else if (type === "stream") out.push(JSON.stringify(await client.runCommand("xrange", [key, "-", "+"])));
    else if (type === "string") out.push(String(await client.get(key)));
    out.push(key);
  }
  return out.join("\n");
}

describe("webhook URL secrets", () => {
  let sim: Sim;
  let store: TestStore;
  let beacon: BeaconNodePool;
  let server: Server;
  let hits = 0;
  let refusingPort = 0;

  beforeAll(async () => {
    await loadLodestar("minimal");
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    sim = await startBeaconSim({ validators: 16, seed: "webhook-secrets" });
    beacon = await BeaconNodePool.init({ urls: [sim.url], preset: "minimal" });
    store = await createTestStore("postgres");
    server = createServer((req, res) => {
      hits++;
      req.resume();
      req.on("end", () => {
        res.writeHead(500);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    // a port nothing listens on
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    refusingPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  afterAll(async () => {
    await sim?.close();
    await store?.dispose();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it.each([
    ["answers HTTP 500", () => (server.address() as AddressInfo).port, /: HTTP 500$/],
    ["cannot be reached", () => refusingPort, /: TypeError$/],
  ] as const)(
    "a webhook that %s: the failed job and the logs name its host only",
    async (_, port, reason) => {
      const url = `http://127.0.0.1:${port()}${SECRET_PATH}`;
      const redis = redisConn();
      const { logger, logs } = capturedLogger("debug");
      const alertId = await insertWatcherAlert(store, "minimal", {
        kind: "slashed",
        dedupKey: `slashed:${redis.prefix}`,
        operatorId: null,
        validatorIndex: 1,
        epoch: 1,
        message: "validator 1 was slashed",
        webhook: true,
      });
      expect(alertId).not.toBeNull();
      const w = new Watcher(
        { beacon, store, pool: new StaticPool([]), logger },
        {
          settings: { network: "minimal", offlineEpochs: 3, underperformanceMargin: 0.05, webhook: true },
          redis,
          webhookUrl: url,
          schedule: false,
          attempts: 2,
          backoffMs: 20,
        },
      );
      const q = new JobQueue("watcher.webhook", redis, { attempts: 2, backoffMs: 20 });
      const hitsBefore = hits;
      try {
        w.start();
        await q.enqueue({ alertId: alertId as number });
        const jobId = `alert-${alertId}`;
        await until("the webhook job failed for good", async () => {
          const job = await q.queue.getJob(jobId);
          return job !== undefined && (await job.getState()) === "failed";
        });
        const job = await q.queue.getJob(jobId);
        expect(job?.failedReason).toMatch(
          new RegExp(`^webhook http://127\\.0\\.0\\.1:${port()} refused alert ${alertId}`),
        );
        expect(job?.failedReason).toMatch(reason);
        expect(job?.stacktrace?.length).toBeGreaterThan(0);
        expect((await getWatcherAlert(store, alertId as number))?.webhookState).toBe("failed");
        if (port() !== refusingPort) expect(hits - hitsBefore).toBe(2); // both attempts reached the path

        const stored = [
          job?.failedReason ?? "",
          ...(job?.stacktrace ?? []),
          await redisDump(q, redis.prefix),
        ];
        const logged = logs.join("");
        for (const s of SECRETS) {
          for (const text of stored) expect(text).not.toContain(s);
          expect(logged).not.toContain(s);
        }
        const started = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "watcher started");
        expect(started?.webhook).toBe(`http://127.0.0.1:${port()}`);
        expect(logged).toContain('"msg":"job failed"');
      } finally {
        await w.stop();
        await q.obliterate().catch(() => undefined);
        await q.close();
      }
    },
  );
});
