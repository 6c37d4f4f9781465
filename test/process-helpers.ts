/**
 * Child processes for the end-to-end tests: the admin API and the `poolkeeper` CLI started as an
 * operator starts them (`node --import tsx …` from the repository root), optionally under a given
 * umask, with output captured.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const POOL_WC = "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f";

/** This process's environment without the variables the tests set themselves. */
export function cleanEnv(): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("POOLKEEPER_") && k !== "DATABASE_URL" && k !== "PORT") clean[k] = v;
  }
  return clean;
}

export interface Started {
  child: ChildProcess;
  /** stdout and stderr so far */
  output: () => string;
  exited: Promise<number | null>;
}

/** `node --import tsx <script> ...args`; with `umask`, through `sh -c 'umask …; exec node …'`. */
export function startNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  opts: { umask?: string } = {},
): Started {
  const argv = ["--import", "tsx", script, ...args];
  const child =
    opts.umask === undefined
      ? spawn(process.execPath, argv, {
          cwd: ROOT,
          env: { ...cleanEnv(), ...env },
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn("sh", ["-c", `umask ${opts.umask} && exec "$0" "$@"`, process.execPath, ...argv], {
          cwd: ROOT,
          env: { ...cleanEnv(), ...env },
          stdio: ["ignore", "pipe", "pipe"],
        });
  const output = collect(child.stdout, child.stderr);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  return { child, output, exited };
}

/** Everything the streams have written so far, in order. */
function collect(...streams: (Readable | null)[]): () => string {
  const parts: string[] = [];
  for (const s of streams) s?.on("data", (d: Buffer) => parts.push(d.toString()));
  return () => parts.join("");
}

/** `poolkeeper <args>` to its end: exit code, stdout and stderr apart. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { umask?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const s = startNode("services/cli/src/main.ts", args, env, opts);
  const stdout = collect(s.child.stdout);
  const stderr = collect(s.child.stderr);
  const code = await s.exited;
  return { code, stdout: stdout(), stderr: stderr() };
}

/** Poll `cond` every 200 ms until it holds or `tries` run out; returns whether it held. */
export async function until(cond: () => Promise<boolean> | boolean, tries = 300): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export interface StartedApi extends Started {
  /** http://127.0.0.1:<port>, once it listens ("" when it never did) */
  url: string;
}

/**
 * The admin API on a free port (`--port 0`, the address read from its "admin-api listening" log
 * line); resolves once /health/ready answers 200, or the process exited.
 */
export async function startApi(
  env: Record<string, string>,
  opts: { umask?: string } = {},
): Promise<StartedApi> {
  const s = startNode(
    "services/admin-api/src/main.ts",
    ["--port", "0"],
    { POOLKEEPER_NETWORK: "hoodi", POOLKEEPER_WITHDRAWAL_CREDENTIALS: POOL_WC, LOG_LEVEL: "info", ...env },
    opts,
  );
  let url = "";
  await until(async () => {
    if (s.child.exitCode !== null) return true;
    url ||= /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(s.output())?.[1] ?? "";
    return (
      url !== "" &&
      (await fetch(`${url}/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      ))
    );
  });
  return { ...s, url };
}

/** Every entry under `dir` (itself included) whose mode is not 0700 (directory) or 0600 (file). */
export function loosePermissions(dir: string): string[] {
  const bad: string[] = [];
  const check = (p: string) => {
    const st = statSync(p);
    const want = st.isDirectory() ? 0o700 : 0o600;
    if ((st.mode & 0o777) !== want) bad.push(`${(st.mode & 0o777).toString(8)} ${p}`);
  };
  check(dir);
  for (const e of readdirSync(dir, { recursive: true })) check(join(dir, String(e)));
  return bad;
}
