/** The watcher's tables on both database kinds: an epoch stored once, checkpoint over gaps, streaks. */
import {
  type EpochRecord,
  getWatcherCheckpoint,
  initWatcherCheckpoint,
  listWatcherAlerts,
  missingWatcherEpochs,
  offlineStreaksEndingAt,
  operatorPerformance,
  saveWatcherEpoch,
  validatorWindowCounts,
} from "@poolkeeper/store";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const counts = (assigned: number, included: number) => ({
  attAssigned: assigned,
  attIncluded: included,
  // validators of 48 ETH effective balance: each duty weighs 1.5
  attWeightAssigned: assigned * 1.5,
  attWeightIncluded: included * 1.5,
  attCorrectnessSum: included,
  attDelayScoreSum: included,
  attEffectivenessSum: included,
  proposalsAssigned: 0,
  proposalsMade: 0,
  syncAssigned: 0,
  syncIncluded: 0,
});

function record(epoch: number, missed: number[]): EpochRecord {
  // validator 3 joins at 12; epoch 11 is processed last by a process that already stored it
  const ids = epoch === 10 ? [0, 1, 2] : [0, 1, 2, 3];
  const newValidators = (epoch === 11 ? [] : ids).map((i) => ({
    validatorIndex: i,
    pubkey: new Uint8Array(48).fill(i + 1),
    operatorId: 7,
  }));
  return {
    network: "t",
    epoch,
    networkCounts: counts(100, 100 - missed.length),
    operators: [
      { operatorId: 7, validators: 3, counts: counts(3, 3 - missed.length), balanceDeltaGwei: 10n },
    ],
    poolValidators: ids.length,
    dutyIndices: ids,
    newValidators,
    statuses: epoch === 12 ? [{ validatorIndex: 2, status: "active_exiting", exitEpoch: 20 }] : [],
    exceptions: missed.map((v) => ({
      validatorIndex: v,
      operatorId: 7,
      attSlot: epoch * 8,
      attIncluded: false,
      attDelay: null,
      attOptimalDelay: null,
      attFlags: 0,
      rewardSourceGwei: -5n,
      rewardTargetGwei: -9n,
      rewardHeadGwei: 0n,
      proposalsAssigned: 0,
      proposalsMade: 0,
      proposalSlots: [],
      syncAssigned: 0,
      syncIncluded: 0,
      balanceDeltaGwei: -14n,
      status: "active_ongoing",
      events: [],
    })),
    alerts: [],
  };
}

describe.each(TEST_STORE_KINDS)("watcher tables on %s", (kind) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(kind);
  });
  afterAll(() => store?.dispose());

  it("stores an epoch once, advances the checkpoint only over contiguous epochs, finds streaks", async () => {
    await initWatcherCheckpoint(store, "t", 10);
    const streaks: Array<[number, number]> = [];
    const save = (e: number, missed: number[]) =>
      saveWatcherEpoch(store, record(e, missed), {
        onCheckpointAdvance: async (tx, from, to) => {
          streaks.push([from, to]);
          const out = [];
          for (let x = from; x <= to; x++) {
            for (const s of await offlineStreaksEndingAt(tx, "t", x, 2)) {
              out.push({
                kind: "validator_offline" as const,
                dedupKey: `off:${s.validatorIndex}:${x - 1}`,
                operatorId: s.operatorId,
                validatorIndex: s.validatorIndex,
                epoch: x,
                message: "offline",
              });
            }
          }
          return out;
        },
      });
    expect((await save(10, [1])).saved).toBe(true);
    expect((await save(10, [1])).saved).toBe(false); // twice: stored once
    expect(await save(12, [1, 2])).toMatchObject({ saved: true, checkpoint: 10 }); // gap at 11
    expect(await missingWatcherEpochs(store, "t", 10, 12)).toEqual([11]);
    const r = await save(11, [1]);
    expect(r.checkpoint).toBe(12);
    expect(streaks).toEqual([
      [10, 10],
      [11, 12],
    ]);
    expect(await getWatcherCheckpoint(store, "t")).toBe(12);
    // validator 1 missed 10, 11, 12: one streak of 2 starting at 10; validator 2 only at 12
    const alerts = await listWatcherAlerts(store, "t", { kind: "validator_offline" });
    expect(alerts.map((a) => [a.validatorIndex, a.epoch])).toEqual([[1, 11]]);
    const perf = await operatorPerformance(store, "t", 100);
    expect(perf.operators[0]?.counts.attAssigned).toBe(9);
    expect(perf.operators[0]?.counts.attIncluded).toBe(5);
    // the weights (effective balance / 32 ETH) are stored and summed with the counts
    expect(perf.operators[0]?.counts).toMatchObject({ attWeightAssigned: 13.5, attWeightIncluded: 7.5 });
    expect(perf.network).toMatchObject({ attWeightAssigned: 450, attWeightIncluded: 444 });
    expect(perf.operators[0]?.balanceDeltaGwei).toBe(30n);
    const v1 = await validatorWindowCounts(store, "t", { validatorIndex: 1 }, 100);
    expect(v1?.counts).toMatchObject({ attAssigned: 3, attIncluded: 0 });
    const v3 = await validatorWindowCounts(store, "t", { validatorIndex: 3 }, 100);
    expect(v3?.validator.firstEpoch).toBe(11);
    expect(v3?.counts.attAssigned).toBe(2);
    const v2 = await validatorWindowCounts(store, "t", { validatorIndex: 2 }, 100);
    expect(v2?.validator).toMatchObject({ status: "active_exiting", lastEpoch: 19 });
    const v0 = await validatorWindowCounts(store, "t", { pubkey: new Uint8Array(48).fill(1) }, 100);
    expect(v0?.counts).toMatchObject({ attAssigned: 3, attIncluded: 3, attEffectivenessSum: 3 });
  });
});
