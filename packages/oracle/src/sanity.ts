/**
 * The sanity checks a report must pass before it is applied, after Lido's deployed
 * OracleReportSanityChecker, each a named limit with its mainnet value as the default. A report
 * failing one is not applied: the result keeps the check, the figure and the limit.
 *
 * Lido's newer branch states some limits in ether (appeared and exited ether per day): the
 * `*EthPerDay` limits below take over from the validator counts when set, so that the switch is
 * a configuration, not a rewrite.
 */
import { ValidationError } from "@poolkeeper/core";
import { DEFAULT_MAX_POSITIVE_TOKEN_REBASE } from "@poolkeeper/ledger";

export interface SanityLimits {
  /** Validators appearing on the consensus layer per day (Lido: appearedValidatorsPerDayLimit 1800). */
  appearedValidatorsPerDay: number;
  /** Validators exiting per day (exitedValidatorsPerDayLimit 3600). */
  exitedValidatorsPerDay: number;
  /** Ether appearing / exiting per day; null: the validator counts above apply. */
  appearedEthPerDay: bigint | null;
  exitedEthPerDay: bigint | null;
  /** The CL balance may grow at most this much a year, basis points (annualBalanceIncreaseBPLimit 1000 = 10%). */
  annualBalanceIncreaseBP: number;
  /** The simulated share rate within this of the applied one, basis points (simulatedShareRateDeviationBPLimit 50). */
  simulatedShareRateDeviationBP: number;
  /** Per validator allowance for CL decreases over 18 days (initial slashings) and 54 days (inactivity), in PWei (1e15 wei). */
  initialSlashingAmountPWei: number;
  inactivityPenaltiesAmountPWei: number;
  /** A request is finalized only this many seconds after it was made (requestTimestampMargin 7680). */
  requestTimestampMarginSeconds: number;
  /** The positive rebase limiter, 1e9 = 100% (maxPositiveTokenRebase 750,000 = 0.075%); applied by the ledger. */
  maxPositiveTokenRebase: bigint;
  /**
   * Bunker mode (bunker.ts), Lido's OracleDaemonConfig values: the normal CL reward per epoch
   * (NORMALIZED_CL_REWARD_PER_EPOCH 64, the spec's BASE_REWARD_FACTOR), how far below it a
   * rebase may fall (NORMALIZED_CL_REWARD_MISTAKE_RATE_BP 1000 = 10%), the intraframe samples
   * checked then (REBASE_CHECK_NEAREST/DISTANT_EPOCH_DISTANCE 1 and 23 epochs before the ref
   * slot; both 0: no sample, the abnormal rebase alone turns bunker mode on), and how far back
   * a negative rebase may hold finalization (FINALIZATION_MAX_NEGATIVE_REBASE_EPOCH_SHIFT 1350).
   */
  normalizedClRewardPerEpoch: number;
  normalizedClRewardMistakeRateBP: number;
  rebaseCheckNearestEpochDistance: number;
  rebaseCheckDistantEpochDistance: number;
  finalizationMaxNegativeRebaseEpochShift: number;
}

export const DEFAULT_SANITY_LIMITS: SanityLimits = {
  appearedValidatorsPerDay: 1800,
  exitedValidatorsPerDay: 3600,
  appearedEthPerDay: null,
  exitedEthPerDay: null,
  annualBalanceIncreaseBP: 1000,
  simulatedShareRateDeviationBP: 50,
  initialSlashingAmountPWei: 8,
  inactivityPenaltiesAmountPWei: 101,
  requestTimestampMarginSeconds: 7680,
  maxPositiveTokenRebase: DEFAULT_MAX_POSITIVE_TOKEN_REBASE,
  normalizedClRewardPerEpoch: 64,
  normalizedClRewardMistakeRateBP: 1000,
  rebaseCheckNearestEpochDistance: 1,
  rebaseCheckDistantEpochDistance: 23,
  finalizationMaxNegativeRebaseEpochShift: 1350,
};

export const SANITY_CHECKS = [
  "annual_balance_increase",
  "cl_balance_decrease",
  "appeared_validators",
  "exited_validators",
  "simulated_share_rate",
  "request_timestamp_margin",
] as const;
export type SanityCheck = (typeof SANITY_CHECKS)[number];

export interface SanityResult {
  check: SanityCheck;
  ok: boolean;
  /** The figure checked and its limit, as decimal strings (units in `unit`). */
  value: string;
  limit: string;
  unit: string;
}

