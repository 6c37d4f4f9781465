import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { PoolkeeperError, processLabel } from "@poolkeeper/core";
import { STORE_ERRORS } from "./errors.js";

/**
 * One process owns a data directory. PGlite is a single-process database: two processes that open
 * one directory each run their own PostgreSQL over the same files, and both hand out the same keys.
 *
 * The lock is a file `poolkeeper.lock` in the directory that records its holder (pid, the
 * process's start time from /proc/<pid>/stat, the boot id, the host name and what the process is).
 * Why this and not flock/fcntl: Node has no file-lock call, and the packages that add one are
 * native addons built at install time (node-gyp), which a fresh machine cannot always build. The
 * protocol below gives the same guarantee for processes on one host without native code:
 *
 * - Taking it is atomic: the record is written whole to a private temp file, then hard-linked to
 *   `poolkeeper.lock`; link() fails with EEXIST when the lock exists, so exactly one process wins
 *   and a reader never sees a half-written record.
 * - A holder that died (kill -9, power loss) leaves the file; the next opener finds its pid gone,
 *   a zombie, a process with another start time (the pid was reused), or a record from another
 *   boot, and takes the lock over. Taking over happens under a second, short lock (mkdir of
 *   `poolkeeper.lock.break`) that re-reads the record before removing it, so two openers that both
 *   found the same stale record cannot remove each other's new lock.
 * - A record from another host name (another container on a shared volume) cannot be checked: it
 *   is treated as held, and the message says which file to remove if that process is gone.
 * - Closing removes the file; so does a normal process exit that skipped the close.
 */

export const DATA_DIR_LOCK_FILE = "poolkeeper.lock";

/** Who holds a data directory, as recorded in its lock file. */
export interface DataDirLockHolder {
  pid: number;
  /** What the process is, e.g. "poolkeeper admin-api". */
  process: string;
  host: string;
  /** When it took the lock (ISO 8601). */
  since: string;
}

interface LockRecord extends DataDirLockHolder {
  /** Start time of the process in clock ticks since boot (field 22 of /proc/<pid>/stat), when known. */
  start: string | null;
  boot: string | null;
}

/** The directory is held by another live process (or one that cannot be checked). */
export class DataDirInUseError extends PoolkeeperError {
  readonly holder: DataDirLockHolder;
  readonly dataDir: string;
  constructor(dataDir: string, holder: DataDirLockHolder, hint: string) {
    super(STORE_ERRORS.DATA_DIR_IN_USE, `${dataDirInUseMessage(dataDir, holder)}; ${hint}`, {
      dataDir,
      pid: holder.pid,
      process: holder.process,
    });
    this.name = "DataDirInUseError";
    this.holder = holder;
    this.dataDir = dataDir;
  }
}

/** `data directory X is in use by process N (what)`: the start of every in-use line. */
export function dataDirInUseMessage(dataDir: string, holder: DataDirLockHolder): string {
  const where = holder.host === hostname() ? "" : ` on host ${holder.host}`;
  const self = holder.pid === process.pid && where === "" ? ", this process" : "";
  return `data directory ${dataDir} is in use by process ${holder.pid}${where} (${holder.process}${self})`;
}

export function isDataDirInUse(e: unknown): e is DataDirInUseError {
  return e instanceof DataDirInUseError;
}

export interface DataDirLockOptions {
  /** The end of the in-use line: what the user can do (default: stop it or use DATABASE_URL). */
  hint?: string;
  /** Told when a stale lock of a dead process is taken over. */
  onStale?: (holder: DataDirLockHolder) => void;
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Remove the lock (idempotent). */
  release(): void;
}

const DEFAULT_HINT = "stop it or use DATABASE_URL (a PostgreSQL server serves several processes)";

// ------------------------------------------------------------------ this process, other processes

function readProcStat(pid: number | "self"): { state: string; start: string } | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ESRCH" ? null : undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  const start = rest[19];
  return state === undefined || start === undefined ? undefined : { state, start };
}

function readBootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

const HAS_PROC = readProcStat("self") !== undefined && readProcStat("self") !== null;

function ownRecord(): LockRecord {
  return {
    pid: process.pid,
    process: processLabel(),
    host: hostname(),
    since: new Date().toISOString(),
    start: HAS_PROC ? (readProcStat("self")?.start ?? null) : null,
    boot: readBootId(),
  };
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r.pid !== "number" || !Number.isSafeInteger(r.pid) || r.pid <= 0) return undefined;
    if (typeof r.host !== "string") return undefined;
    return {
      pid: r.pid,
      process: typeof r.process === "string" ? r.process.slice(0, 200) : "unknown",
      host: r.host.slice(0, 200),
      since: typeof r.since === "string" ? r.since : "",
      start: typeof r.start === "string" ? r.start : null,
      boot: typeof r.boot === "string" ? r.boot : null,
    };
  } catch {
    return undefined;
  }
}

/** Is the recorded holder still running? ("unknown": recorded on another host, cannot be checked.) */
function holderState(r: LockRecord): "alive" | "dead" | "unknown" {
  if (r.host !== hostname()) return "unknown";
  const boot = readBootId();
  if (r.boot !== null && boot !== null && r.boot !== boot) return "dead"; // the machine rebooted
  if (HAS_PROC) {
    const st = readProcStat(r.pid);
    if (st === null) return "dead";
    if (st !== undefined) {
      if (st.state === "Z" || st.state === "X") return "dead"; // exited, not yet reaped
      if (r.start !== null && st.start !== r.start) return "dead"; // the pid belongs to a newer process
      return "alive";
    }
  }
  try {
    process.kill(r.pid, 0);
    return "alive";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM" ? "alive" : "dead";
  }
}

