/** The exit stream's reconnection and the handler's refusals, against scripted API objects. */
import type { ApiClient, ServerSentEvent } from "@poolkeeper/contract";
import { describe, expect, it } from "vitest";
import {
  ExitHandler,
  type ExitRequest,
  type ExitStage,
  followExitStream,
  OperatorDaemonMetrics,
} from "../src/index.js";
import { Captured } from "./harness.js";

function request(id: number, extra: Partial<ExitRequest> = {}): ExitRequest {
  return {
    id,
    operatorId: 7,
    pubkey: `0x${"ab".repeat(48)}`,
    validatorIndex: 100 + id,
    requestedEpoch: 10,
    deadlineEpoch: 20,
    state: "requested",
    ...extra,
  };
}

function event(req: ExitRequest): ServerSentEvent {
  return { event: "exit_requested", id: String(req.id), data: JSON.stringify(req) };
}

describe("followExitStream", () => {
  it("reconnects after a failure and after the stream ends, with the last event's id", async () => {
    const ac = new AbortController();
    const asked: Array<string | number | undefined> = [];
    const seen: number[] = [];
    let call = 0;
    const api = {
      async streamOperatorExits(input: { lastEventId?: string | number }) {
        asked.push(input.lastEventId);
        call++;
        if (call === 1) throw new Error("connection refused");
        if (call === 2)
          return (async function* () {
            yield event(request(1));
            yield { event: "message", id: null, data: "ignored" };
            yield event(request(2));
          })();
        return (async function* () {
          yield event(request(3));
          ac.abort();
        })();
      },
    } as unknown as Pick<ApiClient, "streamOperatorExits">;
    const logs = new Captured();
    await followExitStream({
      api,
      operatorId: 7,
      onRequest: async (r) => void seen.push(r.id),
      logger: logs.logger("t"),
      signal: ac.signal,
      backoffMs: 1,
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(asked).toEqual([undefined, undefined, "2"]);
    expect(logs.text()).toContain("exit stream lost; reconnecting");
  });
});

describe("ExitHandler refusals", () => {
  function handler(chain: null | object = null) {
    const reports: Array<[number, ExitStage, string | undefined]> = [];
    const h = new ExitHandler(
      {
        api: { progress: async (id, stage, detail) => void reports.push([id, stage, detail]) },
        chain: chain as never,
        sign: async () => {
          throw new Error("must not sign");
        },
        pubkeyOf: (i) => (i === 0 ? "ab".repeat(48) : "cd".repeat(48)),
        logger: new Captured().logger("t"),
        metrics: new OperatorDaemonMetrics(),
      },
      { operatorId: 7, derivedCount: async () => 2 },
    );
    return { h, reports };
  }

  it("another operator's request, an underived key, no beacon node: each reported failed once, never signed", async () => {
    const { h, reports } = handler();
    await h.handle(request(1, { operatorId: 8 }));
    await h.handle(request(2, { pubkey: `0x${"ef".repeat(48)}` }));
    await h.handle(request(3));
    await h.handle(request(3)); // the stream repeats it after a reconnect: handled once
    expect(reports.map(([id, stage]) => [id, stage])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "failed"],
    ]);
    expect(reports[0]![2]).toContain("operator 8");
    expect(reports[1]![2]).toContain("not derived");
    expect(reports[2]![2]).toContain("no beacon node");
  });

  it("a beacon node that fails once: reported failed (will retry), then signed and submitted at the next poll", async () => {
    let calls = 0;
    const chain = {
      async validator() {
        calls++;
        if (calls === 1) throw new Error("node down");
        return { status: "active_ongoing", exitEpoch: 2 ** 64 - 1 };
      },
      currentEpoch: async () => 12,
      submit: async () => undefined,
    };
    const reports: Array<[number, ExitStage, string | undefined]> = [];
    const signed: number[] = [];
    const h = new ExitHandler(
      {
        api: { progress: async (id, stage, detail) => void reports.push([id, stage, detail]) },
        chain,
        sign: async (_r, index, epoch) => {
          signed.push(index, epoch);
          return { message: { epoch: String(epoch), validator_index: "101" }, signature: "0x00" };
        },
        pubkeyOf: () => "ab".repeat(48),
        logger: new Captured().logger("t"),
        metrics: new OperatorDaemonMetrics(),
      },
      { operatorId: 7, derivedCount: async () => 1 },
    );
    await h.handle(request(1));
    expect(reports).toHaveLength(1);
    expect(reports[0]![2]).toContain("will retry");
    await h.poll();
    expect(signed).toEqual([0, 12]);
    expect(reports.map((r) => r[1])).toEqual(["failed", "signed", "submitted"]);
    expect(h.followingCount).toBe(1);
  });
});
