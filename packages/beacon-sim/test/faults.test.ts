/**
 * Per-node faults switched at runtime (5xx, timeouts, slow answers, syncing, stuck behind), a fleet
 * of sims over one chain, streamed large lists, and no secret in any answer.
 */
import "./env-minimal.js";
import { SecretKey } from "@chainsafe/blst";
import { getClient } from "@lodestar/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BeaconSim, SimChain, startBeaconSim, startFleet } from "../src/index.js";

describe("faults", () => {
  let sim: BeaconSim;
  beforeAll(async () => {
    sim = await startBeaconSim({ validators: 64 });
    sim.chain.advanceTo(6 * 8);
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("error: every request answers the configured 5xx until cleared", async () => {
    const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
    sim.node.addFault({ kind: "error", status: 502 });
    const r = await api.beacon.getGenesis();
    expect(r.status).toBe(502);
    expect(r.ok).toBe(false);
    sim.node.clearFaults();
    expect((await api.beacon.getGenesis()).status).toBe(200);
  });

  it("error limited to a path: other routes still answer", async () => {
    sim.node.addFault({ kind: "error", status: 500, pathContains: "/validator/duties" });
    expect((await fetch(`${sim.url}/eth/v1/validator/duties/proposer/6`)).status).toBe(500);
    expect((await fetch(`${sim.url}/eth/v1/node/version`)).status).toBe(200);
    sim.node.clearFaults("error");
    expect((await fetch(`${sim.url}/eth/v1/validator/duties/proposer/6`)).status).toBe(200);
  });

  it("timeout: the node never answers (the client's timeout fires); clearing lets new requests through", async () => {
    sim.node.addFault({ kind: "timeout" });
    await expect(
      fetch(`${sim.url}/eth/v1/node/version`, { signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    sim.node.clearFaults();
    expect(
      (await fetch(`${sim.url}/eth/v1/node/version`, { signal: AbortSignal.timeout(5000) })).status,
    ).toBe(200);
  });

  it("slow: answers correctly, but not within a timeout shorter than the delay", async () => {
    sim.node.addFault({ kind: "slow", delayMs: 1500 });
    await expect(
      fetch(`${sim.url}/eth/v1/node/version`, { signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    const r = await fetch(`${sim.url}/eth/v1/node/version`, { signal: AbortSignal.timeout(20_000) });
    expect(r.status).toBe(200);
    sim.node.clearFaults();
  });

  it("syncing: is_syncing, health 206, duties 503", async () => {
    const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
    sim.node.addFault({ kind: "syncing" });
    expect((await api.node.getSyncingStatus()).value().isSyncing).toBe(true);
    expect((await api.node.getHealth()).status).toBe(206);
    expect((await api.validator.getProposerDuties({ epoch: 6 })).status).toBe(503);
    sim.node.clearFaults();
    expect((await api.node.getHealth()).status).toBe(200);
  });

  it("stuck: the node's head and finality stay behind while the chain moves on", async () => {
    const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
    const headBefore = sim.chain.headSlot;
    sim.node.addFault({ kind: "stuck" });
    sim.chain.advanceTo(headBefore + 3 * 8);
    const s = (await api.node.getSyncingStatus()).value();
    expect(s.headSlot).toBe(headBefore);
    expect(s.syncDistance).toBe(3 * 8);
    const fin = (await api.beacon.getStateFinalityCheckpoints({ stateId: "head" })).value();
    expect(fin.finalized.epoch).toBeLessThan(sim.chain.currentFinality().finalized.epoch);
    const later =
      [...Array(24).keys()].map((k) => headBefore + 1 + k).find((x) => sim.chain.blockAt(x) !== undefined) ??
      headBefore + 1;
    expect((await api.beacon.getBlockHeader({ blockId: later })).status).toBe(404);
    sim.node.clearFaults();
    expect((await api.node.getSyncingStatus()).value().headSlot).toBe(sim.chain.headSlot);
  });

  it("bad fault input is rejected with the field", () => {
    expect(() => sim.node.addFault({ kind: "explode" })).toThrow(/fault\.kind/);
  });
});

describe("fleet", () => {
  it("three sims over one chain answer the same; one failing, one lagging, one healthy", async () => {
    const fleet = await startFleet(3, { validators: 64 });
    try {
      fleet.chain.advanceTo(5 * 8);
      const [a, b, c] = fleet.sims;
      if (a === undefined || b === undefined || c === undefined) throw new Error("fleet");
      expect(new Set(fleet.sims.map((s) => s.port)).size).toBe(3);
      a.node.addFault({ kind: "error", status: 503 });
      b.node.addFault({ kind: "stuck" });
      fleet.chain.advanceTo(7 * 8);
      const head = async (s: BeaconSim) =>
        (await fetch(`${s.url}/eth/v1/node/syncing`)).json() as Promise<{ data: { head_slot: string } }>;
      expect((await fetch(`${a.url}/eth/v1/node/syncing`)).status).toBe(503);
      expect((await head(b)).data.head_slot).toBe(String(5 * 8));
      expect((await head(c)).data.head_slot).toBe(String(7 * 8));
      const block = async (s: BeaconSim) => (await fetch(`${s.url}/eth/v1/beacon/headers/head`)).json();
      b.node.clearFaults();
      expect(await block(b)).toEqual(await block(c));
    } finally {
      await fleet.close();
    }
  });
});

describe("large lists", () => {
  it("above the threshold, GET and POST validators/balances stream the same JSON as the Lodestar handler", async () => {
    const chain = new SimChain({ validators: 300 });
    chain.advanceTo(3 * 8);
    const streamed = await startBeaconSim({ chain, streamThreshold: 100 });
    const plain = await startBeaconSim({ chain, streamThreshold: Number.POSITIVE_INFINITY });
    try {
      for (const path of [
        "/eth/v1/beacon/states/head/validators",
        "/eth/v1/beacon/states/finalized/validator_balances",
        "/eth/v1/beacon/states/head/validators?status=active_ongoing",
      ]) {
        const [s, p] = await Promise.all([fetch(streamed.url + path), fetch(plain.url + path)]);
        expect(s.status).toBe(200);
        expect(s.headers.get("eth-consensus-finalized")).toBe(p.headers.get("eth-consensus-finalized"));
        const sj = await s.json();
        expect(sj).toEqual(await p.json());
        expect((sj as { data: unknown[] }).data.length).toBe(300);
      }
      const ids = Array.from(
        { length: 150 },
        (_, i) => `0x${Buffer.from(chain.pubkeyOf(i * 2)).toString("hex")}`,
      );
      const post = (url: string, body: unknown) =>
        fetch(`${url}/eth/v1/beacon/states/head/validators`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const [s, p] = await Promise.all([post(streamed.url, { ids }), post(plain.url, { ids })]);
      expect(await s.json()).toEqual(await p.json());
      const api = getClient({ baseUrl: streamed.url }, { config: chain.config });
      const list = (await api.beacon.getStateValidators({ stateId: "head" })).value();
      expect(list.length).toBe(300);
      expect(list[299]?.index).toBe(299);
    } finally {
      await streamed.close();
      await plain.close();
    }
  });
});

describe("secrets", () => {
  it("no answer or error carries a secret key or a rejected exit's signature", async () => {
    const sim = await startBeaconSim({ validators: 64 });
    try {
      sim.chain.advanceTo(4 * 8);
      const sk = sim.chain.secretKeyOfValidator(3) ?? new Uint8Array(32);
      const skHex = Buffer.from(sk).toString("hex");
      const exit = { epoch: 4, validatorIndex: 4 };
      const sig = SecretKey.fromBytes(sk).sign(sim.chain.voluntaryExitSigningRoot(exit)).toBytes();
      const sigHex = Buffer.from(sig).toString("hex");
      const r = await fetch(`${sim.url}/eth/v1/beacon/pool/voluntary_exits`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: { epoch: "4", validator_index: "4" }, signature: `0x${sigHex}` }),
      });
      expect(r.status).toBe(400);
      const text = await r.text();
      expect(text).toContain("invalid voluntary exit signature");
      expect(text).not.toContain(sigHex);
      for (const path of [
        "/eth/v1/beacon/states/head/validators",
        "/eth/v1/config/spec",
        "/eth/v2/beacon/blocks/head",
        "/eth/v1/beacon/pool/voluntary_exits",
      ]) {
        const body = await (await fetch(sim.url + path)).text();
        expect(body).not.toContain(skHex);
        expect(body).not.toContain(sigHex);
      }
      const state = Buffer.from(
        await (
          await fetch(`${sim.url}/eth/v2/debug/beacon/states/head`, {
            headers: { accept: "application/octet-stream" },
          })
        ).arrayBuffer(),
      );
      expect(state.indexOf(Buffer.from(sk))).toBe(-1);
    } finally {
      await sim.close();
    }
  });
});