// ------------------------------------------------------------------ the lock

const held = new Set<() => void>();
let exitHook = false;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function writePrivateFile(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Create `dir` (and parents) if missing and make it 0700 (a data directory is private). */
export function ensurePrivateDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!statSync(dir).isDirectory()) {
    throw new PoolkeeperError("ERR_CONFIG", `data directory ${dir} is not a directory`);
  }
  chmodSync(dir, 0o700);
}

/**
 * Remove the lock file `path` if it still holds `staleText`, under the breaker lock. Returns
 * without removing anything when another process is breaking it at the same moment (the caller
 * tries again).
 */
function breakStaleLock(path: string, staleText: string): void {
  const breaker = `${path}.break`;
  try {
    mkdirSync(breaker, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    // Breaking takes microseconds; a breaker older than 10 s belongs to a process that died in it.
    try {
      if (Date.now() - statSync(breaker).mtimeMs > 10_000) rmdirSync(breaker);
    } catch {
      // gone meanwhile
    }
    sleepSync(20);
    return;
  }
  try {
    let now: string;
    try {
      now = readFileSync(path, "utf8");
    } catch {
      return; // removed meanwhile
    }
    if (now === staleText) unlinkSync(path);
  } finally {
    rmdirSync(breaker);
  }
}

/** Error codes of file systems that have no hard links. */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/** Create the lock file holding `text` if there is none; false when it exists. */
function take(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}`;
  writePrivateFile(tmp, text);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code === "EEXIST") return false;
    if (!NO_HARD_LINKS.has(code)) throw e;
  } finally {
    unlinkSync(tmp);
  }
  // No hard links here: create the lock file itself exclusively. A reader may then see it before
  // the record is written; it waits for an unreadable record younger than 2 s (below).
  try {
    writePrivateFile(path, text);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * Take the exclusive lock on `dir` (created 0700 if missing) for this process, or throw
 * DataDirInUseError naming the live holder. Synchronous: nothing else in this process runs between
 * the check and the take-over.
 */
export function acquireDataDirLock(dir: string, opts: DataDirLockOptions = {}): DataDirLock {
  ensurePrivateDataDir(dir);
  const path = join(dir, DATA_DIR_LOCK_FILE);
  const text = `${JSON.stringify(ownRecord())}\n`;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (take(path, text)) return heldLock(dir, path, text);

    let current: string;
    try {
      current = readFileSync(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // released meanwhile
      throw e;
    }
    const holder = parseRecord(current);
    if (holder === undefined) {
      // Not a whole record: being written (file systems without hard links), or damaged, e.g. by a
      // power loss before the data reached the disk. Give a writer a moment, then break it.
      const st = statSync(path, { throwIfNoEntry: false });
      if (st === undefined) continue;
      if (Date.now() - st.mtimeMs < 2_000) {
        sleepSync(100);
        continue;
      }
    } else if (holderState(holder) !== "dead") {
      const rest =
        holder.host === hostname()
          ? (opts.hint ?? DEFAULT_HINT)
          : `${opts.hint ?? DEFAULT_HINT}; if that process is gone, remove ${path}`;
      throw new DataDirInUseError(dir, holder, rest);
    }
    breakStaleLock(path, current);
    if (holder !== undefined) opts.onStale?.(holder);
  }
  throw new PoolkeeperError(
    STORE_ERRORS.DATA_DIR_IN_USE,
    `cannot lock data directory ${dir}: too many concurrent openers`,
  );
}

function heldLock(dir: string, path: string, text: string): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    held.delete(release);
    try {
      // ours unless a process on another host judged it stale; never remove another's record
      if (readFileSync(path, "utf8") === text) unlinkSync(path);
    } catch {
      // already gone (the directory was removed)
    }
  };
  held.add(release);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const r of [...held]) r();
    });
  }
  return { dataDir: dir, release };
}

// ------------------------------------------------------------------ file modes

function restrictMode(path: string, mode: number): number {
  try {
    const st = lstatSync(path);
    if ((st.mode & 0o777) === mode) return 0;
    chmodSync(path, mode);
    return 1;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0; // removed meanwhile
    throw e;
  }
}

/**
 * Make `dir` 0700, every directory in it 0700 and every file 0600, whatever the umask; returns
 * how many entries were changed. PGlite writes its files through Emscripten's file system, which
 * gives the files of a new database (copied from its initdb image) mode 0666 and the files that
 * PostgreSQL writes through stdio 0644, whatever the process umask: so the store makes the
 * directory private when it opens it, again once PGlite has started, and when it closes it.
 * PostgreSQL's own data files are created 0600 in 0700 directories. Symbolic links are left
 * alone (chmod would follow them).
 */
export function restrictDataDirModes(dir: string): number {
  let changed = restrictMode(dir, 0o700);
  const visit = (d: string): void => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        changed += restrictMode(p, 0o700);
        visit(p);
      } else if (e.isFile()) changed += restrictMode(p, 0o600);
    }
  };
  visit(dir);
  return changed;
}