const DAY = 86_400;
const YEAR = 365 * DAY;
const BP = 10_000n;
const PWEI = 10n ** 15n;
/** Lido's defaults when a figure would divide by zero. */
const DEFAULT_TIME_ELAPSED = 3600;
const DEFAULT_CL_BALANCE = 10n ** 9n;

/** One applied report as the decrease check remembers it. */
export interface ReportHistoryPoint {
  timestamp: number;
  /** The pool's exited validators at that report. */
  exitedValidators: number;
  /** How much the CL balance fell in that report (principal − (CL after + withdrawal vault)), 0 when it did not. */
  negativeRebaseWei: bigint;
}

export interface SanityInput {
  timestamp: number;
  timeElapsed: number;
  /** Principal: the CL balance and pending balance before, plus deposits the report newly sees. */
  principalClWei: bigint;
  /** CL balance + pending balance after. */
  postClWei: bigint;
  withdrawalVaultWei: bigint;
  preClValidators: number;
  postClValidators: number;
  /** Deposit amounts of the keys newly seen (for the ether form of the appeared check). */
  appearedWei: bigint;
  preExitedValidators: number;
  postExitedValidators: number;
  /** The balance of the validators newly exited (for the ether form of the exited check). */
  exitedWei: bigint;
  /** The rate in the report, and the rate the ledger computes for it now. */
  simulatedShareRate: bigint;
  actualShareRate: bigint;
  /** When the last request the report finalizes was made (null: it finalizes none). */
  lastFinalizedRequestTimestamp: number | null;
  /** Earlier applied reports, oldest first. */
  history: readonly ReportHistoryPoint[];
}

export function checkSanityLimits(l: SanityLimits): SanityLimits {
  for (const k of [
    "appearedValidatorsPerDay",
    "exitedValidatorsPerDay",
    "annualBalanceIncreaseBP",
    "simulatedShareRateDeviationBP",
    "initialSlashingAmountPWei",
    "inactivityPenaltiesAmountPWei",
    "requestTimestampMarginSeconds",
    "normalizedClRewardPerEpoch",
    "normalizedClRewardMistakeRateBP",
    "rebaseCheckNearestEpochDistance",
    "rebaseCheckDistantEpochDistance",
    "finalizationMaxNegativeRebaseEpochShift",
  ] as const)
    if (!Number.isSafeInteger(l[k]) || l[k] < 0)
      throw new ValidationError(`sanity.${k}`, "must be a non-negative integer");
  for (const k of ["simulatedShareRateDeviationBP", "normalizedClRewardMistakeRateBP"] as const)
    if (l[k] > 10_000) throw new ValidationError(`sanity.${k}`, "must be at most 10000 basis points");
  for (const k of ["appearedEthPerDay", "exitedEthPerDay"] as const) {
    const v = l[k];
    if (v !== null && v < 0n) throw new ValidationError(`sanity.${k}`, "must not be negative");
  }
  if (l.maxPositiveTokenRebase <= 0n)
    throw new ValidationError("sanity.maxPositiveTokenRebase", "must be more than 0");
  if (l.rebaseCheckNearestEpochDistance > l.rebaseCheckDistantEpochDistance)
    throw new ValidationError(
      "sanity.rebaseCheckNearestEpochDistance",
      "must not be above rebaseCheckDistantEpochDistance",
    );
  return l;
}

/** The negative rebase this report records in the history (0 when the CL side did not fall). */
export function negativeRebaseOf(
  i: Pick<SanityInput, "principalClWei" | "postClWei" | "withdrawalVaultWei">,
): bigint {
  const after = i.postClWei + i.withdrawalVaultWei;
  return i.principalClWei > after ? i.principalClWei - after : 0n;
}

