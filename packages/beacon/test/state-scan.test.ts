/**
 * The watcher's fast path for balances and statuses, StateScanner over a streamed SSZ state,
 * against the plain ways on the same state: a full @lodestar/types decode of the bytes and the
 * validator routes of the same node (what the reader asks a node without SSZ states). Then
 * EpochDutiesReader's whole results from a node serving SSZ against those from the same chain
 * behind a proxy that asks for JSON only (the routes path), cold and with the reader's caches.
 * Deneb and Fulu chains with a slashed validator, voluntary exits, queued deposits and, on Fulu,
 * withdrawable validators.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeaconNodePool,
  EpochDutiesReader,
  getValidators,
  type Lodestar,
  loadLodestar,
  NO_STATUS,
  type StateScan,
  StateScanner,
  VALIDATOR_STATUSES,
} from "../src/index.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const N = 64;
const SLASHED = 10;
const EXITING = [20, 21];
let lodestar: Lodestar;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  lodestar = await loadLodestar("minimal");
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function chain(fork: "deneb" | "fulu"): Promise<Sim> {
  const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
  const sim = await startBeaconSim({
    validators: N,
    fork,
    seed: "state-scan",
    scenario: {
      behaviours: [{ validators: "40-43", behaviour: "offline", from: 2, to: 3 }],
      slashings: [{ validator: SLASHED, epoch: 2 }],
      exits: [
        { validator: EXITING[0], epoch: 2 },
        { validator: EXITING[1], epoch: 1 },
      ],
    },
  });
  closers.push(() => sim.close());
  sim.chain.advanceTo(3 * 8 + 2);
  sim.chain.addValidators(2, undefined, 32e9); // queued deposits: pending_queued validators later
  sim.chain.advanceTo(13 * 8 + 1);
  return sim;
}

/**
 * The sim behind a proxy that logs each request (method and path); with `jsonOnly`, a node that
 * knows no SSZ: every request passed on asking for JSON only.
 */
