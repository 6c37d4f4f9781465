import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  promises as fs,
  fsync,
  linkSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * Atomic, private file writes: the data goes to a temp file in the same directory (mode 0600),
 * is fsynced, then renamed over the final name and the directory is fsynced. A reader (or a
 * resumed run) sees either no file or the whole file, never a partial one.
 */

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
/** Temp files start with this prefix so that an interrupted run's leftovers can be recognised. */
export const TEMP_PREFIX = ".poolkeeper-tmp-";

/** fsync a directory, so that the renames in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some file systems do not allow fsync on a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

export interface AtomicWriteOptions {
  /** Fail with EEXIST instead of replacing an existing file (default false). */
  noOverwrite?: boolean;
  mode?: number;
  /**
   * fsync the directory after the rename (default true). Bulk writers pass false and call
   * fsyncDir once at the end: the file itself is always fsynced before it gets its name.
   */
  syncDir?: boolean;
}

/**
 * Write `data` to `path` atomically with mode 0600 (or `mode`).
 *
 * The open, write, chmod, close, link and unlink calls are made synchronously: on a local file
 * system each takes microseconds, less than the thread-pool round trip and promise of its async
 * form, and bulk writers run them next to CPU-bound work (keystore KDFs) that the round trips would
 * slow down (less CPU per file than with fs.promises). Only fsync, which waits for the disk, goes
 * to the pool.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${randomBytes(6).toString("hex")}`);
  const mode = opts.mode ?? PRIVATE_FILE_MODE;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    try {
      writeFileSync(fd, data);
      fchmodSync(fd, mode); // the umask may have narrowed it; never widened beyond `mode`
      await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e === null ? resolve() : reject(e))));
    } finally {
      closeSync(fd);
    }
    if (opts.noOverwrite === true) {
      // link() fails with EEXIST when the target exists: no window where it could be replaced.
      linkSync(tmp, path);
      unlinkSync(tmp);
    } else {
      renameSync(tmp, path);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (opts.syncDir !== false) await fsyncDir(dir);
}

/**
 * Create `dir` (and missing parents) with mode 0700: one mkdir per missing component, so the work
 * is bounded by the path's length. (Node's recursive mkdir retries for ever where mkdir fails with
 * ENOENT under an existing parent, as in /proc.) An existing directory is kept as it is; anything
 * else at `dir` is ENOTDIR.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let cur = resolve(dir); ; cur = dirname(cur)) {
    const st = await fs.stat(cur).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return undefined;
      throw e;
    });
    if (st !== undefined) {
      if (!st.isDirectory()) throw notADirectory(cur);
      break;
    }
    missing.push(cur);
    if (dirname(cur) === cur) break;
  }
  for (const d of missing.reverse()) {
    try {
      await fs.mkdir(d, { mode: PRIVATE_DIR_MODE });
    } catch (e) {
      // Made meanwhile by someone else: fine if it is a directory.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (!(await fs.stat(d)).isDirectory()) throw notADirectory(d);
    }
  }
}

function notADirectory(path: string): NodeJS.ErrnoException {
  const e = new Error(`${path} is not a directory`) as NodeJS.ErrnoException;
  e.code = "ENOTDIR";
  e.path = path;
  return e;
}

/**
 * Check that files can be created in `dir`: create a probe file (O_EXCL) and remove it. Throws the
 * error of the failing call (EACCES, EROFS, ENOSPC, ...).
 */
export async function checkWritableDir(dir: string): Promise<void> {
  const probe = join(dir, `${TEMP_PREFIX}probe.${randomBytes(6).toString("hex")}`);
  const h = await fs.open(
    probe,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    PRIVATE_FILE_MODE,
  );
  try {
    await h.close();
  } finally {
    await fs.rm(probe, { force: true });
  }
}

/** Remove temp files an interrupted atomic write left in `dir`; returns how many. */
export async function removeStaleTempFiles(dir: string): Promise<number> {
  let n = 0;
  for (const name of await fs.readdir(dir)) {
    if (name.startsWith(TEMP_PREFIX)) {
      await fs.rm(join(dir, name), { force: true });
      n++;
    }
  }
  return n;
}
