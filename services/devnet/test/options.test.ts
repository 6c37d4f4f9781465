import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDevnetScenario, parseDevnetFlags } from "../src/options.js";

describe("devnet flags", () => {
  it("defaults to 3 operators × 8 keys, 2 s slots, PGlite under ./.poolkeeper/devnet", () => {
    const s = parseDevnetFlags({});
    expect(s).toMatchObject({
      operators: 3,
      keysPerOperator: 8,
      dataDir: "./.poolkeeper/devnet",
      apiPort: 3000,
      simPort: 5052,
      redisUrl: "redis://127.0.0.1:6379",
      databaseUrl: undefined,
      secondsPerSlot: 2,
      duration: undefined,
    });
    expect(s.scenario.offline).toEqual({ operator: 2, afterActivationEpochs: 1, epochs: 5 });
    expect(s.scenario.vettedLimits).toEqual([{ operator: 3, limit: 4 }]);
    expect(s.scenario.stakers).toBe(3);
    // each operator's daemon: batches of 4 keys; a staker's 90 ETH withdrawal drives the exits,
    // operator 2 ignores its exit requests and is triggered after 8 epochs
    expect(s.scenario.daemons).toEqual({
      batchSize: 4,
      keystoreKdfCost: 1024,
      mnemonicKdfCost: 16384,
      pollSeconds: 1,
    });
    expect(s.scenario.exits).toEqual({
      withdrawEth: 90,
      afterActivationEpochs: 4,
      ignoredBy: 2,
      deadlineEpochs: 8,
    });
    // three DAO keys (quorum 2); the fee proposal waits 90 s (lands within a 1 s-slot headless run)
    expect(s.scenario.governance).toEqual({
      members: 3,
      quorum: 2,
      timelockSeconds: 90,
      fee: { totalFeeBP: 800, operatorsFeeBP: 400 },
    });
    expect(parseDevnetFlags({ untilExits: "3" }).untilExits).toBe(3);
  });

  it.each([
    [{ operators: "x" }, '--operators: expected a whole number, got "x"'],
    [{ operators: "0" }, "--operators: must be from 1 to 100, got 0"],
    [{ keysPerOperator: "-1" }, '--keys-per-operator: expected a whole number, got "-1"'],
    [{ apiPort: "70000" }, "--api-port: must be from 0 to 65535, got 70000"],
    [{ simPort: "3000" }, "--api-port and --sim-port: both are 3000; give two different ports"],
    [{ secondsPerSlot: "1.5" }, '--seconds-per-slot: expected a whole number, got "1.5"'],
    [{ duration: "0" }, "--duration: must be from 1 to 2592000, got 0"],
    [
      { redisUrl: "http://x" },
      "--redis-url: must be a redis:// URL (example: --redis-url redis://127.0.0.1:6379)",
    ],
    [{ redisUrl: "redis://" }, "--redis-url: must be a redis:// URL"],
    [
      { databaseUrl: "mysql://x" },
      "--database-url: must be a postgres:// URL (example: --database-url postgres://poolkeeper@127.0.0.1:5432/poolkeeper)",
    ],
    [{ dataDir: " " }, "--data-dir: must not be empty"],
    [{ operators: "1" }, "--operators: the scenario takes operator 2 offline; run at least 2 operators"],
    [{ untilExits: "0" }, "--until-exits: must be from 1 to 1000, got 0"],
  ])("%o → %s", (flags, message) => {
    expect(() => parseDevnetFlags(flags)).toThrow(message);
  });
});

describe("devnet scenario file", () => {
  it("names the file and the field of a bad scenario", () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-devnet-sc-"));
    try {
      const bad = join(dir, "bad.json");
      writeFileSync(bad, JSON.stringify({ withdrawalAddress: "0x12", depositShare: 2 }));
      expect(() => loadDevnetScenario(bad)).toThrow(
        `${bad}.withdrawalAddress: expected 0x and 20 bytes of hex`,
      );
      const notJson = join(dir, "x.json");
      writeFileSync(notJson, "{");
      expect(() => loadDevnetScenario(notJson)).toThrow(`--scenario: ${notJson} is not valid JSON`);
      expect(() => loadDevnetScenario(join(dir, "missing.json"))).toThrow(
        /cannot read .*missing\.json \(ENOENT\)/,
      );
      const extra = join(dir, "extra.json");
      writeFileSync(
        extra,
        JSON.stringify({ withdrawalAddress: "0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f", surprise: 1 }),
      );
      expect(() => loadDevnetScenario(extra)).toThrow(/surprise/);
      // the exits' scenario: an operator that ignores its requests must run; no withdrawal, no --until-exits
      const exits = (over: object) => {
        const f = join(dir, `exits-${Math.random()}.json`);
        writeFileSync(
          f,
          JSON.stringify({
            withdrawalAddress: "0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f",
            offline: null,
            ...over,
          }),
        );
        return f;
      };
      expect(() =>
        parseDevnetFlags({ operators: "2", scenario: exits({ exits: { ignoredBy: 3 } }) }),
      ).toThrow("--operators: the scenario's operator 3 ignores its exit requests; run at least 3 operators");
      expect(() =>
        parseDevnetFlags({ untilExits: "1", scenario: exits({ exits: { withdrawEth: null } }) }),
      ).toThrow("--until-exits: the scenario's exits.withdrawEth is null");
      expect(() => loadDevnetScenario(exits({ daemons: { mnemonicKdfCost: 1000 } }))).toThrow(
        /daemons\.mnemonicKdfCost: must be a power of two/,
      );
      // governance: a majority quorum, a fee that changes something, or null for no DAO
      expect(() => loadDevnetScenario(exits({ governance: { members: 3, quorum: 1 } }))).toThrow(
        /governance\.quorum: quorum must be more than half/,
      );
      expect(() =>
        loadDevnetScenario(exits({ governance: { fee: { totalFeeBP: 500, operatorsFeeBP: 600 } } })),
      ).toThrow(/governance\.fee\.operatorsFeeBP: operatorsFeeBP must be at most totalFeeBP/);
      expect(() =>
        loadDevnetScenario(exits({ governance: { fee: { totalFeeBP: 1000, operatorsFeeBP: 500 } } })),
      ).toThrow(/governance\.fee: is the oracle's fee already/);
      expect(loadDevnetScenario(exits({ governance: null })).governance).toBeNull();
      expect(loadDevnetScenario(exits({ governance: { fee: null } })).governance?.fee).toBeNull();
      // guardians: three with quorum 2 unless told; a quorum above the guardians, or null for none
      expect(loadDevnetScenario(exits({})).guardians).toEqual({ members: 3, quorum: 2 });
      expect(() => loadDevnetScenario(exits({ guardians: { members: 2, quorum: 3 } }))).toThrow(
        /guardians\.quorum: quorum must be at most the number of guardians/,
      );
      expect(loadDevnetScenario(exits({ guardians: null })).guardians).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
