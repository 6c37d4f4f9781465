/**
 * SIGTERM to the pnpm process of `pnpm devnet` stops everything (issue 9 §8): no process of the
 * run is left, its ports are closed and no Redis key with its prefix remains. pnpm runs a script
 * through a shell and did not pass the signal on, leaving the devnet running as an orphan. Also:
 * when the pnpm process is killed outright (SIGKILL: nothing can be passed on), the command sees
 * its parent gone and stops as on SIGTERM; POOLKEEPER_EXIT_WITH_PARENT=1 turns that check on for a
 * command started otherwise, =0 off.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";

/** Live (not zombie) descendants of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state === "Z") continue;
      const list = children.get(Number(ppid)) ?? [];
      list.push(Number(name));
      children.set(Number(ppid), list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean | Promise<boolean>, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `pnpm <args>` from the repository root, its stdout collected. */
function pnpm(args: string[]): { child: ChildProcess; out: string[] } {
  const child = spawn("pnpm", args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  child.stdout?.on("data", (b: Buffer) => out.push(String(b)));
  child.stderr?.on("data", (b: Buffer) => out.push(String(b)));
  return { child, out };
}

const started: number[] = [];
const dirs: string[] = [];
afterAll(() => {
  // a failed run must not leave its processes behind
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("long-running pnpm commands stop with the pnpm process", () => {
  it("SIGTERM to `pnpm devnet` leaves no process, no open port and no Redis key of the run", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "pk-devnet-sigterm-"));
    dirs.push(dataDir);
    const run = pnpm([
      "devnet",
      "--data-dir",
      dataDir,
      "--api-port",
      "0",
      "--sim-port",
      "0",
      "--redis-url",
      REDIS_URL,
      "--seconds-per-slot",
      "1",
      "--keys-per-operator",
      "1",
    ]);
    const pnpmPid = run.child.pid as number;
    started.push(pnpmPid);
    const text = () => run.out.join("");
    await until("the devnet to run", () => /^running/m.test(text()) || run.child.exitCode !== null, 150_000);
    expect(text()).toMatch(/^running/m);
    const prefix = /keys (pk-devnet-[0-9a-f]+):\*/.exec(text())?.[1] as string;
    const apiUrl = /^admin API +(\S+)/m.exec(text())?.[1] as string;
    const simUrl = /^beacon-sim +(\S+)/m.exec(text())?.[1] as string;
    expect(prefix).toBeDefined();
    const tree = descendants(pnpmPid);
    started.push(...tree);
    expect(tree.length).toBeGreaterThan(0);
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const keys = () => redis.keys(`${prefix}:*`);
      await until("the watcher's queue keys", async () => (await keys()).length > 0, 60_000);
      expect((await fetch(`${apiUrl}/health/live`)).status).toBe(200);

      run.child.kill("SIGTERM"); // the pnpm process only, as `kill <pid>` or a supervisor does
      await until("every process of the run to end", () => tree.every((p) => !alive(p)), 60_000);
      expect(tree.filter(alive)).toEqual([]);
      expect(await keys()).toEqual([]);
      await expect(fetch(`${apiUrl}/health/live`)).rejects.toThrow();
      await expect(fetch(`${simUrl}/eth/v1/node/version`)).rejects.toThrow();
      expect(text()).toContain("stopped"); // closed cleanly, not killed
    } finally {
      // a failed run must not leave its keys behind either
      for (const pid of tree) if (alive(pid)) process.kill(pid, "SIGKILL");
      const left = await redis.keys(`${prefix}:*`);
      if (left.length > 0) await redis.del(...left);
      redis.disconnect();
    }
  }, 240_000);

  it("SIGKILL to `pnpm poolkeeper beacon-sim`: the command sees its parent gone and stops", async () => {
    const run = pnpm(["poolkeeper", "beacon-sim", "--port", "0", "--validators", "16"]);
    const pnpmPid = run.child.pid as number;
    started.push(pnpmPid);
    const text = () => run.out.join("");
    await until("the sim to listen", () => /listening on (\S+)/.test(text()), 60_000);
    const url = /listening on (\S+)/.exec(text())?.[1] as string;
    const tree = descendants(pnpmPid);
    started.push(...tree);
    expect(tree.length).toBeGreaterThan(0);
    run.child.kill("SIGKILL");
    await until("the sim process to end", () => tree.every((p) => !alive(p)), 30_000);
    expect(tree.filter(alive)).toEqual([]);
    await expect(fetch(`${url}/eth/v1/node/version`)).rejects.toThrow();
  }, 120_000);
});

/** A shell that starts `poolkeeper beacon-sim` in the background, prints its pid, lives 3 s, exits. */
async function orphanedSim(flag: string): Promise<{ pid: number; output: () => string }> {
  const env = { ...process.env, POOLKEEPER_EXIT_WITH_PARENT: flag };
  const script = `"${process.execPath}" --import tsx "${MAIN}" beacon-sim --port 0 --validators 16 & echo "pid $!"; sleep 3`;
  const sh = spawn("sh", ["-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  sh.stdout.on("data", (b: Buffer) => out.push(String(b)));
  sh.stderr.on("data", (b: Buffer) => out.push(String(b)));
  await new Promise((r) => sh.once("exit", r));
  const pid = Number(/pid (\d+)/.exec(out.join(""))?.[1]);
  started.push(pid);
  return { pid, output: () => out.join("") };
}

/** Whether `ok` came true within `limitMs`. */
const within = (ok: () => boolean, limitMs: number): Promise<boolean> =>
  until("", ok, limitMs).then(
    () => true,
    () => false,
  );

describe("POOLKEEPER_EXIT_WITH_PARENT", () => {
  it("=1: the command stops once its parent is gone, saying why", async () => {
    const sim = await orphanedSim("1");
    expect(await within(() => !alive(sim.pid), 30_000)).toBe(true);
    expect(sim.output()).toContain("is gone; stopping");
  }, 60_000);

  it("=0: the command keeps running without its parent", async () => {
    const sim = await orphanedSim("0");
    // as long as the other test's command needed to notice and stop, and more
    expect(await within(() => !alive(sim.pid), 5_000)).toBe(false);
    expect(alive(sim.pid)).toBe(true);
    process.kill(sim.pid, "SIGTERM");
    expect(await within(() => !alive(sim.pid), 30_000)).toBe(true);
  }, 60_000);
});
