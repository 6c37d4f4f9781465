/**
 * The mainnet preset (32 slots per epoch, 128-member target committees, 512-member sync committee):
 * nothing in the sim assumes the minimal preset.
 */
import "./env-mainnet.js";
import { getClient } from "@lodestar/api";
import { ssz } from "@lodestar/types";
import { afterAll, describe, expect, it } from "vitest";
import { startBeaconSim } from "../src/index.js";

afterAll(() => {
  process.env.LODESTAR_PRESET = "minimal";
});

describe("mainnet preset", () => {
  it("serves a 32-slot-epoch chain whose blocks and state decode with the mainnet types", async () => {
    const sim = await startBeaconSim({
      fork: "deneb",
      validators: 8192,
      scenario: { behaviours: [{ validators: "0-99", behaviour: "offline" }] },
    });
    try {
      sim.chain.advanceTo(4 * 32 + 1);
      const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
      expect((await api.config.getSpec()).value().SLOTS_PER_EPOCH).toBe("32");
      const committees = (await api.beacon.getEpochCommittees({ stateId: "head", epoch: 3 })).value();
      expect(committees.length).toBe(32 * 2); // 8192 / 32 / 128 = 2 per slot
      expect(new Set(committees.flatMap((c) => c.validators)).size).toBe(8192);
      const sync = (await api.beacon.getEpochSyncCommittees({ stateId: "head" })).value();
      expect(sync.validators.length).toBe(512);
      const state = ssz.deneb.BeaconState.deserialize(
        (await api.debug.getStateV2({ stateId: "head" }, { responseWireFormat: "ssz" as never })).ssz(),
      );
      expect(state.validators.length).toBe(8192);
      expect(state.blockRoots.length).toBe(8192);
      expect(state.finalizedCheckpoint.epoch).toBe(2);
      const live = (await api.validator.getLiveness({ epoch: 3, indices: [0, 99, 100] })).value();
      expect(live.map((l) => l.isLive)).toEqual([false, false, true]);
    } finally {
      await sim.close();
    }
  });

  it("a Fulu chain: blocks and the state decode with the mainnet fulu types, the lookahead is 64 proposers", async () => {
    const sim = await startBeaconSim({ validators: 2048, fork: "fulu" });
    try {
      sim.chain.advanceTo(2 * 32 + 3);
      sim.chain.addValidators(1, undefined, 64e9);
      sim.chain.advanceTo(3 * 32 + 1);
      const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
      const bytes = (
        await api.debug.getStateV2({ stateId: "head" }, { responseWireFormat: "ssz" as never })
      ).ssz();
      const state = ssz.fulu.BeaconState.deserialize(bytes);
      expect(state.validators.length).toBe(2048);
      expect(state.proposerLookahead.length).toBe(64);
      expect(state.proposerLookahead).toEqual([3, 4].flatMap((e) => Array.from(sim.chain.proposersOf(e))));
      expect(state.pendingDeposits.map((d) => d.amount)).toEqual([64e9]);
      const block = await api.beacon.getBlockV2({ blockId: "head" }, { responseWireFormat: "ssz" as never });
      expect(block.meta().version).toBe("fulu");
      const header = (await api.beacon.getBlockHeader({ blockId: "head" })).value();
      expect(
        Buffer.from(ssz.fulu.BeaconBlock.hashTreeRoot(block.value().message as never)).toString("hex"),
      ).toBe(Buffer.from(header.root).toString("hex"));
    } finally {
      await sim.close();
    }
  });
});
