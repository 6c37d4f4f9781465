/**
 * A private Redis and a private PostgreSQL cluster for tests that stop and restart them (the shared
 * ones serve other tests): `redis-server` without persistence, and `initdb` + `pg_ctl` into a temp
 * directory, each on a free port. Under root, PostgreSQL runs as the `postgres` account.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** PING over a raw socket: true once Redis answers PONG. */
function redisPong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.on("error", () => done(false));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Start (again, empty: no persistence) on the same port. */
  async start(): Promise<void> {
    this.child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    await waitFor("redis-server", () => redisPong(this.port));
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
  }
}

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) throw new Error(`no PostgreSQL server binaries under ${root}`);
  return join(root, versions[0], "bin");
}

export class PrivatePostgres {
  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly ids: { uid: number; gid: number } | undefined,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), "pk-pg-"));
    let ids: { uid: number; gid: number } | undefined;
    if (process.getuid?.() === 0) {
      // initdb refuses to run as root
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: g } = await run("id", ["-g", "postgres"]);
      ids = { uid: Number(stdout.trim()), gid: Number(g.trim()) };
      chownSync(dir, ids.uid, ids.gid);
    }
    const pg = new PrivatePostgres(dir, await freePort(), postgresBin(), ids);
    await pg.exec("initdb", ["-D", pg.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
    await pg.start();
    return pg;
  }

  private get data(): string {
    return join(this.dir, "data");
  }

  /** The server URL (database `postgres`); createTestStore makes its own database on it. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    await run(join(this.bin, tool), args, {
      ...(this.ids ?? {}),
      cwd: this.dir,
      env: { PATH: "/usr/bin:/bin" },
    });
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.exec("pg_ctl", ["-D", this.data, "-l", join(this.dir, "log"), "-o", opts, "-w", "start"]);
  }

  /** Fast shutdown: connections are terminated, as when a server restarts. */
  async stop(): Promise<void> {
    await this.exec("pg_ctl", ["-D", this.data, "-m", "fast", "-w", "stop"]);
  }

  async destroy(): Promise<void> {
    await this.exec("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
