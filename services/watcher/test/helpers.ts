import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { createLogger, type Logger } from "@poolkeeper/core";
import type { KeyStateChange, PoolKey, PoolSource } from "../src/index.js";

/** The registry's watcher transitions (packages/registry WATCHER_TRANSITIONS). */
const ALLOWED_FROM: Record<string, readonly string[]> = {
  active: ["deposited"],
  exiting: ["deposited", "active"],
  exited: ["deposited", "active", "exiting", "slashed"],
  slashed: ["deposited", "active", "exiting"],
};

/** A logger whose JSON lines are kept in `logs` (to print on failure or to search for secrets). */
export function capturedLogger(level: "debug" | "info"): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  const logger = createLogger({
    level,
    destination: new Writable({
      write(c, _e, cb) {
        logs.push(String(c));
        cb();
      },
    }),
  });
  return { logger, logs };
}

export const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";

export function redisConn(): { url: string; prefix: string } {
  return { url: REDIS_URL, prefix: `pkw-${randomBytes(5).toString("hex")}` };
}

/** The pool: validators of the sim mapped to operators; key state changes recorded. */
export class StaticPool implements PoolSource {
  readonly changes: KeyStateChange[] = [];
  readonly states = new Map<string, string>();
  constructor(private readonly list: Array<{ pubkey: string; operatorId: number }>) {
    for (const k of list) this.states.set(k.pubkey, "deposited");
  }
  async keys(): Promise<PoolKey[]> {
    return this.list.map((k) => ({ ...k, keyState: this.states.get(k.pubkey) ?? "deposited" }));
  }
  async setKeyStates(changes: KeyStateChange[]): Promise<void> {
    // like the registry: one transition it does not allow refuses the whole call
    for (const c of changes) {
      const cur = this.states.get(c.pubkey) ?? "deposited";
      if (cur !== c.to && !(ALLOWED_FROM[c.to] ?? []).includes(cur))
        throw new Error(`${c.pubkey}: ${cur} → ${c.to} not allowed`);
    }
    for (const c of changes) {
      if (this.states.get(c.pubkey) === c.to) continue; // like the registry: already there, left alone
      this.changes.push(c);
      this.states.set(c.pubkey, c.to);
    }
  }
}

export async function until(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 45_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A webhook receiver that fails the first `failFirst` requests with 500. */
export async function webhookReceiver(
  failFirst: number,
): Promise<{ url: string; received: unknown[]; hits: () => number; close(): Promise<void> }> {
  const received: unknown[] = [];
  let hits = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hits++;
      if (hits <= failFirst) {
        res.writeHead(500);
        res.end();
        return;
      }
      received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=hooksecret123`,
    received,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
