import { defineErrorCodes, type ErrorDetails, type ErrorKind, PoolkeeperError } from "@poolkeeper/core";

/**
 * Error codes of the keys package, defined here only, each with its kind (registered with core's
 * defineErrorCodes, so the HTTP layer and every other caller know the kind). A bad value in one
 * field (a flag, an option, a keystore field) is core's ValidationError (ERR_VALIDATION, invalid
 * input) naming the field; the codes below are the failures that need a code of their own.
 * Messages and details never hold a secret (password, mnemonic, key).
 */
export interface KeysErrorDef {
  code: `ERR_${string}`;
  kind: ErrorKind;
}

export const KEYS_ERRORS = {
  /** The password does not open the keystore (the checksum does not match). */
  KEYSTORE_PASSWORD: { code: "ERR_KEYSTORE_PASSWORD", kind: "invalid_input" },
  /**
   * A keystore's KDF parameters ask for more memory or work than the caps (keystore.ts,
   * KDF_CAPS); refused before any KDF work. details: field, parameter, value, cap.
   */
  KEYSTORE_KDF_COST: { code: "ERR_KEYSTORE_KDF_COST", kind: "invalid_input" },
  /** Another key generation (a live process) holds the output directory's lock. */
  OUTDIR_LOCKED: { code: "ERR_OUTDIR_LOCKED", kind: "conflict" },
  /** The output directory holds two keystores for one index. */
  DUPLICATE_KEYSTORE: { code: "ERR_DUPLICATE_KEYSTORE", kind: "conflict" },
  /** A keystore file in the output directory is unreadable or not the keystore of its index. */
  BAD_KEYSTORE: { code: "ERR_BAD_KEYSTORE", kind: "conflict" },
  /** A keystore in the output directory holds another key than this mnemonic's for its index. */
  FOREIGN_KEYSTORE: { code: "ERR_FOREIGN_KEYSTORE", kind: "conflict" },
} as const satisfies Record<string, KeysErrorDef>;

/** The codes by name (and their kinds registered for everyone). */
export const KEYS_ERROR_CODES = defineErrorCodes(KEYS_ERRORS);

export type KeysErrorCode = (typeof KEYS_ERRORS)[keyof typeof KEYS_ERRORS]["code"];

/** An error with one of the codes above; `kind` (from PoolkeeperError) says what sort of failure it is. */
export class KeysError extends PoolkeeperError {
  constructor(def: KeysErrorDef, message: string, details?: ErrorDetails) {
    super(def.code, message, details);
    this.name = "KeysError";
  }
}

export class KeystorePasswordError extends KeysError {
  constructor(field = "password") {
    super(KEYS_ERRORS.KEYSTORE_PASSWORD, `${field}: keystore password is wrong`, { field });
    this.name = "KeystorePasswordError";
  }
}
