import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appendLedgerEntry,
  insertDepositBatch,
  keyHistory,
  loadMigrations,
  openPgliteDirectories,
  openStore,
  pendingMigrations,
  type Queryable,
  runMigrations,
} from "../src/index.js";
import { createTestDatabase, createTestStore, TEST_STORE_KINDS, type TestStore } from "../src/testing.js";

const OPERATOR_SQL =
  "INSERT INTO operators (name, reward_address, vetted_limit) VALUES ($1, $2, $3) RETURNING id";
const KEY_SQL = `INSERT INTO key_data (operator_id, pubkey, withdrawal_credentials, amount_gwei, signature,
  deposit_message_root, deposit_data_root, fork_version, network_name, deposit_cli_version)
  VALUES ($1, $2, $3, 32000000000, $4, $5, $5, $6, 'mainnet', '2.7.0') RETURNING id`;

function bytes(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

describe.each(TEST_STORE_KINDS)("store on %s", (kind) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(kind);
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it("applies every migration once and records it", async () => {
    const applied = await store.appliedMigrations();
    expect(applied.map((m) => m.version)).toEqual(loadMigrations().map((m) => m.version));
    expect(applied[0]).toEqual({ version: 1, name: "registry" });
    expect(await pendingMigrations(store)).toEqual([]);
    // Running again is a no-op.
    expect(await runMigrations(store)).toEqual([]);
  });

  it("reads int8 as bigint, bytea as bytes and commits/rolls back transactions", async () => {
    const r = await store.query<{ n: bigint; b: Uint8Array }>(
      "SELECT 9007199254740993::int8 AS n, '\\x0102'::bytea AS b",
    );
    expect(r.rows[0]?.n).toBe(9007199254740993n);
    expect(Array.from(r.rows[0]!.b)).toEqual([1, 2]);

    await expect(
      store.transaction(async (tx) => {
        await tx.query(OPERATOR_SQL, ["rolled back", bytes(20, 1), 0]);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const none = await store.query("SELECT 1 FROM operators WHERE name = 'rolled back'");
    expect(none.rows).toHaveLength(0);

    const id = await store.transaction(async (tx) => {
      const r2 = await tx.query<{ id: number }>(OPERATOR_SQL, ["kept", bytes(20, 1), 0]);
      return r2.rows[0]!.id;
    });
    expect(typeof id).toBe("number");
  });

  it("enforces the registry's rules in the database", async () => {
    const op = (await store.query<{ id: number }>(OPERATOR_SQL, ["rules", bytes(20, 2), 1])).rows[0]!.id;
    // A key change needs an actor.
    await expect(
      store.query(KEY_SQL, [op, bytes(48, 7), bytes(32, 1), bytes(96, 3), bytes(32, 4), bytes(4, 0)]),
    ).rejects.toThrow(/actor/);

    const inTxEarly = (sql: string, params: unknown[] = []) =>
      store.transaction(async (tx) => {
        await tx.query("SELECT set_config('poolkeeper.actor', 'test', true)");
        return tx.query(sql, params);
      });
    const keyId = await store.transaction(async (tx) => {
      await tx.query("SELECT set_config('poolkeeper.actor', 'test', true)");
      return (
        await tx.query<{ id: number }>(KEY_SQL, [
          op,
          bytes(48, 7),
          bytes(32, 1),
          bytes(96, 3),
          bytes(32, 4),
          bytes(4, 0),
        ])
      ).rows[0]!.id;
    });
    const events = await store.query<{ from_state: string | null; to_state: string; actor: string }>(
      "SELECT from_state, to_state, actor FROM key_events WHERE key_id = $1",
      [keyId],
    );
    expect(events.rows).toEqual([{ from_state: null, to_state: "submitted", actor: "test" }]);

    // A new key starts as submitted: key_states rows come only with their key_data rows.
    await expect(
      inTxEarly("INSERT INTO key_states (key_id, operator_id, state) VALUES ($1, $2, 'vetted')", [
        keyId + 1000,
        op,
      ]),
    ).rejects.toThrow(/come with their key_data rows only|key_states_key_id_fkey/);
    // Pubkey unique across operators.
    const op2 = (await store.query<{ id: number }>(OPERATOR_SQL, ["rules 2", bytes(20, 2), 1])).rows[0]!.id;
    await expect(
      store.transaction(async (tx) => {
        await tx.query("SELECT set_config('poolkeeper.actor', 'test', true)");
        await tx.query(KEY_SQL, [op2, bytes(48, 7), bytes(32, 1), bytes(96, 3), bytes(32, 4), bytes(4, 0)]);
      }),
    ).rejects.toThrow(/keys_pubkey_unique/);

    const inTx = (sql: string, params: unknown[] = []) =>
      store.transaction(async (tx) => {
        await tx.query("SELECT set_config('poolkeeper.actor', 'test', true)");
        return tx.query(sql, params);
      });
    const setState = (state: string, where: string) =>
      `UPDATE key_states SET state = '${state}', prev_state = state, updated_at = now() WHERE ${where}`;
    // Not allowed: submitted → active, skipping vetting (and a batch it never joined).
    await expect(inTx(setState("active", "key_id = $1"), [keyId])).rejects.toThrow(
      /key_states_deposit_consistent/,
    );
    await expect(
      inTx(
        "UPDATE key_states SET state = 'active', prev_state = state, deposit_batch_id = 1, deposit_position = 0 WHERE key_id = $1",
        [keyId],
      ),
    ).rejects.toThrow(/not an allowed transition/);
    // A state change must say which state it leaves (prev_state), checked against the old row.
    await expect(inTx("UPDATE key_states SET state = 'vetted' WHERE key_id = $1", [keyId])).rejects.toThrow(
      /must set prev_state/,
    );
    await expect(
      inTx("UPDATE key_states SET state = 'vetted', prev_state = 'exited' WHERE key_id = $1", [keyId]),
    ).rejects.toThrow(/must set prev_state/);
    // Vetting beyond the vetted limit (1) is refused: add a second key, vet both.
    const second = (
      await inTx(KEY_SQL, [op, bytes(48, 8), bytes(32, 1), bytes(96, 3), bytes(32, 4), bytes(4, 0)])
    ).rows[0]!.id as number;
    await expect(inTx(setState("vetted", "operator_id = $1"), [op])).rejects.toThrow(/vetted limit/);
    await inTx(setState("vetted", "key_id = $1"), [keyId]);
    // Deposited only through a deposit batch.
    await expect(inTx(setState("deposited", "key_id = $1"), [keyId])).rejects.toThrow(
      /key_states_deposit_consistent|deposited by inserting a deposit batch/,
    );
    await expect(
      inTx(
        "UPDATE key_states SET state = 'deposited', prev_state = state, deposit_batch_id = 1, deposit_position = 0 WHERE key_id = $1",
        [keyId],
      ),
    ).rejects.toThrow(/deposited by inserting a deposit batch/);
    const newBatch =
      "INSERT INTO deposit_batches (key_count, actor, key_ids) VALUES ($1, 't', $2) RETURNING id";
    // Only vetted keys (a submitted one, an unknown one, one listed twice), and key_count must match.
    await expect(inTx(newBatch, [1, [second]])).rejects.toThrow(/only vetted keys can be deposited/);
    await expect(inTx(newBatch, [1, [keyId + 999]])).rejects.toThrow(/only vetted keys can be deposited/);
    await expect(inTx(newBatch, [2, [keyId, keyId]])).rejects.toThrow(/only vetted keys can be deposited/);
    await expect(inTx(newBatch, [2, [keyId]])).rejects.toThrow(/deposit_batches_key_count/);
    // A batch its transaction does not pay for (a ledger deposit entry naming it, for its keys'
    // amounts) is refused at commit; paid, it deposits its key.
    await expect(inTx(newBatch, [1, [keyId]])).rejects.toThrow(/is not paid from the pool's buffer/);
    const batch = await store.transaction(async (tx) => {
      await tx.query("SELECT set_config('poolkeeper.actor', 'test', true)");
      const id = (await tx.query<{ id: number }>(newBatch, [1, [keyId]])).rows[0]!.id;
      const paid = { batchId: String(id), validators: 1, wei: "32000000000000000000" };
      await appendLedgerEntry(tx, "deposit", null, paid, {});
      return id;
    });
    expect(
      (
        await store.query<{ state: string; deposit_batch_id: number; deposit_position: number }>(
          "SELECT state, deposit_batch_id, deposit_position FROM keys WHERE id = $1",
          [keyId],
        )
      ).rows[0],
    ).toEqual({ state: "deposited", deposit_batch_id: batch, deposit_position: 0 });
    // Once deposited: never back to vetted, never another batch, never deleted or changed.
    await expect(inTx(setState("vetted", "key_id = $1"), [keyId])).rejects.toThrow(
      /key_states_deposit_consistent/,
    );
    await expect(
      inTx(
        "UPDATE key_states SET state = 'vetted', prev_state = state, deposit_batch_id = NULL, deposit_position = NULL WHERE key_id = $1",
        [keyId],
      ),
    ).rejects.toThrow(/not an allowed transition/);
    await expect(inTx(newBatch, [1, [keyId]])).rejects.toThrow(/only vetted keys can be deposited/);
    await expect(
      inTx("UPDATE key_states SET deposit_batch_id = $2 WHERE key_id = $1", [keyId, batch + 1]),
    ).rejects.toThrow(/joins a deposit batch once/);
    await expect(
      inTx("UPDATE key_states SET deposit_position = 7 WHERE key_id = $1", [keyId]),
    ).rejects.toThrow(/joins a deposit batch once/);
    await expect(inTx("UPDATE deposit_batches SET key_ids = '{}' WHERE id = $1", [batch])).rejects.toThrow(
      /append-only/,
    );
    await expect(inTx("DELETE FROM key_data WHERE id = $1", [keyId])).rejects.toThrow(/append-only/);
    await expect(inTx("DELETE FROM key_states WHERE key_id = $1", [keyId])).rejects.toThrow(/append-only/);
    await expect(inTx("UPDATE key_data SET network_name = 'x' WHERE id = $1", [keyId])).rejects.toThrow(
      /append-only/,
    );
    await expect(
      inTx("UPDATE key_states SET operator_id = $2 WHERE key_id = $1", [keyId, op2]),
    ).rejects.toThrow(/id and operator never change/);
    // Vetted limit below the deposited count is refused.
    await expect(store.query("UPDATE operators SET vetted_limit = 0 WHERE id = $1", [op])).rejects.toThrow(
      /below its 1 deposited/,
    );
    // History is append-only.
    await expect(store.query("UPDATE key_events SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(store.query("DELETE FROM key_events")).rejects.toThrow(/append-only/);
    await expect(
      inTx(
        "INSERT INTO key_events (key_id, from_state, to_state, actor) VALUES ($1, 'vetted', 'exited', 'mallory')",
        [keyId],
      ),
    ).rejects.toThrow(/written by the keys triggers only/);
    await expect(store.query("DELETE FROM deposit_batches")).rejects.toThrow(/append-only/);
    await expect(
      store.query("INSERT INTO audit_log (actor, action) VALUES ('a', 'b')"),
    ).resolves.toBeDefined();
    await expect(store.query("DELETE FROM audit_log")).rejects.toThrow(/append-only/);
    // State and limit checks.
    await expect(store.query(OPERATOR_SQL, ["negative", bytes(20, 3), -1])).rejects.toThrow(
      /operators_vetted_limit_check/,
    );
    await expect(store.query("UPDATE operators SET target_limit = 3 WHERE id = $1", [op])).rejects.toThrow(
      /operators_target_limit_pair/,
    );
    // History: key_events for every change but the deposit, whose record is its deposit batch.
    const stored = await store.query<{ to_state: string }>(
      "SELECT to_state FROM key_events WHERE key_id = $1 ORDER BY id",
      [keyId],
    );
    expect(stored.rows.map((r) => r.to_state)).toEqual(["submitted", "vetted"]);
    const history = await keyHistory(store, keyId);
    expect(history.map((e) => [e.fromState, e.toState, e.actor])).toEqual([
      [null, "submitted", "test"],
      ["submitted", "vetted", "test"],
      ["vetted", "deposited", "t"],
    ]);
    expect(history[2]!.id).toBe(`batch:${batch}`);
  });
});

describe("PGlite in a data directory", () => {
  it("keeps data across restarts and migrates once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-store-"));
    try {
      const a = await openStore({ dataDir: dir });
      await a.query(OPERATOR_SQL, ["persisted", bytes(20, 9), 3]);
      await a.close();
      const b = await openStore({ dataDir: dir });
      try {
        const r = await b.query<{ vetted_limit: number }>(
          "SELECT vetted_limit FROM operators WHERE name = 'persisted'",
        );
        expect(r.rows).toEqual([{ vetted_limit: 3 }]);
        expect(await runMigrations(b)).toEqual([]);
      } finally {
        await b.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("two opens of one directory in one process share the database; the last close closes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-store-"));
    try {
      const before = openPgliteDirectories();
      const [a, b] = await Promise.all([openStore({ dataDir: dir }), openStore({ dataDir: `${dir}/.` })]);
      expect(openPgliteDirectories()).toBe(before + 1);
      await a.query(OPERATOR_SQL, ["shared", bytes(20, 7), 2]);
      const seen = await b.query<{ n: bigint }>("SELECT count(*) AS n FROM operators WHERE name = 'shared'");
      expect(seen.rows[0]?.n).toBe(1n);
      await a.close();
      await a.close(); // a second close of one handle does not release the other's
      const still = await b.query<{ n: bigint }>("SELECT count(*) AS n FROM operators");
      expect(still.rows[0]?.n).toBe(1n);
      await b.close();
      expect(openPgliteDirectories()).toBe(before);
      const c = await openStore({ dataDir: dir });
      try {
        const again = await c.query<{ n: bigint }>("SELECT count(*) AS n FROM operators");
        expect(again.rows[0]?.n).toBe(1n);
      } finally {
        await c.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("needs a place to keep its data", async () => {
    await expect(openStore({})).rejects.toMatchObject({ code: "ERR_CONFIG" });
    await expect(openStore({ databaseUrl: "mysql://x" })).rejects.toMatchObject({ code: "ERR_CONFIG" });
  });
});

describe("migrations on the real PostgreSQL", () => {
  it("two processes starting together migrate once (advisory lock)", async () => {
    const db = await createTestDatabase();
    try {
      const stores = await Promise.all(
        [0, 1, 2, 3].map(() => openStore({ databaseUrl: db.url, maxConnections: 2 })),
      );
      try {
        const rows = await stores[0]!.query<{ version: number; n: bigint }>(
          "SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version",
        );
        expect(rows.rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
        expect(rows.rows.every((r) => r.n === 1n)).toBe(true);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await db.drop();
    }
  });

  it("refuses a migration changed after it was applied, and a bad URL names no password", async () => {
    const store = await createTestStore("postgres");
    try {
      await store.query("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1");
      await expect(runMigrations(store)).rejects.toMatchObject({ code: "ERR_MIGRATION_CHANGED" });
    } finally {
      await store.dispose();
    }
    const err = await openStore({ databaseUrl: "postgres://u:hunter2@127.0.0.1:1/x" }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "ERR_DATABASE_UNAVAILABLE" });
    expect(String((err as Error).message)).not.toContain("hunter2");
  });
});

describe("migration 0006 (key states out of the keys row) on a database with keys", () => {
  it("keeps every key's state, batch, position and history", async () => {
    const old = mkdtempSync(join(tmpdir(), "pk-migr-"));
    const store = await openStore({ inMemory: true, migrate: false });
    try {
      for (const m of loadMigrations().filter((x) => x.version < 6)) {
        writeFileSync(join(old, `${String(m.version).padStart(4, "0")}_${m.name}.sql`), m.sql);
      }
      await runMigrations(store, undefined, old);
      const op = (await store.query<{ id: number }>(OPERATOR_SQL, ["upgrade", bytes(20, 2), 3])).rows[0]!.id;
      const ids = await store.transaction(async (tx) => {
        await tx.query("SELECT set_config('poolkeeper.actor', 'old', true)");
        const out: number[] = [];
        for (let i = 0; i < 4; i++) {
          const r = await tx.query<{ id: number }>(
            KEY_SQL.replace("INSERT INTO key_data", "INSERT INTO keys"),
            [op, bytes(48, 40 + i), bytes(32, 1), bytes(96, 3), bytes(32, 4), bytes(4, 0)],
          );
          out.push(r.rows[0]!.id);
        }
        await tx.query("UPDATE keys SET state = 'vetted' WHERE id = ANY($1::int[])", [out.slice(0, 3)]);
        const b = (
          await tx.query<{ id: number }>(
            "INSERT INTO deposit_batches (key_count, actor) VALUES (2, 'old') RETURNING id",
          )
        ).rows[0]!.id;
        await tx.query(
          "UPDATE keys SET state = 'deposited', deposit_batch_id = $2, deposit_position = id - $3 WHERE id = ANY($1::int[])",
          [out.slice(0, 2), b, out[0]],
        );
        await tx.query("UPDATE keys SET state = 'active' WHERE id = $1", [out[0]]);
        return out;
      });
      const before = await store.query(
        "SELECT id, state, deposit_batch_id, deposit_position FROM keys ORDER BY id",
      );
      const [applied] = [await runMigrations(store)];
      expect(applied).toContain(6);
      const after = await store.query(
        "SELECT id, state, deposit_batch_id, deposit_position FROM keys ORDER BY id",
      );
      expect(after.rows).toEqual(before.rows);
      expect(after.rows.map((r) => (r as { state: string }).state)).toEqual([
        "active",
        "deposited",
        "vetted",
        "submitted",
      ]);
      // The old key_events row of the deposit gives way to the batch row: one deposit in the history.
      const history = await keyHistory(store, ids[0]!);
      expect(history.map((e) => e.toState)).toEqual(["submitted", "vetted", "deposited", "active"]);
      expect(history.filter((e) => e.id.startsWith("batch:"))).toHaveLength(1);
      // Counts and the next allocation still line up: the new rules run on the migrated rows.
      const counts = await store.query<{ state: string; n: number }>(
        "SELECT state, n FROM operator_key_counts WHERE operator_id = $1 AND n > 0 ORDER BY state",
        [op],
      );
      expect(counts.rows).toEqual([
        { state: "active", n: 1 },
        { state: "deposited", n: 1 },
        { state: "submitted", n: 1 },
        { state: "vetted", n: 1 },
      ]);
      // A new batch must be paid in its transaction (0032): unpaid, the commit refuses it.
      const newBatch = (tx: Queryable) =>
        tx
          .query("SELECT set_config('poolkeeper.actor', 'new', true)")
          .then(() => insertDepositBatch(tx, "new", [op], [1]));
      await expect(store.transaction(newBatch)).rejects.toThrow(/is not paid from the pool's buffer/);
      await store.transaction(async (tx) => {
        const got = await newBatch(tx);
        if (got?.keys === undefined) throw new Error("the batch was not inserted");
        expect(got.keys).toEqual([{ keyId: ids[2], operatorId: op, position: 0 }]);
        expect(got.amountGwei).toBe(32_000_000_000n);
        expect(await insertDepositBatch(tx, "new", [op], [1])).toBeUndefined();
        const paid = {
          batchId: String(got.id),
          validators: 1,
          wei: "32000000000000000000",
        };
        await appendLedgerEntry(tx, "deposit", null, paid, {});
      });
    } finally {
      await store.close();
      rmSync(old, { recursive: true, force: true });
    }
  });
});
