/**
 * The sim's execution-layer side over HTTP: deposit requests (EIP-6110) and withdrawal requests
 * (EIP-7002) posted to /poolkeeper/v1/execution/..., carried by the next block, seen through the
 * Beacon API (pending_deposits, the validator's exit); the deposit log read back by GET.
 */
import "./env-minimal.js";
import { afterAll, describe, expect, it } from "vitest";
import {
  type BeaconSim,
  derivePubkeys,
  EXECUTION_ROUTES,
  type SimFork,
  startBeaconSim,
} from "../src/index.js";
import { hex, wc } from "./bytes.js";
import { signedDeposit } from "./deposits.js";

const ETH = 1_000_000_000;
const SIGNATURE = hex(new Uint8Array(96).fill(0xc0));
/** A key outside the chain's 64 genesis validators. */
function freshPubkey(i: number): string {
  const out = new Uint8Array(48);
  derivePubkeys(100 + i, 1, out);
  return hex(out);
}

const sims: BeaconSim[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});
async function start(fork: SimFork, scenario: Record<string, unknown> = {}): Promise<BeaconSim> {
  const sim = await startBeaconSim({ validators: 64, fork, scenario });
  sims.push(sim);
  return sim;
}
interface Answer {
  data: Record<string, string | null>;
  message?: string;
}
interface ValidatorAnswer {
  data: { index: string; balance: string; status: string; validator: Record<string, string> };
}
async function post(sim: BeaconSim, path: string, body: unknown): Promise<{ status: number; json: Answer }> {
  const res = await fetch(`${sim.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Answer };
}
async function get<T>(sim: BeaconSim, path: string): Promise<T> {
  const res = await fetch(`${sim.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe("POST /poolkeeper/v1/execution/deposit_requests", () => {
  it("queues the deposit in pending_deposits from the next block; a second deposit to the pending key keeps the first credentials; a new key's deposit with an invalid signature is dropped", async () => {
    const sim = await start("fulu");
    sim.chain.advanceTo(19);
    const body = (d: ReturnType<typeof signedDeposit>) => ({
      pubkey: hex(d.pubkey),
      withdrawal_credentials: hex(d.withdrawalCredentials),
      amount: String(d.amountGwei),
      signature: hex(d.signature),
    });
    const first = body(signedDeposit(sim.chain, 100, wc(1, 0x33), 32 * ETH));
    const pubkey = first.pubkey;
    const a = await post(sim, EXECUTION_ROUTES.depositRequests, first);
    expect(a.status).toBe(200);
    expect(a.json.data).toEqual({ ...first, validator_index: "64" });
    const second = body(signedDeposit(sim.chain, 100, wc(1, 0x44), 32 * ETH));
    const b = await post(sim, EXECUTION_ROUTES.depositRequests, second);
    expect(b.status).toBe(200);
    expect(b.json.data.validator_index).toBe("64");
    // key 101 with key 100's signature: queued (the deposit contract takes it), no index
    const forged = {
      ...body(signedDeposit(sim.chain, 101, wc(1, 0x55), 32 * ETH)),
      signature: first.signature,
    };
    const f = await post(sim, EXECUTION_ROUTES.depositRequests, forged);
    expect(f.status).toBe(200);
    expect(f.json.data).toEqual({ ...forged, validator_index: null });
    // the deposit log: all three given, none carried by a block yet
    type Log = { head_slot: string; data: Array<Record<string, string | null>> };
    const logged = (d: typeof first, index: string | null, slot: string | null) => ({
      pubkey: d.pubkey,
      withdrawal_credentials: d.withdrawal_credentials,
      amount: d.amount,
      signature: d.signature,
      index,
      slot,
    });
    const log0 = await get<Log>(sim, `${EXECUTION_ROUTES.depositRequests}?from_slot=0`);
    expect(log0).toEqual({
      head_slot: "19",
      data: [first, second, forged].map((d) => logged(d, null, null)),
    });

    sim.chain.advanceTo(3 * 8);
    // carried by the block at slot 20, numbered after the 64 genesis deposits
    const log1 = await get<Log>(sim, EXECUTION_ROUTES.depositRequests);
    expect(log1.data).toEqual([first, second, forged].map((d, k) => logged(d, String(64 + k), "20")));
    expect((await get<Log>(sim, `${EXECUTION_ROUTES.depositRequests}?from_slot=21`)).data).toEqual([]);
    const bad = await fetch(`${sim.url}${EXECUTION_ROUTES.depositRequests}?from_slot=-1`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^from_slot: /);
    const pending = await get<{ data: Array<Record<string, string>> }>(
      sim,
      "/eth/v1/beacon/states/head/pending_deposits",
    );
    expect(
      pending.data.map((d) => [d.pubkey, d.withdrawal_credentials, d.amount, d.signature, d.slot]),
    ).toEqual(
      [first, second, forged].map((d) => [d.pubkey, d.withdrawal_credentials, d.amount, d.signature, "20"]),
    );
    sim.chain.advanceTo(6 * 8);
    const v = await get<ValidatorAnswer>(sim, `/eth/v1/beacon/states/head/validators/${pubkey}`);
    expect(v.data.index).toBe("64");
    expect(v.data.validator.withdrawal_credentials).toBe(hex(wc(1, 0x33)));
    expect(sim.chain.balanceAt(64, 5)).toBe(64 * ETH);
    const none = await fetch(`${sim.url}/eth/v1/beacon/states/head/validators/${forged.pubkey}`);
    expect(none.status).toBe(404);
    expect((await get<{ data: unknown[] }>(sim, "/eth/v1/beacon/states/head/pending_deposits")).data).toEqual(
      [],
    );
  });

  it("400 naming the field for bad input, nothing queued; 400 on a deneb chain", async () => {
    const sim = await start("electra");
    const good = {
      pubkey: freshPubkey(1),
      withdrawal_credentials: hex(wc(1, 0x55)),
      amount: String(32 * ETH),
      signature: SIGNATURE,
    };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...good, pubkey: "0x1234" }, /^pubkey: must be 0x-prefixed hex of 48 bytes/],
      [{ ...good, withdrawal_credentials: undefined }, /^withdrawal_credentials: /],
      [{ ...good, amount: 32 }, /^amount: must be a decimal string of gwei/],
      [{ ...good, amount: "100" }, /^amount: .*at least 1 ETH/],
      [{ ...good, signature: "0xzz" }, /^signature: /],
    ];
    for (const [body, message] of cases) {
      const r = await post(sim, EXECUTION_ROUTES.depositRequests, body);
      expect(r.status).toBe(400);
      expect(r.json.message).toMatch(message);
    }
    const n = sim.chain.n;
    sim.chain.advanceTo(8);
    expect(sim.chain.n).toBe(n);
    expect(
      (await get<{ data: Array<Record<string, string>> }>(sim, "/eth/v1/beacon/states/head/pending_deposits"))
        .data,
    ).toEqual([]);

    const deneb = await start("deneb");
    const r = await post(deneb, EXECUTION_ROUTES.depositRequests, good);
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/^deposit request: needs an electra or fulu chain \(this one is deneb\)/);
  });
});

