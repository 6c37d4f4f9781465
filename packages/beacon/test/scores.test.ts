import { describe, expect, it } from "vitest";
import { emptyAggregate } from "../src/duties.js";
import {
  addCounts,
  compareWithNetwork,
  countsByValidator,
  csmPerformance,
  type DutyCounts,
  ratedScores,
  windowEpochs,
} from "../src/scores.js";

/** Counts of 32 ETH validators: each attestation duty weighs 1. */
function counts(p: Partial<DutyCounts>): DutyCounts {
  return {
    ...emptyAggregate(),
    attWeightAssigned: p.attAssigned ?? 0,
    attWeightIncluded: p.attIncluded ?? 0,
    ...p,
  };
}

describe("scores", () => {
  it("window lengths follow the network's timing: 225/1575/6750 epochs on mainnet", () => {
    expect(windowEpochs("1d", 12, 32)).toBe(225);
    expect(windowEpochs("7d", 12, 32)).toBe(1575);
    expect(windowEpochs("30d", 12, 32)).toBe(6750);
    expect(windowEpochs("1d", 2, 8)).toBe(5400);
    expect(() => windowEpochs("1d", 0, 32)).toThrow(RangeError);
  });

  it("Rated: attester = participation × correctness × 1/delay; combined 5/8 + 3/8", () => {
    // 10 duties, 8 included, all correct, delay 1 → attester 0.8
    const c = counts({ attAssigned: 10, attIncluded: 8, attCorrectnessSum: 8, attDelayScoreSum: 8 });
    expect(ratedScores(c).attester).toBeCloseTo(0.8);
    expect(ratedScores(c).effectiveness).toBeCloseTo(0.8); // no proposal: attester alone
    const withProp = addCounts(c, counts({ proposalsAssigned: 2, proposalsMade: 1 }));
    expect(ratedScores(withProp).proposer).toBe(0.5);
    expect(ratedScores(withProp).effectiveness).toBeCloseTo((5 / 8) * 0.8 + (3 / 8) * 0.5);
    // half the head votes wrong and delay 2 everywhere
    const late = counts({
      attAssigned: 4,
      attIncluded: 4,
      attCorrectnessSum: 4 * (5 / 6),
      attDelayScoreSum: 4 * 0.5,
    });
    expect(ratedScores(late).attester).toBeCloseTo((5 / 6) * 0.5);
    expect(ratedScores(counts({ attAssigned: 3 })).attester).toBe(0);
    expect(ratedScores(counts({})).effectiveness).toBeNull();
  });

  it("CSM: 54/8/2 weights, a kind of duty left out when none was assigned", () => {
    expect(csmPerformance(counts({ attAssigned: 100, attIncluded: 90 }))).toBeCloseTo(0.9);
    expect(
      csmPerformance(counts({ attAssigned: 100, attIncluded: 90, proposalsAssigned: 1, proposalsMade: 0 })),
    ).toBeCloseTo((0.9 * 54) / 62);
    expect(
      csmPerformance(
        counts({
          attAssigned: 100,
          attIncluded: 100,
          proposalsAssigned: 2,
          proposalsMade: 2,
          syncAssigned: 10,
          syncIncluded: 5,
        }),
      ),
    ).toBeCloseTo((54 + 8 + 1) / 64);
    expect(csmPerformance(counts({}))).toBeNull();
  });

  it("per-validator counts from epoch results, and the comparison with the network", () => {
    const m = countsByValidator({
      attestations: [
        {
          validatorIndex: 1,
          included: true,
          sourceCorrect: true,
          targetCorrect: true,
          headCorrect: false,
          optimalDelay: 1,
          effectiveBalance: 32e9,
        },
        {
          validatorIndex: 2,
          included: false,
          sourceCorrect: false,
          targetCorrect: false,
          headCorrect: false,
          optimalDelay: null,
          effectiveBalance: 32e9,
        },
      ],
      proposals: [{ validatorIndex: 2, status: "missed" }],
      sync: [{ validatorIndex: 1, assigned: 8, included: 8 }],
    });
    expect(m.get(1)).toMatchObject({ attAssigned: 1, attIncluded: 1, syncAssigned: 8, syncIncluded: 8 });
    expect(m.get(1)?.attCorrectnessSum).toBeCloseTo(2 / 3);
    expect(m.get(2)).toMatchObject({
      attAssigned: 1,
      attIncluded: 0,
      proposalsAssigned: 1,
      proposalsMade: 0,
    });
    const cmp = compareWithNetwork(
      m.get(2) as DutyCounts,
      counts({
        attAssigned: 10,
        attIncluded: 10,
        attCorrectnessSum: 10,
        attDelayScoreSum: 10,
        attEffectivenessSum: 10,
      }),
    );
    expect(cmp.subject.csm).toBe(0);
    expect(cmp.network.csm).toBe(1);
    expect(cmp.csmDelta).toBe(-1);
  });
});
