/**
 * Child processes of a benchmark that runs itself in several roles (a sim, clients): not a
 * benchmark (bench/run.ts skips files other benchmarks refer to by relative path).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** `node --import tsx <file> ...args`, stdout piped (its lines are the answers), stderr shown. */
export function spawnRole(file: string, args: string[], stdin: "pipe" | "ignore" = "ignore"): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", file, ...args], { stdio: [stdin, "pipe", "inherit"] });
}

/** The next line a child writes on stdout, one per call, in order. */
export function lines(c: ChildProcess): () => Promise<string> {
  const waiting: Array<(l: string) => void> = [];
  const queued: string[] = [];
  createInterface({ input: c.stdout! }).on("line", (l) => {
    const w = waiting.shift();
    if (w === undefined) queued.push(l);
    else w(l);
  });
  return () => {
    const q = queued.shift();
    return q !== undefined ? Promise.resolve(q) : new Promise((r) => waiting.push(r));
  };
}

/**
 * The sim's side of a bench: answer each line on stdin with its CPU time and peak RSS so far (the
 * parent reads them around each client run), and close the sim on SIGTERM.
 */
export function serveUsage(sim: { close(): Promise<void> }): void {
  createInterface({ input: process.stdin }).on("line", () => {
    const cpu = process.cpuUsage();
    const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, peakRssMiB })}\n`);
  });
  process.on("SIGTERM", () => void sim.close().then(() => process.exit(0)));
}
