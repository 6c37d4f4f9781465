import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import { keyStateFor, WATCHER_ENV, WatcherMetrics } from "../src/index.js";

describe("key states from beacon statuses", () => {
  it("follows deposited → active → exiting → exited, and slashed", () => {
    expect(keyStateFor("pending_queued", false, "deposited")).toBeNull();
    expect(keyStateFor("active_ongoing", false, "deposited")).toBe("active");
    expect(keyStateFor("active_ongoing", false, "active")).toBeNull();
    expect(keyStateFor("active_exiting", false, "active")).toBe("exiting");
    expect(keyStateFor("exited_unslashed", false, "exiting")).toBe("exited");
    expect(keyStateFor("withdrawal_done", false, "exited")).toBeNull();
    expect(keyStateFor("active_slashed", true, "active")).toBe("slashed");
    expect(keyStateFor("exited_slashed", true, "active")).toBe("slashed");
    expect(keyStateFor("exited_slashed", true, "slashed")).toBe("exited");
  });
  it("never moves a key backwards (an old epoch processed late)", () => {
    expect(keyStateFor("active_ongoing", false, "exiting")).toBeNull();
    expect(keyStateFor("active_ongoing", false, "exited")).toBeNull();
    expect(keyStateFor("active_slashed", true, "exited")).toBeNull();
    expect(keyStateFor("active_ongoing", false, "removed")).toBeNull();
  });
});

describe("watcher configuration", () => {
  const base = {
    BEACON_URLS: "http://127.0.0.1:5052,https://user:s3cretpass@beacon.example.org",
    POOLKEEPER_NETWORK: "hoodi",
    POOLKEEPER_WITHDRAWAL_CREDENTIALS: `0x01${"00".repeat(11)}${"ab".repeat(20)}`,
  };
  it("reads several beacon URLs and defaults", () => {
    const c = loadConfig(WATCHER_ENV, base);
    expect(c.BEACON_URLS).toHaveLength(2);
    expect(c.WATCHER_PRESET).toBe("mainnet");
    expect(c.WATCHER_OFFLINE_EPOCHS).toBe(3);
    expect(c.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(c.WATCHER_JOB_LOCK_MS).toBe(10_000);
    expect(loadConfig(WATCHER_ENV, { ...base, WATCHER_JOB_LOCK_MS: "2000" }).WATCHER_JOB_LOCK_MS).toBe(2000);
  });
  it("names the bad variable without echoing a secret", () => {
    try {
      loadConfig(WATCHER_ENV, { ...base, BEACON_URLS: "ftp://user:s3cretpass@x" });
      expect.unreachable();
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain("BEACON_URLS");
      expect(m).not.toContain("s3cretpass");
    }
    expect(() => loadConfig(WATCHER_ENV, { ...base, WATCHER_OFFLINE_EPOCHS: "0" })).toThrow(
      /WATCHER_OFFLINE_EPOCHS/,
    );
    expect(() => loadConfig(WATCHER_ENV, { ...base, WATCHER_JOB_LOCK_MS: "500" })).toThrow(
      /WATCHER_JOB_LOCK_MS/,
    );
  });
});

describe("Prometheus rules", () => {
  it("refer only to metrics the watcher exports", async () => {
    const rules = readFileSync(
      join(import.meta.dirname, "../../../config/prometheus/poolkeeper-rules.yml"),
      "utf8",
    );
    const used = new Set(rules.match(/poolkeeper_watcher_[a-z_]+/g) ?? []);
    const m = new WatcherMetrics();
    const exported = new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));
    for (const name of used)
      expect(exported.has(name) || exported.has(name.replace(/_total$/, "")), name).toBe(true);
    expect(used.size).toBeGreaterThan(5);
  });
});
