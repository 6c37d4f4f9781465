/**
 * The client against H4's beacon-sim over HTTP (no mocked client): scripted behaviours must come
 * back as exactly the expected duties, and a fleet with a failing and a lagging node must give the
 * same results as one healthy node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addCounts,
  BeaconNodePool,
  countsByValidator,
  csmPerformance,
  type DutyCounts,
  type EpochDuties,
  EpochDutiesReader,
  isPerfectAttestation,
  loadLodestar,
  ratedScores,
} from "../src/index.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;
type Fleet = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startFleet"]>>;

const N = 64;
const ALL = Array.from({ length: N }, (_, i) => i);
const OFFLINE = ALL.filter((v) => v >= 48 && v <= 55); // epochs 2..3
const LATE = [56, 57, 58, 59]; // delay 3 from epoch 2
const WRONG_HEAD = [60, 61];
const WRONG_TARGET = [62];
const SLASHED = 10; // epoch 3
const EXITING = 20; // epoch 3
const scenario = {
  behaviours: [
    { validators: "48-55", behaviour: "offline", from: 2, to: 4 },
    { validators: "56-59", behaviour: "late", delay: 3, from: 2 },
    { validators: "60-61", behaviour: "wrong-head", from: 2 },
    { validators: 62, behaviour: "wrong-target", from: 2 },
  ],
  slashings: [{ validator: SLASHED, epoch: 3 }],
  exits: [{ validator: EXITING, epoch: 3 }],
};

let sim: Sim;
let fleet: Fleet;

beforeAll(async () => {
  await loadLodestar("minimal");
  const { startBeaconSim, startFleet } = await import("@poolkeeper/beacon-sim");
  sim = await startBeaconSim({ validators: N, seed: "h5-watcher", scenario });
  sim.chain.advanceEpochs(9);
  fleet = await startFleet(3, { validators: N, seed: "h5-watcher", scenario });
  fleet.chain.advanceEpochs(9);
  fleet.sims[0]?.node.addFault({ kind: "error", status: 503 });
  fleet.sims[1]?.node.addFault({ kind: "stuck", atSlot: 8 * 2 });
});
afterAll(async () => {
  await sim?.close();
  await fleet?.close();
});

function firstBlockAtOrAfter(_d: EpochDuties, missedSlots: Set<number>, slot: number): number {
  let s = slot;
  while (missedSlots.has(s)) s++;
  return s;
}

describe.each(["deneb", "electra", "fulu"] as const)("epoch duties on beacon-sim (%s)", (fork) => {
  let pool: BeaconNodePool;
  let forkSim: Sim;
  const byEpoch = new Map<number, EpochDuties>();

  beforeAll(async () => {
    if (fork === "deneb") forkSim = sim;
    else {
      const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
      forkSim = await startBeaconSim({ validators: N, seed: "h5-watcher", scenario, fork });
      forkSim.chain.advanceEpochs(9);
    }
    pool = await BeaconNodePool.init({ urls: [forkSim.url], preset: "minimal", retries: 1, retryBaseMs: 10 });
    const reader = new EpochDutiesReader(pool);
    for (const e of [1, 2, 3]) byEpoch.set(e, await reader.epochDuties(e, { validators: ALL }));
  });
  afterAll(async () => {
    if (forkSim !== sim) await forkSim?.close();
  });

  it("uses only finalized data", async () => {
    const h = await pool.refreshHealth();
    expect(h[0]?.finalizedEpoch).toBeGreaterThanOrEqual(5);
    const reader = new EpochDutiesReader(pool);
    await expect(
      reader.epochDuties((h[0]?.finalizedEpoch ?? 0) - 1, { validators: ALL }),
    ).rejects.toMatchObject({
      code: "ERR_BEACON_NOT_FINALIZED",
    });
  });

  it("a node that refuses committees, proposer duties and sync committees: the same duties from the SSZ state", async () => {
    for (const pathContains of ["/committees", "/duties/proposer/", "/sync_committees"])
      forkSim.node.addFault({ kind: "error", status: 503, pathContains });
    try {
      const reader = new EpochDutiesReader(pool);
      for (const e of [1, 2, 3]) {
        const d = await reader.epochDuties(e, { validators: ALL });
        expect(d.sources).toEqual({ committees: "state", proposers: "state" });
        expect({ ...d, sources: null }).toEqual({ ...byEpoch.get(e), sources: null });
      }
      expect(byEpoch.get(1)?.sources).toEqual({ committees: "api", proposers: "api" });
    } finally {
      forkSim.node.clearFaults();
    }
  });

  it("epoch 1 (everyone online): no missed attestation, every proposal made", () => {
    const d = byEpoch.get(1) as EpochDuties;
    expect(d.attestations).toHaveLength(N);
    expect(
      d.attestations.every((a) => a.included && a.sourceCorrect && a.targetCorrect && a.headCorrect),
    ).toBe(true);
    expect(d.proposals.every((p) => p.status === "proposed")).toBe(true);
    expect(d.network.attIncluded).toBe(N);
  });

  it("epochs 2-3: exactly the offline validators miss attestations and proposals", () => {
    for (const e of [2, 3]) {
      const d = byEpoch.get(e) as EpochDuties;
      const expectedMissed = e === 3 ? [SLASHED, ...OFFLINE] : OFFLINE;
      const missed = d.attestations.filter((a) => !a.included).map((a) => a.validatorIndex);
      expect(missed.sort((a, b) => a - b)).toEqual(expectedMissed.sort((a, b) => a - b));
      for (const p of d.proposals) {
        // a slashed validator stays in the proposer sampling and proposes no more
        const silent = OFFLINE.includes(p.validatorIndex) || (e === 3 && p.validatorIndex === SLASHED);
        expect(p.status).toBe(silent ? "missed" : "proposed");
        expect(p.status === "missed").toBe(forkSim.chain.blockAt(p.slot) === undefined);
      }
      expect(d.network.attAssigned - d.network.attIncluded).toBe(expectedMissed.length);
    }
  });

  it("late, wrong-head and wrong-target validators are recognised", () => {
    const d = byEpoch.get(2) as EpochDuties;
    const missedSlots = new Set(d.proposals.filter((p) => p.status !== "proposed").map((p) => p.slot));
    for (const a of d.attestations) {
      if (!a.included) continue;
      const delay = LATE.includes(a.validatorIndex) ? 3 : 1;
      expect(a.inclusionSlot, `validator ${a.validatorIndex}`).toBe(
        firstBlockAtOrAfter(d, missedSlots, a.slot + delay),
      );
      expect(a.headCorrect).toBe(
        !WRONG_HEAD.includes(a.validatorIndex) && !WRONG_TARGET.includes(a.validatorIndex),
      );
      expect(a.targetCorrect).toBe(!WRONG_TARGET.includes(a.validatorIndex));
      // optimal delay: counted from the first block after the duty slot
      expect(a.optimalDelay).toBe(
        (a.inclusionSlot ?? 0) - firstBlockAtOrAfter(d, missedSlots, a.slot + 1) + 1,
      );
      expect(a.rewards?.target).toSatisfy((x: bigint) =>
        WRONG_TARGET.includes(a.validatorIndex) ? x <= 0n : x > 0n,
      );
    }
  });

  it('rewards: "exceptions" asks only for the attestations that were not perfect', async () => {
    const d = await new EpochDutiesReader(pool).epochDuties(2, { validators: ALL, rewards: "exceptions" });
    const full = byEpoch.get(2) as EpochDuties;
    for (const a of d.attestations) {
      if (isPerfectAttestation(a)) expect(a.rewards).toBeNull();
      else
        expect(a.rewards).toEqual(
          full.attestations.find((x) => x.validatorIndex === a.validatorIndex)?.rewards,
        );
    }
    expect(d.attestations.filter((a) => a.rewards !== null).length).toBeGreaterThanOrEqual(OFFLINE.length);
  });

  it("the slashing and the exit are seen in their epoch and in the statuses", () => {
    const d = byEpoch.get(3) as EpochDuties;
    expect(
      d.events.map((e) => [e.kind.endsWith("slashing") ? "slashing" : e.kind, e.validatorIndex]),
    ).toEqual(
      expect.arrayContaining([
        ["slashing", SLASHED],
        ["voluntary_exit", EXITING],
      ]),
    );
    const st = new Map(d.validators.map((v) => [v.validatorIndex, v]));
    expect(st.get(SLASHED)?.slashed).toBe(true);
    expect(st.get(EXITING)?.status).toBe("active_exiting");
    expect(st.get(0)?.status).toBe("active_ongoing");
    // balances: the offline validators lost, the online gained
    for (const v of OFFLINE)
      expect((st.get(v)?.balanceEnd ?? 0n) < (st.get(v)?.balanceStart ?? 0n)).toBe(true);
    expect((st.get(1)?.balanceEnd ?? 0n) > (st.get(1)?.balanceStart ?? 0n)).toBe(true);
    expect(byEpoch.get(2)?.events).toEqual([]);
  });

  it("scores follow: offline validators score 0, the late ones less than the punctual", () => {
    const c = countsByValidator(byEpoch.get(2) as EpochDuties);
    for (const v of OFFLINE) expect(csmPerformance(c.get(v)!)).toBe(0);
    expect(csmPerformance(c.get(0)!)).toBe(1);
    // Rated attester score of one duty = correctness / optimal delay
    const d = byEpoch.get(2) as EpochDuties;
    for (const a of d.attestations.filter((x) => x.included)) {
      const corr = ((a.sourceCorrect ? 1 : 0) + (a.targetCorrect ? 1 : 0) + (a.headCorrect ? 1 : 0)) / 3;
      expect(ratedScores(c.get(a.validatorIndex)!).attester).toBeCloseTo(corr / (a.optimalDelay ?? 1));
    }
    const lateDelays = d.attestations
      .filter((a) => LATE.includes(a.validatorIndex))
      .map((a) => a.optimalDelay ?? 0);
    expect(Math.max(...lateDelays)).toBeGreaterThanOrEqual(2);
    expect(ratedScores(c.get(60)!).correctness).toBeCloseTo(2 / 3);
  });
});

describe("a fleet of three sims: one failing, one lagging, one healthy", () => {
  it("gives the same results as one healthy sim", async () => {
    const urls = (fleet.sims ?? []).map((s) => s.url);
    const fleetPool = await BeaconNodePool.init({
      urls,
      preset: "minimal",
      retries: 1,
      retryBaseMs: 10,
      timeoutMs: 2000,
    });
    const healthy = await BeaconNodePool.init({ urls: [urls[2] as string], preset: "minimal" });
    for (const e of [2, 3]) {
      const a = await new EpochDutiesReader(fleetPool).epochDuties(e, { validators: ALL });
      const b = await new EpochDutiesReader(healthy).epochDuties(e, { validators: ALL });
      expect(a).toEqual(b);
    }
    const h = fleetPool.health();
    expect(h[0]?.reachable).toBe(false); // 503
    expect(h[1]?.finalizedEpoch).toBeLessThan(h[2]?.finalizedEpoch ?? 0); // lagging
  });
});

describe("a 0x02 validator next to 0x01 ones (fulu): attestation duties weigh by effective balance", () => {
  const ETH = 1_000_000_000;
  const COMPOUNDING = 32; // deposited with 0x02 credentials and 96 ETH after genesis
  let sim02: Sim;
  let duties: EpochDuties;
  let reader02: EpochDutiesReader;
  let epoch02 = 0;

  beforeAll(async () => {
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    sim02 = await startBeaconSim({
      validators: 32,
      seed: "h5-compounding",
      fork: "fulu",
      scenario: {
        withdrawalCredentials: `0x01${"00".repeat(11)}${"b9".repeat(20)}`,
        deposits: [
          {
            epoch: 1,
            count: 1,
            withdrawalCredentials: `0x02${"00".repeat(11)}${"c2".repeat(20)}`,
            amount: 96 * ETH,
          },
        ],
        behaviours: [{ validators: COMPOUNDING, behaviour: "offline" }],
      },
    });
    // the deposit waits for finality and the balance churn (64 ETH per epoch here), then activates
    let activation = Number.POSITIVE_INFINITY;
    while (sim02.chain.currentFinality().finalized.epoch < activation + 2) {
      sim02.chain.advanceEpochs(1);
      const head = sim02.chain.epochOf(sim02.chain.headSlot);
      activation = sim02.chain.validatorAt(COMPOUNDING, head).activationEpoch;
      expect(head).toBeLessThan(40);
    }
    const pool = await BeaconNodePool.init({
      urls: [sim02.url],
      preset: "minimal",
      retries: 1,
      retryBaseMs: 10,
    });
    reader02 = new EpochDutiesReader(pool);
    epoch02 = activation;
    duties = await reader02.epochDuties(activation, { validators: [0, 1, COMPOUNDING] });
  });
  afterAll(async () => {
    await sim02?.close();
  });

  it("the duty carries the effective balance; the weights follow it, in the pool's and the network's counts", () => {
    const att = new Map(duties.attestations.map((a) => [a.validatorIndex, a]));
    expect(att.get(COMPOUNDING)?.effectiveBalance).toBe(96 * ETH);
    expect(att.get(COMPOUNDING)?.included).toBe(false); // offline
    expect(att.get(0)?.effectiveBalance).toBe(32 * ETH);
    const c = countsByValidator(duties);
    expect(c.get(COMPOUNDING)).toMatchObject({ attAssigned: 1, attWeightAssigned: 3, attWeightIncluded: 0 });
    expect(c.get(0)).toMatchObject({ attAssigned: 1, attWeightAssigned: 1, attWeightIncluded: 1 });
    // the network: 32 validators of weight 1 and one of weight 3, which missed
    expect(duties.network).toMatchObject({ attAssigned: 33, attIncluded: 32 });
    expect(duties.network.attWeightAssigned).toBeCloseTo(35);
    expect(duties.network.attWeightIncluded).toBeCloseTo(32);
  });

  it("the next epoch reuses the effective balances read for this one (no state read) and its end balances as its start ones", async () => {
    sim02.chain.advanceEpochs(1);
    sim02.node.addFault({ kind: "error", status: 503, pathContains: "/debug/beacon/states" });
    // the state this epoch ended at: its balances are not asked for again
    const S = sim02.chain.slotsPerEpoch;
    sim02.node.addFault({
      kind: "error",
      status: 503,
      pathContains: `/states/${(epoch02 + 1) * S}/validator_balances`,
    });
    try {
      const next = await reader02.epochDuties(epoch02 + 1, { validators: [0, COMPOUNDING] });
      expect(next.attestations.map((a) => a.effectiveBalance)).toEqual([32 * ETH, 96 * ETH]);
      const ended = new Map(duties.validators.map((v) => [v.validatorIndex, v.balanceEnd]));
      expect(next.validators.map((v) => v.balanceStart)).toEqual([ended.get(0), ended.get(COMPOUNDING)]);
      expect(next.validators.every((v) => v.balanceStart !== null && v.balanceEnd !== null)).toBe(true);
    } finally {
      sim02.node.clearFaults();
    }
  });

  it("an operator of the 0x02 validator and two 0x01 ones: scores over weights, not duties", () => {
    const c = countsByValidator(duties);
    const op = [0, 1, COMPOUNDING].map((v) => c.get(v) as DutyCounts).reduce(addCounts);
    // by count 2 of 3 included; by weight (rewards at stake) 2 of 5
    expect(op.attIncluded / op.attAssigned).toBeCloseTo(2 / 3);
    expect(ratedScores(op).participation).toBeCloseTo(2 / 5);
    // CSM: its attestation term (the validators also have sync duties here)
    expect(csmPerformance({ ...op, proposalsAssigned: 0, syncAssigned: 0 })).toBeCloseTo(2 / 5);
    // the included ones were perfect: correctness and delay are means over the included weight
    expect(ratedScores(op).correctness).toBeCloseTo(1);
  });
});
