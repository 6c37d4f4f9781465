/**
 * The daemon as a real process, killed with SIGKILL at random moments many times while deposit
 * batches consume its keys: afterwards the keys uploaded are exactly indices 0..n-1 of its
 * mnemonic (n = state.json's next index), in order, none twice, each with one keystore.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readState } from "../src/index.js";
import { daemonEnv, initTestDaemon, pubkeysOf } from "./fixtures.js";
import { TEST_PASSWORD, usePool } from "./harness.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ROUNDS = 15;

const pool = usePool();

function startDaemon(env: Record<string, string | undefined>, output: string[]): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (c: Buffer) => output.push(c.toString()));
  child.stderr!.on("data", (c: Buffer) => output.push(c.toString()));
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once("exit", (code) => r(code));
  });
}

async function untilStarted(child: ChildProcess, output: string[]): Promise<void> {
  const started = Date.now();
  while (!output.join("").includes("operator daemon started")) {
    if (Date.now() - started > 30_000 || child.exitCode !== null)
      throw new Error(`the daemon did not start: ${output.join("")}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("kill -9 at random moments", () => {
  it(`${ROUNDS} SIGKILLs while batches consume keys: indices uploaded are exactly 0..n-1`, async () => {
    const d = await initTestDaemon(pool, { lowWater: 6, batchSize: 3 });
    const env = await daemonEnv(d.dir, { DAEMON_KDF_COST: "131072", LOG_LEVEL: "info" });
    const output: string[] = [];
    let consumed = 0;
    let killedMidBatch = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // a deposit batch takes some of the keys uploaded so far: the daemon has to top up again
      const uploaded = (await pool.keysOf(d.operatorId)).length;
      const take = Math.min(uploaded - consumed, 2 + Math.floor(Math.random() * 4));
      if (take > 0) {
        await pool.consume(d.operatorId, take);
        consumed += take;
      }
      const mine: string[] = [];
      const child = startDaemon(env, mine);
      await untilStarted(child, mine);
      await new Promise((r) => setTimeout(r, Math.random() * 1500)); // anywhere in the top-up
      child.kill("SIGKILL");
      await exited(child);
      output.push(...mine);
      if ((await readState(d.dir)).pending !== null) killedMidBatch++;
    }
    expect(killedMidBatch).toBeGreaterThan(0); // some kills did land inside a batch
    // a last run, not killed: it finishes whatever the last kill interrupted and tops up
    const last: string[] = [];
    const child = startDaemon(env, last);
    await untilStarted(child, last);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const st = await readState(d.dir);
      const keys = await pool.keysOf(d.operatorId);
      if (st.pending === null && keys.length === st.nextIndex && keys.length - consumed >= 6) break;
      if (Date.now() > deadline)
        throw new Error(`the daemon did not settle: ${JSON.stringify(st)}, ${keys.length} keys`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    output.push(...last);

    const { nextIndex } = await readState(d.dir);
    const keys = await pool.keysOf(d.operatorId);
    expect(nextIndex).toBeGreaterThanOrEqual(consumed + 6);
    expect(keys).toEqual(pubkeysOf(d.mnemonic, nextIndex)); // no gap, no duplicate, in index order
    const files = (await fs.readdir(join(d.dir, "validator-keys", "keys"))).filter((f) =>
      f.endsWith(".json"),
    );
    expect(files.sort()).toEqual(
      Array.from({ length: nextIndex }, (_, i) => `keystore-m_12381_3600_${i}_0_0.json`).sort(),
    );
    const passwords = new Set(await fs.readdir(join(d.dir, "validator-keys", "passwords")));
    for (const f of files) expect(passwords.has(f.replace(/\.json$/, ".txt"))).toBe(true); // each opens
    expect(await fs.readdir(join(d.dir, "staging"))).toEqual([]);
    const log = output.join("");
    expect(log).toContain("operator daemon started");
    for (const secret of [d.mnemonic, TEST_PASSWORD, d.token]) expect(log).not.toContain(secret);
    for (const word of new Set(d.mnemonic.split(" ")))
      expect(log.includes(` ${word} `) && log.includes(d.mnemonic.slice(0, 20))).toBe(false);
  }, 240_000);
});