describe("POST /poolkeeper/v1/execution/withdrawal_requests", () => {
  it("a full exit asked by the validator's withdrawal address exits it; another address's request is carried and dropped", async () => {
    const sim = await start("fulu", { withdrawalCredentials: hex(wc(1, 0x88)) });
    const c = sim.chain;
    c.advanceTo(19);
    const body = {
      validator_pubkey: hex(c.pubkeyOf(4)),
      amount: "0",
      source_address: hex(wc(1, 0x88).subarray(12)),
    };
    const a = await post(sim, EXECUTION_ROUTES.withdrawalRequests, body);
    expect(a.status).toBe(200);
    expect(a.json.data).toEqual({ ...body, validator_index: "4" });
    const b = await post(sim, EXECUTION_ROUTES.withdrawalRequests, {
      ...body,
      validator_pubkey: hex(c.pubkeyOf(5)),
      source_address: hex(new Uint8Array(20).fill(0x99)),
    });
    expect(b.status).toBe(200);
    c.advanceTo(3 * 8);
    const block = await get<{
      data: { message: { body: { execution_requests: { withdrawals: unknown[] } } } };
    }>(sim, "/eth/v2/beacon/blocks/20");
    expect(block.data.message.body.execution_requests.withdrawals).toEqual([
      { source_address: body.source_address, validator_pubkey: body.validator_pubkey, amount: "0" },
      {
        source_address: hex(new Uint8Array(20).fill(0x99)),
        validator_pubkey: hex(c.pubkeyOf(5)),
        amount: "0",
      },
    ]);
    const v4 = await get<ValidatorAnswer>(sim, "/eth/v1/beacon/states/head/validators/4");
    expect(v4.data.status).toBe("active_exiting");
    expect(v4.data.validator.exit_epoch).toBe("7");
    const v5 = await get<ValidatorAnswer>(sim, "/eth/v1/beacon/states/head/validators/5");
    expect(v5.data.status).toBe("active_ongoing");
    c.advanceTo(7 * 8);
    expect((await get<ValidatorAnswer>(sim, "/eth/v1/beacon/states/head/validators/4")).data.status).toBe(
      "exited_unslashed",
    );
  });

  it("400 naming the field for bad input or an unknown key, nothing queued; 400 on a deneb chain", async () => {
    const sim = await start("electra", { withdrawalCredentials: hex(wc(1, 0x88)) });
    const c = sim.chain;
    const good = {
      validator_pubkey: hex(c.pubkeyOf(4)),
      amount: "0",
      source_address: hex(wc(1, 0x88).subarray(12)),
    };
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good, validator_pubkey: undefined }, /^validator_pubkey: must be 0x-prefixed hex of 48 bytes/],
      [{ ...good, validator_pubkey: freshPubkey(2) }, /^validator_pubkey: is not in the registry/],
      [{ ...good, amount: "-1" }, /^amount: must be a decimal string of gwei/],
      [
        { ...good, source_address: hex(new Uint8Array(32)) },
        /^source_address: must be 0x-prefixed hex of 20 bytes/,
      ],
      [[good], /^body: must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const r = await post(sim, EXECUTION_ROUTES.withdrawalRequests, body);
      expect(r.status).toBe(400);
      expect(r.json.message).toMatch(message);
    }
    c.advanceTo(2 * 8);
    for (let s = 1; s <= 2 * 8; s++)
      expect(c.blockAt(s)?.message.body).not.toHaveProperty("executionRequests.withdrawals.0");

    const deneb = await start("deneb");
    const r = await post(deneb, EXECUTION_ROUTES.withdrawalRequests, {
      ...good,
      validator_pubkey: hex(deneb.chain.pubkeyOf(4)),
    });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(
      /^withdrawal request: needs an electra or fulu chain \(this one is deneb\)/,
    );
  });
});

