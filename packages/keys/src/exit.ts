import { verify as blstVerify, PublicKey, Signature } from "@chainsafe/blst";
import { fromHex, type Network, toHex0x, ValidationError } from "@poolkeeper/core";
import { computeSigningRoot, computeVoluntaryExitDomain, secretKeyObject } from "./signing.js";
import { VoluntaryExit } from "./ssz.js";

/**
 * Signed voluntary exits. From Deneb on (EIP-7044) an exit is signed with DOMAIN_VOLUNTARY_EXIT
 * over the CAPELLA_FORK_VERSION and the genesis_validators_root, so a message signed today stays
 * valid in every later fork. The output is exactly the body of
 * POST /eth/v1/beacon/pool/voluntary_exits.
 *
 * A signed exit is a secret here: whoever holds it can exit the validator. It is returned to the
 * caller only; nothing in this module logs it or puts it into an error message.
 */
export interface SignedVoluntaryExitJson {
  message: { epoch: string; validator_index: string };
  signature: string;
}

const UINT64_MAX = (1n << 64n) - 1n;

/** A uint64 from a bigint, a safe integer or a decimal string; errors name `field`. */
export function toUint64(value: bigint | number | string, field: string): bigint {
  let v: bigint;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new ValidationError(field, "must be a non-negative integer");
    v = BigInt(value);
  } else if (typeof value === "string" && /^\d{1,20}$/.test(value)) v = BigInt(value);
  else throw new ValidationError(field, "must be a non-negative decimal integer");
  if (v < 0n || v > UINT64_MAX) throw new ValidationError(field, "must be between 0 and 2^64-1");
  return v;
}

export interface SignVoluntaryExitParams {
  secretKey: Uint8Array;
  validatorIndex: bigint | number | string;
  epoch: bigint | number | string;
  network: Network;
}

function exitSigningRoot(epoch: bigint, validatorIndex: bigint, network: Network): Uint8Array {
  const domain = computeVoluntaryExitDomain(network.capellaForkVersion, network.genesisValidatorsRoot);
  return computeSigningRoot(VoluntaryExit.hashTreeRoot({ epoch, validatorIndex }), domain);
}

export function signVoluntaryExit(p: SignVoluntaryExitParams): SignedVoluntaryExitJson {
  const validatorIndex = toUint64(p.validatorIndex, "validatorIndex");
  const epoch = toUint64(p.epoch, "epoch");
  const sk = secretKeyObject(p.secretKey);
  const signature = sk.sign(exitSigningRoot(epoch, validatorIndex, p.network)).toBytes();
  return {
    message: { epoch: epoch.toString(), validator_index: validatorIndex.toString() },
    signature: toHex0x(signature),
  };
}

export interface ParsedSignedVoluntaryExit {
  epoch: bigint;
  validatorIndex: bigint;
  signature: Uint8Array;
}

/** Validate the Beacon API JSON of a signed exit; errors name the field, never echo the signature. */
export function parseSignedVoluntaryExit(input: unknown): ParsedSignedVoluntaryExit {
  if (input === null || typeof input !== "object") throw new ValidationError("exit", "must be a JSON object");
  const { message, signature } = input as Record<string, unknown>;
  if (message === null || typeof message !== "object") {
    throw new ValidationError("message", "must be an object with epoch and validator_index");
  }
  const m = message as Record<string, unknown>;
  const uint = (v: unknown, field: string) => {
    if (typeof v !== "string") throw new ValidationError(field, "must be a decimal string");
    return toUint64(v, field);
  };
  const epoch = uint(m.epoch, "message.epoch");
  const validatorIndex = uint(m.validator_index, "message.validator_index");
  if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{192}$/.test(signature)) {
    throw new ValidationError("signature", "must be 0x followed by 96 bytes of hex");
  }
  return { epoch, validatorIndex, signature: fromHex(signature, "signature", 96) };
}

/** True when `exit` is a well-formed exit signed by `pubkey` for `network` (EIP-7044 domain). */
export function verifyVoluntaryExit(exit: unknown, pubkey: Uint8Array, network: Network): boolean {
  const parsed = parseSignedVoluntaryExit(exit);
  let pk: PublicKey;
  let sig: Signature;
  try {
    pk = PublicKey.fromBytes(pubkey, true);
  } catch {
    throw new ValidationError("pubkey", "is not a valid BLS public key");
  }
  try {
    sig = Signature.fromBytes(parsed.signature, true);
  } catch {
    return false;
  }
  return blstVerify(exitSigningRoot(parsed.epoch, parsed.validatorIndex, network), pk, sig, false, false);
}
