/**
 * The watcher's rules without Redis, a database or a beacon node: alert rules, record building
 * and key-state sync over hand-made epoch duties.
 */
import { type AttestationDuty, type DutyCounts, type EpochDuties, emptyAggregate } from "@poolkeeper/beacon";
import { ATT_FLAG, decodeAttFlags, KEY_STATES, WATCHER_TRANSITIONS } from "@poolkeeper/store";
import { describe, expect, it } from "vitest";
import {
  beaconNodeUnreachableAlert,
  buildEpochRecord,
  epochAlerts,
  firstOfflineEpoch,
  keyStateChanges,
  type PoolKey,
  syncKeyStates,
  underperformingOperatorAlerts,
  validatorOfflineAlert,
  watcherMayMove,
} from "../src/index.js";
import { StaticPool } from "./helpers.js";

const pk = (i: number) => i.toString(16).padStart(96, "0");

function attestation(validatorIndex: number, o: Partial<AttestationDuty> = {}): AttestationDuty {
  return {
    validatorIndex,
    slot: 80 + validatorIndex,
    committeeIndex: 0,
    included: true,
    inclusionSlot: 81 + validatorIndex,
    inclusionDelay: 1,
    optimalDelay: 1,
    sourceCorrect: true,
    targetCorrect: true,
    headCorrect: true,
    effectiveBalance: 32e9,
    rewards: null,
    ...o,
  };
}

function duties(o: Partial<EpochDuties>): EpochDuties {
  return {
    epoch: 10,
    attestations: [],
    proposals: [],
    sync: [],
    validators: [],
    events: [],
    network: emptyAggregate(),
    sources: { committees: "api", proposers: "api" },
    ...o,
  };
}

function pool(entries: Array<[number, number, string]>): Map<number, PoolKey> {
  return new Map(entries.map(([i, operatorId, keyState]) => [i, { pubkey: pk(i), operatorId, keyState }]));
}

describe("alert rules", () => {
  const byIndex = pool([
    [1, 7, "active"],
    [2, 8, "active"],
  ]);

  it("a missed or orphaned proposal: one alert per slot naming the operator; a proposed block none", () => {
    const d = duties({
      proposals: [
        { validatorIndex: 1, slot: 81, status: "missed", blockRoot: null },
        { validatorIndex: 2, slot: 82, status: "orphaned", blockRoot: "0xab" },
        { validatorIndex: 1, slot: 83, status: "proposed", blockRoot: "0xcd" },
      ],
    });
    const alerts = epochAlerts(d, byIndex, true);
    expect(alerts.map((a) => [a.kind, a.dedupKey, a.operatorId, a.webhook])).toEqual([
      ["missed_proposal", "missed_proposal:81", 7, true],
      ["missed_proposal", "missed_proposal:82", 8, true],
    ]);
    expect(alerts[0]?.message).toBe("validator 1 missed its proposal at slot 81");
    expect(alerts[1]?.message).toBe("validator 2 had its block orphaned at slot 82");
  });

  it("slashed: once per validator, from a slashing in a block or the state; a voluntary exit or an exit requested by the withdrawal address (EIP-7002) is not", () => {
    const d = duties({
      events: [
        { kind: "attester_slashing", validatorIndex: 1, slot: 81 },
        { kind: "voluntary_exit", validatorIndex: 2, slot: 82 },
        { kind: "withdrawal_request", validatorIndex: 4, slot: 83 },
      ],
      validators: [
        {
          validatorIndex: 1,
          status: "active_slashed",
          slashed: true,
          exitEpoch: 20,
          balanceStart: null,
          balanceEnd: null,
        },
        {
          validatorIndex: 3,
          status: "active_slashed",
          slashed: true,
          exitEpoch: 20,
          balanceStart: null,
          balanceEnd: null,
        },
      ],
    });
    const alerts = epochAlerts(d, byIndex, false);
    expect(alerts.map((a) => [a.kind, a.dedupKey, a.operatorId])).toEqual([
      ["slashed", "slashed:1", 7],
      ["slashed", "slashed:3", null],
    ]);
  });

  it("offline: the dedup key names the streak's first epoch; no streak ends before epoch N-1", () => {
    const a = validatorOfflineAlert({ validatorIndex: 4, operatorId: 2 }, 12, 3, false);
    expect(a).toMatchObject({
      kind: "validator_offline",
      dedupKey: "validator_offline:4:10",
      epoch: 12,
      details: { fromEpoch: 10, toEpoch: 12 },
    });
    expect(firstOfflineEpoch(0, 3)).toBe(2);
    expect(firstOfflineEpoch(5, 3)).toBe(5);
  });

  const counts = (assigned: number, included: number): DutyCounts => ({
    ...emptyAggregate(),
    attAssigned: assigned,
    attIncluded: included,
    attWeightAssigned: assigned,
    attWeightIncluded: included,
    attCorrectnessSum: included,
    attDelayScoreSum: included,
    attEffectivenessSum: included,
  });
  const rule = { epoch: 500, window: "1d" as const, windowEpochs: 225, margin: 0.05, webhook: false };

  it("underperforming: only operators below the network's CSM performance minus the margin", () => {
    const perf = {
      network: counts(1000, 950),
      operators: [
        { operatorId: 1, counts: counts(100, 100) },
        { operatorId: 2, counts: counts(100, 50) },
        { operatorId: 3, counts: counts(0, 0) },
      ],
    };
    const alerts = underperformingOperatorAlerts(perf, rule);
    expect(alerts.map((a) => [a.operatorId, a.dedupKey])).toEqual([[2, "operator_underperforming:2:2"]]);
    expect(alerts[0]?.details).toMatchObject({ window: "1d", margin: 0.05 });
    // no network score: no alert at all
    expect(underperformingOperatorAlerts({ ...perf, network: counts(0, 0) }, rule)).toEqual([]);
  });

  it("a beacon node unreachable: once per node per hour; the message is bounded", () => {
    const hour = 3_600_000;
    const a = beaconNodeUnreachableAlert("http://n1:5052", "x".repeat(900), 5 * hour + 10, true);
    const b = beaconNodeUnreachableAlert("http://n1:5052", "other", 6 * hour - 1, true);
    const c = beaconNodeUnreachableAlert("http://n1:5052", "other", 6 * hour, true);
    expect(a.dedupKey).toBe(b.dedupKey);
    expect(c.dedupKey).not.toBe(a.dedupKey);
    expect(a.message.length).toBeLessThan(600);
  });
});

