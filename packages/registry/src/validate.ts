import { DB_INTEGER_MAX, fromHex, LIMITS, parseAddress, ValidationError } from "@poolkeeper/core";
import { KEY_STATES, type KeyState, type TargetLimit } from "./types.js";

/** Largest count (and id) the database stores (integer columns). */
export const MAX_COUNT = DB_INTEGER_MAX;

export function checkActor(actor: unknown): string {
  if (typeof actor !== "string" || actor.length === 0 || actor.length > LIMITS.actorLength) {
    throw new ValidationError(
      "actor",
      `must be a string of 1 to ${LIMITS.actorLength} characters naming who acts (example: token:3)`,
    );
  }
  return actor;
}

export function checkReason(reason: unknown, field = "reason"): string | null {
  if (reason === undefined || reason === null || reason === "") return null;
  if (typeof reason !== "string" || reason.length > LIMITS.reasonLength) {
    throw new ValidationError(field, `must be a string of at most ${LIMITS.reasonLength} characters`);
  }
  return reason;
}

/**
 * Characters a name may not hold: controls (Cc), format characters (Cf: bidirectional overrides
 * and isolates such as U+202E, zero-width space and joiners, soft hyphen), lone surrogates (Cs)
 * and line/paragraph separators (Zl, Zp). They make a name print as something else.
 */
const HIDDEN_CHARACTER = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

export function checkName(name: unknown): string {
  if (typeof name !== "string")
    throw new ValidationError("name", "must be a string (example: Staking Facilities)");
  const n = name.trim();
  if (n.length === 0 || n.length > LIMITS.operatorNameLength) {
    throw new ValidationError("name", `must be 1 to ${LIMITS.operatorNameLength} printable characters`);
  }
  const hidden = HIDDEN_CHARACTER.exec(n);
  if (hidden !== null) {
    const cp = hidden[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new ValidationError(
      "name",
      `must not contain control, format (bidirectional, zero-width) or separator characters: U+${cp} at position ${hidden.index}`,
    );
  }
  return n;
}

export function checkRewardAddress(value: unknown): Uint8Array {
  const address = parseAddress(value as string, "rewardAddress");
  if (address.every((b) => b === 0)) {
    throw new ValidationError("rewardAddress", "must not be the zero address (rewards sent there are lost)");
  }
  return address;
}

export function checkCount(value: unknown, field: string, min = 0, max = MAX_COUNT): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(
      field,
      `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkId(value: unknown, field: string): number {
  return checkCount(value, field, 1);
}

export function checkTargetLimit(value: unknown): TargetLimit | null {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError("targetLimit", 'must be null or {"limit": <count>, "mode": "soft" | "hard"}');
  }
  const v = value as { limit?: unknown; mode?: unknown };
  const limit = checkCount(v.limit, "targetLimit.limit");
  if (v.mode !== "soft" && v.mode !== "hard") {
    throw new ValidationError("targetLimit.mode", `must be "soft" or "hard", got ${JSON.stringify(v.mode)}`);
  }
  return { limit, mode: v.mode };
}

export function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw new ValidationError(field, "must be true or false");
  return value;
}

export function checkPubkey(value: unknown, field = "pubkey"): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== 48) throw new ValidationError(field, `must be 48 bytes, got ${value.length}`);
    return value;
  }
  if (typeof value !== "string") throw new ValidationError(field, "must be a 48-byte hex string");
  return fromHex(value, field, 48);
}

export function checkKeyState(value: unknown, field = "state"): KeyState {
  if (typeof value !== "string" || !(KEY_STATES as readonly string[]).includes(value)) {
    throw new ValidationError(field, `must be one of ${KEY_STATES.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as KeyState;
}
