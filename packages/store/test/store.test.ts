import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  createTestStore,
  loadMigrations,
  openPgliteDirectories,
  openStore,
  pendingMigrations,
  runMigrations,
  TEST_STORE_KINDS,
  type TestStore,
} from "../src/index.js";

const OPERATOR_SQL =
  "INSERT INTO operators (name, reward_address, vetted_limit) VALUES ($1, $2, $3) RETURNING id";
const KEY_SQL = `INSERT INTO keys (operator_id, pubkey, withdrawal_credentials, amount_gwei, signature,
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

    // A new key starts as submitted.
    await expect(
      inTxEarly(
        KEY_SQL.replace("deposit_cli_version)", "deposit_cli_version, state)").replace(
          "'2.7.0')",
          "'2.7.0', 'vetted')",
        ),
        [op, bytes(48, 9), bytes(32, 1), bytes(96, 3), bytes(32, 4), bytes(4, 0)],
      ),
    ).rejects.toThrow(/starts as submitted/);
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
    // Not allowed: submitted → deposited, skipping vetting.
    await expect(inTx("UPDATE keys SET state = 'active' WHERE id = $1", [keyId])).rejects.toThrow(
      /not an allowed transition/,
    );
    // Vetting beyond the vetted limit (1) is refused: add a second key, vet both.
    await inTx(KEY_SQL, [op, bytes(48, 8), bytes(32, 1), bytes(96, 3), bytes(32, 4), bytes(4, 0)]);
    await expect(inTx("UPDATE keys SET state = 'vetted' WHERE operator_id = $1", [op])).rejects.toThrow(
      /vetted limit/,
    );
    await inTx("UPDATE keys SET state = 'vetted' WHERE id = $1", [keyId]);
    // Deposited needs a batch.
    await expect(inTx("UPDATE keys SET state = 'deposited' WHERE id = $1", [keyId])).rejects.toThrow(
      /keys_deposit_consistent/,
    );
    const batch = (
      await store.query<{ id: number }>(
        "INSERT INTO deposit_batches (key_count, actor) VALUES (1, 't') RETURNING id",
      )
    ).rows[0]!.id;
    await inTx(
      "UPDATE keys SET state = 'deposited', deposit_batch_id = $2, deposit_position = 0 WHERE id = $1",
      [keyId, batch],
    );
    // Once deposited: never back to vetted, never another batch, never deleted.
    await expect(
      inTx(
        "UPDATE keys SET state = 'vetted', deposit_batch_id = NULL, deposit_position = NULL WHERE id = $1",
        [keyId],
      ),
    ).rejects.toThrow(/cannot be deposited again/);
    await expect(inTx("DELETE FROM keys WHERE id = $1", [keyId])).rejects.toThrow(/append-only/);
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
      inTx(
        "UPDATE keys SET state = 'deposited', deposit_batch_id = 999999, deposit_position = 0 WHERE operator_id = $1 AND state = 'submitted'",
        [op],
      ),
    ).rejects.toThrow(/not an allowed transition/);
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
    const history = await store.query<{ to_state: string }>(
      "SELECT to_state FROM key_events WHERE key_id = $1 ORDER BY id",
      [keyId],
    );
    expect(history.rows.map((r) => r.to_state)).toEqual(["submitted", "vetted", "deposited"]);
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
