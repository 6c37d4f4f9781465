import { resolve } from "node:path";
import { PGlite, types as pgliteTypes } from "@electric-sql/pglite";
import { type Logger, PoolkeeperError, safeUrl } from "@poolkeeper/core";
import pg from "pg";
import { acquireDataDirLock, type DataDirLock, restrictDataDirModes } from "./data-dir-lock.js";
import { STORE_ERRORS } from "./errors.js";
import { runMigrations } from "./migrate.js";

/** One result of `query`: the rows and, for INSERT/UPDATE/DELETE, how many rows were touched. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/**
 * What repositories need: parameterised queries and multi-statement scripts. Both a Store and the
 * handle passed to `transaction(fn)` have it, so one repository function runs in or out of a
 * transaction.
 *
 * Types read back the same on both back-ends: int8 → bigint, numeric → string, bytea →
 * Uint8Array (a Buffer on `pg`), json/jsonb → parsed value, timestamptz → Date.
 */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Run a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type StoreKind = "postgres" | "pglite";

export interface Store extends Queryable {
  readonly kind: StoreKind;
  /**
   * Run `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it
   * throws (the error is rethrown).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Run `fn` with one connection held for its whole duration (session-level advisory locks,
   * several transactions in a row). On PGlite there is only one connection.
   */
  withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T>;
  /** The migrations recorded in schema_migrations, oldest first. */
  appliedMigrations(): Promise<{ version: number; name: string }[]>;
  close(): Promise<void>;
}

export interface OpenStoreOpts {
  /** postgres://… : use a `pg` Pool. Without it, PGlite (embedded). */
  databaseUrl?: string;
  /**
   * PGlite data directory (created 0700 if missing; its files are made 0600). Ignored with
   * databaseUrl. This process holds its lock until the last close: an open in another process
   * fails with DataDirInUseError naming this one.
   */
  dataDir?: string;
  /** PGlite in memory (tests). Ignored with databaseUrl. */
  inMemory?: boolean;
  logger?: Logger;
  /** An idle pooled connection was lost (the server went away); default: a warning line each. */
  onConnectionError?: (err: Error) => void;
  /** pg Pool size (default 10). */
  maxConnections?: number;
  /** Extra migration directories are not supported: every migration lives in packages/store/migrations. */
  migrate?: boolean;
}

const INT8 = 20;
const NUMERIC = 1700;

// ---------------------------------------------------------------- pg (server)

const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8 && format !== "binary") return (v: string) => BigInt(v);
    // biome-ignore lint/suspicious/noExplicitAny: pg-types' overloads do not accept a plain number oid
    return (pg.types.getTypeParser as any)(oid, format);
  },
};

function pgResult<R>(r: pg.QueryResult): QueryResult<R> {
  return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
}

function pgQueryable(c: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]) {
      return pgResult<R>(await c.query(sql, params as unknown[] | undefined));
    },
    async exec(sql: string) {
      await c.query(sql);
    },
  };
}

