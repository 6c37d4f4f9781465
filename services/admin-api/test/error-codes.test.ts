/**
 * Every error code in the repository, with its kind and HTTP status. Codes are found in the
 * sources (every "ERR_*" literal of packages/{*}/src and services/{*}/src) and their definitions
 * (`{ code: "ERR_*", kind: "..." }` passed to defineErrorCodes). A code used but never defined, a
 * code defined twice with two kinds, or a code whose status differs from the table below fails:
 * a new code is added here on purpose, with the status a client will see.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ERROR_KINDS, type ErrorKind, errorKind } from "@poolkeeper/core";
import { REGISTRY_ERRORS } from "@poolkeeper/registry";
import { STORE_ERRORS } from "@poolkeeper/store";
import { describe, expect, it } from "vitest";
import { API_ERRORS, STATUS_BY_KIND, statusForCode } from "../src/errors.js";

const ROOT = join(import.meta.dirname, "../../..");

const EXPECTED_STATUS: Record<string, number> = {
  ERR_ALREADY_EXITING: 409,
  ERR_API_BAD_ANSWER: 503,
  ERR_API_UNREACHABLE: 503,
  ERR_BAD_KEYSTORE: 409,
  ERR_BAD_REQUEST: 400,
  ERR_BEACON_INPUT: 400,
  ERR_BEACON_INVALID_RESPONSE: 503,
  ERR_BEACON_NOT_FINALIZED: 503,
  ERR_BEACON_PRESET: 400,
  ERR_BEACON_UNAVAILABLE: 503,
  ERR_BUFFER_INSUFFICIENT: 409,
  ERR_CLIENT_ABORTED: 400,
  ERR_CONFIG: 400,
  ERR_CONFLICT: 409,
  ERR_DAEMON_BEACON: 503,
  ERR_DAEMON_EXIT_REFUSED: 503,
  ERR_DAEMON_FOREIGN_KEY: 409,
  ERR_DAEMON_KEYMANAGER: 503,
  ERR_DATABASE_UNAVAILABLE: 503,
  ERR_DATA_DIR_IN_USE: 409,
  ERR_DEVNET: 500,
  ERR_DUPLICATE_KEYSTORE: 409,
  ERR_EXIT_REQUESTED: 409,
  ERR_EXIT_STATE: 409,
  ERR_FORBIDDEN: 403,
  ERR_FOREIGN_KEYSTORE: 409,
  ERR_FUTURE_EPOCH: 400,
  ERR_INTERNAL: 500,
  ERR_INVALID_DEPOSIT_DATA: 422,
  ERR_INVALID_SIGNATURE: 422,
  ERR_INVALID_STATE_TRANSITION: 409,
  ERR_KEYSTORE_KDF_COST: 400,
  ERR_KEYSTORE_PASSWORD: 400,
  ERR_LIMIT_BELOW_DEPOSITED: 409,
  ERR_MIGRATION_CHANGED: 500,
  ERR_MIGRATION_FAILED: 500,
  ERR_MIGRATION_NAME: 500,
  ERR_NO_CAPACITY: 409,
  ERR_NOT_ACTIVE: 422,
  ERR_NOT_FOUND: 404,
  ERR_NOT_IMPLEMENTED: 501,
  ERR_NOT_ORACLE_MEMBER: 403,
  ERR_NOT_ON_CHAIN: 409,
  ERR_ORACLE_NOT_CONFIGURED: 503,
  ERR_OUTDIR_LOCKED: 409,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_POOL_IDENTITY: 409,
  ERR_RATE_LIMITED: 429,
  ERR_REPORT_DECIDED: 409,
  ERR_FRAME_NOT_OVER: 409,
  ERR_STATE_NOT_AVAILABLE: 404,
  ERR_UNAUTHORIZED: 401,
  ERR_UNAVAILABLE: 503,
  ERR_UNKNOWN_VALIDATOR: 404,
  ERR_WITHDRAWAL_CLAIMED: 409,
  ERR_WITHDRAWAL_NOT_FINALIZED: 409,
  ERR_TIMEOUT: 408,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_UPLOAD_IN_PROGRESS: 409,
  ERR_VALIDATION: 400,
  // deposit security (packages/deposit-security)
  ERR_DEPOSIT_KEYS_NOT_CLEAN: 409,
  ERR_DEPOSIT_LOG_UNAVAILABLE: 503,
  ERR_GUARDIAN_MESSAGE_MISMATCH: 422,
  ERR_GUARDIAN_MESSAGE_STALE: 422,
  ERR_GUARDIAN_QUORUM: 422,
  ERR_GUARDIAN_REPEATED: 422,
  ERR_NOT_GUARDIAN: 403,
  ERR_PAUSE_EXPIRED: 422,
  ERR_PAUSE_REPLAYED: 409,
  // governance (packages/governance; ERR_GOVERNANCE_REQUIRED also the registry's)
  ERR_APPROVAL_REPEATED: 409,
  ERR_GOVERNANCE_NOT_CONFIGURED: 503,
  ERR_GOVERNANCE_REQUIRED: 409,
  ERR_NOT_DAO_MEMBER: 403,
  ERR_PROPOSAL_STATE: 409,
  ERR_TIMELOCK: 409,
  ERR_DEPOSITS_PAUSED: 409,
  ERR_BATCH_NOT_RELEASED: 409,
  ERR_BATCH_NOT_PENDING: 409,
  ERR_NO_GUARDIANS: 409,
  ERR_DEPOSITS_NOT_PAUSED: 409,
};

/** Node's own codes that the sources compare errors with (not ours to define). */
const NODE_CODES = new Set(["ERR_STREAM_PREMATURE_CLOSE", "ERR_HTTP_REQUEST_TIMEOUT"]);

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs)$/.test(name)) out.push(p);
    }
  };
  for (const layer of ["packages", "services"])
    for (const pkg of readdirSync(join(ROOT, layer))) {
      const src = join(ROOT, layer, pkg, "src");
      try {
        walk(src);
      } catch {
        // a package without src/
      }
    }
  return out;
}

