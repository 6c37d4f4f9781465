/**
 * The data-directory lock with real processes: one holder at a time, a second opener refused with
 * the holder's pid, stale locks (dead pid, reused pid, another boot) taken over, a race of several
 * openers on a stale lock won by exactly one, and the modes of a data directory made private.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  acquireDataDirLock,
  DATA_DIR_LOCK_FILE,
  DataDirInUseError,
  restrictDataDirModes,
} from "../src/data-dir-lock.js";
import { openStore } from "../src/store.js";

const HOLDER = fileURLToPath(new URL("./fixtures/hold-data-dir.ts", import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), "pk-lock-"));
  dirs.push(d);
  return join(d, "data");
}

/** Start a holder; resolves with its first line ("held <pid>", "refused …") and the child. */
function holder(
  dir: string,
  holdMs?: number,
): Promise<{ child: ChildProcess; line: string; exited: Promise<void> }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", HOLDER, dir, ...(holdMs ? [String(holdMs)] : [])],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  children.push(child);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, line: out.slice(0, nl), exited });
    });
    child.once("exit", (code) => {
      if (!out.includes("\n")) reject(new Error(`holder exited ${code} without a line`));
    });
  });
}

function lockRecord(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK_FILE), "utf8")) as Record<string, unknown>;
}

function procStart(pid: number): string {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  return s.slice(s.lastIndexOf(")") + 2).split(" ")[19]!;
}

describe("data directory lock", () => {
  it("refuses a second process with the holder's pid and lets it in once released", async () => {
    const dir = freshDir();
    const first = await holder(dir);
    expect(first.line).toBe(`held ${first.child.pid}`);
    const second = await holder(dir);
    expect(second.line).toMatch(
      new RegExp(
        `^refused data directory ${dir} is in use by process ${first.child.pid} \\(node .*hold-data-dir\\.ts\\); stop it or use DATABASE_URL`,
      ),
    );
    await second.exited;
    expect(second.child.exitCode).toBe(3);
    // and this process too
    expect(() => acquireDataDirLock(dir)).toThrow(DataDirInUseError);
    first.child.kill("SIGTERM");
    await first.exited;
    const lock = acquireDataDirLock(dir); // its process is gone
    lock.release();
    expect(() => statSync(join(dir, DATA_DIR_LOCK_FILE))).toThrow(/ENOENT/);
  });

  it("takes over the lock of a process killed with SIGKILL", async () => {
    const dir = freshDir();
    const first = await holder(dir);
    expect(first.line).toMatch(/^held /);
    first.child.kill("SIGKILL");
    await first.exited;
    expect(lockRecord(dir).pid).toBe(first.child.pid); // left behind
    const stale: number[] = [];
    const lock = acquireDataDirLock(dir, { onStale: (h) => stale.push(h.pid) });
    expect(stale).toEqual([first.child.pid]);
    expect(lockRecord(dir).pid).toBe(process.pid);
    lock.release();
  });

  it("takes over a record whose pid now belongs to another process or to another boot", () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const base = {
      pid: process.ppid,
      process: "poolkeeper admin-api",
      host: hostname(),
      since: "2026-01-01T00:00:00Z",
    };
    // the parent process is alive, but started at another time: the pid was reused
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE), JSON.stringify({ ...base, start: "1", boot: null }));
    acquireDataDirLock(dir).release();
    writeFileSync(
      join(dir, DATA_DIR_LOCK_FILE),
      JSON.stringify({ ...base, start: null, boot: "another-boot" }),
    );
    acquireDataDirLock(dir).release();
    // the same record with the parent's real start time is a live holder
    writeFileSync(
      join(dir, DATA_DIR_LOCK_FILE),
      JSON.stringify({ ...base, start: procStart(process.ppid), boot: null }),
    );
    expect(() => acquireDataDirLock(dir)).toThrow(`in use by process ${process.ppid} (poolkeeper admin-api)`);
  });

  it("takes over a damaged lock file once it is older than a writer needs", () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, DATA_DIR_LOCK_FILE);
    writeFileSync(path, "");
    utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const lock = acquireDataDirLock(dir);
    expect(lockRecord(dir).pid).toBe(process.pid);
    lock.release();
  });

  it("treats a holder on another host as live and says which file to remove", () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, DATA_DIR_LOCK_FILE);
    writeFileSync(
      path,
      JSON.stringify({
        pid: 1,
        process: "poolkeeper watcher",
        host: "other-container",
        since: "",
        start: null,
        boot: null,
      }),
    );
    expect(() => acquireDataDirLock(dir)).toThrow(
      `data directory ${dir} is in use by process 1 on host other-container (poolkeeper watcher); stop it or use DATABASE_URL (a PostgreSQL server serves several processes); if that process is gone, remove ${path}`,
    );
  });

  it("lets exactly one of several processes take over a stale lock at once", async () => {
    const dir = freshDir();
    const dead = await holder(dir);
    dead.child.kill("SIGKILL");
    await dead.exited;
    const racers = await Promise.all(Array.from({ length: 5 }, () => holder(dir, 30_000)));
    const won = racers.filter((r) => r.line.startsWith("held "));
    expect(won).toHaveLength(1);
    for (const r of racers) {
      if (r !== won[0]) expect(r.line).toContain(`in use by process ${won[0]!.child.pid}`);
    }
    expect(lockRecord(dir).pid).toBe(won[0]!.child.pid);
  });

  it("a reopen in this process while the last close still runs waits for it, then holds the lock", async () => {
    const dir = freshDir();
    const a = await openStore({ dataDir: dir, migrate: false });
    await a.exec("CREATE TABLE t (x int); INSERT INTO t VALUES (1)");
    const closing = a.close();
    const b = await openStore({ dataDir: dir, migrate: false });
    await closing;
    expect((await b.query("SELECT x FROM t")).rows).toEqual([{ x: 1 }]);
    expect(lockRecord(dir).pid).toBe(process.pid);
    await b.close();
    expect(() => statSync(join(dir, DATA_DIR_LOCK_FILE))).toThrow(/ENOENT/);
  });

  it("makes a data directory 0700 and everything in it 0600 / 0700", () => {
    const dir = freshDir();
    mkdirSync(join(dir, "base", "5"), { recursive: true });
    writeFileSync(join(dir, "PG_VERSION"), "17\n");
    writeFileSync(join(dir, "base", "5", "1259"), "x");
    for (const [p, m] of [
      [dir, 0o777],
      [join(dir, "base"), 0o755],
      [join(dir, "base", "5"), 0o777],
      [join(dir, "PG_VERSION"), 0o666],
      [join(dir, "base", "5", "1259"), 0o644],
    ] as const)
      chmodSync(p, m);
    expect(restrictDataDirModes(dir)).toBe(5);
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect([dir, join(dir, "base"), join(dir, "base", "5")].map(mode)).toEqual([0o700, 0o700, 0o700]);
    expect([join(dir, "PG_VERSION"), join(dir, "base", "5", "1259")].map(mode)).toEqual([0o600, 0o600]);
    expect(restrictDataDirModes(dir)).toBe(0);
  });
});
