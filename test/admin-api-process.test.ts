/**
 * The admin-api process end to end: `node --import tsx services/admin-api/src/main.ts` with its
 * environment, as an operator starts it. Bad configuration exits 1 with one `error: …` line on
 * stderr naming the variable (service kit); a good one serves /health/ready on PGlite in a fresh
 * data directory and stops cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { POOL_WC, runCli, type StartedApi, startApi, startNode } from "./process-helpers.js";

const WC = POOL_WC;

function start(env: Record<string, string>, args: string[] = []) {
  return startNode("services/admin-api/src/main.ts", args, env);
}

describe("admin-api process", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("exits 1 with a line naming each bad variable", async () => {
    const { exited, output } = start({
      POOLKEEPER_NETWORK: "hoodi",
      POOLKEEPER_WITHDRAWAL_CREDENTIALS: "0x1234",
    });
    expect(await exited).toBe(1);
    const errors = output()
      .split("\n")
      .filter((l) => l.startsWith("error: "));
    expect(errors).toEqual([
      'error: invalid configuration: POOLKEEPER_WITHDRAWAL_CREDENTIALS: "0x1234" is invalid: must be 0x followed by 32 bytes of hex (example: POOLKEEPER_WITHDRAWAL_CREDENTIALS=0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f)',
    ]);
  });

  it("exits 1 on an unknown network and on a bad --port", async () => {
    const a = start({ POOLKEEPER_NETWORK: "moonnet", POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC });
    expect(await a.exited).toBe(1);
    expect(a.output()).toContain(
      'error: invalid configuration: POOLKEEPER_NETWORK: "moonnet" is invalid: unknown network "moonnet"',
    );
    const b = start({ POOLKEEPER_NETWORK: "hoodi", POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC }, [
      "--port",
      "http",
    ]);
    expect(await b.exited).toBe(1);
    expect(b.output()).toContain('error: --port: "http" is not a port (example: --port 3000)\n');
  });

  it("serves on PGlite in POOLKEEPER_DATA_DIR with a token from `poolkeeper tokens create`, stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-admin-api-"));
    dirs.push(dir);
    // The CLI creates the token (printed once on stdout) in the same data directory.
    const cli = await runCli(["tokens", "create", "--role", "admin", "--label", "e2e"], {
      POOLKEEPER_DATA_DIR: dir,
    });
    expect(cli.code, cli.stderr).toBe(0);
    const token = cli.stdout.trim();
    expect(token).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(cli.stderr).toContain("shown once");
    expect(cli.stderr).not.toContain(token);

    const { child, output, exited, url } = await startApi({ POOLKEEPER_DATA_DIR: dir });
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    expect(ready, output()).toBe(200);
    const unauth = await fetch(`${url}/v1/operators`);
    expect(unauth.status).toBe(401);
    const ok = await fetch(`${url}/v1/operators`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: [], meta: { count: 0 } });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output()).toContain("admin-api listening");
    expect(output()).toContain("admin-api stopping");
    expect(output()).not.toContain(token);
  });

  it("pins the pool's network and credentials: a restart with others is refused with one line, the same starts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-admin-api-"));
    dirs.push(dir);
    const OTHER_WC = "0x0100000000000000000000000f51bb10119727a7e5ea3538074fb341f56b09ad";
    const run = (network: string, wc: string) =>
      startApi({
        POOLKEEPER_NETWORK: network,
        POOLKEEPER_WITHDRAWAL_CREDENTIALS: wc,
        POOLKEEPER_DATA_DIR: dir,
      });
    const stop = async (p: StartedApi) => {
      expect(p.url, p.output()).not.toBe("");
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    };
    const refusedLine = async (p: StartedApi) => {
      expect(await p.exited, p.output()).toBe(1);
      const lines = p
        .output()
        .split("\n")
        .filter((l) => l.startsWith("error: "));
      expect(lines).toHaveLength(1);
      return lines[0]!.slice("error: ".length);
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
