/**
 * The devnet's child processes (oracle members, operator daemons): started from the repository
 * root as an operator starts them (`node --import tsx …`), with a minimal environment, their lines
 * (pino JSON) written to devnet.log as they are, stopped with SIGTERM (SIGKILL after a grace).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DevnetContext } from "./context.js";

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

/**
 * Children of one kind (oracle members, guardians): each one's lines into devnet.log, an exit
 * other than at the devnet's close (or a clean one) an error in the log and one output line, all
 * stopped (SIGTERM) at the close. `add` takes a started child and its name ("guardian g1").
 */
export function childGroup(ctx: DevnetContext): { add(child: ChildProcess, name: string): void } {
  const children: ChildProcess[] = [];
  let closing = false;
  ctx.onClose(() => {
    closing = true;
    return Promise.all(children.map((c) => stopChild(c)));
  });
  return {
    add(child, name) {
      children.push(child);
      pipeLines(child, ctx.get("logStream"));
      child.once("exit", (code, signal) => {
        if (closing || code === 0) return;
        ctx.get("logger").error({ child: name, code, signal }, `${name} exited`);
        ctx.out(`${name} exited (${signal ?? `code ${code}`}); see ${ctx.get("logFile")}`);
      });
    },
  };
}
