/**
 * Epoch processing (simplified Altair+), as plain functions over the registry and the history:
 * justification and finality, inactivity scores and penalties, attestation rewards and penalties,
 * registry updates (activations, ejections) and effective balances with hysteresis.
 */
import type { ChainForkConfig } from "@lodestar/config";
import {
  EFFECTIVE_BALANCE_INCREMENT,
  INACTIVITY_PENALTY_QUOTIENT_BELLATRIX,
  MAX_SEED_LOOKAHEAD,
  MIN_ACTIVATION_BALANCE,
  MIN_EPOCHS_TO_INACTIVITY_PENALTY,
} from "@lodestar/params";
import {
  type AttestationDeltas,
  baseRewardPerIncrement,
  FAR,
  type FinalityState,
  FLAG_HEAD,
  FLAG_SOURCE,
  FLAG_TARGET,
  FLAG_WEIGHTS,
  GWEI,
  WEIGHT_DENOMINATOR,
} from "./chain-types.js";
import type { ChainHistory } from "./history.js";
import type { Registry } from "./registry.js";

export interface AttestationRewards {
  deltas: (i: number) => AttestationDeltas | undefined;
  ideal: (effectiveEth: number) => { head: number; target: number; source: number };
}

/**
 * Attestation rewards of `epoch`: flags of that epoch, effective balances of the state of
 * epoch + 1 (as applied at the transition into epoch + 2). Undefined while either is missing.
 */
export function attestationRewards(
  reg: Registry,
  history: ChainHistory,
  epoch: number,
): AttestationRewards | undefined {
  const flags = history.flags.get(epoch);
  const snap = history.snapshot(epoch + 1);
  if (flags === undefined || snap === undefined) return undefined;
  const eff = snap.effective;
  const activeInc = snap.totalActiveIncrements;
  const brpi = baseRewardPerIncrement(activeInc);
  const leak = history.leakAt.get(epoch) ?? false;
  const part = [0, 0, 0];
  const n = Math.min(flags.length, snap.n);
  for (let i = 0; i < n; i++) {
    if (!reg.isActiveAt(i, epoch) || (reg.slashedAt[i] ?? FAR) <= epoch + 1) continue;
    const f = flags[i] ?? 0;
    const e = eff[i] ?? 0;
    if (f & FLAG_SOURCE) part[0] = (part[0] ?? 0) + e;
    if (f & FLAG_TARGET) part[1] = (part[1] ?? 0) + e;
    if (f & FLAG_HEAD) part[2] = (part[2] ?? 0) + e;
  }
  const inact = history.inactivityPenalties.get(epoch);
  const flagReward = (effEth: number, k: number) =>
    leak
      ? 0
      : Math.floor(
          (effEth * brpi * (FLAG_WEIGHTS[k] ?? 0) * (part[k] ?? 0)) / (activeInc * WEIGHT_DENOMINATOR),
        );
  const flagPenalty = (effEth: number, k: number) =>
    -Math.floor((effEth * brpi * (FLAG_WEIGHTS[k] ?? 0)) / WEIGHT_DENOMINATOR);
  return {
    deltas: (i: number) => {
      if (i >= n) return undefined;
      const eligible =
        reg.isActiveAt(i, epoch) ||
        ((reg.slashedAt[i] ?? FAR) <= epoch + 1 && epoch + 1 < (reg.withdrawableEpoch[i] ?? FAR));
      if (!eligible) return { head: 0, target: 0, source: 0, inactivity: 0 };
      const slashed = (reg.slashedAt[i] ?? FAR) <= epoch + 1;
      const f = slashed ? 0 : (flags[i] ?? 0);
      const e = eff[i] ?? 0;
      return {
        source: f & FLAG_SOURCE ? flagReward(e, 0) : flagPenalty(e, 0),
        target: f & FLAG_TARGET ? flagReward(e, 1) : flagPenalty(e, 1),
        head: f & FLAG_HEAD ? flagReward(e, 2) : 0,
        inactivity: 0 - (inact?.[i] ?? 0),
      };
    },
    ideal: (effEth: number) => ({
      source: flagReward(effEth, 0),
      target: flagReward(effEth, 1),
      head: flagReward(effEth, 2),
    }),
  };
}

