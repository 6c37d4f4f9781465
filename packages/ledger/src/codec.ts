/**
 * The ledger's state and entries as stored (JSON with amounts as decimal strings) and back. A
 * stored value that does not decode is a broken invariant, not user input.
 */
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
  "vaultWei",
  "lockedWei",
  "unfinalizedSteth",
] as const;
const NUM_STATE_FIELDS = [
  "depositedValidators",
  "clValidators",
  "lastRequestId",
  "lastFinalizedRequestId",
  "lastReportTimestamp",
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
  for (const k of NUM_STATE_FIELDS) out[k] = s[k];
  return out;
}

export function stateFromJson(j: Json | null | undefined): LedgerState {
  if (j === null || j === undefined) return EMPTY_LEDGER;
  const s = { ...EMPTY_LEDGER } as Record<string, unknown>;
  for (const k of BIG_STATE_FIELDS) s[k] = big(j[k], `state.${k}`);
  for (const k of NUM_STATE_FIELDS) s[k] = num(j[k], `state.${k}`);
  return s as unknown as LedgerState;
}

/** The entry's payload (its kind and account are columns of their own). */
export function entryToJson(e: LedgerEntry): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === "kind" || k === "account") continue;
    out[k] = typeof v === "bigint" ? v.toString() : v;
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
    default:
      throw new Error(`ledger: unknown entry kind ${kind}`);
  }
}
