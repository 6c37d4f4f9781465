import { PoolLedger } from "@poolkeeper/ledger";
import { fundPool, keysWei } from "@poolkeeper/ledger/testing";
import { openStore, type Store } from "@poolkeeper/store";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DepositBatch, Registry } from "../src/index.js";
import { depositData, SETTINGS } from "./fixtures.js";

const REWARD = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";
const OPERATORS = 8;
const KEYS_PER_OPERATOR = 25;

/**
 * Many allocations at once must never hand out one key twice. On PostgreSQL the callers use
 * separate pools (as separate processes would), each with several connections.
 */
describe.each(TEST_STORE_KINDS)("concurrent allocation on %s", (kind) => {
  let store: TestStore;
  const extra: Store[] = [];
  let registries: Registry[] = [];

  beforeAll(async () => {
    store = await createTestStore(kind);
    // the buffer pays for every key there is: only the keys limit the batches here
    const main = new Registry(
      { store, payer: await fundPool(store, keysWei(OPERATORS * KEYS_PER_OPERATOR)) },
      SETTINGS,
    );
    for (let i = 0; i < OPERATORS; i++) {
      const op = await main.createOperator({ name: `race-${i}`, rewardAddress: REWARD }, "t");
      await main.uploadKeys(op.id, depositData(1000 + i * KEYS_PER_OPERATOR, KEYS_PER_OPERATOR), "t");
      await main.updateOperator(op.id, { vettedLimit: KEYS_PER_OPERATOR }, "dao");
    }
    registries = [main];
    if (kind === "postgres") {
      for (let i = 0; i < 3; i++) {
        const s = await openStore({ databaseUrl: store.databaseUrl!, maxConnections: 4 });
        extra.push(s);
        registries.push(new Registry({ store: s, payer: new PoolLedger(s) }, SETTINGS));
      }
    }
  });
  afterAll(async () => {
    for (const s of extra) await s.close();
    await store?.dispose();
  });

  it("no key twice, totals right, MinFirst balance kept, oversubscription refused cleanly", async () => {
    const capacity = OPERATORS * KEYS_PER_OPERATOR; // 200
    // 24 requests of 1..13 keys: 7 * 24 = 168 on average, some may exceed what is left.
    const sizes = Array.from({ length: 24 }, (_, i) => 1 + ((i * 7) % 13));
    const results = await Promise.allSettled(
      sizes.map((n, i) => registries[i % registries.length]!.allocateDepositBatch(n, `caller-${i}`)),
    );
    const ok = results
      .filter((r): r is PromiseFulfilledResult<DepositBatch> => r.status === "fulfilled")
      .map((r) => r.value);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    for (const f of failed) expect((f.reason as { code?: string }).code).toBe("ERR_NO_CAPACITY");

    const keyIds = ok.flatMap((b) => b.keys.map((k) => k.keyId));
    expect(new Set(keyIds).size).toBe(keyIds.length);
    const handedOut = ok.reduce((s, b) => s + b.keyCount, 0);
    expect(keyIds.length).toBe(handedOut);
    expect(handedOut).toBeLessThanOrEqual(capacity);

    const db = await store.query<{ state: string; n: bigint }>(
      "SELECT state, count(*) AS n FROM keys GROUP BY state",
    );
    const deposited = Number(db.rows.find((r) => r.state === "deposited")?.n ?? 0n);
    expect(deposited).toBe(handedOut);
    const batches = await store.query<{ n: bigint; s: bigint }>(
      "SELECT count(*) AS n, coalesce(sum(key_count), 0) AS s FROM deposit_batches",
    );
    expect(Number(batches.rows[0]!.n)).toBe(ok.length);
    expect(Number(batches.rows[0]!.s)).toBe(handedOut);

    // Sequential MinFirst from equal starts keeps operators within one key of each other.
    const per = await store.query<{ n: bigint }>(
      "SELECT count(*) FILTER (WHERE state = 'deposited') AS n FROM keys GROUP BY operator_id",
    );
    const counts = per.rows.map((r) => Number(r.n));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);

    // Drain what is left; then nothing more.
    const left = capacity - handedOut;
    if (left > 0) await registries[0]!.allocateDepositBatch(left, "drain");
    await expect(registries[0]!.allocateDepositBatch(1, "more")).rejects.toMatchObject({
      code: "ERR_NO_CAPACITY",
    });
    const all = await store.query<{ n: bigint; d: bigint }>(
      "SELECT count(*) AS n, count(DISTINCT deposit_batch_id::text || ':' || deposit_position::text) AS d FROM keys WHERE deposit_batch_id IS NOT NULL",
    );
    expect(Number(all.rows[0]!.n)).toBe(capacity);
    expect(Number(all.rows[0]!.d)).toBe(capacity);

    // The trigger-kept counts equal a recount of the keys.
    const drift = await store.query(
      `SELECT * FROM (SELECT operator_id, state, count(*)::int AS n FROM keys GROUP BY 1, 2) k
       FULL JOIN (SELECT operator_id, state, n FROM operator_key_counts WHERE n > 0) c USING (operator_id, state)
       WHERE k.n IS DISTINCT FROM c.n`,
    );
    expect(drift.rows).toEqual([]);
  });
});
