import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadNetwork, NETWORK_NAMES, toHex } from "../src/index.js";

describe("networks", () => {
  it("has the genesis fork versions of the specifications", () => {
    const want: Record<string, string> = {
      mainnet: "00000000",
      sepolia: "90000069",
      holesky: "01017000",
      hoodi: "10000910",
    };
    expect([...NETWORK_NAMES].sort()).toEqual(Object.keys(want).sort());
    for (const [name, fv] of Object.entries(want)) {
      const n = loadNetwork(name);
      expect(n.name).toBe(name);
      expect(toHex(n.genesisForkVersion)).toBe(fv);
      expect(n.genesisValidatorsRoot.length).toBe(32);
      expect(n.capellaForkVersion.length).toBe(4);
    }
  });

  it("loads the devnet file shipped in config/networks", () => {
    const n = loadNetwork(new URL("../../../config/networks/devnet.json", import.meta.url).pathname);
    expect(n.name).toBe("devnet");
    expect(n.slotsPerEpoch).toBe(8);
  });

  it("rejects unknown names and bad files with the field named", () => {
    expect(() => loadNetwork("goerli")).toThrow(/unknown network "goerli": use one of mainnet/);
    const dir = mkdtempSync(join(tmpdir(), "pk-net-"));
    const f = join(dir, "bad.json");
    writeFileSync(
      f,
      JSON.stringify({
        name: "x",
        genesisForkVersion: "0102",
        genesisValidatorsRoot: "00".repeat(32),
        genesisTime: 0,
        secondsPerSlot: 12,
        slotsPerEpoch: 32,
        capellaForkVersion: "00000000",
        depositContractAddress: "0x" + "42".repeat(20),
        chainId: 1,
      }),
    );
    expect(() => loadNetwork(f)).toThrow(ConfigError);
    expect(() => loadNetwork(f)).toThrow(/genesisForkVersion: must be 4 bytes/);
    expect(() => loadNetwork(join(dir, "missing.json"))).toThrow(/cannot be read \(ENOENT\)/);
  });
});
