/**
 * Performance scores, as pure functions over duty counts (one validator, one operator or the
 * whole network; one epoch or a window of epochs, counts simply add up).
 *
 * Attestation duties weigh by effective balance (`attestationWeight`: the spec's attestation
 * rewards are proportional to effective-balance increments, so a 2048 ETH 0x02 validator's duty
 * weighs 64 of a 32 ETH one's); proposals and sync duties count one each (their rewards do not
 * scale with the duty holder's effective balance).
 *
 * Rated-style effectiveness (RAVER, post-merge weights):
 *   attester    = participation × correctness × (1 / inclusion delay)
 *                 participation = included / assigned; correctness = mean over included
 *                 attestations of (source + target + head) / 3; the inclusion delay is the
 *                 "optimal" one, counted from the first block after the duty slot, averaged as 1/delay
 *   proposer    = proposed / assigned
 *   combined    = 5/8 attester + 3/8 proposer (attester alone when no proposal was assigned)
 * Lido CSM duty-weighted performance (lido-oracle PerformanceCoefficients 54 / 8 / 2):
 *   (54 × att + 8 × prop + 2 × sync) / (54 + 8 + 2), a term and its weight left out when no duty of
 *   that kind was assigned; att = included / assigned, prop = proposed / assigned, sync likewise.
 * Every attestation ratio and mean above is over weights (effective balance), not over duties.
 */
import type { DutyAggregate } from "./duties.js";

/** MIN_ACTIVATION_BALANCE (gwei): the effective balance of weight 1. */
const WEIGHT_UNIT_GWEI = 32_000_000_000;

/**
 * The weight of an attestation duty: the validator's effective balance (gwei) in units of 32 ETH
 * (null, before Electra: 1).
 * The spec's attestation rewards (and penalties) are base_reward × flag weight, base_reward =
 * effective-balance increments × base_reward_per_increment: proportional to the effective balance.
 */
export function attestationWeight(effectiveBalanceGwei: number | null): number {
  return effectiveBalanceGwei === null ? 1 : effectiveBalanceGwei / WEIGHT_UNIT_GWEI;
}

export type DutyCounts = DutyAggregate;

export function addCounts(a: DutyCounts, b: DutyCounts): DutyCounts {
  return {
    attAssigned: a.attAssigned + b.attAssigned,
    attIncluded: a.attIncluded + b.attIncluded,
    attWeightAssigned: a.attWeightAssigned + b.attWeightAssigned,
    attWeightIncluded: a.attWeightIncluded + b.attWeightIncluded,
    attCorrectnessSum: a.attCorrectnessSum + b.attCorrectnessSum,
    attDelayScoreSum: a.attDelayScoreSum + b.attDelayScoreSum,
    attEffectivenessSum: a.attEffectivenessSum + b.attEffectivenessSum,
    proposalsAssigned: a.proposalsAssigned + b.proposalsAssigned,
    proposalsMade: a.proposalsMade + b.proposalsMade,
    syncAssigned: a.syncAssigned + b.syncAssigned,
    syncIncluded: a.syncIncluded + b.syncIncluded,
  };
}

export interface RatedScores {
  participation: number | null;
  correctness: number | null;
  inclusionDelayScore: number | null;
  attester: number | null;
  proposer: number | null;
  effectiveness: number | null;
}

export const RATED_ATTESTER_WEIGHT = 5 / 8;
export const RATED_PROPOSER_WEIGHT = 3 / 8;

export function ratedScores(c: DutyCounts): RatedScores {
  const participation = c.attAssigned > 0 ? attParticipation(c) : null;
  const per = (sum: number): number | null => (c.attWeightIncluded > 0 ? sum / c.attWeightIncluded : null);
  const correctness = per(c.attCorrectnessSum);
  const inclusionDelayScore = per(c.attDelayScoreSum);
  let attester: number | null = null;
  if (participation !== null) {
    attester = participation === 0 ? 0 : participation * (correctness ?? 0) * (inclusionDelayScore ?? 0);
  }
  const proposer = c.proposalsAssigned > 0 ? c.proposalsMade / c.proposalsAssigned : null;
  let effectiveness: number | null;
  if (attester === null) effectiveness = proposer;
  else if (proposer === null) effectiveness = attester;
  else effectiveness = RATED_ATTESTER_WEIGHT * attester + RATED_PROPOSER_WEIGHT * proposer;
  return { participation, correctness, inclusionDelayScore, attester, proposer, effectiveness };
}

/** Included / assigned attestations, by weight (by count if the weights are 0). */
function attParticipation(c: DutyCounts): number {
  return c.attWeightAssigned > 0 ? c.attWeightIncluded / c.attWeightAssigned : c.attIncluded / c.attAssigned;
}