async function proxy(target: string, jsonOnly: boolean, log: string[] = []): Promise<string> {
  const t = new URL(target);
  const server: Server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const up = request(
      {
        host: t.hostname,
        port: t.port,
        path: req.url,
        method: req.method,
        headers: jsonOnly ? { ...req.headers, accept: "application/json" } : req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const poolOf = (url: string) =>
  BeaconNodePool.init({ urls: [url], preset: "minimal", retries: 1, retryBaseMs: 10, timeoutMs: 20_000 });

async function sszState(sim: Sim, slot: number): Promise<{ fork: string; bytes: Uint8Array }> {
  const r = await fetch(`${sim.url}/eth/v2/debug/beacon/states/${slot}`, {
    headers: { accept: "application/octet-stream" },
  });
  expect(r.status).toBe(200);
  return { fork: r.headers.get("eth-consensus-version") ?? "", bytes: new Uint8Array(await r.arrayBuffer()) };
}

function scanInChunks(fork: string, bytes: Uint8Array, size: number, indices: number[]): StateScan {
  const s = new StateScanner(lodestar.types, fork, {
    effectiveBalances: true,
    validators: { indices, slotsPerEpoch: 8 },
  });
  for (let o = 0; o < bytes.length; o += size) s.push(bytes.subarray(o, o + size));
  return s.finish();
}

/**
 * Every validator of the state at `slot` (and two indices past its registry), scanned in chunks
 * that split records and uint64s anywhere, equal to the full decode and to the node's routes.
 * Returns the statuses seen.
 */
async function compareAt(sim: Sim, slot: number): Promise<Set<string>> {
  const { fork, bytes } = await sszState(sim, slot);
  const types = lodestar.types.ssz as unknown as Record<
    string,
    { BeaconState: { deserialize(b: Uint8Array): Record<string, unknown> } }
  >;
  const full = types[fork]!.BeaconState.deserialize(bytes) as unknown as {
    validators: Array<{ effectiveBalance: number; slashed: boolean; exitEpoch: number }>;
    balances: number[];
  };
  const count = full.validators.length;
  // in no particular order, with indices the state does not have
  const indices = [count + 5, ...Array.from({ length: count }, (_, i) => (i * 7) % count), count];
  expect(new Set(indices).size).toBe(indices.length);
  const pool = await poolOf(sim.url);
  const byRoute = new Map(
    (await getValidators(pool, indices, { stateId: slot, chunkSize: 1000 })).map((v) => [v.index, v]),
  );
  expect(byRoute.size).toBe(count);
  const seen = new Set<string>();
  for (const size of [7, 121, 4096, bytes.length]) {
    const scan = scanInChunks(fork, bytes, size, indices);
    expect(scan.slot).toBe(slot);
    expect(scan.validatorCount).toBe(count);
    expect([...(scan.eth ?? [])]).toEqual(full.validators.map((v) => Math.floor(v.effectiveBalance / 1e9)));
    const v = scan.validators!;
    indices.forEach((i, k) => {
      const route = byRoute.get(i);
      if (i >= count) {
        expect(route).toBeUndefined();
        expect(v.status[k]).toBe(NO_STATUS);
        expect(v.balance[k]).toBeNaN();
        return;
      }
      const status = VALIDATOR_STATUSES[v.status[k] as number];
      seen.add(status as string);
      // the plain decode of the same bytes
      expect(v.balance[k]).toBe(full.balances[i]);
      expect(v.slashed[k] === 1).toBe(full.validators[i]?.slashed);
      expect(v.exitEpoch[k]).toBe(full.validators[i]?.exitEpoch);
      // the node's validator routes on the same state
      expect({ i, status, balance: BigInt(v.balance[k] as number) }).toEqual({
        i,
        status: route?.status,
        balance: route?.balance,
      });
      expect(v.exitEpoch[k] === Number.POSITIVE_INFINITY ? null : v.exitEpoch[k]).toBe(route?.exitEpoch);
    });
  }
  return seen;
}

describe.each(["deneb", "fulu"] as const)(
  "StateScanner against the full decode and the routes (%s)",
  (fork) => {
    let sim: Sim;
    beforeAll(async () => {
      sim = await chain(fork);
    });

    it("balances, statuses, slashed flags and exit epochs of every validator, at several states", async () => {
      const seen = new Set<string>();
      for (const epoch of [2, 4, 8, 13]) for (const s of await compareAt(sim, epoch * 8)) seen.add(s);
      for (const s of [
        "active_ongoing",
        "active_slashed",
        "active_exiting",
        "exited_slashed",
        "exited_unslashed",
        "pending_queued",
      ])
        expect(seen).toContain(s);
    });

    it("the reader's results from the SSZ states equal those by the routes, cold and with its caches", async () => {
      const sszLog: string[] = [];
      const routesLog: string[] = [];
      const viaSsz = new EpochDutiesReader(await poolOf(await proxy(sim.url, false, sszLog)));
      const viaRoutes = new EpochDutiesReader(await poolOf(await proxy(sim.url, true, routesLog)));
      const validators = [...Array.from({ length: N + 2 }, (_, i) => i), N + 9];
      for (const epoch of [2, 3, 7, 8]) {
        const fast = await viaSsz.epochDuties(epoch, { validators });
        const plain = await viaRoutes.epochDuties(epoch, { validators });
        expect(fast).toEqual(plain);
        // something to compare: statuses other than active_ongoing, balances at both ends
        expect(fast.validators.some((v) => v.status !== "active_ongoing" && v.status !== null)).toBe(true);
        expect(
          fast.validators.filter((v) => v.balanceStart !== null && v.balanceEnd !== null).length,
        ).toBeGreaterThanOrEqual(N);
        expect(fast.validators.find((v) => v.validatorIndex === N + 9)?.status).toBeNull();
      }
      // the fast path read the states, not the validator routes; the plain one the routes
      const routes = (log: string[]) => log.filter((l) => /\/validator(s|_balances)\b/.test(l));
      expect(routes(sszLog)).toEqual([]);
      expect(sszLog.some((l) => l.startsWith(`GET /eth/v2/debug/beacon/states/${9 * 8}`))).toBe(true);
      expect(routes(routesLog).length).toBeGreaterThan(0);
    });
  },
);

describe("StateScanner: withdrawable validators (Fulu)", () => {
  it("withdrawal_possible and withdrawal_done as the routes say, after the withdrawability delay", async () => {
    const sim = await chain("fulu");
    const delay = sim.chain.config.MIN_VALIDATOR_WITHDRAWABILITY_DELAY;
    const epoch = sim.chain.validatorAt(EXITING[1] as number, 13).exitEpoch + delay + 1;
    sim.chain.advanceTo(epoch * 8 + 1);
    const seen = await compareAt(sim, epoch * 8);
    expect([...seen].some((s) => s.startsWith("withdrawal_"))).toBe(true);
  }, 120_000);
});