/** Every check on one report; the report passes when all are ok. */
export function runSanityChecks(
  i: SanityInput,
  limits: SanityLimits = DEFAULT_SANITY_LIMITS,
): SanityResult[] {
  const elapsed = i.timeElapsed > 0 ? i.timeElapsed : DEFAULT_TIME_ELAPSED;
  const out: SanityResult[] = [];
  const push = (check: SanityCheck, value: bigint, limit: bigint, unit: string, ok = value <= limit) => {
    out.push({ check, ok, value: value.toString(), limit: limit.toString(), unit });
  };

  // 1. annual CL balance increase, without the withdrawal vault (Lido's _checkAnnualBalancesIncrease)
  const pre = i.principalClWei === 0n ? DEFAULT_CL_BALANCE : i.principalClWei;
  const increase = i.postClWei > pre ? i.postClWei - pre : 0n;
  push(
    "annual_balance_increase",
    (BigInt(YEAR) * BP * increase) / pre / BigInt(elapsed),
    BigInt(limits.annualBalanceIncreaseBP),
    "basis points a year",
  );

  // 2. CL balance decrease over 18 days within the LIP-23 allowance
  const negative = negativeRebaseOf(i);
  const since18 = i.timestamp - 18 * DAY;
  let sum = negative;
  for (let k = i.history.length - 1; k >= 0 && i.history[k]!.timestamp > since18; k--)
    sum += i.history[k]!.negativeRebaseWei;
  const exitedAt = (t: number) => {
    for (let k = i.history.length - 1; k >= 0; k--)
      if (i.history[k]!.timestamp <= t) return i.history[k]!.exitedValidators;
    return 0;
  };
  const allowed =
    BigInt(limits.initialSlashingAmountPWei) *
      PWEI *
      BigInt(Math.max(0, i.postClValidators - exitedAt(since18))) +
    BigInt(limits.inactivityPenaltiesAmountPWei) *
      PWEI *
      BigInt(Math.max(0, i.postClValidators - exitedAt(i.timestamp - 54 * DAY)));
  push("cl_balance_decrease", negative === 0n ? 0n : sum, allowed, "wei over 18 days");

  // 3-4. validators appearing and exiting per day (or ether, when those limits are set)
  const perElapsed = (perDay: bigint) => (perDay * BigInt(elapsed)) / BigInt(DAY);
  const churn = (
    check: SanityCheck,
    ethPerDay: bigint | null,
    wei: bigint,
    perDay: number,
    pre: number,
    post: number,
  ) => {
    const what = check === "appeared_validators" ? "appeared" : "exited";
    if (ethPerDay !== null) return push(check, wei, perElapsed(ethPerDay), `wei ${what}`);
    const limit = perElapsed(BigInt(perDay));
    // a count that went down is wrong too (the chain never un-exits a validator)
    push(
      check,
      BigInt(Math.max(0, post - pre)),
      limit,
      `validators ${what}`,
      post >= pre && BigInt(post - pre) <= limit,
    );
  };
  churn(
    "appeared_validators",
    limits.appearedEthPerDay,
    i.appearedWei,
    limits.appearedValidatorsPerDay,
    i.preClValidators,
    i.postClValidators,
  );
  churn(
    "exited_validators",
    limits.exitedEthPerDay,
    i.exitedWei,
    limits.exitedValidatorsPerDay,
    i.preExitedValidators,
    i.postExitedValidators,
  );

  // 5. the simulated share rate against the one the ledger computes now
  const actual = i.actualShareRate;
  const diff = actual > i.simulatedShareRate ? actual - i.simulatedShareRate : i.simulatedShareRate - actual;
  push(
    "simulated_share_rate",
    actual === 0n ? BP : (BP * diff) / actual,
    BigInt(limits.simulatedShareRateDeviationBP),
    "basis points",
    actual !== 0n && (BP * diff) / actual <= BigInt(limits.simulatedShareRateDeviationBP),
  );

  // 6. requests finalized only after the margin
  if (i.lastFinalizedRequestTimestamp !== null)
    push(
      "request_timestamp_margin",
      BigInt(i.timestamp - i.lastFinalizedRequestTimestamp),
      BigInt(limits.requestTimestampMarginSeconds),
      "seconds since the last finalized request",
      i.timestamp - i.lastFinalizedRequestTimestamp >= limits.requestTimestampMarginSeconds,
    );
  return out;
}

const BIGINT_LIMITS = new Set(["appearedEthPerDay", "exitedEthPerDay", "maxPositiveTokenRebase"]);

/**
 * Limits from JSON (ORACLE_SANITY_LIMITS): the defaults with the named ones replaced; ether
 * figures and maxPositiveTokenRebase as decimal strings. An unknown name or a bad value is named.
 */
export function parseSanityLimits(json: string, base: SanityLimits = DEFAULT_SANITY_LIMITS): SanityLimits {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    throw new ValidationError("sanity", "is not JSON");
  }
  if (typeof o !== "object" || o === null || Array.isArray(o))
    throw new ValidationError("sanity", "must be a JSON object of limits");
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(o)) {
    if (!(k in base))
      throw new ValidationError(`sanity.${k}`, `is not a limit (limits: ${Object.keys(base).join(", ")})`);
    if (BIGINT_LIMITS.has(k)) {
      if (v === null && k !== "maxPositiveTokenRebase") out[k] = null;
      else if (typeof v === "string" && /^[0-9]{1,78}$/.test(v)) out[k] = BigInt(v);
      else throw new ValidationError(`sanity.${k}`, "must be a decimal string");
    } else out[k] = v;
  }
  return checkSanityLimits(out as unknown as SanityLimits);
}
