import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { ConfigError, safeUrl } from "@poolkeeper/core";
import { Redis } from "ioredis";

/** How to get a Redis, for the error line. */
const HOW = `start one with "redis-server" or "docker run -d -p 6379:6379 redis:7", or pass --redis-url`;

/** Redis at `url`, or null when nothing answers there. */
async function tryRedis(url: string): Promise<{ redis: Redis } | { error: string }> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return { redis };
  } catch (e) {
    redis.disconnect();
    return { error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

/** Fails with one line saying how to start Redis when it does not answer. */
export async function checkRedis(url: string): Promise<Redis> {
  const r = await tryRedis(url);
  if ("redis" in r) return r.redis;
  throw new ConfigError(`--redis-url: cannot reach Redis at ${safeUrl(url)} (${r.error}); ${HOW}`);
}

/** The path of `name` on PATH, or null. */
export function findOnPath(name: string, path = process.env.PATH ?? ""): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.listen(0, "127.0.0.1", resolve).once("error", reject));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export interface PrivateRedis {
  url: string;
  redis: Redis;
  /** Stops the redis-server (SIGTERM, SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * A redis-server of the run's own: on a free port of 127.0.0.1, its files in `dir`, nothing kept
 * on disk; stopped by `stop()`. Null when no redis-server binary is installed.
 */
export async function startPrivateRedis(
  dir: string,
  binary = findOnPath("redis-server"),
): Promise<PrivateRedis | null> {
  if (binary === null) return null;
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
    ],
    { stdio: "ignore" },
  );
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    const r = await tryRedis(url);
    if ("redis" in r) return { url, redis: r.redis, stop };
    if (child.exitCode !== null) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  await stop();
  throw new ConfigError(`redis-server (${binary}) did not start on port ${port}; ${HOW}`);
}

/** Removes every key under `prefix:`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}
