/**
 * The devnet process logs an unhandled rejection as one JSON line (on stderr: stdout carries the
 * run's lines) and keeps running, as every service does (`logProcessFaults`, installed by
 * `runDevnet` before anything else).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const RUN = fileURLToPath(new URL("../src/run.ts", import.meta.url));

describe("devnet process faults", () => {
  it("an unhandled rejection after runDevnet started is logged and the process goes on", async () => {
    const source = `
      import { runDevnet } from ${JSON.stringify(RUN)};
      await runDevnet({ operators: "x" }, () => undefined).catch((e) => console.log("refused: " + e.message));
      Promise.reject(new Error("dropped promise"));
      setTimeout(() => console.log("still running"), 100);
    `;
    // exit code 0, or execFile rejects
    const { stdout: out, stderr: err } = await run(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", source],
      { env: { ...process.env, LODESTAR_PRESET: "minimal" } },
    );
    expect(out).toContain('refused: --operators: expected a whole number, got "x"');
    expect(out).toContain("still running");
    const faults = err
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { name?: string; msg: string; err?: { message: string } });
    expect(faults.map((l) => [l.name, l.msg, l.err?.message])).toEqual([
      ["devnet", "unhandled rejection", "dropped promise"],
    ]);
  }, 60_000);
});
