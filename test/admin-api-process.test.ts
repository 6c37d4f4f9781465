/**
 * The admin-api process end to end: `node --import tsx services/admin-api/src/main.ts` with its
 * environment, as an operator starts it. Bad configuration exits 1 naming the variable; a good one
 * serves /health/ready on PGlite in a fresh data directory and stops cleanly on SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WC = "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f";

/** This process's environment without the variables the tests set themselves. */
function cleanEnv(): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("POOLKEEPER_") && k !== "DATABASE_URL" && k !== "PORT") clean[k] = v;
  }
  return clean;
}

function start(
  env: Record<string, string>,
  args: string[] = [],
): { child: ChildProcess; output: () => string } {
  const clean = cleanEnv();
  const child = spawn(process.execPath, ["--import", "tsx", "services/admin-api/src/main.ts", ...args], {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return { child, output: () => out };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Poll /health/ready until 200 (or the process exits); the last status. */
async function waitReady(port: number, child: ChildProcess): Promise<number> {
  let ready = 0;
  for (let i = 0; i < 150 && ready !== 200; i++) {
    await new Promise((r) => setTimeout(r, 200));
    if (child.exitCode !== null) break;
    ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
  }
  return ready;
}

describe("admin-api process", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("exits 1 with a line naming each bad variable", async () => {
    const { child, output } = start({
      POOLKEEPER_NETWORK: "hoodi",
      POOLKEEPER_WITHDRAWAL_CREDENTIALS: "0x1234",
    });
    expect(await exitCode(child)).toBe(1);
    expect(output()).toContain("POOLKEEPER_WITHDRAWAL_CREDENTIALS");
    expect(output()).toContain("admin-api failed to start");
  });

  it("exits 1 on an unknown network and on a bad --port", async () => {
    const a = start({ POOLKEEPER_NETWORK: "moonnet", POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC });
    expect(await exitCode(a.child)).toBe(1);
    expect(a.output()).toContain('unknown network \\"moonnet\\"');
    const b = start({ POOLKEEPER_NETWORK: "hoodi", POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC }, [
      "--port",
      "http",
    ]);
    expect(await exitCode(b.child)).toBe(1);
    expect(b.output()).toContain("--port");
  });

  it("serves on PGlite in POOLKEEPER_DATA_DIR with a token from `poolkeeper tokens create`, stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-admin-api-"));
    dirs.push(dir);
    // The CLI creates the token (printed once on stdout) in the same data directory.
    const cli = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "services/cli/src/main.ts",
        "tokens",
        "create",
        "--role",
        "admin",
        "--label",
        "e2e",
      ],
      { cwd: ROOT, env: { ...cleanEnv(), POOLKEEPER_DATA_DIR: dir }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let cliOut = "";
    let cliErr = "";
    cli.stdout?.on("data", (d: Buffer) => {
      cliOut += d.toString();
    });
    cli.stderr?.on("data", (d: Buffer) => {
      cliErr += d.toString();
    });
    expect(await exitCode(cli), cliErr).toBe(0);
    const token = cliOut.trim();
    expect(token).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(cliErr).toContain("shown once");
    expect(cliErr).not.toContain(token);

    const port = await freePort();
    const { child, output } = start(
      {
        POOLKEEPER_NETWORK: "hoodi",
        POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC,
        POOLKEEPER_DATA_DIR: dir,
        LOG_LEVEL: "info",
      },
      ["--port", String(port)],
    );
    expect(await waitReady(port, child), output()).toBe(200);
    const unauth = await fetch(`http://127.0.0.1:${port}/v1/operators`);
    expect(unauth.status).toBe(401);
    const ok = await fetch(`http://127.0.0.1:${port}/v1/operators`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: [], meta: { count: 0 } });
    child.kill("SIGTERM");
    expect(await exitCode(child)).toBe(0);
    expect(output()).toContain("admin-api listening");
    expect(output()).toContain("admin-api stopping");
    expect(output()).not.toContain(token);
  });

  it("pins the pool's network and credentials: a restart with others is refused with one line, the same starts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-admin-api-"));
    dirs.push(dir);
    const OTHER_WC = "0x0100000000000000000000000f51bb10119727a7e5ea3538074fb341f56b09ad";
    const run = async (network: string, wc: string) => {
      const port = await freePort();
      const p = start(
        { POOLKEEPER_NETWORK: network, POOLKEEPER_WITHDRAWAL_CREDENTIALS: wc, POOLKEEPER_DATA_DIR: dir },
        ["--port", String(port)],
      );
      return { ...p, port };
    };
    const stop = async (p: { child: ChildProcess; port: number; output: () => string }) => {
      expect(await waitReady(p.port, p.child), p.output()).toBe(200);
      p.child.kill("SIGTERM");
      expect(await exitCode(p.child)).toBe(0);
    };
    const refusedLine = async (p: { child: ChildProcess; output: () => string }) => {
      expect(await exitCode(p.child), p.output()).toBe(1);
      const lines = p
        .output()
        .split("\n")
        .filter((l) => l.includes("admin-api failed to start"));
      expect(lines).toHaveLength(1);
      return (JSON.parse(lines[0]!) as { err: { message: string } }).err.message;
    };

    await stop(await run("hoodi", WC)); // the first start records hoodi and WC
    expect(await refusedLine(await run("hoodi", OTHER_WC))).toBe(
      `POOLKEEPER_WITHDRAWAL_CREDENTIALS: configured ${OTHER_WC} but this database belongs to a pool with ${WC}; use the database of those credentials or a new one`,
    );
    expect(await refusedLine(await run("sepolia", WC))).toMatch(
      /^POOLKEEPER_NETWORK: configured sepolia \(fork 0x90000069, .*\) but this database belongs to hoodi \(fork 0x10000910, .*\); use the database of that network or a new one$/,
    );
    await stop(await run("hoodi", WC));
  });
});
