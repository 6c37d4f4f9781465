/**
 * `LODESTAR_PRESET` is chosen once per process, before the first @lodestar import
 * (`chooseLodestarPreset`, core): `poolkeeper beacon-sim --preset` overrides the variable, the
 * devnet refuses anything but minimal; each refusal is one `error: …` line and exit code 1, and a
 * started process stops on SIGTERM with exit code 0 (service kit).
 */
import { describe, expect, it } from "vitest";
import { runCli, startNode } from "../../../test/process-helpers.js";

const MAIN = "services/cli/src/main.ts";

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("LODESTAR_PRESET through the CLI", () => {
  it("beacon-sim: --preset mainnet over LODESTAR_PRESET=minimal; SIGTERM stops it with exit 0", async () => {
    const p = startNode(MAIN, ["beacon-sim", "--preset", "mainnet", "--port", "0", "--validators", "16"], {
      LODESTAR_PRESET: "minimal",
    });
    await until(() => /listening on/.test(p.output()) || p.child.exitCode !== null, 60_000);
    expect(p.output()).toMatch(/beacon-sim: 16 validators, fork fulu, preset mainnet, 32 slots\/epoch/);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("beacon-sim defaults to minimal; a bad --preset or flag is one line and exit 1", async () => {
    const p = startNode(MAIN, ["beacon-sim", "--port", "0", "--validators", "16"], { LODESTAR_PRESET: "" });
    await until(() => /listening on/.test(p.output()) || p.child.exitCode !== null, 60_000);
    expect(p.output()).toMatch(/preset minimal, 8 slots\/epoch/);
    p.child.kill("SIGINT");
    expect(await p.exited).toBe(0);

    const bad = await runCli(["beacon-sim", "--preset", "tiny"], { LODESTAR_PRESET: "" });
    expect([bad.code, bad.stderr]).toEqual([1, 'error: --preset: expected minimal or mainnet, got "tiny"\n']);
    const flag = await runCli(["beacon-sim", "--port", "0", "--validators", "many"], { LODESTAR_PRESET: "" });
    expect([flag.code, flag.stderr]).toEqual([1, 'error: --validators: expected an integer, got "many"\n']);
  });

  it("beacon-sim --fork fulu serves a Fulu chain (proposer_lookahead answers); a bad --fork is one line and exit 1", async () => {
    const p = startNode(MAIN, ["beacon-sim", "--fork", "fulu", "--port", "0", "--validators", "16"], {
      LODESTAR_PRESET: "",
    });
    await until(() => /listening on/.test(p.output()) || p.child.exitCode !== null, 60_000);
    expect(p.output()).toMatch(/beacon-sim: 16 validators, fork fulu, preset minimal/);
    const url = /listening on (http:\/\/\S+)/.exec(p.output())?.[1];
    const res = await fetch(`${url}/eth/v1/beacon/states/head/proposer_lookahead`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { version: string }).version).toBe("fulu");
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);

    const bad = await runCli(["beacon-sim", "--fork", "capella"], { LODESTAR_PRESET: "" });
    expect([bad.code, bad.stderr]).toEqual([
      1,
      'error: --fork: must be one of deneb, electra, fulu, got "capella"\n',
    ]);
  });

  it("devnet: LODESTAR_PRESET=mainnet is refused before anything starts", async () => {
    const r = await runCli(["devnet", "--duration", "1"], { LODESTAR_PRESET: "mainnet" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: LODESTAR_PRESET is mainnet; the devnet runs the minimal preset\n");
    expect(r.stdout).toBe("");
  });
});
