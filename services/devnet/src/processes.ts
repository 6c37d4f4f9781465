/**
 * The devnet's child processes (oracle members, operator daemons): started from the repository
 * root as an operator starts them (`node --import tsx …`), with a minimal environment, their lines
 * (pino JSON) written to devnet.log as they are, stopped with SIGTERM (SIGKILL after a grace).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The `poolkeeper` command line (`pnpm poolkeeper …`). */
export const CLI_MAIN = fileURLToPath(new URL("../../cli/src/main.ts", import.meta.url));

/** A secret's file: created anew, mode 0600 whatever the umask; never printed. */
export function writeSecret(file: string, value: string): void {
  rmSync(file, { force: true });
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** `node --import tsx <script> ...args` from the repository root; only PATH and `env` are passed on. */
export function spawnNode(script: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", ...env },
  });
}

/** Stop a child: SIGTERM, then SIGKILL after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A child's lines (stdout and stderr) into the devnet's log, as they are. */
export function pipeLines(child: ChildProcess, log: NodeJS.WritableStream): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.on("data", (d: Buffer) => {
      const lines = (rest + d.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.trim() !== "") log.write(`${line}\n`);
    });
  }
}

/** Runs a child to its end: resolves with its exit code (null: a signal) and its output. */
export function runToEnd(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = "";
  for (const stream of [child.stdout, child.stderr])
    stream?.on("data", (d: Buffer) => {
      output += d.toString("utf8");
    });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}
