/**
 * The action behind `poolkeeper beacon-sim`: flags and scenario file in, a wall-clock sim out;
 * bad input names the flag and the reason.
 */
import "./env-minimal.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNetwork, toHex } from "@poolkeeper/core";
import { afterAll, describe, expect, it } from "vitest";
import { SIM_DEPOSIT_IDENTITY, startFromCli } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "beacon-sim-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("startFromCli", () => {
  it("starts a wall-clock sim from a scenario file and prints where it listens", async () => {
    const file = join(dir, "scenario.json");
    writeFileSync(
      file,
      JSON.stringify({
        behaviours: [{ validators: "0-3", behaviour: "offline" }],
        exits: [{ validator: 9, epoch: 1 }],
        faults: [{ kind: "syncing" }],
      }),
    );
    const lines: string[] = [];
    const genesis = Math.floor(Date.now() / 1000) - 200;
    const sim = await startFromCli(
      { validators: "32", port: "0", scenario: file, secondsPerSlot: "2", genesisTime: String(genesis) },
      (l) => lines.push(l),
    );
    try {
      expect(lines[0]).toMatch(
        /^beacon-sim: 32 validators, fork fulu, preset minimal, 8 slots\/epoch, 2 s\/slot, listening on http:\/\/127\.0\.0\.1:\d+/,
      );
      // 200 s after genesis at 2 s per slot: the head is already near slot 100.
      expect(sim.chain.headSlot).toBeGreaterThanOrEqual(99);
      const r = (await (await fetch(`${sim.url}/eth/v1/beacon/states/head/validators/9`)).json()) as {
        data: { status: string };
      };
      expect(r.data.status).toMatch(/exit/);
      // Faults from the scenario file apply to the node.
      const syncing = (await (await fetch(`${sim.url}/eth/v1/node/syncing`)).json()) as {
        data: { is_syncing: boolean };
      };
      expect(syncing.data.is_syncing).toBe(true);
    } finally {
      await sim.close();
    }
  });

  it("writes the chain's network file (--network-out) that loadNetwork reads, matching the chain", async () => {
    const file = join(dir, "network.json");
    const lines: string[] = [];
    const sim = await startFromCli(
      { validators: "16", port: "0", secondsPerSlot: "1", networkOut: file, networkName: "compose" },
      (l) => lines.push(l),
    );
    try {
      const network = loadNetwork(file);
      expect(network.name).toBe("compose");
      expect(toHex(network.genesisValidatorsRoot)).toBe(toHex(sim.chain.genesisValidatorsRoot));
      expect(network.genesisTime).toBe(sim.chain.genesisTime);
      expect(network.chainId).toBe(SIM_DEPOSIT_IDENTITY.chainId);
      expect(lines[1]).toBe(`beacon-sim: network file ${file} (POOLKEEPER_NETWORK)`);
    } finally {
      await sim.close();
    }
    await expect(
      startFromCli({ validators: "4", port: "0", networkOut: join(dir, "no-such-dir", "n.json") }),
    ).rejects.toThrow(/--network-out: cannot write .*ENOENT/);
  });

  it("rejects bad flags and files with the flag and the reason", async () => {
    await expect(startFromCli({ validators: "many", port: "0" })).rejects.toThrow(
      /--validators: expected an integer/,
    );
    await expect(startFromCli({ port: "70000" })).rejects.toThrow(/--port: must be in 0\.\.65535/);
    await expect(startFromCli({ port: "0", scenario: join(dir, "missing.json") })).rejects.toThrow(
      /--scenario: cannot read .*ENOENT/,
    );
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    await expect(startFromCli({ port: "0", scenario: bad })).rejects.toThrow(
      /--scenario: .* is not valid JSON/,
    );
    const wrong = join(dir, "wrong.json");
    writeFileSync(wrong, JSON.stringify({ behaviours: [{ validators: "1", behaviour: "late" }] }));
    await expect(startFromCli({ port: "0", scenario: wrong })).rejects.toThrow(/delay is required/);
    await expect(startFromCli({ port: "0", preset: "mainnet" })).rejects.toThrow(/--preset mainnet/);
  });
});
