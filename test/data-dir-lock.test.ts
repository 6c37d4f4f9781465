/**
 * One process owns an embedded (PGlite) data directory, and the directory is private, whatever
 * the umask (issue 9, sections 1 and 3), with real processes: a second admin API on the same
 * directory exits 1 naming the first one's pid; `poolkeeper tokens revoke` is refused while the API
 * runs (nothing is written) and with --wait runs once the API stopped, so the revocation holds
 * after a restart; an API killed with SIGKILL does not block the next start; every file is 0600
 * and every directory 0700 under umask 0000; with DATABASE_URL two APIs run side by side.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DATA_DIR_LOCK_FILE } from "../packages/store/src/index.js";
import { createTestDatabase, type TestDatabase } from "../packages/store/src/testing.js";
import {
  loosePermissions,
  POOL_WC,
  runCli,
  type StartedApi,
  startApi,
  startNode,
  until,
} from "./process-helpers.js";

const TIMEOUT = 240_000;

async function stop(api: StartedApi, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  api.child.kill(signal);
  return api.exited;
}

function get(api: StartedApi, path: string, token: string): Promise<number> {
  return fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
}

describe("a PGlite data directory has one owner", () => {
  const root = mkdtempSync(join(tmpdir(), "pk-data-dir-"));
  const dir = join(root, "db");
  const env = { POOLKEEPER_DATA_DIR: dir };
  const running: StartedApi[] = [];
  let admin = "";
  let dao = "";
  afterAll(() => {
    for (const a of running)
      if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  });

  it(
    "refuses a second admin API and the tokens CLI while one runs; files stay private under umask 0000",
    async () => {
      const c1 = await runCli(["tokens", "create", "--role", "admin"], env, { umask: "0000" });
      expect(c1.code, c1.stderr).toBe(0);
      admin = c1.stdout.trim();
      const c2 = await runCli(["tokens", "create", "--role", "dao", "--label", "to revoke"], env, {
        umask: "0000",
      });
      expect(c2.code, c2.stderr).toBe(0);
      dao = c2.stdout.trim();
      expect(c2.stderr).toContain("created token 2");

      const api = await startApi(env, { umask: "0000" });
      running.push(api);
      expect(api.child.exitCode, api.output()).toBeNull();
      const pid = api.child.pid!;

      // a second API on the same directory: exit 1, one line naming the first one's pid
      const second = await startApi(env);
      running.push(second);
      expect(await second.exited).toBe(1);
      const lines = second.output().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(
        `data directory ${dir} is in use by process ${pid} (node services/admin-api/src/main.ts); stop it or use DATABASE_URL`,
      );

      // the first one writes data; every file it wrote is private
      const created = await fetch(`${api.url}/v1/operators`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "op-1", rewardAddress: "0x0f51bb10119727a7e5ea3538074fb341f56b09ad" }),
      });
      expect(created.status).toBe(201);
      expect(loosePermissions(dir)).toEqual([]);

      // the tokens CLI is refused and writes nothing: the token still works
      const refused = await runCli(["tokens", "revoke", "2"], env);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toBe(
        `error: data directory ${dir} is in use by process ${pid} (node services/admin-api/src/main.ts); the tokens commands need it to themselves: stop it and run this again, or add --wait to run as soon as it stops (with DATABASE_URL both run at once)\n`,
      );
      expect(await get(api, "/v1/review", dao)).toBe(200);
      const list = await runCli(["tokens", "list"], env);
      expect(list.code).toBe(1);
      expect(list.stderr).toContain(`in use by process ${pid}`);

      // with --wait it says so, and runs as soon as the API stops
      const waiting = startNode("services/cli/src/main.ts", ["tokens", "revoke", "2", "--wait"], env);
      expect(await until(() => waiting.output().includes("waiting for process")), waiting.output()).toBe(
        true,
      );
      expect(waiting.output()).toBe(
        `waiting for process ${pid} (node services/admin-api/src/main.ts) to release data directory ${dir} ...\n`,
      );
      expect(await get(api, "/v1/review", dao)).toBe(200);
      expect(await stop(api)).toBe(0);
      expect(await waiting.exited, waiting.output()).toBe(0);
      expect(waiting.output()).toContain("revoked token 2\n");
      expect(loosePermissions(dir)).toEqual([]);
      expect(() => statSync(join(dir, DATA_DIR_LOCK_FILE))).toThrow(/ENOENT/);
    },
    TIMEOUT,
  );

  it(
    "keeps the revocation across a restart, and an API killed with SIGKILL does not block the next start",
    async () => {
      const api = await startApi(env);
      running.push(api);
      expect(api.child.exitCode, api.output()).toBeNull();
      expect(await get(api, "/v1/review", dao)).toBe(401);
      expect(await get(api, "/v1/review", admin)).toBe(200);
      await stop(api, "SIGKILL");
      // its lock is left behind, naming a process that is gone
      expect(JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK_FILE), "utf8")).pid).toBe(api.child.pid);

      const next = await startApi(env);
      running.push(next);
      expect(next.child.exitCode, next.output()).toBeNull();
      expect(next.output()).toContain("took over the lock of a process that is gone");
      const ops = await fetch(`${next.url}/v1/operators`, { headers: { authorization: `Bearer ${admin}` } });
      expect(((await ops.json()) as { meta: { count: number } }).meta.count).toBe(1);
      expect(await stop(next)).toBe(0);
    },
    TIMEOUT,
  );
});

describe("with DATABASE_URL", () => {
  let db: TestDatabase;
  const running: StartedApi[] = [];
  afterAll(async () => {
    for (const a of running)
      if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill("SIGKILL");
    await db?.drop();
  });

  it(
    "two admin APIs run side by side on one PostgreSQL database",
    async () => {
      db = await createTestDatabase();
      const [a, b] = await Promise.all([
        startApi({ DATABASE_URL: db.url }),
        startApi({ DATABASE_URL: db.url }),
      ]);
      running.push(a!, b!);
      expect(a!.child.exitCode, a!.output()).toBeNull();
      expect(b!.child.exitCode, b!.output()).toBeNull();
      expect(await stop(a!)).toBe(0);
      expect(await stop(b!)).toBe(0);
    },
    TIMEOUT,
  );
});

describe("every command that opens the data directory", () => {
  it("the watcher is refused with one line naming the holder", async () => {
    const root = mkdtempSync(join(tmpdir(), "pk-data-dir-"));
    const dir = join(root, "db");
    const holder = startNode("packages/store/test/fixtures/hold-data-dir.ts", [dir], {});
    try {
      expect(await until(() => holder.output().startsWith("held "))).toBe(true);
      const r = await runCli(["watcher"], {
        BEACON_URLS: "http://127.0.0.1:9",
        POOLKEEPER_NETWORK: "hoodi",
        POOLKEEPER_WITHDRAWAL_CREDENTIALS: POOL_WC,
        POOLKEEPER_DATA_DIR: dir,
        METRICS_PORT: "0",
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: data directory ${dir} is in use by process ${holder.child.pid} (node packages/store/test/fixtures/hold-data-dir.ts); stop it or use DATABASE_URL (a PostgreSQL server serves several processes)\n`,
      );
    } finally {
      holder.child.kill("SIGKILL");
      await holder.exited;
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
