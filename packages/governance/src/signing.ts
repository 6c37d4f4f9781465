/**
 * DAO signatures, in the oracle members' scheme (BLS on @chainsafe/blst over the sha256 of a
 * domain and the fields): a DAO member approves or cancels a proposal by signing
 * sha256(domain ‖ pool id ‖ proposal id u64 ‖ change hash). The domain separates governance
 * messages from oracle votes and approvals from cancellations; the pool id (the chain's genesis
 * validators root and fork version, the pool's withdrawal credentials) keeps a signature to one
 * pool; the change hash keeps it to the change the member read.
 */
import { createHash, randomBytes } from "node:crypto";
import { PublicKey, SecretKey, Signature, verify } from "@chainsafe/blst";
import { toHex0x, ValidationError } from "@poolkeeper/core";
import { canonicalJson } from "./canonical.js";

export const APPROVE_DOMAIN = "poolkeeper/governance/approve/v1";
export const CANCEL_DOMAIN = "poolkeeper/governance/cancel/v1";
export type SignedAction = "approve" | "cancel";

export interface Signer {
  id: string;
  /** BLS public key, 0x + 96 hex. */
  publicKey: string;
}

export interface PoolIdentityBytes {
  genesisValidatorsRoot: Uint8Array;
  genesisForkVersion: Uint8Array;
  withdrawalCredentials: Uint8Array;
}

/** The pool's id in governance messages: 0x + 64 hex. */
export function poolIdOf(p: PoolIdentityBytes): string {
  return toHex0x(
    createHash("sha256")
      .update("poolkeeper/pool/v1")
      .update(p.genesisValidatorsRoot)
      .update(p.genesisForkVersion)
      .update(p.withdrawalCredentials)
      .digest(),
  );
}

/** sha256 of the change's canonical JSON ({kind, value}): 0x + 64 hex. */
export function changeHashOf(kind: string, value: unknown): string {
  return toHex0x(createHash("sha256").update(canonicalJson({ kind, value })).digest());
}

const HASH_RE = /^0x[0-9a-f]{64}$/;

/** The 32 bytes a DAO member signs to approve (or cancel) proposal `proposalId` of change `changeHash`. */
export function governanceMessage(
  action: SignedAction,
  poolId: string,
  proposalId: number,
  changeHash: string,
): Uint8Array {
  if (!HASH_RE.test(poolId)) throw new ValidationError("poolId", "must be 0x and 64 lower-case hex digits");
  if (!HASH_RE.test(changeHash))
    throw new ValidationError("changeHash", "must be 0x and 64 lower-case hex digits");
  if (!Number.isSafeInteger(proposalId) || proposalId < 1)
    throw new ValidationError("proposalId", "must be a positive integer");
  const id = Buffer.alloc(8);
  id.writeBigUInt64LE(BigInt(proposalId));
  return createHash("sha256")
    .update(action === "approve" ? APPROVE_DOMAIN : CANCEL_DOMAIN)
    .update(Buffer.from(poolId.slice(2), "hex"))
    .update(id)
    .update(Buffer.from(changeHash.slice(2), "hex"))
    .digest();
}

export interface GovernanceSignature {
  memberId: string;
  /** BLS signature, 0x + 192 hex. */
  signature: string;
}

export function signGovernance(
  secretKey: Uint8Array,
  memberId: string,
  action: SignedAction,
  m: { poolId: string; proposalId: number; changeHash: string },
): GovernanceSignature {
  const msg = governanceMessage(action, m.poolId, m.proposalId, m.changeHash);
  return { memberId, signature: toHex0x(SecretKey.fromBytes(secretKey).sign(msg).toBytes()) };
}

/** Whether `sig` is `signer`'s over this message (false for any malformed part). */
export function governanceSignatureValid(
  sig: GovernanceSignature,
  signer: Signer,
  action: SignedAction,
  m: { poolId: string; proposalId: number; changeHash: string },
): boolean {
  try {
    const msg = governanceMessage(action, m.poolId, m.proposalId, m.changeHash);
    const pk = PublicKey.fromBytes(Buffer.from(signer.publicKey.slice(2), "hex"), true);
    const s = Signature.fromBytes(Buffer.from(sig.signature.replace(/^0x/, ""), "hex"), true);
    return verify(msg, pk, s, false, false);
  } catch {
    return false;
  }
}

/** A new DAO key (32 bytes) from `ikm` (at least 32 bytes of entropy; random when absent). */
export function generateDaoKey(ikm: Uint8Array = randomBytes(32)): Uint8Array {
  return SecretKey.fromKeygen(ikm).toBytes();
}

export function daoPublicKeyOf(secretKey: Uint8Array): string {
  return toHex0x(SecretKey.fromBytes(secretKey).toPublicKey().toBytes());
}

/**
 * A set of signers and its quorum, checked (the DAO, the guardians): distinct ids and keys, each
 * key a BLS public key, quorum more than half and at most all. `field` names the list in errors.
 */
export function checkSigners(signers: readonly Signer[], quorum: number, field: string): void {
  if (signers.length === 0) throw new ValidationError(field, "must name at least one member");
  const seen = new Map<string, number>();
  for (const [i, s] of signers.entries()) {
    if (typeof s !== "object" || s === null)
      throw new ValidationError(`${field}[${i}]`, "must be {id, publicKey}");
    if (typeof s.id !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(s.id))
      throw new ValidationError(`${field}[${i}].id`, "must be 1-64 letters, digits, . _ -");
    if (typeof s.publicKey !== "string" || !/^0x[0-9a-f]{96}$/.test(s.publicKey))
      throw new ValidationError(
        `${field}[${i}].publicKey`,
        "must be a BLS public key: 0x and 96 lower-case hex digits",
      );
    for (const k of [`id:${s.id}`, `key:${s.publicKey}`]) {
      if (seen.has(k))
        throw new ValidationError(`${field}[${i}]`, `repeats ${field}[${seen.get(k)}]'s ${k.split(":")[0]}`);
      seen.set(k, i);
    }
  }
  if (!Number.isSafeInteger(quorum) || quorum * 2 <= signers.length || quorum > signers.length)
    throw new ValidationError(
      "quorum",
      `must be more than half of the ${signers.length} members and at most all of them (${Math.floor(signers.length / 2) + 1} to ${signers.length})`,
    );
}
