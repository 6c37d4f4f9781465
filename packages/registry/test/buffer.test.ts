/**
 * Issue 16: a deposit batch is paid from the pool's buffer (32 ETH per key, each key's own deposit
 * amount) in the batch's own transaction; a batch the buffer cannot pay for is refused whole.
 */
import { WEI_PER_ETH } from "@poolkeeper/core";
import { PoolLedger } from "@poolkeeper/ledger";
import { fundPool, keysWei, TEST_STAKER } from "@poolkeeper/ledger/testing";
import { listLedgerEntries, openStore, type Queryable, type Store } from "@poolkeeper/store";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DepositBatch, type DepositPayer, Registry } from "../src/index.js";
import { depositData, SETTINGS } from "./fixtures.js";

const REWARD = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";
const ETH = WEI_PER_ETH;

describe.each(TEST_STORE_KINDS)("deposit batches paid from the buffer on %s", (kind) => {
  let store: TestStore;
  const extra: Store[] = [];

  beforeEach(async () => {
    store = await createTestStore(kind);
  });
  afterEach(async () => {
    for (const s of extra.splice(0)) await s.close();
    await store?.dispose();
  });

  /** A registry paying from `ledger`, and one operator with `keys` vetted keys. */
  async function registryWithKeys(ledger: DepositPayer | undefined, keys: number): Promise<Registry> {
    const registry = new Registry({ store, ...(ledger === undefined ? {} : { payer: ledger }) }, SETTINGS);
    const op = await registry.createOperator({ name: `buffer-${kind}`, rewardAddress: REWARD }, "t");
    await registry.uploadKeys(op.id, depositData(2000, keys), "t");
    await registry.updateOperator(op.id, { vettedLimit: keys }, "dao");
    return registry;
  }

  /** Everything a refused batch must leave as it was. */
  const snapshot = async () => ({
    batches: (await store.query("SELECT id FROM deposit_batches ORDER BY id")).rows,
    states: (await store.query("SELECT key_id, state, deposit_batch_id FROM key_states ORDER BY key_id"))
      .rows,
    events: (await store.query("SELECT count(*)::int AS n FROM key_events")).rows,
    audit: (await store.query("SELECT id FROM audit_log WHERE action = 'deposits.allocate'")).rows,
    cursors: (await store.query("SELECT * FROM operator_deposit_cursors ORDER BY operator_id")).rows,
    ledger: (await listLedgerEntries(store)).map((e) => [e.seq, e.kind]),
    ledgerState: (await store.query("SELECT last_seq, data FROM ledger_state")).rows,
  });

  const depositEntries = async () =>
    (await listLedgerEntries(store)).filter((e) => e.kind === "deposit").map((e) => e.data);

  it("takes 32 ETH per key from the buffer in the batch's transaction, with a deposit entry naming the batch", async () => {
    const ledger = await fundPool(store, 100n * ETH);
    const registry = await registryWithKeys(ledger, 5);
    const batch = await registry.allocateDepositBatch(3, "test:admin");
    expect(batch.amountWei).toBe(96n * ETH);
    expect((await registry.getDepositBatch(batch.id)).amountWei).toBe(96n * ETH);

    const s = await ledger.state();
    expect(s.bufferedWei).toBe(4n * ETH);
    expect(s.depositedValidators).toBe(3);
    expect(s.depositedWei).toBe(96n * ETH);
    // the pool's total is unchanged: the ether moved from the buffer to deposits
    expect((await ledger.summary()).totalPooledEther).toBe(100n * ETH);
    expect(await depositEntries()).toEqual([
      { batchId: String(batch.id), validators: 3, wei: (96n * ETH).toString() },
    ]);
    const audit = await registry.listAudit({ target: `batch:${batch.id}` });
    expect(audit[0]?.after).toMatchObject({ count: 3, amountWei: (96n * ETH).toString() });
    await ledger.verify();
  });

  it("refuses a batch the buffer cannot pay for, whole, naming the shortfall; a smaller one goes", async () => {
    const ledger = await fundPool(store, 70n * ETH);
    const registry = await registryWithKeys(ledger, 5);
    const before = await snapshot();
    const err = (await registry.allocateDepositBatch(3, "test:admin").catch((e: unknown) => e)) as {
      code?: string;
      message?: string;
      details?: unknown;
    };
    expect(err.code).toBe("ERR_BUFFER_INSUFFICIENT");
    expect(err.message).toContain("a deposit batch of 3 keys: it needs 96 ETH, 70 ETH is depositable");
    expect(err.message).toContain("26 ETH short; it pays for 2 keys now");
    expect(err.details).toEqual({
      requested: 3,
      payableKeys: 2,
      neededWei: (96n * ETH).toString(),
      depositableWei: (70n * ETH).toString(),
      shortfallWei: (26n * ETH).toString(),
    });
    // no key state, batch, history, audit, cursor or ledger entry changed
    expect(await snapshot()).toEqual(before);

    const ok = await registry.allocateDepositBatch(2, "test:admin");
    expect(ok.keyCount).toBe(2);
    expect((await ledger.state()).bufferedWei).toBe(6n * ETH);
    await expect(registry.allocateDepositBatch(1, "test:admin")).rejects.toMatchObject({
      code: "ERR_BUFFER_INSUFFICIENT",
      details: { payableKeys: 0, shortfallWei: (26n * ETH).toString() },
    });
    await ledger.verify();
  });

  it("keeps what unfinalized withdrawal requests reserve out of a batch (Lido's depositable ether)", async () => {
    const ledger = await fundPool(store, 40n * ETH);
    const registry = await registryWithKeys(ledger, 2);
    await ledger.requestWithdrawal(TEST_STAKER, 10n * ETH);
    expect((await ledger.summary()).depositableWei).toBe(30n * ETH);
    await expect(registry.allocateDepositBatch(1, "test:admin")).rejects.toMatchObject({
      code: "ERR_BUFFER_INSUFFICIENT",
      details: { depositableWei: (30n * ETH).toString(), shortfallWei: (2n * ETH).toString() },
    });
    expect(await depositEntries()).toEqual([]);
    await ledger.submit(TEST_STAKER, 2n * ETH);
    await registry.allocateDepositBatch(1, "test:admin");
    expect((await ledger.state()).bufferedWei).toBe(10n * ETH);
  });

  it("two batches racing for one buffer: only what the buffer pays goes through", async () => {
    const ledger = await fundPool(store, keysWei(5));
    const registry = await registryWithKeys(ledger, 12);
    const registries = [registry];
    if (kind === "postgres") {
      // other processes: their own connection pools and ledgers over the same database
      for (let i = 0; i < 2; i++) {
        const s = await openStore({ databaseUrl: store.databaseUrl!, maxConnections: 3 });
        extra.push(s);
        registries.push(new Registry({ store: s, payer: new PoolLedger(s) }, SETTINGS));
      }
    }
    const sizes = [3, 3, 2, 2, 1, 3];
    const results = await Promise.allSettled(
      sizes.map((n, i) => registries[i % registries.length]!.allocateDepositBatch(n, `racer-${i}`)),
    );
    const ok = results
      .filter((r): r is PromiseFulfilledResult<DepositBatch> => r.status === "fulfilled")
      .map((r) => r.value);
    for (const r of results)
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "ERR_BUFFER_INSUFFICIENT" });
    const paid = ok.reduce((n, b) => n + b.keyCount, 0);
    expect(paid).toBeGreaterThan(0);
    expect(paid).toBeLessThanOrEqual(5);
    const s = await ledger.state();
    expect(s.depositedValidators).toBe(paid);
    expect(s.bufferedWei).toBe(keysWei(5 - paid));
    const deposited = await store.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM key_states WHERE state = 'deposited'",
    );
    expect(deposited.rows[0]!.n).toBe(paid);
    // one deposit entry per batch that went through, none for the others
    expect((await depositEntries()).map((d) => d.batchId).sort()).toEqual(ok.map((b) => String(b.id)).sort());
    await ledger.verify();
  });

  it("a batch that fails after its payment leaves the ledger untouched (one transaction)", async () => {
    const ledger = await fundPool(store, keysWei(4));
    const failing: DepositPayer = {
      depositable: (tx: Queryable) => ledger.depositable(tx),
      async deposit(batchId, validators, wei, tx) {
        await ledger.deposit(batchId, validators, wei, tx);
        throw new Error("the batch's transaction fails after the payment");
      },
    };
    const registry = await registryWithKeys(failing, 6);
    const before = await snapshot();
    await expect(registry.allocateDepositBatch(2, "test:admin")).rejects.toThrow(/after the payment/);
    expect(await snapshot()).toEqual(before);
    expect((await ledger.state()).bufferedWei).toBe(keysWei(4));

    // the ledger's own rule is the last word: a payer that overstates the buffer pays nothing
    const overstating: DepositPayer = {
      depositable: async (tx: Queryable) => (await ledger.depositable(tx)) + keysWei(10),
      deposit: (batchId, validators, wei, tx) => ledger.deposit(batchId, validators, wei, tx),
    };
    const overpaid = new Registry({ store, payer: overstating }, SETTINGS);
    await expect(overpaid.allocateDepositBatch(5, "test:admin")).rejects.toMatchObject({
      code: "ERR_BUFFER_INSUFFICIENT",
      message: expect.stringContaining(`${keysWei(5)} wei needed, ${keysWei(4)} wei depositable`),
    });
    expect(await snapshot()).toEqual(before);
  });

  it("the database refuses a batch its transaction did not pay for, or paid wrong (0032)", async () => {
    const ledger = await fundPool(store, keysWei(4));
    const unpaid: DepositPayer = {
      depositable: (tx) => ledger.depositable(tx),
      deposit: async () => undefined,
    };
    const registry = await registryWithKeys(unpaid, 4);
    const before = await snapshot();
    await expect(registry.allocateDepositBatch(2, "test:admin")).rejects.toMatchObject({
      code: "ERR_CONFLICT",
      message: expect.stringMatching(/deposit batch \d+ is not paid from the pool's buffer/),
    });
    expect(await snapshot()).toEqual(before);
    const short: DepositPayer = {
      depositable: (tx) => ledger.depositable(tx),
      deposit: (batchId, validators, wei, tx) => ledger.deposit(batchId, validators, wei - 1n, tx),
    };
    await expect(
      new Registry({ store, payer: short }, SETTINGS).allocateDepositBatch(2, "t"),
    ).rejects.toMatchObject({
      code: "ERR_CONFLICT",
      message: expect.stringMatching(
        /the ledger paid 63999999999999999999 wei for 2 keys, its 2 keys cost 64000000000000000000 wei/,
      ),
    });
    expect(await snapshot()).toEqual(before);
    // a batch is paid once: a second deposit entry naming it is refused
    const batch = await new Registry({ store, payer: ledger }, SETTINGS).allocateDepositBatch(1, "t");
    await expect(
      store.transaction((tx) => ledger.deposit(String(batch.id), 1, 32n * ETH, tx)),
    ).rejects.toThrow(/ledger_entries_one_deposit_per_batch/);
    expect(await depositEntries()).toHaveLength(1);
  });

  it("a registry without a payer creates no batch", async () => {
    await fundPool(store, keysWei(2));
    const registry = await registryWithKeys(undefined, 2);
    const before = await snapshot();
    await expect(registry.allocateDepositBatch(1, "test:admin")).rejects.toThrow(/no payer/);
    expect(await snapshot()).toEqual(before);
  });
});