function scan(): { used: Set<string>; defined: Map<string, Set<string>>; bare: string[] } {
  const used = new Set<string>();
  const defined = new Map<string, Set<string>>();
  const bare: string[] = [];
  for (const f of sourceFiles()) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/"(ERR_[A-Z0-9_]*[A-Z0-9])"/g)) if (!NODE_CODES.has(m[1]!)) used.add(m[1]!);
    for (const m of text.matchAll(/code:\s*"(ERR_[A-Z0-9_]+)",\s*kind:\s*"([a-z_]+)"/g)) {
      const kinds = defined.get(m[1]!) ?? new Set<string>();
      kinds.add(m[2]!);
      defined.set(m[1]!, kinds);
    }
    // A code given to an error's constructor must be a constant or an ERR_ literal.
    for (const m of text.matchAll(/new PoolkeeperError\(\s*"([^"]*)"/g))
      if (!m[1]!.startsWith("ERR_")) bare.push(`${f}: ${m[1]}`);
  }
  return { used, defined, bare };
}

describe("error codes", () => {
  const { used, defined, bare } = scan();

  it("every code used in the sources is defined once, with one kind of the known kinds", () => {
    const undefinedCodes = [...used].filter((c) => !defined.has(c));
    expect(undefinedCodes).toEqual([]);
    const twoKinds = [...defined].filter(([, k]) => k.size > 1).map(([c, k]) => `${c}: ${[...k]}`);
    expect(twoKinds).toEqual([]);
    for (const [, kinds] of defined) for (const k of kinds) expect(ERROR_KINDS).toContain(k);
    expect(bare).toEqual([]);
  });

  it("lists every code with its status (the table a client can rely on)", () => {
    const actual = Object.fromEntries(
      [...defined].map(([code, kinds]) => [code, STATUS_BY_KIND[[...kinds][0] as ErrorKind]]),
    );
    expect(actual).toEqual(EXPECTED_STATUS);
  });

  it("the HTTP layer maps a defined code by its registered kind; an unknown code is a 500", () => {
    for (const code of [
      ...Object.values(REGISTRY_ERRORS),
      ...Object.values(STORE_ERRORS),
      ...Object.values(API_ERRORS),
    ]) {
      expect(errorKind(code)).toBeDefined();
      expect(statusForCode(code)).toBe(EXPECTED_STATUS[code]);
    }
    expect(statusForCode("ERR_NOBODY_DEFINED_THIS")).toBe(500);
  });
});
