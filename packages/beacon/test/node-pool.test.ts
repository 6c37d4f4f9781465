import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { createLogger } from "@poolkeeper/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BeaconNodePool, EpochDutiesReader, FinalizedFollower, loadLodestar } from "../src/index.js";
import { type RecordingServer, startRecordingServer } from "./recording-server.js";

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  return new Promise((r) =>
    server.listen(0, "127.0.0.1", () =>
      r({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

describe("BeaconNodePool: failover, health order, credentials never printed", () => {
  let rec: RecordingServer;
  let failing: { url: string; server: Server };
  let hanging: { url: string; server: Server };
  let failingHits = 0;
  const logs: string[] = [];
  const logger = createLogger({
    level: "debug",
    destination: new Writable({
      write(c, _e, cb) {
        logs.push(String(c));
        cb();
      },
    }),
  });

  beforeAll(async () => {
    await loadLodestar("minimal");
    rec = await startRecordingServer();
    failing = await listen((_req, res) => {
      failingHits++;
      res.writeHead(503, { "content-type": "application/json" });
      res.end('{"code":503,"message":"down"}');
    });
    hanging = await listen(() => {
      /* never answers */
    });
  });
  afterAll(async () => {
    await rec?.close();
    failing?.server.close();
    hanging?.server.closeAllConnections();
    hanging?.server.close();
  });

  it("gives the same epoch result through a failing and a hanging node as from the healthy one alone", async () => {
    const withCreds = (u: string) => u.replace("http://", "http://user:hunter2secret@");
    const fleet = await BeaconNodePool.init(
      {
        urls: [withCreds(failing.url), withCreds(hanging.url), withCreds(rec.url)],
        preset: "minimal",
        timeoutMs: 300,
        retries: 1,
        retryBaseMs: 10,
      },
      { logger },
    );
    const single = await BeaconNodePool.init({ urls: [rec.url], preset: "minimal" });
    const all = Array.from({ length: 64 }, (_, i) => i);
    const a = await new EpochDutiesReader(fleet).epochDuties(5, {
      validators: all,
      requireFinalized: false,
      balances: false,
    });
    const b = await new EpochDutiesReader(single).epochDuties(5, {
      validators: all,
      requireFinalized: false,
      balances: false,
    });
    expect(a.attestations).toEqual(b.attestations);
    expect(a.proposals).toEqual(b.proposals);
    expect(a.network).toEqual(b.network);
    // after a health check the healthy node comes first, the failed ones last
    const h = await fleet.refreshHealth();
    expect(h.find((x) => x.url.includes(String(new URL(rec.url).port)))?.reachable).toBe(true);
    expect(h.filter((x) => !x.reachable)).toHaveLength(2);
    const hitsBefore = failingHits;
    await new EpochDutiesReader(fleet).proposalDuties(6, all, { requireFinalized: false });
    expect(failingHits).toBe(hitsBefore); // not asked while a healthy node answers
    const text = logs.join("");
    expect(text).toContain("beacon node request failed");
    expect(text).not.toContain("hunter2secret");
    expect(fleet.urls.join(" ")).not.toContain("hunter2secret");
  });

  it("fails with a clear error when no node answers, without the credentials", async () => {
    const err = await BeaconNodePool.init({
      urls: [failing.url.replace("http://", "http://u:topsecretpw@")],
      preset: "minimal",
      retries: 1,
      retryBaseMs: 5,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_BEACON_UNAVAILABLE" });
    expect(String((err as Error).message)).not.toContain("topsecretpw");
  });

  it("rejects a node of another preset and a non-http URL", async () => {
    await expect(BeaconNodePool.init({ urls: ["ftp://x"], preset: "minimal" })).rejects.toThrow(/urls\[0\]/);
  });

  it("follows the finalized epoch by polling when there is no event stream", async () => {
    const pool = await BeaconNodePool.init({ urls: [rec.url], preset: "minimal" });
    const seen: number[] = [];
    const f = new FinalizedFollower(
      pool,
      (e) => {
        seen.push(e);
      },
      undefined,
      { events: false, fallbackPollIntervalMs: 20 },
    );
    f.start();
    await new Promise((r) => setTimeout(r, 150));
    f.stop();
    expect(seen).toEqual([3]); // reported once, from the node's finality checkpoints
    expect(f.finalizedEpoch).toBe(3);
  });
});
