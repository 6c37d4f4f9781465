/**
 * One base error for the whole code base. Every error carries a stable `code` (ERR_*), a message
 * that a user can act on, and optional `details` (never secrets). The HTTP layer and the CLI map
 * codes to status codes and exit codes in one place each.
 */
export type ErrorDetails = Record<string, unknown>;

export class PoolkeeperError extends Error {
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(code: string, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PoolkeeperError";
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details?: ErrorDetails } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** A setting (env variable, config file field, CLI flag) is missing or invalid. */
export class ConfigError extends PoolkeeperError {
  constructor(message: string, details?: ErrorDetails) {
    super("ERR_CONFIG", message, details);
    this.name = "ConfigError";
  }
}

/** Input from a user (file, request body, CLI argument) is invalid; `field` names what is wrong. */
export class ValidationError extends PoolkeeperError {
  constructor(field: string, reason: string, details?: ErrorDetails) {
    super("ERR_VALIDATION", `${field}: ${reason}`, { field, reason, ...details });
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
