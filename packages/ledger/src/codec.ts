/**
 * The ledger's state and entries as stored (JSON with amounts as decimal strings) and back. A
 * stored value that does not decode is a broken invariant, not user input.
 */
import type { ReportInput, ReportOutcome } from "./report.js";
import { EMPTY_LEDGER, type LedgerEntry, type LedgerState } from "./rules.js";

type Json = Record<string, unknown>;

const BIG_STATE_FIELDS = [
  "totalShares",
  "queueShares",
  "bufferedWei",
  "depositedWei",
  "clDepositedWei",
  "clBalanceWei",
  "clPendingWei",
  "burnerShares",
  "lockedWei",
  "unfinalizedSteth",
] as const;
/** Fields added after the first stored rows: 0 when a stored state has none. */
const BIG_STATE_FIELDS_SINCE = ["withdrawalsCollectedWei", "elRewardsCollectedWei"] as const;
const NUM_STATE_FIELDS = [
  "depositedValidators",
  "clValidators",
  "lastRequestId",
  "lastFinalizedRequestId",
  "lastReportTimestamp",
  "lastRefSlot",
] as const;

function big(v: unknown, what: string): bigint {
  if (typeof v !== "string" || !/^-?\d+$/.test(v)) throw new Error(`ledger: ${what} is not a stored amount`);
  return BigInt(v);
}

function num(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    throw new Error(`ledger: ${what} is not a stored integer`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new Error(`ledger: ${what} is not a stored string`);
  return v;
}

export function stateToJson(s: LedgerState): Json {
  const out: Json = {};
  for (const k of BIG_STATE_FIELDS) out[k] = s[k].toString();
  for (const k of BIG_STATE_FIELDS_SINCE) out[k] = s[k].toString();
  for (const k of NUM_STATE_FIELDS) out[k] = s[k];
  return out;
}

export function stateFromJson(j: Json | null | undefined): LedgerState {
  if (j === null || j === undefined) return EMPTY_LEDGER;
  const s = { ...EMPTY_LEDGER } as Record<string, unknown>;
  for (const k of BIG_STATE_FIELDS) s[k] = big(j[k], `state.${k}`);
  for (const k of BIG_STATE_FIELDS_SINCE) s[k] = j[k] === undefined ? 0n : big(j[k], `state.${k}`);
  for (const k of NUM_STATE_FIELDS) s[k] = num(j[k], `state.${k}`);
  return s as unknown as LedgerState;
}

/** The entry's payload (its kind and account are columns of their own). */
export function entryToJson(e: LedgerEntry): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === "kind" || k === "account") continue;
    out[k] = toJsonValue(v);
  }
  return out;
}

export function entryAccount(e: LedgerEntry): string | null {
  return "account" in e ? e.account : null;
}

export function entryFromJson(kind: string, account: string | null, d: Json): LedgerEntry {
  const acct = () => str(account, `${kind}.account`);
  switch (kind) {
    case "submit":
      return { kind, account: acct(), wei: big(d.wei, "submit.wei"), shares: big(d.shares, "submit.shares") };
    case "deposit":
      return {
        kind,
        batchId: str(d.batchId, "deposit.batchId"),
        validators: num(d.validators, "deposit.validators"),
        wei: big(d.wei, "deposit.wei"),
      };
    case "deposit_refund":
      return {
        kind,
        batchId: str(d.batchId, "deposit_refund.batchId"),
        validators: num(d.validators, "deposit_refund.validators"),
        wei: big(d.wei, "deposit_refund.wei"),
      };
    case "withdrawal_request":
      return {
        kind,
        requestId: num(d.requestId, "withdrawal_request.requestId"),
        account: acct(),
        steth: big(d.steth, "withdrawal_request.steth"),
        shares: big(d.shares, "withdrawal_request.shares"),
        timestamp: num(d.timestamp, "withdrawal_request.timestamp"),
      };
    case "withdrawal_finalize": {
      if (!Array.isArray(d.batches))
        throw new Error("ledger: withdrawal_finalize.batches is not a stored list");
      return {
        kind,
        firstRequestId: num(d.firstRequestId, "withdrawal_finalize.firstRequestId"),
        lastRequestId: num(d.lastRequestId, "withdrawal_finalize.lastRequestId"),
        maxTimestamp: num(d.maxTimestamp, "withdrawal_finalize.maxTimestamp"),
        maxShareRate: big(d.maxShareRate, "withdrawal_finalize.maxShareRate"),
        wei: big(d.wei, "withdrawal_finalize.wei"),
        shares: big(d.shares, "withdrawal_finalize.shares"),
        batches: d.batches.map((b, i) => num(b, `withdrawal_finalize.batches[${i}]`)),
      };
    }
    case "withdrawal_claim":
      return {
        kind,
        requestId: num(d.requestId, "withdrawal_claim.requestId"),
        account: acct(),
        wei: big(d.wei, "withdrawal_claim.wei"),
      };
    case "report":
      return reportEntryFromStored(d);
    default:
      throw new Error(`ledger: unknown entry kind ${kind}`);
  }
}

