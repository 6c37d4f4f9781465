/**
 * Voluntary exits: the signing domain (EIP-7044: the capella fork version from deneb on), the
 * signing root, and the checks a node makes before it pools a signed exit.
 */
import { verify as blsVerify, PublicKey, Signature } from "@chainsafe/blst";
import { DOMAIN_VOLUNTARY_EXIT } from "@lodestar/params";
import { type phase0, ssz } from "@lodestar/types";
import { PoolkeeperError } from "@poolkeeper/core";
import { FAR } from "./chain-types.js";
import { SIM_ERRORS } from "./errors.js";
import type { Registry } from "./registry.js";

/** compute_domain(domain_type, fork_version, genesis_validators_root). */
export function computeDomain(
  domainType: Uint8Array,
  forkVersion: Uint8Array,
  genesisValidatorsRoot: Uint8Array,
): Uint8Array {
  const forkDataRoot = ssz.phase0.ForkData.hashTreeRoot({
    currentVersion: forkVersion,
    genesisValidatorsRoot,
  });
  const d = new Uint8Array(32);
  d.set(domainType.subarray(0, 4), 0);
  d.set(forkDataRoot.subarray(0, 28), 4);
  return d;
}

/** Domain for voluntary exits (EIP-7044: capella fork version from deneb on). */
export function voluntaryExitDomain(
  capellaForkVersion: Uint8Array,
  genesisValidatorsRoot: Uint8Array,
): Uint8Array {
  return computeDomain(DOMAIN_VOLUNTARY_EXIT, capellaForkVersion, genesisValidatorsRoot);
}

export function voluntaryExitSigningRoot(exit: phase0.VoluntaryExit, domain: Uint8Array): Uint8Array {
  return ssz.phase0.SigningData.hashTreeRoot({
    objectRoot: ssz.phase0.VoluntaryExit.hashTreeRoot(exit),
    domain,
  });
}

/**
 * Throws the node's error for an exit the head state (epoch `cur`, `count` validators) rejects:
 * unknown or inactive validator, already exiting (on chain or in `pool`), future epoch, bad signature.
 */
export function checkVoluntaryExit(
  signed: phase0.SignedVoluntaryExit,
  reg: Registry,
  cur: number,
  count: number,
  pool: readonly phase0.SignedVoluntaryExit[],
  signingRoot: (exit: phase0.VoluntaryExit) => Uint8Array,
): void {
  const { validatorIndex: i, epoch } = signed.message;
  if (i >= count)
    throw new PoolkeeperError(SIM_ERRORS.UNKNOWN_VALIDATOR, `validator ${i} is not in the state`);
  if (!reg.isActiveAt(i, cur))
    throw new PoolkeeperError(SIM_ERRORS.NOT_ACTIVE, `validator ${i} is not active`);
  if ((reg.exitEpoch[i] ?? FAR) !== FAR || pool.some((e) => e.message.validatorIndex === i)) {
    throw new PoolkeeperError(SIM_ERRORS.ALREADY_EXITING, `validator ${i} has already initiated an exit`);
  }
  if (epoch > cur)
    throw new PoolkeeperError(
      SIM_ERRORS.FUTURE_EPOCH,
      `exit epoch ${epoch} is after the current epoch ${cur}`,
    );
  let ok = false;
  try {
    ok = blsVerify(
      signingRoot(signed.message),
      PublicKey.fromBytes(reg.pubkeyOf(i), true),
      Signature.fromBytes(signed.signature, true),
      true,
      true,
    );
  } catch {
    ok = false;
  }
  if (!ok)
    throw new PoolkeeperError(
      SIM_ERRORS.INVALID_SIGNATURE,
      `invalid voluntary exit signature for validator ${i}`,
    );
}