/**
 * weigh_justification_and_finalization at the end of `cur` (the transition into cur + 1), over
 * target participation of cur - 1 and cur. `checkpointRoot(e)`: the block root at e's first slot.
 */
export function justifyAndFinalize(
  fin: FinalityState,
  cur: number,
  reg: Registry,
  history: ChainHistory,
  totalActiveIncrements: number,
  checkpointRoot: (epoch: number) => Uint8Array,
): void {
  const prev = cur - 1;
  const n = reg.n;
  const targetInc = (e: number) => {
    const f = history.flags.get(e);
    if (f === undefined) return 0;
    let t = 0;
    for (let i = 0; i < n; i++)
      if (((f[i] ?? 0) & FLAG_TARGET) !== 0 && reg.isActiveAt(i, e) && (reg.slashedAt[i] ?? FAR) === FAR)
        t += reg.effective[i] ?? 0;
    return t;
  };
  const oldPrev = fin.previousJustified;
  const oldCur = fin.currentJustified;
  fin.previousJustified = fin.currentJustified;
  fin.bits = [false, fin.bits[0], fin.bits[1], fin.bits[2]];
  if (targetInc(prev) * 3 >= totalActiveIncrements * 2) {
    fin.currentJustified = { epoch: prev, root: checkpointRoot(prev) };
    fin.bits[1] = true;
  }
  if (targetInc(cur) * 3 >= totalActiveIncrements * 2) {
    fin.currentJustified = { epoch: cur, root: checkpointRoot(cur) };
    fin.bits[0] = true;
  }
  const b = fin.bits;
  if (b[1] && b[2] && b[3] && oldPrev.epoch + 3 === cur) fin.finalized = oldPrev;
  if (b[1] && b[2] && oldPrev.epoch + 2 === cur) fin.finalized = oldPrev;
  if (b[0] && b[1] && b[2] && oldCur.epoch + 2 === cur) fin.finalized = oldCur;
  if (b[0] && b[1] && oldCur.epoch + 1 === cur) fin.finalized = oldCur;
}

/**
 * At the transition into `epoch`: inactivity scores and penalties for prev = epoch - 2, then the
 * attestation rewards and penalties of prev applied to the balances.
 */
export function processInactivityAndRewards(
  reg: Registry,
  history: ChainHistory,
  config: ChainForkConfig,
  epoch: number,
  finalizedEpoch: number,
): void {
  const prev = epoch - 2;
  const n = reg.n;
  const leak = prev - finalizedEpoch > MIN_EPOCHS_TO_INACTIVITY_PENALTY;
  history.leakAt.set(prev, leak);
  const f = history.flags.get(prev) ?? new Uint8Array(n);
  let penalties: Float64Array | undefined;
  for (let i = 0; i < n; i++) {
    const eligible =
      reg.isActiveAt(i, prev) ||
      ((reg.slashedAt[i] ?? FAR) <= epoch && epoch < (reg.withdrawableEpoch[i] ?? FAR));
    if (!eligible) continue;
    const hitTarget = ((f[i] ?? 0) & FLAG_TARGET) !== 0 && (reg.slashedAt[i] ?? FAR) > epoch - 1;
    let s = reg.inactivityScores[i] ?? 0;
    if (hitTarget) s -= Math.min(1, s);
    else s += config.INACTIVITY_SCORE_BIAS;
    if (!leak) s -= Math.min(config.INACTIVITY_SCORE_RECOVERY_RATE, s);
    reg.inactivityScores[i] = s;
    if (!hitTarget && s > 0) {
      const p = Math.floor(
        ((reg.effective[i] ?? 0) * GWEI * s) /
          (config.INACTIVITY_SCORE_BIAS * INACTIVITY_PENALTY_QUOTIENT_BELLATRIX),
      );
      if (p > 0) {
        penalties ??= new Float64Array(n);
        penalties[i] = p;
      }
    }
  }
  if (penalties !== undefined) history.inactivityPenalties.set(prev, penalties);
  // The snapshot of prev + 1 holds the effective balances in force now (updated only after this).
  const deltas = attestationRewards(reg, history, prev)?.deltas;
  if (deltas !== undefined) {
    for (let i = 0; i < n; i++) {
      const d = deltas(i);
      if (d === undefined) continue;
      const delta = d.head + d.target + d.source + d.inactivity;
      if (delta !== 0) reg.balances[i] = Math.max(0, (reg.balances[i] ?? 0) + delta);
    }
  }
}

