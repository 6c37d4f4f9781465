/**
 * Issue 9 §2: a key whose stored deposit data is not the pool's (other withdrawal credentials,
 * another fork version) must never reach a deposit batch, even when it got into the database
 * around the upload checks (drift, simulated by inserting the row directly): the allocation checks
 * every picked key again and refuses the batch whole.
 */
import { randomBytes } from "node:crypto";
import { fromHex, loadNetwork, toHex0x } from "@poolkeeper/core";
import { withdrawalCredentials } from "@poolkeeper/keys";
import type { PoolLedger } from "@poolkeeper/ledger";
import { fundPool, keysWei } from "@poolkeeper/ledger/testing";
import { type DepositDataRow, insertKeys, readPoolIdentity, setChangeContext } from "@poolkeeper/store";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../src/index.js";
import { depositData, NETWORK, POOL_WC, SETTINGS } from "./fixtures.js";

const REWARD = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";
const OTHER_WC = withdrawalCredentials({
  type: 1,
  address: fromHex("b9d7934878b5fb9610b3fe8a5e441e8fad7e293f", "address", 20),
});
const SEPOLIA = loadNetwork("sepolia");

/** A key row as an upload would store it, with the given credentials and fork version. */
function driftedRow(wc: Uint8Array, forkVersion: Uint8Array, networkName: string): DepositDataRow {
  return {
    pubkey: randomBytes(48),
    withdrawalCredentials: wc,
    amountGwei: 32_000_000_000n,
    signature: randomBytes(96),
    depositMessageRoot: randomBytes(32),
    depositDataRoot: randomBytes(32),
    forkVersion,
    networkName,
    depositCliVersion: "2.7.0",
  };
}

describe.each(TEST_STORE_KINDS)("pool identity at allocation on %s", (kind) => {
  let store: TestStore;
  let registry: Registry;
  let payer: PoolLedger;
  let seq = 0;

  beforeAll(async () => {
    store = await createTestStore(kind);
    payer = await fundPool(store, keysWei(10));
    registry = new Registry({ store, payer }, SETTINGS);
  });
  afterAll(async () => {
    await store?.dispose();
  });

  /** An operator with `good` uploaded keys, then one drifted row inserted directly, all vetted. */
  async function operatorWithDrift(good: number, drift: DepositDataRow): Promise<number> {
    const op = await registry.createOperator({ name: `op-${kind}-${++seq}`, rewardAddress: REWARD }, "t");
    if (good > 0) await registry.uploadKeys(op.id, depositData(seq * 10, good), "t");
    await store.transaction(async (tx) => {
      await setChangeContext(tx, "test:drift", "simulated drift");
      await insertKeys(tx, op.id, [drift]);
    });
    await registry.updateOperator(op.id, { vettedLimit: good + 1 }, "t");
    return op.id;
  }

  const snapshot = async () => ({
    batches: (await store.query("SELECT id FROM deposit_batches ORDER BY id")).rows,
    states: (await store.query("SELECT key_id, state FROM key_states ORDER BY key_id")).rows,
    events: (await store.query<{ n: bigint }>("SELECT count(*) AS n FROM key_events")).rows[0]!.n,
    audit: (await store.query("SELECT id FROM audit_log WHERE action = 'deposits.allocate'")).rows,
    cursors: (await store.query("SELECT * FROM operator_deposit_cursors ORDER BY operator_id")).rows,
    ledger: (await store.query("SELECT seq, kind FROM ledger_entries ORDER BY seq")).rows,
  });

  it("refuses a batch whole when a key has other withdrawal credentials, naming the key and the field", async () => {
    const drift = driftedRow(OTHER_WC, NETWORK.genesisForkVersion, NETWORK.name);
    const op = await operatorWithDrift(2, drift);
    const before = await snapshot();
    const err = await registry.allocateDepositBatch(3, "test:admin").then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string; details?: Record<string, unknown> },
    );
    expect(err?.code).toBe("ERR_CONFLICT");
    expect(err?.message).toContain(toHex0x(drift.pubkey));
    expect(err?.message).toContain(
      `withdrawal_credentials ${toHex0x(OTHER_WC)} is not the pool's ${toHex0x(POOL_WC)}`,
    );
    expect(err?.details).toMatchObject({ pubkey: toHex0x(drift.pubkey), field: "withdrawal_credentials" });
    // nothing half-applied: no batch, no state change, no history, no audit row, no cursor moved
    expect(await snapshot()).toEqual(before);
    // the operator's good keys still go, in a batch without the drifted one
    const ok = await registry.allocateDepositBatch(2, "test:admin");
    expect(ok.keys.map((k) => k.operatorId)).toEqual([op, op]);
    expect(ok.keys.map((k) => toHex0x(k.depositData.pubkey))).not.toContain(toHex0x(drift.pubkey));
  });

  it("refuses a batch whole when a key was signed with another fork version", async () => {
    const drift = driftedRow(POOL_WC, SEPOLIA.genesisForkVersion, NETWORK.name);
    await operatorWithDrift(0, drift);
    const before = await snapshot();
    // MinFirst picks the operator with no deposits: the drifted key is the first of the batch
    await expect(registry.allocateDepositBatch(1, "test:admin")).rejects.toMatchObject({
      code: "ERR_CONFLICT",
      message: expect.stringContaining(
        `key ${toHex0x(drift.pubkey)}: fork_version 0x90000069 is not the pool's 0x10000910`,
      ),
      details: { field: "fork_version", pubkey: toHex0x(drift.pubkey) },
    });
    expect(await snapshot()).toEqual(before);
  });

  it("records the pool's identity at the first allocation and refuses a registry configured otherwise", async () => {
    const stored = await readPoolIdentity(store);
    expect(stored?.networkName).toBe("hoodi");
    expect(toHex0x(stored!.withdrawalCredentials)).toBe(toHex0x(POOL_WC));
    const before = await snapshot();
    const sepolia = new Registry({ store, payer }, { network: SEPOLIA, withdrawalCredentials: POOL_WC });
    await expect(sepolia.allocateDepositBatch(1, "test:admin")).rejects.toMatchObject({
      code: "ERR_POOL_IDENTITY",
      message: expect.stringContaining(
        "configured sepolia (fork 0x90000069, genesis validators root 0xd8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078",
      ),
    });
    const otherWc = new Registry({ store, payer }, { network: NETWORK, withdrawalCredentials: OTHER_WC });
    await expect(otherWc.allocateDepositBatch(1, "test:admin")).rejects.toMatchObject({
      code: "ERR_POOL_IDENTITY",
    });
    expect(await snapshot()).toEqual(before);
  });
});
