import { randomBytes } from "node:crypto";
import type { Logger } from "@poolkeeper/core";
import pg from "pg";
import { openStore, type Store, type StoreKind } from "./store.js";

/**
 * Test helpers for every package that needs a database: a fresh, migrated store of either kind,
 * isolated from other test files running in parallel, and removed afterwards.
 *
 *   describe.each(TEST_STORE_KINDS)("registry on %s", (kind) => {
 *     let store: TestStore;
 *     beforeAll(async () => { store = await createTestStore(kind); });
 *     afterAll(() => store.dispose());
 *   });
 *
 * The PostgreSQL server is TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test);
 * each store gets its own database `pk_test_<random>`, dropped by dispose().
 */

export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
export const TEST_STORE_KINDS: readonly StoreKind[] = ["pglite", "postgres"];

export interface TestStore extends Store {
  /** The database URL (postgres kind only): give it to a second process or a second openStore. */
  readonly databaseUrl: string | undefined;
  /** Close the store and drop its database. */
  dispose(): Promise<void>;
}

export function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  return url === undefined || url === "" ? DEFAULT_TEST_DATABASE_URL : url;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** CREATE DATABASE pk_test_<random> on the test server; drop() removes it (closing connections). */
export async function createTestDatabase(serverUrl: string = testServerUrl()): Promise<TestDatabase> {
  const name = `pk_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function createTestStore(
  kind: StoreKind,
  opts: { logger?: Logger; maxConnections?: number; serverUrl?: string } = {},
): Promise<TestStore> {
  if (kind === "pglite") {
    const store = await openStore({ inMemory: true, ...(opts.logger ? { logger: opts.logger } : {}) });
    return Object.assign(store, { databaseUrl: undefined, dispose: () => store.close() });
  }
  const db = await createTestDatabase(opts.serverUrl);
  let store: Store;
  try {
    store = await openStore({
      databaseUrl: db.url,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
    });
  } catch (e) {
    await db.drop();
    throw e;
  }
  return Object.assign(store, {
    databaseUrl: db.url,
    async dispose() {
      await store.close();
      await db.drop();
    },
  });
}

/** Both kinds, for a test that wants to loop itself. */
export async function createTestStores(opts: { logger?: Logger } = {}): Promise<TestStore[]> {
  const out: TestStore[] = [];
  for (const kind of TEST_STORE_KINDS) out.push(await createTestStore(kind, opts));
  return out;
}