// ---------------------------------------------------------------- reports

const OUTCOME_BIG_FIELDS = [
  "principalClBalanceWei",
  "withdrawalsWei",
  "elRewardsWei",
  "etherToFinalizeWei",
  "sharesToFinalize",
  "sharesBurnt",
  "rewardsWei",
  "feeWei",
  "sharesToMintAsFees",
  "sharesNotMinted",
  "postTotalPooledEther",
  "postTotalShares",
  "preShareRate",
  "postShareRate",
] as const;

/** JSON of any ledger value: bigints as decimal strings. */
export function toJsonValue(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`ledger: ${what} is not a stored list`);
  return v;
}

function obj(v: unknown, what: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error(`ledger: ${what} is not a stored object`);
  return v as Json;
}

function reportInputFromStored(j: Json): ReportInput {
  return {
    refSlot: num(j.refSlot, "report.refSlot"),
    timestamp: num(j.timestamp, "report.timestamp"),
    timeElapsed: num(j.timeElapsed, "report.timeElapsed"),
    clValidators: num(j.clValidators, "report.clValidators"),
    clDepositedWei: big(j.clDepositedWei, "report.clDepositedWei"),
    clBalanceWei: big(j.clBalanceWei, "report.clBalanceWei"),
    clPendingWei: big(j.clPendingWei, "report.clPendingWei"),
    withdrawalVaultWei: big(j.withdrawalVaultWei, "report.withdrawalVaultWei"),
    elRewardsVaultWei: big(j.elRewardsVaultWei, "report.elRewardsVaultWei"),
    finalizationBatches: arr(j.finalizationBatches, "report.finalizationBatches").map((b, i) =>
      num(b, `report.finalizationBatches[${i}]`),
    ),
    simulatedShareRate: big(j.simulatedShareRate, "report.simulatedShareRate"),
    operators: arr(j.operators, "report.operators").map((o, i) => {
      const x = obj(o, `report.operators[${i}]`);
      return {
        operatorId: str(x.operatorId, "operatorId"),
        rewardAddress: str(x.rewardAddress, "rewardAddress"),
        activeValidators: num(x.activeValidators, "activeValidators"),
        rewardedValidators: num(x.rewardedValidators, "rewardedValidators"),
      };
    }),
  };
}

function reportOutcomeFromStored(j: Json): ReportOutcome {
  const out: Record<string, unknown> = {};
  for (const k of OUTCOME_BIG_FIELDS) out[k] = big(j[k], `report.outcome.${k}`);
  out.mints = arr(j.mints, "report.outcome.mints").map((m) => {
    const x = obj(m, "report.outcome.mints[]");
    return {
      account: str(x.account, "mint.account"),
      shares: big(x.shares, "mint.shares"),
      operatorId: x.operatorId === null ? null : str(x.operatorId, "mint.operatorId"),
    };
  });
  return out as unknown as ReportOutcome;
}

export function reportEntryFromStored(d: Json): Extract<LedgerEntry, { kind: "report" }> {
  const f = obj(d.fees, "report.fees");
  return {
    kind: "report",
    input: reportInputFromStored(obj(d.input, "report.input")),
    fees: {
      totalFeeBP: num(f.totalFeeBP, "fees.totalFeeBP"),
      operatorsFeeBP: num(f.operatorsFeeBP, "fees.operatorsFeeBP"),
      treasury: str(f.treasury, "fees.treasury"),
    },
    maxPositiveTokenRebase: big(d.maxPositiveTokenRebase, "report.maxPositiveTokenRebase"),
    outcome: reportOutcomeFromStored(obj(d.outcome, "report.outcome")),
  };
}
