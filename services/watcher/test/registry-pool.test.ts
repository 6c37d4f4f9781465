/**
 * registryPoolSource end to end: real signed deposit data (interop-style secret keys) uploaded,
 * vetted and allocated through the registry on PostgreSQL; the deposited pubkeys put on a
 * beacon-sim. The watcher's pool must be exactly the deposited keys with their operators (not the
 * vetted-but-undeposited key that is on chain too, nor the sim's own validators), and the registry's
 * key states must follow the chain: deposited → active, then slashed for the slashed one.
 */
import { createHash } from "node:crypto";
import { loadLodestar, simExecutionLayer } from "@poolkeeper/beacon";
import { fromHex, loadNetwork, toHex } from "@poolkeeper/core";
import { buildDepositData, type DepositDataJson, withdrawalCredentials } from "@poolkeeper/keys";
import { fundPool, keysWei } from "@poolkeeper/ledger/testing";
import { Registry } from "@poolkeeper/registry";
import { exitRequestHistory, findExitRequest, insertExitRequest } from "@poolkeeper/store";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryPoolSource, type Watcher } from "../src/index.js";
import { capturedLogger, closeSimWatcher, simWatcher, until } from "./helpers.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const NETWORK = "minimal";
const CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
const REWARD = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";
const VAULT = "0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f";
const POOL_WC = withdrawalCredentials({ type: 1, address: fromHex(VAULT, "address", 20) });

/** Interop-style secret key i: sha256(i as 32 bytes little-endian) read little-endian, mod r. */
function interopSecretKey(i: number): Uint8Array {
  const le = Buffer.alloc(32);
  le.writeUInt32LE(i, 0);
  const h = createHash("sha256").update(le).digest();
  const n = BigInt(`0x${Buffer.from(h).reverse().toString("hex")}`) % CURVE_ORDER;
  return fromHex(n.toString(16).padStart(64, "0"), "secretKey", 32); // big-endian, as BLS reads it
}

/** Real, signed deposit data of interop keys [from, from + count) for the pool (hoodi). */
function depositEntries(from: number, count: number): DepositDataJson[] {
  const network = loadNetwork("hoodi");
  return Array.from({ length: count }, (_, k) =>
    buildDepositData({
      secretKey: interopSecretKey(from + k),
      withdrawalCredentials: POOL_WC,
      amountGwei: 32_000_000_000n,
      network,
    }),
  );
}

