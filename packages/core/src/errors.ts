/**
 * One base error for the whole code base. Every error carries a stable `code` (ERR_*), a message
 * that a user can act on, and optional `details` (never secrets). Every code is defined once, with
 * its kind, by `defineErrorCodes` in the module that owns it; the HTTP layer maps kinds (not
 * codes) to status codes, and a test lists every code in the repository with its status.
 */
export type ErrorDetails = Record<string, unknown>;

/** What went wrong, as a caller must react to it. */
export const ERROR_KINDS = [
  /** The input (request, file, flag, setting) is invalid: fix it and retry. */
  "invalid_input",
  /** No or an unknown credential. */
  "unauthenticated",
  /** The credential may not do this. */
  "forbidden",
  /** The named thing does not exist (or the caller may not know that it does). */
  "not_found",
  /** The request conflicts with the stored state (duplicate, wrong state, lock held). */
  "conflict",
  /** Well-formed input that the rules refuse (a bad deposit signature, a hostile keystore). */
  "unprocessable",
  /** The request is larger than allowed. */
  "too_large",
  /** The body is not in a format this endpoint takes. */
  "unsupported_media_type",
  /** Too many requests: retry later. */
  "rate_limited",
  /** The request took too long to arrive. */
  "timeout",
  /** A dependency (database, beacon node, Redis) is unavailable: retry later. */
  "unavailable",
  /** Not built yet. */
  "not_implemented",
  /** A bug or a broken invariant: never the caller's fault. */
  "internal",
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

const KIND_OF_CODE = new Map<string, ErrorKind>();

/**
 * Define a module's error codes once, each with its kind: returns `{ NAME: code }` to throw
 * with. A code defined twice must keep its kind (shared codes such as ERR_NOT_FOUND).
 */
export function defineErrorCodes<const T extends Record<string, { code: `ERR_${string}`; kind: ErrorKind }>>(
  defs: T,
): { readonly [K in keyof T]: T[K]["code"] } {
  const out: Record<string, string> = {};
  for (const [name, { code, kind }] of Object.entries(defs)) {
    const known = KIND_OF_CODE.get(code);
    if (known !== undefined && known !== kind)
      throw new Error(`error code ${code} defined as ${kind}, already defined as ${known}`);
    KIND_OF_CODE.set(code, kind);
    out[name] = code;
  }
  return out as { readonly [K in keyof T]: T[K]["code"] };
}

/** The kind of a defined code; undefined for a code nobody defined (a bug: treated as internal). */
export function errorKind(code: string): ErrorKind | undefined {
  return KIND_OF_CODE.get(code);
}

/** Every defined code with its kind (for the test that lists them all, and for docs). */
export function definedErrorCodes(): ReadonlyMap<string, ErrorKind> {
  return KIND_OF_CODE;
}

export class PoolkeeperError extends Error {
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(code: string, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PoolkeeperError";
    this.code = code;
    this.details = details;
  }

  /** The code's kind (internal for a code nobody defined). */
  get kind(): ErrorKind {
    return errorKind(this.code) ?? "internal";
  }

  toJSON(): { code: string; message: string; details?: ErrorDetails } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** The codes every package uses. */
export const CORE_ERRORS = defineErrorCodes({
  /** A setting (env variable, config file field, CLI flag) is missing or invalid. */
  CONFIG: { code: "ERR_CONFIG", kind: "invalid_input" },
  /** Input from a user is invalid; details.field names what is wrong. */
  VALIDATION: { code: "ERR_VALIDATION", kind: "invalid_input" },
  /** A named thing (operator, key, batch, token) does not exist. */
  NOT_FOUND: { code: "ERR_NOT_FOUND", kind: "not_found" },
  /** The change conflicts with the stored state. */
  CONFLICT: { code: "ERR_CONFLICT", kind: "conflict" },
  /** A dependency is unavailable. */
  UNAVAILABLE: { code: "ERR_UNAVAILABLE", kind: "unavailable" },
  /** Not built yet. */
  NOT_IMPLEMENTED: { code: "ERR_NOT_IMPLEMENTED", kind: "not_implemented" },
  /** Anything unexpected. */
  INTERNAL: { code: "ERR_INTERNAL", kind: "internal" },
});

/** A setting (env variable, config file field, CLI flag) is missing or invalid. */
export class ConfigError extends PoolkeeperError {
  constructor(message: string, details?: ErrorDetails) {
    super(CORE_ERRORS.CONFIG, message, details);
    this.name = "ConfigError";
  }
}

/** Input from a user (file, request body, CLI argument) is invalid; `field` names what is wrong. */
export class ValidationError extends PoolkeeperError {
  constructor(field: string, reason: string, details?: ErrorDetails) {
    super(CORE_ERRORS.VALIDATION, `${field}: ${reason}`, { field, reason, ...details });
    this.name = "ValidationError";
  }
}

export function isPoolkeeperError(e: unknown): e is PoolkeeperError {
  return e instanceof PoolkeeperError;
}

/** A message that is safe to show: our own errors keep theirs, anything else is summarised. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
