import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { assertNoSecrets, createWorker, JOBS, JobQueue, parsePayload, queueEvents } from "../src/index.js";

const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";

describe("job catalogue", () => {
  it("validates payloads and names the field", () => {
    expect(parsePayload("watcher.epoch", { network: "hoodi", epoch: 5 })).toEqual({
      network: "hoodi",
      epoch: 5,
    });
    expect(() => parsePayload("watcher.epoch", { network: "hoodi", epoch: -1 })).toThrow(/payload\.epoch/);
    expect(() => parsePayload("watcher.epoch", { network: "Hoodi!", epoch: 1 })).toThrow(/payload\.network/);
    expect(() => parsePayload("watcher.epoch", { network: "hoodi", epoch: 1, extra: 1 })).toThrow(/payload/);
    expect(JOBS["watcher.epoch"].jobId({ network: "hoodi", epoch: 7 })).toBe("hoodi-epoch-7");
  });

  it("refuses anything named like a secret, at any depth", () => {
    expect(() => assertNoSecrets({ a: { mnemonic: "x" } })).toThrow(/payload\.a\.mnemonic/);
    expect(() => parsePayload("watcher.webhook", { alertId: 1, password: "hunter2" })).toThrow(
      /payload\.password/,
    );
    try {
      parsePayload("watcher.webhook", { alertId: 1, apiToken: "s3cr3t-value" });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain("s3cr3t-value");
    }
  });
});

describe("BullMQ presets on a real Redis", () => {
  const prefix = `pktest-${randomBytes(4).toString("hex")}`;
  const conn = { url: REDIS_URL, prefix };
  const q = new JobQueue("watcher.epoch", conn, { attempts: 3, backoffMs: 10 });
  afterAll(async () => {
    await q.obliterate();
    await q.close();
  });

  it("runs a job once even when enqueued twice; a bad payload fails for good", async () => {
    const seen: number[] = [];
    const events = queueEvents("watcher.epoch", conn);
    await events.waitUntilReady();
    const worker = createWorker("watcher.epoch", conn, async (p) => {
      seen.push(p.epoch);
      return p.epoch;
    });
    try {
      const id1 = await q.enqueue({ network: "minimal", epoch: 11 });
      const id2 = await q.enqueue({ network: "minimal", epoch: 11 });
      expect(id1).toBe(id2);
      await new Promise<void>((resolve) => {
        events.on("completed", ({ jobId }) => {
          if (jobId === id1) resolve();
        });
      });
      await q.enqueue({ network: "minimal", epoch: 11 }); // already completed: a no-op
      // a payload that bypassed enqueue (e.g. written by an old version) is refused, not retried
      await q.queue.add("watcher.epoch", { network: "minimal", epoch: "x" }, { jobId: "bad-1" });
      const failed = await new Promise<{ jobId: string; failedReason: string }>((resolve) => {
        events.on("failed", (f) => resolve(f));
      });
      expect(failed.jobId).toBe("bad-1");
      expect(failed.failedReason).toMatch(/payload\.epoch/);
      const bad = await q.queue.getJob("bad-1");
      expect(bad?.attemptsMade).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual([11]);
      // asked again on purpose (its result is missing): the finished job is replaced and runs again
      const again = new Promise<void>((resolve) => {
        events.on("completed", ({ jobId }) => {
          if (jobId === id1) resolve();
        });
      });
      await q.enqueueAgain([{ network: "minimal", epoch: 11 }]);
      await again;
      expect(seen).toEqual([11, 11]);
    } finally {
      await worker.close();
      await events.close();
    }
  });
});