describe("watcher with registryPoolSource on PostgreSQL + Redis + beacon-sim", () => {
  let sim: Sim;
  let store: TestStore;
  let registry: Registry;
  let watcher: Watcher | undefined;
  const { logger, logs } = capturedLogger("info");
  // operator A: 4 keys uploaded, 3 vetted; operator B: 3 uploaded, 2 vetted. 4 allocated (2 + 2).
  const dataA = depositEntries(9000, 4);
  const dataB = depositEntries(9100, 3);
  let opA = 0;
  let opB = 0;
  let deposited: Array<{ pubkey: string; operatorId: number }> = [];
  let vettedOnly: string[] = [];

  beforeAll(async () => {
    await loadLodestar("minimal");
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    sim = await startBeaconSim({ validators: 64, seed: "h5-registry-pool" });
    store = await createTestStore("postgres");
    // stakers first: the batch below is paid from the pool's buffer
    const payer = await fundPool(store, keysWei(4));
    registry = new Registry(
      { store, payer },
      { network: loadNetwork("hoodi"), withdrawalCredentials: POOL_WC },
    );
    opA = (await registry.createOperator({ name: "op-a", rewardAddress: REWARD, vettedLimit: 3 }, "test:dao"))
      .id;
    opB = (await registry.createOperator({ name: "op-b", rewardAddress: REWARD, vettedLimit: 2 }, "test:dao"))
      .id;
    await registry.uploadKeys(opA, dataA, "test:operator-a");
    await registry.uploadKeys(opB, dataB, "test:operator-b");
    await registry.vetKeys(opA, "test:dao");
    await registry.vetKeys(opB, "test:dao");
    const batch = await registry.allocateDepositBatch(4, "test:allocator");
    deposited = batch.keys.map((k) => ({ pubkey: toHex(k.depositData.pubkey), operatorId: k.operatorId }));
    const depositedSet = new Set(deposited.map((k) => k.pubkey));
    vettedOnly = [...dataA, ...dataB]
      .map((e) => e.pubkey)
      .filter((p) => !depositedSet.has(p))
      .slice(0, 1);

    watcher = await simWatcher({
      simUrl: sim.url,
      store,
      pool: registryPoolSource(store, registry),
      logger,
      // late exits: the pool's EIP-7002 request from the withdrawal vault (the validators' credentials)
      execution: simExecutionLayer(sim.url, { withdrawalVault: VAULT, elRewardsVault: REWARD }),
    });
    watcher.start();
  });
  afterAll(() => closeSimWatcher({ watcher, sim, store }));

  async function stored(): Promise<number> {
    const r = await store.query<{ m: bigint | null }>(
      "SELECT max(epoch) AS m FROM watcher_network_epochs WHERE network = $1",
      [NETWORK],
    );
    return Number(r.rows[0]?.m ?? 0);
  }

  async function keyStates(): Promise<Map<string, string>> {
    const r = await store.query<{ pk: string; state: string }>(
      "SELECT encode(pubkey, 'hex') AS pk, state FROM keys",
    );
    return new Map(r.rows.map((x) => [x.pk, x.state]));
  }

  it("allocated 2 + 2 keys by MinFirst; the pool source gives exactly those with their operators", async () => {
    expect(deposited.filter((k) => k.operatorId === opA)).toHaveLength(2);
    expect(deposited.filter((k) => k.operatorId === opB)).toHaveLength(2);
    const keys = await registryPoolSource(store, registry).keys();
    expect(
      keys
        .map((k) => ({ pubkey: k.pubkey, operatorId: k.operatorId }))
        .sort((a, b) => a.pubkey.localeCompare(b.pubkey)),
    ).toEqual([...deposited].sort((a, b) => a.pubkey.localeCompare(b.pubkey)));
    for (const k of keys) expect(k.keyState).toBe("deposited");
  });

  it("the deposited keys activate on the sim: the watcher's validators are exactly them, and the registry says active", async () => {
    // epochs before the deposits: pool keys not on chain yet are no validators (and no error)
    for (let i = 0; i < 6; i++) sim.chain.advanceEpochs(1);
    await until("epochs before the deposits stored", async () => (await stored()) >= 1);
    expect((await keyStates()).size).toBe(7);
    // the deposits (and one vetted key deposited by someone else, outside the pool) reach the chain
    const indices = sim.chain.addValidators(
      [...deposited.map((k) => k.pubkey), ...vettedOnly].map((p) => fromHex(p, "pubkey", 48)),
      POOL_WC,
    );
    expect(indices).toHaveLength(5);
    // the chain's delays, no more: the deposits wait in pending_deposits for finality and the
    // balance churn (a few per epoch), then activation; the watcher stores a validator with its
    // first duty, in its activation epoch A, and processes A once A + 2 is finalized. (The registry
    // says active an epoch earlier: the status at the end of epoch A - 1 is already active_ongoing.)
    const poolIndices = indices.slice(0, deposited.length);
    let lastActivation = Number.POSITIVE_INFINITY;
    let advanced = 0;
    while (sim.chain.currentFinality().finalized.epoch < lastActivation + 2) {
      sim.chain.advanceEpochs(1);
      advanced++;
      // epoch by epoch, the watcher keeping up: it sees the deposits while they are pending
      const fin = sim.chain.currentFinality().finalized.epoch;
      await until("the watcher keeps up", async () => (await stored()) >= fin - 2);
      const head = sim.chain.epochOf(sim.chain.headSlot);
      // not activated yet: a far-future activation epoch
      lastActivation = Math.max(...poolIndices.map((i) => sim.chain.validatorAt(i, head).activationEpoch));
      expect(advanced).toBeLessThan(30);
    }
    await until(
      "deposited keys active in the registry, epochs processed up to the last activation",
      async () => {
        const st = await keyStates();
        return deposited.every((k) => st.get(k.pubkey) === "active") && (await stored()) >= lastActivation;
      },
      60_000,
    ).catch((e) => {
      console.log(logs.join("").slice(-4000));
      throw e;
    });
    const st = await keyStates();
    for (const p of vettedOnly) expect(st.get(p)).toBe("vetted"); // on chain, but not the pool's deposit
    const r = await store.query<{ pk: string; operator_id: number; validator_index: number }>(
      "SELECT encode(pubkey, 'hex') AS pk, operator_id, validator_index FROM watcher_validators WHERE network = $1 ORDER BY validator_index",
      [NETWORK],
    );
    expect(r.rows.map((x) => ({ pubkey: x.pk, operatorId: x.operator_id }))).toEqual(
      deposited
        .map((k, i) => ({ ...k, index: indices[i] as number }))
        .sort((a, b) => a.index - b.index)
        .map(({ pubkey, operatorId }) => ({ pubkey, operatorId })),
    );
    // the registry history says who moved them and why
    const k0 = await registry.getKey(deposited[0]?.pubkey as string);
    expect(k0.history.map((h) => [h.fromState, h.toState, h.actor])).toEqual([
      [null, "submitted", "test:operator-a"],
      ["submitted", "vetted", "test:dao"],
      ["vetted", "deposited", "test:allocator"],
      ["deposited", "active", "watcher"],
    ]);
    expect(k0.history[3]?.reason).toMatch(/^beacon status active_ongoing at the end of epoch \d+$/);
  });

  it("each deposited key's pending deposit was seen on chain before its validator activated", async () => {
    for (const k of deposited) {
      const key = await registry.getKey(k.pubkey);
      const index = sim.chain.indexOfPubkey(fromHex(k.pubkey, "pubkey", 48));
      const activation = sim.chain.validatorAt(index, sim.chain.epochOf(sim.chain.headSlot)).activationEpoch;
      expect(key.chainDeposit).toMatchObject({ amountGwei: 32_000_000_000n });
      expect(toHex(key.chainDeposit?.withdrawalCredentials as Uint8Array)).toBe(toHex(POOL_WC));
      expect(key.chainDeposit?.slot).toBeGreaterThan(0);
      expect(key.chainDeposit?.seenEpoch).toBeLessThan(activation);
    }
    // not the pool's deposit (its key stays vetted): not recorded
    expect((await registry.getKey(vettedOnly[0] as string)).chainDeposit).toBeNull();
  });

  it("a slashing on chain moves that key to slashed in the registry, the others stay active", async () => {
    const victim = deposited[1]?.pubkey as string;
    const index = sim.chain.indexOfPubkey(fromHex(victim, "pubkey", 48));
    sim.chain.scheduleSlashing(index, sim.chain.epochOf(sim.chain.headSlot) + 1);
    for (let i = 0; i < 8; i++) sim.chain.advanceEpochs(1);
    await until("slashed in the registry", async () => (await keyStates()).get(victim) === "slashed", 60_000);
    const st = await keyStates();
    for (const k of deposited) if (k.pubkey !== victim) expect(st.get(k.pubkey)).toBe("active");
  });

  it("exit requests: an operator's voluntary exit is marked voluntary; a late one is triggered by EIP-7002 and exits", async () => {
    const [voluntary, late] = [deposited[2]!, deposited[3]!];
    const indexOf = (pk: string) => sim.chain.indexOfPubkey(fromHex(pk, "pubkey", 48));
    const keyId = async (pk: string) =>
      (await store.query<{ id: number }>("SELECT id FROM keys WHERE pubkey = decode($1, 'hex')", [pk]))
        .rows[0]!.id;
    const now = await stored();
    const request = async (k: { pubkey: string; operatorId: number }, deadline: number) =>
      (
        await insertExitRequest(store, {
          operatorId: k.operatorId,
          keyId: await keyId(k.pubkey),
          validatorIndex: indexOf(k.pubkey),
          reason: "dao",
          note: "watcher test",
          refSlot: null,
          requestedEpoch: now,
          deadlineEpoch: now + deadline,
          actor: "test:dao",
        })
      ).id;
    const vId = await request(voluntary, 1000);
    const lId = await request(late, 1); // past its deadline two epochs from now
    // the operator of `voluntary` exits it itself; nobody exits `late`
    sim.chain.scheduleExit(indexOf(voluntary.pubkey), sim.chain.epochOf(sim.chain.headSlot) + 1);
    const done = async () =>
      (await findExitRequest(store, vId))?.state === "exited" &&
      (await findExitRequest(store, lId))?.state === "exited";
    for (let advanced = 0; !(await done()); advanced++) {
      expect(advanced, "epochs advanced before both exited").toBeLessThan(40);
      sim.chain.advanceEpochs(1);
      const fin = sim.chain.currentFinality().finalized.epoch;
      // the watcher keeping up, epoch by epoch
      await until("the watcher keeps up", async () => (await stored()) >= fin - 2, 60_000).catch((e) => {
        console.log(logs.join("").slice(-4000));
        throw e;
      });
    }
    const v = (await findExitRequest(store, vId))!;
    const l = (await findExitRequest(store, lId))!;
    expect([v.exitedBy, l.exitedBy]).toEqual(["voluntary", "triggered"]);
    expect((await exitRequestHistory(store, vId)).map((e) => e.state)).toEqual([
      "requested",
      "exiting",
      "exited",
    ]);
    const lHistory = await exitRequestHistory(store, lId);
    expect(lHistory.map((e) => e.state)).toEqual(["requested", "late", "triggered", "exiting", "exited"]);
    expect(lHistory.slice(1).every((e) => e.actor === "watcher")).toBe(true);
    expect(l.triggeredBy).toBe("watcher");
    expect(l.triggeredAt).toBeInstanceOf(Date);
    // the chain exited it: the registry key follows to exited
    await until(
      "the late key exited in the registry",
      async () => (await keyStates()).get(late.pubkey) === "exited",
    );
  });
});