/**
 * Registry updates at the transition into `epoch` (cur = epoch - 1): activations once finalized,
 * churn-limited (activeCount: validators active at cur); ejections of low effective balances.
 */
export function processRegistryUpdates(
  reg: Registry,
  config: ChainForkConfig,
  epoch: number,
  finalizedEpoch: number,
  activeCount: number,
): void {
  const cur = Math.max(0, epoch - 1);
  const churn = Math.min(
    config.MAX_PER_EPOCH_ACTIVATION_CHURN_LIMIT,
    Math.max(config.MIN_PER_EPOCH_CHURN_LIMIT, Math.floor(activeCount / config.CHURN_LIMIT_QUOTIENT)),
  );
  reg.activate(epoch, finalizedEpoch, churn);
  const n = reg.n;
  for (let i = 0; i < n; i++) {
    if (
      (reg.effective[i] ?? 0) * GWEI <= config.EJECTION_BALANCE &&
      reg.isActiveAt(i, cur) &&
      (reg.exitEpoch[i] ?? FAR) === FAR
    )
      reg.initiateExit(i, cur);
  }
}

/**
 * Electra's process_registry_updates at the transition into `epoch` (cur = epoch - 1): validators
 * with at least MIN_ACTIVATION_BALANCE join the activation queue (eligible from cur + 1), low
 * effective balances are ejected, and every eligible validator up to the finalized epoch activates
 * at cur + 1 + MAX_SEED_LOOKAHEAD (no count churn: deposits are churned by balance instead).
 */
export function processRegistryUpdatesElectra(
  reg: Registry,
  config: ChainForkConfig,
  epoch: number,
  finalizedEpoch: number,
): void {
  const cur = Math.max(0, epoch - 1);
  const activationEpoch = cur + 1 + MAX_SEED_LOOKAHEAD;
  const n = reg.countInState(cur);
  for (let i = 0; i < n; i++) {
    const elig = reg.eligibilityEpoch[i] ?? FAR;
    const eff = (reg.effective[i] ?? 0) * GWEI;
    if (elig === FAR && eff >= MIN_ACTIVATION_BALANCE) reg.eligibilityEpoch[i] = cur + 1;
    else if (reg.isActiveAt(i, cur) && eff <= config.EJECTION_BALANCE) reg.initiateExit(i, cur);
    else if (elig <= finalizedEpoch && (reg.activationEpoch[i] ?? FAR) === FAR) {
      reg.activationEpoch[i] = activationEpoch;
      reg.activationSetAt[i] = epoch;
    }
  }
}

/** Effective balance updates with hysteresis, up to get_max_effective_balance of each validator. */
export function processEffectiveBalances(reg: Registry): void {
  const down = EFFECTIVE_BALANCE_INCREMENT / 4;
  const up = (EFFECTIVE_BALANCE_INCREMENT * 5) / 4;
  const n = reg.n;
  for (let i = 0; i < n; i++) {
    const bal = reg.balances[i] ?? 0;
    const eff = (reg.effective[i] ?? 0) * GWEI;
    if (bal + down < eff || eff + up < bal)
      reg.effective[i] = Math.min(reg.maxEffectiveEth(i), (bal - (bal % EFFECTIVE_BALANCE_INCREMENT)) / GWEI);
  }
}
