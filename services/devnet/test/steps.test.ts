/**
 * The devnet run as a list of steps over one context: the steps run in order, a failure tears
 * down what the earlier steps started in reverse order (every teardown runs even if one throws),
 * and a part read before any step set it is a clear error naming it.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEVNET_STEPS, DevnetContext, type DevnetStep, startDevnet } from "../src/devnet.js";
import { parseDevnetFlags } from "../src/options.js";

const options = {
  ...parseDevnetFlags({ dataDir: join(tmpdir(), "pk-devnet-steps-unused") }),
  out: () => undefined,
};

describe("devnet steps", () => {
  it("the run's steps, in order", () => {
    expect(DEVNET_STEPS.map((s) => s.name)).toEqual([
      "redis",
      "data directory",
      "beacon-sim",
      "store and admin API",
      "operators",
      "governance",
      "operator daemons",
      "guardians",
      "stakers",
      "deposit batch",
      "scenario",
      "watcher",
      "oracle members",
      "summary",
    ]);
  });

  it("a failing step: the earlier steps are torn down in reverse order, each even if one throws", async () => {
    const events: string[] = [];
    const step = (name: string, fail = false): DevnetStep => ({
      name,
      run(ctx) {
        events.push(`start ${name}`);
        if (fail) throw new Error(`${name} failed`);
        ctx.onClose(() => {
          events.push(`close ${name}`);
          if (name === "b") throw new Error("teardown of b failed");
        });
      },
    });
    await expect(
      startDevnet(options, [step("a"), step("b"), step("c"), step("d", true), step("e")]),
    ).rejects.toThrow("d failed");
    expect(events).toEqual(["start a", "start b", "start c", "start d", "close c", "close b", "close a"]);
  });

  it("a part read before a step set it names the part", () => {
    const ctx = new DevnetContext(options, tmpdir(), () => undefined);
    expect(() => ctx.get("store")).toThrow('devnet step order: "store" is read before any step set it');
    ctx.set("offline", null);
    expect(ctx.get("offline")).toBeNull();
  });

  it("close() tears down once, however often it is called", async () => {
    const ctx = new DevnetContext(options, tmpdir(), () => undefined);
    let closed = 0;
    ctx.onClose(() => {
      closed++;
    });
    await Promise.all([ctx.close(), ctx.close()]);
    await ctx.close();
    expect(closed).toBe(1);
  });
});
