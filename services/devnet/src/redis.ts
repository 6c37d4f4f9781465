import { ConfigError, safeUrl } from "@poolkeeper/core";
import { Redis } from "ioredis";

/** Fails with one line saying how to start Redis when it does not answer. */
export async function checkRedis(url: string): Promise<Redis> {
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
    return redis;
  } catch (e) {
    redis.disconnect();
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(
      `--redis-url: cannot reach Redis at ${safeUrl(url)} (${code}); start one with "redis-server" or ` +
        `"docker run -d -p 6379:6379 redis:7", or pass --redis-url`,
    );
  }
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
