import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Logger, PoolkeeperError } from "@poolkeeper/core";
import { STORE_ERRORS } from "./errors.js";
import type { Queryable, Store } from "./store.js";

/** packages/store/migrations: NNNN_name.sql, applied in version order. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));

/** Session advisory lock taken while migrating ("pkmigr" in ASCII). */
export const MIGRATION_LOCK_KEY = "123437086009714";

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  const seen = new Map<number, string>();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(".sql")) continue;
    const m = FILE_RE.exec(file);
    if (m === null) {
      throw new PoolkeeperError(
        STORE_ERRORS.MIGRATION_NAME,
        `migration file "${file}" must be named NNNN_name.sql (example: 0001_registry.sql)`,
      );
    }
    const version = Number(m[1]);
    const other = seen.get(version);
    if (other !== undefined) {
      throw new PoolkeeperError(
        STORE_ERRORS.MIGRATION_NAME,
        `migrations "${other}" and "${file}" share version ${version}`,
      );
    }
    seen.set(version, file);
    const sql = readFileSync(`${dir}/${file}`, "utf8");
    out.push({ version, name: m[2]!, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return out.sort((a, b) => a.version - b.version);
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY CHECK (version > 0),
  name text NOT NULL,
  checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Apply every migration not yet recorded in schema_migrations, each in its own transaction, under
 * a session advisory lock so that two processes starting together migrate once. A recorded
 * migration whose file changed since is refused: a schema must not drift silently.
 * Returns the versions applied by this call.
 */
export async function runMigrations(store: Store, logger?: Logger, dir?: string): Promise<number[]> {
  const migrations = loadMigrations(dir);
  return store.withConnection(async (conn) => {
    await conn.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      return await migrateLocked(conn, migrations, logger);
    } finally {
      await conn.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  });
}

async function migrateLocked(conn: Queryable, migrations: Migration[], logger?: Logger): Promise<number[]> {
  await conn.exec(CREATE_TABLE);
  const applied = new Map<number, string>();
  const rows = await conn.query<{ version: number; checksum: string }>(
    "SELECT version, checksum FROM schema_migrations",
  );
  for (const r of rows.rows) applied.set(r.version, r.checksum);

  for (const m of migrations) {
    const sum = applied.get(m.version);
    if (sum !== undefined && sum !== m.checksum) {
      throw new PoolkeeperError(
        STORE_ERRORS.MIGRATION_CHANGED,
        `migration ${String(m.version).padStart(4, "0")}_${m.name} was changed after it was applied: add a new migration instead`,
        { version: m.version },
      );
    }
  }

  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    const label = `${String(m.version).padStart(4, "0")}_${m.name}`;
    await conn.exec("BEGIN");
    try {
      await conn.exec(m.sql);
      await conn.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
        m.version,
        m.name,
        m.checksum,
      ]);
      await conn.exec("COMMIT");
    } catch (e) {
      await conn.exec("ROLLBACK").catch(() => undefined);
      throw new PoolkeeperError(
        STORE_ERRORS.MIGRATION_FAILED,
        `migration ${label} failed: ${e instanceof Error ? e.message : String(e)}`,
        { version: m.version },
        { cause: e },
      );
    }
    logger?.info({ migration: label }, "migration applied");
    done.push(m.version);
  }
  return done;
}

/** Migrations present in the code but not recorded in the database (readiness check). */
export async function pendingMigrations(store: Store, dir?: string): Promise<number[]> {
  const applied = new Set((await store.appliedMigrations()).map((m) => m.version));
  return loadMigrations(dir)
    .filter((m) => !applied.has(m.version))
    .map((m) => m.version);
}
