/**
 * `poolkeeper watcher` from the CLI: flags become the watcher's environment, validated by the same
 * path as the service; errors name the flag's variable and never echo a credential.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "services/cli/src/main.ts", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("exit", (code) => resolve({ code, out }));
  });
}

describe("poolkeeper watcher", () => {
  it("lists its flags", async () => {
    const r = await cli(["watcher", "--help"]);
    expect(r.code).toBe(0);
    for (const f of ["--beacon-url", "--redis-url", "--network", "--preset", "--webhook-url"])
      expect(r.out).toContain(f);
  });

  it("refuses a bad beacon URL, naming the variable, without the password", async () => {
    const r = await cli([
      "watcher",
      "--beacon-url",
      "ftp://admin:clipass123@node",
      "--network",
      "hoodi",
      "--withdrawal-credentials",
      `0x01${"00".repeat(11)}${"ab".repeat(20)}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("BEACON_URLS");
    expect(r.out).not.toContain("clipass123");
  });

  it("stops with a clear error when no beacon node answers (credentials not printed)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-watcher-cli-"));
    const r = await cli([
      "watcher",
      "--beacon-url",
      "http://admin:clipass456@127.0.0.1:9",
      "--network",
      "hoodi",
      "--withdrawal-credentials",
      `0x01${"00".repeat(11)}${"ab".repeat(20)}`,
      "--data-dir",
      dir,
      "--metrics-port",
      "0",
    ]).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(r.code).toBe(1);
    expect(r.out).toContain("no beacon node answered");
    expect(r.out).not.toContain("clipass456");
  });
});
