import blsNative from "@chainsafe/bls/blst-native";
import type { SecretKey } from "@chainsafe/bls/types";
import { toHex, ValidationError } from "@poolkeeper/core";
import { ForkData, SigningData } from "./ssz.js";

/**
 * Domains, signing roots and the BLS backend. BLS is @chainsafe/bls on its native blst backend,
 * imported through the `blst-native` subpath so that a missing native binding is an error at
 * start-up instead of a silent (and much slower) fall-back to the WASM backend.
 */
export const bls = blsNative;

/** "blst-native" when the native blst binding is in use (always, or importing this module fails). */
export function blsImplementation(): string {
  return bls.implementation;
}

export const DOMAIN_DEPOSIT = Uint8Array.from([0x03, 0x00, 0x00, 0x00]);
export const DOMAIN_VOLUNTARY_EXIT = Uint8Array.from([0x04, 0x00, 0x00, 0x00]);
export const ZERO_ROOT = new Uint8Array(32);

function checkLength(value: Uint8Array, bytes: number, field: string): void {
  if (!(value instanceof Uint8Array) || value.length !== bytes) {
    throw new ValidationError(field, `must be ${bytes} bytes`);
  }
}

/** compute_fork_data_root(current_version, genesis_validators_root). */
export function computeForkDataRoot(
  currentVersion: Uint8Array,
  genesisValidatorsRoot: Uint8Array,
): Uint8Array {
  checkLength(currentVersion, 4, "fork_version");
  checkLength(genesisValidatorsRoot, 32, "genesis_validators_root");
  return ForkData.hashTreeRoot({ currentVersion, genesisValidatorsRoot });
}

/** compute_domain(domain_type, fork_version, genesis_validators_root). */
export function computeDomain(
  domainType: Uint8Array,
  forkVersion: Uint8Array,
  genesisValidatorsRoot: Uint8Array,
): Uint8Array {
  checkLength(domainType, 4, "domain_type");
  const forkDataRoot = computeForkDataRoot(forkVersion, genesisValidatorsRoot);
  const domain = new Uint8Array(32);
  domain.set(domainType, 0);
  domain.set(forkDataRoot.subarray(0, 28), 4);
  return domain;
}

const depositDomains = new Map<string, Uint8Array>();

/**
 * compute_deposit_domain: DOMAIN_DEPOSIT over the network's GENESIS_FORK_VERSION and a zero
 * genesis_validators_root (deposits are valid across forks). Cached per fork version.
 */
export function computeDepositDomain(genesisForkVersion: Uint8Array): Uint8Array {
  checkLength(genesisForkVersion, 4, "fork_version");
  const key = toHex(genesisForkVersion);
  let domain = depositDomains.get(key);
  if (domain === undefined) {
    domain = computeDomain(DOMAIN_DEPOSIT, genesisForkVersion, ZERO_ROOT);
    depositDomains.set(key, domain);
  }
  return domain;
}

/**
 * The voluntary-exit domain from Deneb on (EIP-7044): DOMAIN_VOLUNTARY_EXIT over the
 * CAPELLA_FORK_VERSION and the network's genesis_validators_root, whatever the current fork.
 */
export function computeVoluntaryExitDomain(
  capellaForkVersion: Uint8Array,
  genesisValidatorsRoot: Uint8Array,
): Uint8Array {
  return computeDomain(DOMAIN_VOLUNTARY_EXIT, capellaForkVersion, genesisValidatorsRoot);
}

/** compute_signing_root(ssz_object_root, domain) = hash_tree_root(SigningData). */
export function computeSigningRoot(objectRoot: Uint8Array, domain: Uint8Array): Uint8Array {
  checkLength(objectRoot, 32, "object_root");
  checkLength(domain, 32, "domain");
  return SigningData.hashTreeRoot({ objectRoot, domain });
}

/** The compressed encoding of the point at infinity (G1: 48 bytes, G2: 96 bytes). */
export function isInfinityEncoding(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0xc0) return false;
  for (let i = 1; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The BLS public key of a 32-byte secret key. Errors never echo the key. */
export function pubkeyFromSecret(secretKey: Uint8Array): Uint8Array {
  return secretKeyObject(secretKey).toPublicKey().toBytes();
}

/** Sign `message` (a 32-byte signing root) with a 32-byte secret key. */
export function signRoot(secretKey: Uint8Array, signingRoot: Uint8Array): Uint8Array {
  checkLength(signingRoot, 32, "signing_root");
  return secretKeyObject(secretKey).sign(signingRoot).toBytes();
}

export function secretKeyObject(secretKey: Uint8Array): SecretKey {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new ValidationError("secretKey", "must be 32 bytes");
  }
  try {
    return bls.SecretKey.fromBytes(secretKey);
  } catch {
    // The blst message can contain nothing secret, but we do not forward it either.
    throw new ValidationError(
      "secretKey",
      "is not a valid BLS12-381 secret key (zero or not below the curve order)",
    );
  }
}
