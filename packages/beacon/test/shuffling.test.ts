import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type Lodestar, loadLodestar } from "../src/lodestar.js";
import {
  computeEpochCommittees,
  computeShuffledIndex,
  type ShufflingParams,
  shuffledIndices,
  stateCanShuffle,
} from "../src/shuffling.js";
import { RECORDINGS } from "./recording-server.js";

let L: Lodestar;
let P: ShufflingParams;
beforeAll(async () => {
  L = await loadLodestar("minimal");
  const p = L.params;
  P = {
    slotsPerEpoch: p.SLOTS_PER_EPOCH,
    shuffleRoundCount: p.SHUFFLE_ROUND_COUNT,
    targetCommitteeSize: p.TARGET_COMMITTEE_SIZE,
    maxCommitteesPerSlot: p.MAX_COMMITTEES_PER_SLOT,
    epochsPerHistoricalVector: p.EPOCHS_PER_HISTORICAL_VECTOR,
    minSeedLookahead: p.MIN_SEED_LOOKAHEAD,
  };
});

describe("shuffling", () => {
  it("bulk shuffle equals the spec's per-index compute_shuffled_index", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (n, seed) => {
          const bulk = shuffledIndices(n, seed, 10);
          for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 17))) {
            expect(bulk[i]).toBe(computeShuffledIndex(i, n, seed, 10));
          }
          expect(new Set(bulk).size).toBe(n); // a permutation
        },
      ),
      { numRuns: 25 },
    );
  });

  it("committees computed from the recorded finalized state equal the node's committees", () => {
    const st = L.types.ssz.deneb.BeaconState.deserialize(
      readFileSync(join(RECORDINGS, "state_finalized.ssz")),
    );
    const epoch = Math.floor(st.slot / P.slotsPerEpoch);
    const active = Uint32Array.from(
      st.validators.flatMap((v, i) => (v.activationEpoch <= epoch && epoch < v.exitEpoch ? [i] : [])),
    );
    const c = computeEpochCommittees(epoch, active, st.randaoMixes, P);
    const recorded = JSON.parse(readFileSync(join(RECORDINGS, "committees_finalized.json"), "utf8")) as {
      data: Array<{ index: string; slot: string; validators: string[] }>;
    };
    expect(c.committees.length).toBe(recorded.data.length);
    for (const r of recorded.data) {
      const k = (Number(r.slot) - epoch * P.slotsPerEpoch) * c.committeesPerSlot + Number(r.index);
      expect([...(c.committees[k] ?? [])]).toEqual(r.validators.map(Number));
    }
  });

  it("knows which states can give an epoch's shuffling", () => {
    expect(stateCanShuffle(5, 5, P)).toBe(true);
    expect(stateCanShuffle(4, 5, P)).toBe(true);
    expect(stateCanShuffle(3, 5, P)).toBe(false);
    expect(stateCanShuffle(8, 6, P)).toBe(true);
    expect(stateCanShuffle(5 + P.epochsPerHistoricalVector, 5, P)).toBe(false);
  });
});