describe("record building", () => {
  it("stores only what was not perfect, with the lifecycle's attestation flag bits", () => {
    const byIndex = pool([
      [1, 7, "active"],
      [2, 7, "active"],
      [3, 8, "active"],
      [4, 8, "active"],
    ]);
    const d = duties({
      attestations: [
        attestation(1),
        attestation(2, { headCorrect: false }),
        attestation(3, { included: false, inclusionSlot: null, inclusionDelay: null, optimalDelay: null }),
        attestation(4, { optimalDelay: 2, inclusionDelay: 2 }),
        attestation(9), // not the pool's
      ],
    });
    const rec = buildEpochRecord({ network: "devnet", duties: d, byIndex, stored: new Set([1]), alerts: [] });
    expect(rec.dutyIndices).toEqual([1, 2, 3, 4]);
    expect(rec.newValidators.map((v) => v.validatorIndex)).toEqual([2, 3, 4]);
    expect(rec.exceptions.map((e) => e.validatorIndex)).toEqual([2, 3, 4]);
    const flags2 = rec.exceptions[0]?.attFlags as number;
    expect(flags2).toBe(ATT_FLAG.source | ATT_FLAG.target);
    expect(decodeAttFlags(flags2)).toEqual({ sourceCorrect: true, targetCorrect: true, headCorrect: false });
    expect(
      rec.operators.map((o) => [o.operatorId, o.validators, o.counts.attAssigned, o.counts.attIncluded]),
    ).toEqual([
      [7, 2, 2, 2],
      [8, 2, 2, 1],
    ]);
  });

  it("keeps an attestation at the optimal delay whose slots after the duty were missed (delay 3: no timely head on chain)", () => {
    const byIndex = pool([
      [1, 7, "active"],
      [2, 7, "active"],
    ]);
    // duty slot 29, slots 30 and 31 empty: included at 32, the first block after the duty slot
    const late = { slot: 29, inclusionSlot: 32, inclusionDelay: 3, optimalDelay: 1 };
    const d = duties({ attestations: [attestation(1), attestation(2, late)] });
    const rec = buildEpochRecord({
      network: "devnet",
      duties: d,
      byIndex,
      stored: new Set([1, 2]),
      alerts: [],
    });
    expect(rec.exceptions.map((e) => [e.validatorIndex, e.attDelay, e.attOptimalDelay])).toEqual([[2, 3, 1]]);
    // not the attester's fault: its scores are those of a perfect attestation
    expect(rec.operators[0]?.counts.attDelayScoreSum).toBe(2);
  });
});

describe("key-state sync", () => {
  it("the watcher moves keys only along the lifecycle's watcher transitions", () => {
    for (const [to, from] of Object.entries(WATCHER_TRANSITIONS)) {
      for (const state of KEY_STATES) {
        expect(watcherMayMove(state, to as keyof typeof WATCHER_TRANSITIONS)).toBe(
          (from as readonly string[]).includes(state),
        );
      }
    }
  });

  it("changes follow the statuses; the reason names status and epoch; pending keys stay", () => {
    const byIndex = pool([
      [1, 7, "deposited"],
      [2, 7, "deposited"],
      [3, 8, "active"],
    ]);
    const v = (validatorIndex: number, status: "active_ongoing" | "pending_queued" | "active_exiting") => ({
      validatorIndex,
      status,
      slashed: false,
      exitEpoch: null,
      balanceStart: null,
      balanceEnd: null,
    });
    const d = duties({
      validators: [v(1, "active_ongoing"), v(2, "pending_queued"), v(3, "active_exiting")],
    });
    expect(keyStateChanges(d, byIndex)).toEqual([
      { pubkey: pk(1), to: "active", reason: "beacon status active_ongoing at the end of epoch 10" },
      { pubkey: pk(3), to: "exiting", reason: "beacon status active_exiting at the end of epoch 10" },
    ]);
  });

  it("reads the states again before applying: a key moved meanwhile is not moved back", async () => {
    const src = new StaticPool([
      { pubkey: pk(1), operatorId: 7 },
      { pubkey: pk(2), operatorId: 7 },
    ]);
    src.states.set(pk(2), "exiting"); // another worker got there first
    const byIndex = pool([
      [1, 7, "deposited"],
      [2, 7, "deposited"],
    ]);
    const st = (validatorIndex: number) => ({
      validatorIndex,
      status: "active_ongoing" as const,
      slashed: false,
      exitEpoch: null,
      balanceStart: null,
      balanceEnd: null,
    });
    const changes = await syncKeyStates(src, duties({ validators: [st(1), st(2)] }), byIndex);
    expect(changes.map((c) => [c.pubkey, c.to])).toEqual([[pk(1), "active"]]);
    expect(src.states.get(pk(2))).toBe("exiting");
    expect(byIndex.get(2)?.keyState).toBe("exiting");
  });
});
