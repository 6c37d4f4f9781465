/**
 * The admin-api process end to end: `node --import tsx services/admin-api/src/main.ts` with its
 * environment, as an operator starts it. Bad configuration exits 1 naming the variable; a good one
 * serves /health/ready on PGlite in a fresh data directory and stops cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, startApi, startNode, POOL_WC as WC } from "./process-helpers.js";

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
    expect(output()).toContain("POOLKEEPER_WITHDRAWAL_CREDENTIALS");
    expect(output()).toContain("admin-api failed to start");
  });

  it("exits 1 on an unknown network and on a bad --port", async () => {
    const a = start({ POOLKEEPER_NETWORK: "moonnet", POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC });
    expect(await a.exited).toBe(1);
    expect(a.output()).toContain('unknown network \\"moonnet\\"');
    const b = start({ POOLKEEPER_NETWORK: "hoodi", POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC }, [
      "--port",
      "http",
    ]);
    expect(await b.exited).toBe(1);
    expect(b.output()).toContain("--port");
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
});