export interface CsmWeights {
  attestations: number;
  proposals: number;
  sync: number;
}

export const CSM_WEIGHTS: CsmWeights = { attestations: 54, proposals: 8, sync: 2 };

/** Lido CSM performance; null when no attestation duty was assigned (CSM's base always has attestations). */
export function csmPerformance(c: DutyCounts, w: CsmWeights = CSM_WEIGHTS): number | null {
  if (c.attAssigned === 0) return null;
  let base = w.attestations;
  let perf = attParticipation(c) * w.attestations;
  if (c.proposalsAssigned > 0) {
    base += w.proposals;
    perf += (c.proposalsMade / c.proposalsAssigned) * w.proposals;
  }
  if (c.syncAssigned > 0) {
    base += w.sync;
    perf += (c.syncIncluded / c.syncAssigned) * w.sync;
  }
  return perf / base;
}

export type WindowName = "1d" | "7d" | "30d";
export const WINDOW_DAYS: Record<WindowName, number> = { "1d": 1, "7d": 7, "30d": 30 };

/** Epochs in a window of whole days for the network's timing (225 per day on mainnet). */
export function windowEpochs(window: WindowName, secondsPerSlot: number, slotsPerEpoch: number): number {
  if (!(secondsPerSlot > 0 && slotsPerEpoch > 0))
    throw new RangeError("secondsPerSlot and slotsPerEpoch must be positive");
  return Math.floor((WINDOW_DAYS[window] * 86_400) / (secondsPerSlot * slotsPerEpoch));
}

export interface ScoreSet {
  rated: RatedScores;
  csm: number | null;
}

export function scoreSet(c: DutyCounts): ScoreSet {
  return { rated: ratedScores(c), csm: csmPerformance(c) };
}

export interface Comparison {
  subject: ScoreSet;
  network: ScoreSet;
  /** subject − network, null when either side has no figure. */
  effectivenessDelta: number | null;
  csmDelta: number | null;
}

export function compareWithNetwork(subject: DutyCounts, network: DutyCounts): Comparison {
  const s = scoreSet(subject);
  const n = scoreSet(network);
  const d = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b);
  return {
    subject: s,
    network: n,
    effectivenessDelta: d(s.rated.effectiveness, n.rated.effectiveness),
    csmDelta: d(s.csm, n.csm),
  };
}

/** Per-validator duty counts of one epoch's results (for storage and for rolling up). */
export function countsByValidator(d: {
  attestations: ReadonlyArray<{
    validatorIndex: number;
    included: boolean;
    sourceCorrect: boolean;
    targetCorrect: boolean;
    headCorrect: boolean;
    optimalDelay: number | null;
    effectiveBalance: number | null;
  }>;
  proposals: ReadonlyArray<{ validatorIndex: number; status: string }>;
  sync: ReadonlyArray<{ validatorIndex: number; assigned: number; included: number }>;
}): Map<number, DutyCounts> {
  const out = new Map<number, DutyCounts>();
  const get = (v: number): DutyCounts => {
    let c = out.get(v);
    if (c === undefined) {
      c = {
        attAssigned: 0,
        attIncluded: 0,
        attWeightAssigned: 0,
        attWeightIncluded: 0,
        attCorrectnessSum: 0,
        attDelayScoreSum: 0,
        attEffectivenessSum: 0,
        proposalsAssigned: 0,
        proposalsMade: 0,
        syncAssigned: 0,
        syncIncluded: 0,
      };
      out.set(v, c);
    }
    return c;
  };
  for (const a of d.attestations) {
    const c = get(a.validatorIndex);
    const w = attestationWeight(a.effectiveBalance);
    c.attAssigned++;
    c.attWeightAssigned += w;
    if (a.included) {
      c.attIncluded++;
      c.attWeightIncluded += w;
      const corr = ((a.sourceCorrect ? 1 : 0) + (a.targetCorrect ? 1 : 0) + (a.headCorrect ? 1 : 0)) / 3;
      const delay = a.optimalDelay ?? 1;
      c.attCorrectnessSum += w * corr;
      c.attDelayScoreSum += w / delay;
      c.attEffectivenessSum += (w * corr) / delay;
    }
  }
  for (const p of d.proposals) {
    const c = get(p.validatorIndex);
    c.proposalsAssigned++;
    if (p.status === "proposed") c.proposalsMade++;
  }
  for (const s of d.sync) {
    const c = get(s.validatorIndex);
    c.syncAssigned += s.assigned;
    c.syncIncluded += s.included;
  }
  return out;
}
