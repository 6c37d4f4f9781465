/**
 * The execution layer's deposit log as the front-run check needs it: every deposit made to the
 * deposit contract, with the slot of the beacon block that carried it to the consensus layer (an
 * EIP-6110 deposit request; null while none has). The check reads only deposits the head state
 * cannot hold yet. `DepositLogSource` is the port; `simDepositLog` implements it over beacon-sim's
 * execution side (`GET /poolkeeper/v1/execution/deposit_requests?from_slot=`). A mainnet adapter
 * (the deposit contract's DepositEvent logs, each block's timestamp turned into a slot) implements
 * the same interface.
 */
import { ValidationError } from "@poolkeeper/core";
import { DEPOSIT_SECURITY_ERRORS, DepositSecurityError } from "./errors.js";

export interface ElDeposit {
  /** 0x + 96 hex, lower case. */
  pubkey: string;
  /** 0x + 64 hex, lower case. */
  withdrawalCredentials: string;
  amountGwei: bigint;
  /** 0x + 192 hex, lower case. */
  signature: string;
  /** The deposit contract's index of the deposit; null while no block carries it. */
  index: number | null;
  /** Slot of the beacon block that carried the deposit; null while none has. */
  slot: number | null;
}

export interface DepositLogSource {
  /**
   * Deposits carried by blocks at `fromSlot` or later, then those no block carries yet, in deposit
   * order. Throws when the log cannot be read (the check fails rather than pass without it):
   * ERR_DEPOSIT_LOG_UNAVAILABLE.
   */
  depositsFrom(fromSlot: number): Promise<ElDeposit[]>;
}

/** The sim's route (its path is beacon-sim's EXECUTION_ROUTES.depositRequests). */
export const SIM_DEPOSIT_LOG_PATH = "/poolkeeper/v1/execution/deposit_requests";

const HEX = (bytes: number) => new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`);
const PUBKEY_RE = HEX(48);
const WC_RE = HEX(32);
const SIGNATURE_RE = HEX(96);
const UINT_RE = /^(0|[1-9][0-9]{0,19})$/;

/** A deposit log answer that cannot be used: the field and the reason. */
export function badLog(field: string, reason: string): DepositSecurityError {
  return new DepositSecurityError(
    DEPOSIT_SECURITY_ERRORS.DEPOSIT_LOG_UNAVAILABLE,
    `execution deposit log: ${field}: ${reason}`,
    { field, reason },
  );
}

function optionalUint(v: unknown, field: string): number | null {
  if (v === null) return null;
  if (typeof v !== "string" || !UINT_RE.test(v) || !Number.isSafeInteger(Number(v)))
    throw badLog(field, "must be null or a decimal string");
  return Number(v);
}

/** One entry of the sim's answer, checked; errors (ERR_DEPOSIT_LOG_UNAVAILABLE) name the entry and field. */
export function parseSimDeposit(item: unknown, where: string): ElDeposit {
  if (item === null || typeof item !== "object") throw badLog(where, "must be an object");
  const e = item as Record<string, unknown>;
  const hexField = (name: string, re: RegExp): string => {
    const v = e[name];
    if (typeof v !== "string" || !re.test(v.toLowerCase()))
      throw badLog(`${where}.${name}`, "must be 0x-prefixed hex of the right length");
    return v.toLowerCase();
  };
  const amount = e.amount;
  if (typeof amount !== "string" || !UINT_RE.test(amount))
    throw badLog(`${where}.amount`, "must be a decimal string of gwei");
  const index = optionalUint(e.index, `${where}.index`);
  const slot = optionalUint(e.slot, `${where}.slot`);
  if ((index === null) !== (slot === null))
    throw badLog(`${where}.slot`, "must be null exactly when index is null");
  return {
    pubkey: hexField("pubkey", PUBKEY_RE),
    withdrawalCredentials: hexField("withdrawal_credentials", WC_RE),
    amountGwei: BigInt(amount),
    signature: hexField("signature", SIGNATURE_RE),
    index,
    slot,
  };
}

/** The bytes of a source's deposit (any DepositLogSource), checked: ERR_DEPOSIT_LOG_UNAVAILABLE naming the field otherwise. */
export function depositBytes(
  e: ElDeposit,
  where: string,
): { pubkey: Uint8Array; credentials: Uint8Array; signature: Uint8Array } {
  const bytes = (v: unknown, name: string, re: RegExp): Uint8Array => {
    if (typeof v !== "string" || !re.test(v.toLowerCase()))
      throw badLog(`${where}.${name}`, "must be 0x-prefixed hex of the right length");
    return Buffer.from(v.slice(2), "hex");
  };
  if (e === null || typeof e !== "object") throw badLog(where, "must be an object");
  if (typeof e.amountGwei !== "bigint" || e.amountGwei < 0n)
    throw badLog(`${where}.amountGwei`, "must be a non-negative bigint");
  if (e.slot !== null && (!Number.isSafeInteger(e.slot) || e.slot < 0))
    throw badLog(`${where}.slot`, "must be null or a non-negative integer");
  return {
    pubkey: bytes(e.pubkey, "pubkey", PUBKEY_RE),
    credentials: bytes(e.withdrawalCredentials, "withdrawalCredentials", WC_RE),
    signature: bytes(e.signature, "signature", SIGNATURE_RE),
  };
}

/** The deposit log of a beacon-sim (its execution side) at `baseUrl`. */
export function simDepositLog(baseUrl: string, opts: { timeoutMs?: number } = {}): DepositLogSource {
  const base = baseUrl.endsWith("/") ? baseUrl.slice(0, -1) : baseUrl;
  return {
    async depositsFrom(fromSlot: number): Promise<ElDeposit[]> {
      if (!Number.isSafeInteger(fromSlot) || fromSlot < 0)
        throw new ValidationError("fromSlot", "must be a non-negative integer");
      let json: { data?: unknown };
      try {
        const res = await fetch(`${base}${SIM_DEPOSIT_LOG_PATH}?from_slot=${fromSlot}`, {
          headers: { accept: "application/json" },
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        if (!res.ok) {
          await res.body?.cancel();
          throw new Error(`HTTP ${res.status}`);
        }
        json = (await res.json()) as { data?: unknown };
      } catch (e) {
        throw badLog("request", (e as Error).message);
      }
      if (!Array.isArray(json?.data)) throw badLog("data", "must be a list of deposits");
      return json.data.map((d, i) => parseSimDeposit(d, `data[${i}]`));
    },
  };
}
