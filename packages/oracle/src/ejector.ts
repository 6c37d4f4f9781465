/**
 * Exits demanded by withdrawals (issue 12), after Lido's validator ejector: the ether the
 * withdrawal queue still needs after this report's finalization, beyond what the buffer after
 * the report, the vaults and the validators already exiting (or asked to) will provide, is met by
 * asking validators to exit, chosen in Lido's exit order and at most `maxExitWei` per report:
 *
 *  1. operators with the most validators above a hard (forced) target limit first;
 *  2. then those with the most above a soft target limit;
 *  3. then the largest stake above its share (the pool's exitable validators split equally);
 *  4. then the lowest validator index (the operator's, then the validator's own).
 *
 * The order is re-evaluated after every validator chosen (an operator's counts drop by one), as
 * Lido's exit order iterator does. Pure: two members with the same inputs choose the same list.
 */

/** EXIT_DEADLINE_EPOCHS' default: Lido's validator-ejector window, 900 epochs (about 4 days). */
export const DEFAULT_EXIT_DEADLINE_EPOCHS = 900;

export interface EjectorValidator {
  index: number;
  operatorId: number;
  balanceGwei: bigint;
  /** Active at the ref epoch with no exit epoch: may be asked to exit. */
  exitable: boolean;
  /** An exit epoch is set and the balance is still on the consensus layer: will come back. */
  exiting: boolean;
}

export interface EjectorOperator {
  operatorId: number;
  targetLimit: number | null;
  targetLimitMode: "soft" | "hard" | null;
}

export interface EjectorInput {
  /** Unfinalized stETH (wei) after this report's finalization: what the queue still asks. */
  demandWei: bigint;
  /** What the pool will hold to pay it: the buffer after this report, the vaults' rest (wei). */
  bufferWei: bigint;
  vaultsWei: bigint;
  validators: readonly EjectorValidator[];
  operators: readonly EjectorOperator[];
  /** Validators with an open exit request (not exiting on the chain yet): already asked. */
  requested: ReadonlySet<number>;
  /** The sanity limit: the most ether (wei) this report may ask to exit. */
  maxExitWei: bigint;
}

export interface ValidatorToExit {
  operatorId: number;
  validatorIndex: number;
}

export interface EjectorResult {
  /** What is still missing before any new exit (0 when covered). */
  shortfallWei: bigint;
  /** Chosen, sorted by operator then validator index. */
  validatorsToExit: ValidatorToExit[];
  /** Wei the chosen validators will bring. */
  exitingWei: bigint;
  /** The cap stopped the choice before the shortfall was met. */
  capped: boolean;
}

const GWEI = 1_000_000_000n;

interface OpState {
  operatorId: number;
  hard: number | null;
  soft: number | null;
  /** Its validators counted against its limits: active, not exiting, not asked to exit. */
  active: number;
  /** Its exitable validators, lowest index first. */
  candidates: EjectorValidator[];
}

/** The operators' sort key, most urgent first (negative = ahead), Lido's predicates in order. */
function compare(a: OpState, b: OpState, share: number): number {
  const overHard = (o: OpState) => (o.hard === null ? 0 : Math.max(0, o.active - o.hard));
  const overSoft = (o: OpState) => (o.soft === null ? 0 : Math.max(0, o.active - o.soft));
  const overShare = (o: OpState) => Math.max(0, o.active - share);
  return (
    overHard(b) - overHard(a) ||
    overSoft(b) - overSoft(a) ||
    overShare(b) - overShare(a) ||
    a.candidates[0]!.index - b.candidates[0]!.index
  );
}

export function chooseValidatorsToExit(input: EjectorInput): EjectorResult {
  let available = input.bufferWei + input.vaultsWei;
  const ops = new Map<number, OpState>();
  for (const o of input.operators) {
    ops.set(o.operatorId, {
      operatorId: o.operatorId,
      hard: o.targetLimitMode === "hard" ? o.targetLimit : null,
      soft: o.targetLimitMode === "soft" ? o.targetLimit : null,
      active: 0,
      candidates: [],
    });
  }
  for (const v of [...input.validators].sort((a, b) => a.index - b.index)) {
    const asked = input.requested.has(v.index);
    if (v.exiting || (asked && v.exitable)) available += v.balanceGwei * GWEI;
    if (!v.exitable || asked) continue;
    let o = ops.get(v.operatorId);
    if (o === undefined) {
      o = { operatorId: v.operatorId, hard: null, soft: null, active: 0, candidates: [] };
      ops.set(v.operatorId, o);
    }
    o.active++;
    o.candidates.push(v);
  }
  const shortfallWei = input.demandWei > available ? input.demandWei - available : 0n;
  const chosen: ValidatorToExit[] = [];
  let exitingWei = 0n;
  let capped = false;
  const live = [...ops.values()].filter((o) => o.candidates.length > 0);
  while (exitingWei < shortfallWei && live.length > 0) {
    const total = live.reduce((s, o) => s + o.active, 0);
    const share = total / live.length;
    live.sort((a, b) => compare(a, b, share));
    const o = live[0]!;
    const v = o.candidates[0]!;
    const wei = v.balanceGwei * GWEI;
    if (exitingWei + wei > input.maxExitWei) {
      capped = true;
      break;
    }
    o.candidates.shift();
    o.active--;
    if (o.candidates.length === 0) live.shift();
    chosen.push({ operatorId: v.operatorId, validatorIndex: v.index });
    exitingWei += wei;
  }
  chosen.sort((a, b) => a.operatorId - b.operatorId || a.validatorIndex - b.validatorIndex);
  return { shortfallWei, validatorsToExit: chosen, exitingWei, capped };
}
