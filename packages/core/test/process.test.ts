import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CORE = fileURLToPath(new URL("../src/index.ts", import.meta.url));

/** Run a module with tsx; its exit code and output lines. */
function runModule(source: string): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", source], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) =>
    child.once("close", (code) =>
      resolve({ code, lines: out.split("\n").filter((l) => l !== ""), stderr: err }),
    ),
  );
}

describe("logProcessFaults", () => {
  it("logs an unhandled rejection as one JSON line and keeps running; an uncaught exception exits 1", async () => {
    const r = await runModule(`
      import { createLogger, logProcessFaults } from ${JSON.stringify(CORE)};
      logProcessFaults(createLogger({ name: "t" }));
      Promise.reject(new Error("dropped promise"));
      setTimeout(() => {
        console.log(JSON.stringify({ msg: "still running" }));
        setTimeout(() => { throw new Error("thrown at top level"); }, 10);
      }, 100);
    `);
    expect(r.stderr).toBe("");
    const lines = r.lines.map(
      (l) => JSON.parse(l) as { level?: number; msg: string; err?: { message: string; stack?: string } },
    );
    expect(lines.map((l) => l.msg)).toEqual(["unhandled rejection", "still running", "uncaught exception"]);
    expect(lines[0]?.level).toBe(50);
    expect(lines[0]?.err?.message).toBe("dropped promise");
    expect(lines[0]?.err?.stack).toContain("dropped promise");
    expect(lines[2]?.level).toBe(60);
    expect(lines[2]?.err?.message).toBe("thrown at top level");
    expect(r.code).toBe(1);
  });
});
