/**
 * The devnet's Redis: a named one (--redis-url, REDIS_URL) that does not answer is one clear error;
 * when none was named and the default does not answer, a private redis-server starts on a free port
 * with its files in the data directory, serves the run, and is stopped at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { DevnetContext } from "../src/context.js";
import { parseDevnetFlags } from "../src/options.js";
import { findOnPath, startPrivateRedis } from "../src/redis.js";
import { connectRedis } from "../src/steps.js";

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), "pk-devnet-redis-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function answers(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  r.on("error", () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

describe("the devnet's Redis", () => {
  it("no redis-server binary: no private one", async () => {
    expect(findOnPath("redis-server", "/nonexistent-dir")).toBeNull();
    expect(await startPrivateRedis(dir(), null)).toBeNull();
  });

  it("a private redis-server answers, and is gone once stopped", async () => {
    const own = await startPrivateRedis(dir());
    expect(own).not.toBeNull();
    expect(own!.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(await own!.redis.ping()).toBe("PONG");
    own!.redis.disconnect();
    await own!.stop();
    expect(await answers(own!.url)).toBe(false);
  });

  it("none named and none at the default: the run gets a private one, stopped at its end", async () => {
    const lines: string[] = [];
    const settings = parseDevnetFlags({ dataDir: dir() });
    // the default stands for "nothing named"; point it at a port where nothing listens
    const ctx = new DevnetContext(
      { ...settings, redisUrl: "redis://127.0.0.1:1", redisUrlGiven: false },
      settings.dataDir,
      (l) => lines.push(l),
    );
    await connectRedis(ctx);
    const url = ctx.get("redisUrl");
    expect(url).not.toBe("redis://127.0.0.1:1");
    expect(await answers(url)).toBe(true);
    expect(lines.join("\n")).toContain("started a private redis-server");
    await ctx.close();
    expect(await answers(url)).toBe(false);
  });

  it("a named Redis that does not answer is one error naming --redis-url", async () => {
    const settings = parseDevnetFlags({ dataDir: dir(), redisUrl: "redis://127.0.0.1:1" });
    expect(settings.redisUrlGiven).toBe(true);
    const ctx = new DevnetContext(settings, settings.dataDir, () => undefined);
    await expect(connectRedis(ctx)).rejects.toThrow(
      /--redis-url: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
    );
    await ctx.close();
  });
});
