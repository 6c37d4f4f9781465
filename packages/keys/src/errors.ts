import { defineErrorCodes } from "@poolkeeper/core";

/** Error codes of the keys package, each with its kind. */
export const KEYS_ERRORS = defineErrorCodes({
  /** The keystore password does not decrypt the keystore. */
  KEYSTORE_PASSWORD: { code: "ERR_KEYSTORE_PASSWORD", kind: "invalid_input" },
  /** Another generation holds the output directory's lock. */
  OUTDIR_LOCKED: { code: "ERR_OUTDIR_LOCKED", kind: "conflict" },
  /** Two keystores for one key in the output directory. */
  DUPLICATE_KEYSTORE: { code: "ERR_DUPLICATE_KEYSTORE", kind: "conflict" },
  /** A keystore in the output directory cannot be read or is not for this mnemonic. */
  BAD_KEYSTORE: { code: "ERR_BAD_KEYSTORE", kind: "invalid_input" },
  /** A keystore in the output directory belongs to another mnemonic. */
  FOREIGN_KEYSTORE: { code: "ERR_FOREIGN_KEYSTORE", kind: "conflict" },
});