class PgStore implements Store {
  readonly kind = "postgres" as const;
  readonly #pool: pg.Pool;
  readonly #q: Queryable;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.#q = pgQueryable(pool);
  }

  query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.#q.query<R>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.#q.exec(sql);
  }

  async withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      return await fn(pgQueryable(client));
    } catch (e) {
      // A connection left in an unknown state (aborted transaction, held lock) is not reused.
      broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      try {
        const out = await fn(pgQueryable(client));
        await client.query("COMMIT");
        return out;
      } catch (e) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw e;
      }
    } finally {
      client.release(broken);
    }
  }

  appliedMigrations() {
    return readApplied(this);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

// ---------------------------------------------------------------- PGlite (embedded)

const PGLITE_PARSERS = {
  [pgliteTypes.INT8]: (v: string) => BigInt(v),
  [NUMERIC]: (v: string) => v,
};

interface PgliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function pgliteQueryable(db: PgliteLike): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]) {
      const r = await db.query<R>(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

class PgliteStore implements Store {
  readonly kind = "pglite" as const;
  readonly #db: PGlite;
  readonly #q: Queryable;
  readonly #release: (() => Promise<void>) | undefined;
  #released = false;

  /** `release` (shared data directories): called once on close instead of closing the database. */
  constructor(db: PGlite, release?: () => Promise<void>) {
    this.#db = db;
    this.#q = pgliteQueryable(db);
    this.#release = release;
  }

  query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.#q.query<R>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.#q.exec(sql);
  }

  withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    return fn(this.#q);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    // PGlite serialises transactions on its single connection and rolls back when fn throws.
    return this.#db.transaction((tx) => fn(pgliteQueryable(tx)));
  }

  appliedMigrations() {
    return readApplied(this);
  }

  async close(): Promise<void> {
    if (this.#release !== undefined) {
      if (this.#released) return;
      this.#released = true;
      await this.#release();
      return;
    }
    if (!this.#db.closed) await this.#db.close();
  }
}

/**
 * PGlite data directories open in this process. PGlite is single-process: opening one directory
 * twice would corrupt it, so every openStore of the same directory in one process (the devnet runs
 * the admin API and the watcher side by side) shares one database; the last close closes it.
 * PGlite serialises queries against transactions, so sharers cannot interleave inside one.
 * Other processes are kept out by the directory's lock file (data-dir-lock.ts), taken by the first
 * opener in this process and removed by the last close.
 */
interface SharedPglite {
  db: Promise<PGlite>;
  refs: number;
  migrations: Promise<unknown>;
  /** The directory's lock (none for PGlite URLs such as memory://). */
  lock?: DataDirLock;
}
const sharedPglite = new Map<string, SharedPglite>();
/** Directories whose last close is running: a new opener waits for it. */
const closingPglite = new Map<string, Promise<void>>();

/** Number of PGlite data directories currently open in this process (for tests). */
export function openPgliteDirectories(): number {
  return sharedPglite.size;
}

/** Lock the directory, make it private and start PGlite in it; the lock is released on failure. */
async function startPglite(
  dir: string,
  logger: Logger | undefined,
): Promise<{ db: PGlite; lock: DataDirLock }> {
  const lock = acquireDataDirLock(dir, {
    onStale: (h) =>
      logger?.warn(
        { dataDir: dir, pid: h.pid, process: h.process },
        "took over the lock of a process that is gone",
      ),
  });
  try {
    const fixed = restrictDataDirModes(dir);
    if (fixed > 0) {
      logger?.warn(
        { dataDir: dir, entries: fixed },
        "data directory was readable by other users: made it private",
      );
    }
    const db = await PGlite.create({ dataDir: dir, parsers: PGLITE_PARSERS });
    restrictDataDirModes(dir); // the files PGlite wrote while starting
    return { db, lock };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** Migrations of one shared directory run one after the other (one session: no advisory lock). */
async function sharedPgliteStore(
  dataDir: string,
  migrate: (s: Store) => Promise<unknown>,
  logger: Logger | undefined,
): Promise<Store> {
  const url = dataDir.includes("://");
  const key = url ? dataDir : resolve(dataDir);
  let entry = sharedPglite.get(key);
  if (entry === undefined) {
    const created = { refs: 0, migrations: Promise.resolve() } as SharedPglite;
    // a close of this directory still running in this process finishes (and unlocks) first
    const closing = closingPglite.get(key)?.catch(() => undefined) ?? Promise.resolve();
    created.db = url
      ? PGlite.create({ dataDir: key, parsers: PGLITE_PARSERS })
      : closing
          .then(() => startPglite(key, logger))
          .then((s) => {
            created.lock = s.lock;
            return s.db;
          });
    entry = created;
    sharedPglite.set(key, entry);
    created.db.catch(() => {
      if (sharedPglite.get(key) === created) sharedPglite.delete(key);
    });
  }
  const e = entry;
  e.refs++;
  let db: PGlite;
  try {
    db = await e.db;
  } catch (err) {
    e.refs--;
    throw err;
  }
  const store = new PgliteStore(db, async () => {
    e.refs--;
    if (e.refs === 0) {
      sharedPglite.delete(key);
      const closed = (async () => {
        try {
          if (!db.closed) await db.close();
          if (!url) restrictDataDirModes(key); // the files PostgreSQL writes at shutdown
        } finally {
          e.lock?.release();
        }
      })();
      closingPglite.set(key, closed);
      try {
        await closed;
      } finally {
        if (closingPglite.get(key) === closed) closingPglite.delete(key);
      }
    }
  });
  const migrated = e.migrations.then(
    () => migrate(store),
    () => migrate(store),
  );
  e.migrations = migrated;
  try {
    await migrated;
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

async function readApplied(q: Queryable): Promise<{ version: number; name: string }[]> {
  const exists = await q.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (exists.rows[0]?.t === null || exists.rows[0]?.t === undefined) return [];
  const r = await q.query<{ version: number; name: string }>(
    "SELECT version, name FROM schema_migrations ORDER BY version",
  );
  return r.rows;
}

/**
 * Open the database and bring its schema up to date. `pg` when `databaseUrl` is given, else
 * PGlite in `dataDir` (or in memory). Migrations run before this resolves; two processes opening
 * the same database at once are serialised by an advisory lock.
 */
export async function openStore(opts: OpenStoreOpts = {}): Promise<Store> {
  let store: Store;
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== "") {
    if (!/^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
      throw new PoolkeeperError(
        "ERR_CONFIG",
        `databaseUrl: "${safeUrl(opts.databaseUrl)}" is not a PostgreSQL URL (example: postgres://user@127.0.0.1:5432/poolkeeper)`,
      );
    }
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.maxConnections ?? 10,
      types: pgTypes,
    });
    // An idle client that loses its server connection emits 'error' on the pool: log it, do not crash.
    pool.on(
      "error",
      opts.onConnectionError ??
        ((e) => opts.logger?.warn({ err: e.message }, "idle database connection failed")),
    );
    store = new PgStore(pool);
    try {
      await store.query("SELECT 1");
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new PoolkeeperError(
        STORE_ERRORS.DATABASE_UNAVAILABLE,
        `cannot connect to ${safeUrl(opts.databaseUrl)}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  } else {
    if (opts.inMemory === true) store = new PgliteStore(await PGlite.create({ parsers: PGLITE_PARSERS }));
    else if (opts.dataDir === undefined || opts.dataDir === "")
      throw new PoolkeeperError("ERR_CONFIG", "openStore: give databaseUrl, dataDir or inMemory: true");
    // migrated (or not) inside, serialised with the other openers of the directory
    else
      return sharedPgliteStore(
        opts.dataDir,
        (s) => (opts.migrate !== false ? runMigrations(s, opts.logger) : Promise.resolve()),
        opts.logger,
      );
  }
  if (opts.migrate !== false) {
    try {
      await runMigrations(store, opts.logger);
    } catch (e) {
      await store.close().catch(() => undefined);
      throw e;
    }
  }
  return store;
}