describe("POST /poolkeeper/v1/execution/consolidation_requests", () => {
  it("a switch to compounding asked by the withdrawal address: carried by the next block, 0x02 from the next state; bad input 400 naming the field; 400 on a deneb chain", async () => {
    const sim = await start("fulu", { withdrawalCredentials: hex(wc(1, 0x88)) });
    const c = sim.chain;
    c.advanceTo(19);
    const body = {
      source_address: hex(wc(1, 0x88).subarray(12)),
      source_pubkey: hex(c.pubkeyOf(6)),
      target_pubkey: hex(c.pubkeyOf(6)),
    };
    const a = await post(sim, EXECUTION_ROUTES.consolidationRequests, body);
    expect(a.status).toBe(200);
    expect(a.json.data).toEqual({ ...body, source_index: "6", target_index: "6" });
    const cases: Array<[unknown, RegExp]> = [
      [{ ...body, source_pubkey: "0x12" }, /^source_pubkey: must be 0x-prefixed hex of 48 bytes/],
      [{ ...body, target_pubkey: freshPubkey(3) }, /^target_pubkey: is not in the registry/],
      [{ ...body, source_address: undefined }, /^source_address: must be 0x-prefixed hex of 20 bytes/],
    ];
    for (const [bad, message] of cases) {
      const r = await post(sim, EXECUTION_ROUTES.consolidationRequests, bad);
      expect(r.status).toBe(400);
      expect(r.json.message).toMatch(message);
    }
    c.advanceTo(3 * 8);
    const block = await get<{
      data: { message: { body: { execution_requests: { consolidations: unknown[] } } } };
    }>(sim, "/eth/v2/beacon/blocks/20");
    expect(block.data.message.body.execution_requests.consolidations).toEqual([body]);
    const v6 = await get<ValidatorAnswer>(sim, "/eth/v1/beacon/states/head/validators/6");
    expect(v6.data.validator.withdrawal_credentials).toBe(hex(wc(2, 0x88)));

    const deneb = await start("deneb");
    const r = await post(deneb, EXECUTION_ROUTES.consolidationRequests, body);
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(
      /^consolidation request: needs an electra or fulu chain \(this one is deneb\)/,
    );
  });
});
