/** DependencyWatch's logic with scripted probes: one line per outage, re-checks, recovery once. */
import { describe, expect, it } from "vitest";
import { DependencyWatch, oneLine } from "../src/dependencies.js";
import { capturedLogger, until } from "./helpers.js";

describe("DependencyWatch", () => {
  it("logs one line when an outage begins and one when it ends, however many failures in between", async () => {
    const { logger, logs } = capturedLogger("debug");
    let redisUp = true;
    let pgCalls = 0;
    let recovered = 0;
    const changes: string[] = [];
    const watch = new DependencyWatch(
      {
        redis: async () => {
          if (!redisUp) throw new Error("Stream isn't writeable\nand enableOfflineQueue options is false");
        },
        postgres: async () => {
          pgCalls++;
        },
      },
      logger,
      () => recovered++,
      {
        recheckMs: 20,
        maxRecheckMs: 40,
        onChange: (dep, up) => changes.push(`${dep} ${up ? "up" : "down"}`),
      },
    );
    try {
      await watch.suspect(); // all up: nothing logged, nothing recovered
      expect(logs).toEqual([]);
      expect(watch.troubled()).toBe(false);

      redisUp = false;
      await Promise.all([watch.suspect(), watch.suspect(), watch.suspect()]);
      for (let i = 0; i < 5; i++) await watch.suspect(); // during the outage: no new check, no line
      await new Promise((r) => setTimeout(r, 200)); // re-checked on its own meanwhile
      expect(watch.anyDown).toBe(true);
      const callsDuringOutage = pgCalls;
      expect(callsDuringOutage).toBeGreaterThan(2); // the re-checks ran
      redisUp = true;
      await until("recovery", () => !watch.anyDown, 5000);
      expect(recovered).toBe(1);
      expect(watch.troubled()).toBe(true); // errors just after an outage still belong to it
      expect(watch.troubled(0)).toBe(false);

      const lines = logs.map(
        (l) => JSON.parse(l) as { level: number; msg: string; err?: string; dependency: string },
      );
      expect(lines.map((l) => [l.level, l.msg, l.dependency])).toEqual([
        [50, "redis unavailable", "redis"],
        [30, "redis available again", "redis"],
      ]);
      expect(lines[0]?.err).toBe("Stream isn't writeable and enableOfflineQueue options is false");

      // a second outage is a second line
      redisUp = false;
      await watch.suspect();
      redisUp = true;
      await until("second recovery", () => !watch.anyDown, 5000);
      expect(logs.filter((l) => l.includes('"redis unavailable"'))).toHaveLength(2);
      expect(recovered).toBe(2);
      expect(changes).toEqual(["redis down", "redis up", "redis down", "redis up"]);
    } finally {
      watch.stop();
    }
  });

  it("counts a probe that does not answer as failed", async () => {
    const { logger, logs } = capturedLogger("info");
    const watch = new DependencyWatch(
      { redis: async () => undefined, postgres: () => new Promise(() => undefined) },
      logger,
      () => undefined,
      { probeTimeoutMs: 50, recheckMs: 10_000 },
    );
    try {
      await watch.suspect();
      expect(watch.anyDown).toBe(true);
      expect(logs.join("")).toContain('"msg":"postgres unavailable"');
      expect(logs.join("")).toContain('"err":"no answer"');
    } finally {
      watch.stop();
    }
  });

  it("puts an error message on one line", () => {
    expect(oneLine(new Error("a\n  b\tc"))).toBe("a b c");
    expect(oneLine("x".repeat(400))).toHaveLength(300);
  });
});
