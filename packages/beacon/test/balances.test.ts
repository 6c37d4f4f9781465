/**
 * getBalances over HTTP: SSZ from beacon-sim (a large list written by the sim from its arrays, a
 * small one by Lodestar's own handler), JSON from a node that answers JSON only (the sim behind a
 * proxy that asks it for JSON), the same balances either way; the SSZ parser's checks.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeaconNodePool,
  getBalances,
  type Lodestar,
  loadLodestar,
  parseBalancesSsz,
  positionsOf,
} from "../src/index.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const N = 700; // above the sim's STREAM_THRESHOLD (500): the large answer is the sim's own
let lodestar: Lodestar;
let sim: Sim;
let jsonOnly: Server;
let jsonOnlyUrl: string;
const seenAccept: string[] = [];

beforeAll(async () => {
  lodestar = await loadLodestar("minimal");
  const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
  sim = await startBeaconSim({ validators: N, fork: "fulu" });
  sim.chain.advanceTo(3 * 8 + 2);
  const target = new URL(sim.url);
  // a node that knows no SSZ: every request is passed on asking for JSON only
  jsonOnly = createServer((req, res) => {
    seenAccept.push(String(req.headers.accept));
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, accept: "application/json" },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => jsonOnly.listen(0, "127.0.0.1", r));
  jsonOnlyUrl = `http://127.0.0.1:${(jsonOnly.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sim?.close();
  await new Promise((r) => jsonOnly?.close(r));
});

const poolOf = (url: string) =>
  BeaconNodePool.init({ urls: [url], preset: "minimal", retries: 1, retryBaseMs: 10, timeoutMs: 5000 });

describe("getBalances", () => {
  it("SSZ from the sim, large and small answers, equal to the chain's balances", async () => {
    const pool = await poolOf(sim.url);
    const all = Array.from({ length: N }, (_, i) => i);
    const expected = new Map(all.map((i) => [i, BigInt(sim.chain.balanceAt(i, 3))]));
    expect(await getBalances(pool, all, { stateId: 3 * 8 })).toEqual(expected);
    const few = [5, 1, 699];
    expect(await getBalances(pool, few, { stateId: 3 * 8 })).toEqual(
      new Map(few.map((i) => [i, expected.get(i)])),
    );
    // chunks of 300: one chunk over the stream threshold would not be; each answer is SSZ anyway
    expect(await getBalances(pool, all, { stateId: 3 * 8, chunkSize: 300 })).toEqual(expected);
    // the answers were SSZ: 16 bytes a validator
    const r = await fetch(`${sim.url}/eth/v1/beacon/states/${3 * 8}/validator_balances`, {
      method: "POST",
      headers: {
        accept: "application/octet-stream;q=1,application/json;q=0.9",
        "content-type": "application/json",
      },
      body: JSON.stringify(all.map(String)),
    });
    expect(r.headers.get("content-type")).toBe("application/octet-stream");
    expect((await r.arrayBuffer()).byteLength).toBe(N * 16);
    expect(await getBalances(pool, [N + 5], { stateId: 3 * 8 })).toEqual(new Map());
    expect(await getBalances(pool, all, { stateId: 999 * 8 })).toBeNull();
  });

  it("a node answering JSON only: the same balances", async () => {
    const pool = await poolOf(jsonOnlyUrl);
    const all = Array.from({ length: N }, (_, i) => i);
    const viaJson = await getBalances(pool, all, { stateId: 3 * 8 });
    expect(viaJson).toEqual(new Map(all.map((i) => [i, BigInt(sim.chain.balanceAt(i, 3))])));
    expect(seenAccept.some((a) => a.startsWith("application/octet-stream;q=1"))).toBe(true);
  });

  it("the SSZ parser refuses a partial record and an index not asked for", () => {
    const type = lodestar.api.routes.beacon.state.ValidatorBalanceListType;
    const recordType = type.elementType as unknown as Parameters<typeof parseBalancesSsz>[2];
    const bytes = type.serialize([
      { index: 3, balance: 32e9 },
      { index: 9, balance: 31e9 },
    ]);
    const out = new Float64Array(2);
    parseBalancesSsz(bytes, positionsOf([9, 3]), recordType, out);
    expect(Array.from(out)).toEqual([31e9, 32e9]);
    expect(() => parseBalancesSsz(bytes, positionsOf([3]), recordType, out)).toThrow(
      /balances: validator 9 was not asked for/,
    );
    expect(() => parseBalancesSsz(bytes, positionsOf([3, 8, 10]), recordType, out)).toThrow(
      /balances: validator 9 was not asked for/,
    );
    expect(() => parseBalancesSsz(bytes.subarray(0, 20), positionsOf([3, 9]), recordType, out)).toThrow(
      /balances: 20 bytes is not a list of 16-byte records/,
    );
    const huge = type.serialize([{ index: 3, balance: 2 ** 53 }]);
    expect(() => parseBalancesSsz(huge, positionsOf([3]), recordType, out)).toThrow(
      /balances: a balance above 2\^53 gwei/,
    );
  });
});
