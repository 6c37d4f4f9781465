/**
 * Guardian messages, after Lido's DepositSecurityModule: a deposit batch is released only with
 * BLS signatures of a quorum of guardians over the batch (its id and the SSZ root of its keys) and
 * the chain view they checked it at (a block root and its slot); any one guardian can pause
 * deposits with a signed message that carries the slot it was made at. Pure functions with every
 * input explicit (current slot, age limits, the last unpause): the registry and the guardian
 * service hold the state.
 *
 * Signing: each message is an SSZ container; the guardian signs its signing root
 * (compute_signing_root: hash_tree_root(SigningData{object root, domain})) with a domain per kind
 * of message (sha256 of "poolkeeper/guardian/deposit/v1" or ".../pause/v1"), so a signature of one
 * kind is never one of the other. Guardian keys are per pool deployment (as oracle members' keys).
 *
 * One message for the whole quorum (as Lido: every guardian over the same deposit root and block):
 * the signers vouch for one view of the chain, which the registry can compare with its own (the
 * block on its canonical chain, recent enough). Signatures each fresh but over different blocks
 * would let a quorum be assembled from views that never coexisted (one guardian's check before a
 * front-running deposit landed, another's after it on a fork), and would leave no single block
 * to compare; guardians that disagree on the block simply sign again at the next one.
 */
import { createHash, randomBytes } from "node:crypto";
import { PublicKey, SecretKey, Signature, verify } from "@chainsafe/blst";
import { ByteVectorType, ContainerType, ListCompositeType, UintNumberType } from "@chainsafe/ssz";
import { fromHex, LIMITS, toHex0x, ValidationError } from "@poolkeeper/core";
import { computeSigningRoot } from "@poolkeeper/keys";
import { DEPOSIT_SECURITY_ERRORS, DepositSecurityError } from "./errors.js";

export interface Guardian {
  /** 1-64 letters, digits, . _ - */
  id: string;
  /** BLS public key, 0x + 96 lower-case hex. */
  publicKey: string;
}

/** What guardians sign to release a deposit batch. */
export interface DepositMessageFields {
  batchId: number;
  /** batchKeysRoot of the batch's pubkeys, 0x + 64 hex. */
  keysRoot: string;
  /** The block the guardian checked the keys at, 0x + 64 hex. */
  blockRoot: string;
  /** That block's slot. */
  slot: number;
}

export interface GuardianDepositSignature extends DepositMessageFields {
  guardianId: string;
  /** BLS signature over depositMessage(…), 0x + 192 hex. */
  signature: string;
}

export interface GuardianPause {
  guardianId: string;
  /** The slot the pause was made at. */
  slot: number;
  /** BLS signature over pauseMessage(slot), 0x + 192 hex. */
  signature: string;
}

const Uint64 = new UintNumberType(8);
const Bytes32 = new ByteVectorType(32);
const Bytes48 = new ByteVectorType(48);

/** A batch's pubkeys, in deposit order: List[BLSPubkey, LIMITS.allocationCount]. */
export const BatchPubkeysType = new ListCompositeType(Bytes48, LIMITS.allocationCount);

export const DepositSecurityMessageType = new ContainerType(
  { batchId: Uint64, keysRoot: Bytes32, blockRoot: Bytes32, slot: Uint64 },
  { typeName: "DepositSecurityMessage", jsonCase: "snake" },
);

export const PauseMessageType = new ContainerType(
  { slot: Uint64 },
  { typeName: "PauseMessage", jsonCase: "snake" },
);

const domain = (name: string): Uint8Array =>
  createHash("sha256").update(`poolkeeper/guardian/${name}/v1`).digest();
/** The signing domain of deposit messages. */
export const GUARDIAN_DEPOSIT_DOMAIN = domain("deposit");
/** The signing domain of pause messages. */
export const GUARDIAN_PAUSE_DOMAIN = domain("pause");

const ROOT_RE = /^0x[0-9a-f]{64}$/;
const PUBKEY_RE = /^0x[0-9a-fA-F]{96}$/;
const SIGNATURE_RE = /^0x[0-9a-f]{192}$/;
const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

function checkSlot(v: unknown, field: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0)
    throw new ValidationError(field, "must be a non-negative integer");
  return v as number;
}

function checkRoot(v: unknown, field: string): string {
  if (typeof v !== "string" || !ROOT_RE.test(v))
    throw new ValidationError(field, "must be 0x and 64 lower-case hex digits");
  return v;
}

/** hash_tree_root of the batch's pubkeys (0x + 96 hex each, in deposit order) as BatchPubkeysType. */
export function batchKeysRoot(pubkeys: readonly string[]): string {
  if (!Array.isArray(pubkeys) || pubkeys.length > LIMITS.allocationCount)
    throw new ValidationError("pubkeys", `must be a list of at most ${LIMITS.allocationCount} keys`);
  const bytes = pubkeys.map((p, i) => {
    if (typeof p !== "string" || !PUBKEY_RE.test(p))
      throw new ValidationError(`pubkeys[${i}]`, "must be 0x followed by 96 hex digits");
    return fromHex(p, `pubkeys[${i}]`, 48);
  });
  return toHex0x(BatchPubkeysType.hashTreeRoot(bytes));
}

/** The 32 bytes a guardian signs to release batch `batchId` with keys `keysRoot`, checked at block `blockRoot` of `slot`. */
export function depositMessage(
  batchId: number,
  keysRoot: string,
  blockRoot: string,
  slot: number,
): Uint8Array {
  const root = DepositSecurityMessageType.hashTreeRoot({
    batchId: checkSlot(batchId, "batchId"),
    keysRoot: fromHex(checkRoot(keysRoot, "keysRoot"), "keysRoot", 32),
    blockRoot: fromHex(checkRoot(blockRoot, "blockRoot"), "blockRoot", 32),
    slot: checkSlot(slot, "slot"),
  });
  return computeSigningRoot(root, GUARDIAN_DEPOSIT_DOMAIN);
}

/** The 32 bytes a guardian signs to pause deposits at `slot`. */
export function pauseMessage(slot: number): Uint8Array {
  return computeSigningRoot(
    PauseMessageType.hashTreeRoot({ slot: checkSlot(slot, "slot") }),
    GUARDIAN_PAUSE_DOMAIN,
  );
}

export function signDepositMessage(
  secretKey: Uint8Array,
  guardianId: string,
  m: DepositMessageFields,
): GuardianDepositSignature {
  const msg = depositMessage(m.batchId, m.keysRoot, m.blockRoot, m.slot);
  const signature = toHex0x(SecretKey.fromBytes(secretKey).sign(msg).toBytes());
  return {
    guardianId,
    batchId: m.batchId,
    keysRoot: m.keysRoot,
    blockRoot: m.blockRoot,
    slot: m.slot,
    signature,
  };
}

export function signPause(secretKey: Uint8Array, guardianId: string, slot: number): GuardianPause {
  const signature = toHex0x(SecretKey.fromBytes(secretKey).sign(pauseMessage(slot)).toBytes());
  return { guardianId, slot, signature };
}

/** A new guardian signing key (32 bytes) from `ikm` (at least 32 bytes of entropy; random when absent). */
export function generateGuardianKey(ikm: Uint8Array = randomBytes(32)): Uint8Array {
  return SecretKey.fromKeygen(ikm).toBytes();
}

export function guardianPublicKey(secretKey: Uint8Array): string {
  return toHex0x(SecretKey.fromBytes(secretKey).toPublicKey().toBytes());
}

/** Whether `signature` (0x hex) is `publicKey`'s over `msg`; false for any malformed part. */
function signatureValid(msg: Uint8Array, publicKey: string, signature: string): boolean {
  try {
    const pk = PublicKey.fromBytes(Buffer.from(publicKey.slice(2), "hex"), true);
    const sig = Signature.fromBytes(Buffer.from(signature.slice(2), "hex"), true);
    return verify(msg, pk, sig, false, false);
  } catch {
    return false;
  }
}

/**
 * The guardian set and its quorum, checked: distinct ids and keys (each a valid BLS public key),
 * the quorum more than half of the guardians and at most all of them. Returns the guardians by id.
 */
export function checkGuardians(guardians: readonly Guardian[], quorum: number): Map<string, Guardian> {
  if (!Array.isArray(guardians) || guardians.length === 0)
    throw new ValidationError("guardians", "must name at least one guardian");
  const byId = new Map<string, Guardian>();
  const keys = new Set<string>();
  for (const [i, g] of guardians.entries()) {
    if (typeof g?.id !== "string" || !ID_RE.test(g.id))
      throw new ValidationError(`guardians[${i}].id`, "must be 1-64 letters, digits, . _ -");
    if (typeof g.publicKey !== "string" || !/^0x[0-9a-f]{96}$/.test(g.publicKey))
      throw new ValidationError(
        `guardians[${i}].publicKey`,
        "must be a BLS public key: 0x and 96 lower-case hex digits",
      );
    try {
      PublicKey.fromBytes(Buffer.from(g.publicKey.slice(2), "hex"), true);
    } catch {
      throw new ValidationError(`guardians[${i}].publicKey`, "is not a valid BLS public key");
    }
    if (byId.has(g.id)) throw new ValidationError(`guardians[${i}].id`, `${g.id} is listed twice`);
    if (keys.has(g.publicKey))
      throw new ValidationError(`guardians[${i}].publicKey`, "is another guardian's key");
    byId.set(g.id, g);
    keys.add(g.publicKey);
  }
  const n = guardians.length;
  if (!Number.isSafeInteger(quorum) || quorum * 2 <= n || quorum > n)
    throw new ValidationError(
      "quorum",
      `must be more than half of the ${n} guardians and at most all of them (${Math.floor(n / 2) + 1} to ${n})`,
    );
  return byId;
}

function refuse(code: string, field: string, reason: string, details: Record<string, unknown> = {}): never {
  throw new DepositSecurityError(code, `${field}: ${reason}`, { field, reason, ...details });
}

/** A signed guardian message's common parts, checked for shape. */
function checkSigned(
  v: unknown,
  field: string,
  byId: ReadonlyMap<string, Guardian>,
): { guardian: Guardian; slot: number; signature: string } {
  if (v === null || typeof v !== "object") throw new ValidationError(field, "must be an object");
  const s = v as { guardianId?: unknown; slot?: unknown; signature?: unknown };
  if (typeof s.guardianId !== "string") throw new ValidationError(`${field}.guardianId`, "must be a string");
  const slot = checkSlot(s.slot, `${field}.slot`);
  if (typeof s.signature !== "string" || !SIGNATURE_RE.test(s.signature))
    throw new ValidationError(`${field}.signature`, "must be 0x and 192 lower-case hex digits");
  const guardian = byId.get(s.guardianId);
  if (guardian === undefined)
    refuse(
      DEPOSIT_SECURITY_ERRORS.NOT_GUARDIAN,
      `${field}.guardianId`,
      `${s.guardianId} is not a current guardian`,
      {
        guardianId: s.guardianId,
      },
    );
  return { guardian, slot, signature: s.signature };
}

/** A message's slot against the current slot: never after it, at most `maxAge` before it. */
function checkFresh(
  slot: number,
  currentSlot: number,
  maxAge: number,
  field: string,
  expiredCode: string,
): void {
  if (slot > currentSlot)
    refuse(
      DEPOSIT_SECURITY_ERRORS.STALE_MESSAGE,
      field,
      `slot ${slot} is after the current slot ${currentSlot}`,
      {
        slot,
        currentSlot,
      },
    );
  if (currentSlot - slot > maxAge)
    refuse(expiredCode, field, `slot ${slot} is ${currentSlot - slot} slots old, more than ${maxAge}`, {
      slot,
      currentSlot,
      maxAgeSlots: maxAge,
    });
}

export interface DepositQuorumOptions {
  currentSlot: number;
  /** Signatures over a slot more than this before the current one are stale. */
  maxAgeSlots: number;
  /** The batch being released: every signature must be over it. */
  batchId: number;
  keysRoot: string;
}

export interface DepositQuorum extends DepositMessageFields {
  /** The signers' ids, in the order given. */
  signers: string[];
}

/**
 * Whether `sigs` release the batch: at least `quorum` signatures, each by a distinct current
 * guardian, each over this batch (`batchId`, `keysRoot`) and the same block and slot as the
 * others, none stale (slot within `maxAgeSlots` before `currentSlot`, never after it), each valid.
 * Anything else refuses the whole set (the caller sends only what it means): a ValidationError
 * naming the field for malformed input, else a DepositSecurityError whose `details.field` names
 * the signature (`sigs[2].slot`): ERR_NOT_GUARDIAN, ERR_GUARDIAN_REPEATED,
 * ERR_GUARDIAN_MESSAGE_MISMATCH, ERR_GUARDIAN_MESSAGE_STALE, ERR_GUARDIAN_QUORUM,
 * ERR_INVALID_SIGNATURE.
 */
export function verifyDepositQuorum(
  sigs: readonly GuardianDepositSignature[],
  guardians: readonly Guardian[],
  quorum: number,
  opts: DepositQuorumOptions,
): DepositQuorum {
  const byId = checkGuardians(guardians, quorum);
  if (opts === null || typeof opts !== "object") throw new ValidationError("options", "must be an object");
  const currentSlot = checkSlot(opts.currentSlot, "currentSlot");
  const maxAge = checkSlot(opts.maxAgeSlots, "maxAgeSlots");
  const batchId = checkSlot(opts.batchId, "batchId");
  const keysRoot = checkRoot(opts.keysRoot, "keysRoot");
  if (!Array.isArray(sigs)) throw new ValidationError("sigs", "must be a list");

  const signed = sigs.map((v, i) => {
    const field = `sigs[${i}]`;
    const s = checkSigned(v, field, byId);
    return {
      ...s,
      field,
      batchId: checkSlot(v.batchId, `${field}.batchId`),
      keysRoot: checkRoot(v.keysRoot, `${field}.keysRoot`),
      blockRoot: checkRoot(v.blockRoot, `${field}.blockRoot`),
    };
  });
  const seen = new Set<string>();
  const first = signed[0];
  for (const s of signed) {
    const id = s.guardian.id;
    if (seen.has(id))
      refuse(DEPOSIT_SECURITY_ERRORS.REPEATED_GUARDIAN, `${s.field}.guardianId`, `${id} has signed already`, {
        guardianId: id,
      });
    seen.add(id);
    const mismatch = (name: string, got: unknown, want: unknown, of: string) =>
      refuse(
        DEPOSIT_SECURITY_ERRORS.MESSAGE_MISMATCH,
        `${s.field}.${name}`,
        `is ${got}, not ${of}'s ${want}`,
        {
          guardianId: id,
        },
      );
    if (s.batchId !== batchId) mismatch("batchId", s.batchId, batchId, "the batch");
    if (s.keysRoot !== keysRoot) mismatch("keysRoot", s.keysRoot, keysRoot, "the batch");
    if (first !== undefined && s.blockRoot !== first.blockRoot)
      mismatch("blockRoot", s.blockRoot, first.blockRoot, "the first signature");
    if (first !== undefined && s.slot !== first.slot)
      mismatch("slot", s.slot, first.slot, "the first signature");
    checkFresh(s.slot, currentSlot, maxAge, `${s.field}.slot`, DEPOSIT_SECURITY_ERRORS.STALE_MESSAGE);
  }
  if (first === undefined || signed.length < quorum)
    refuse(
      DEPOSIT_SECURITY_ERRORS.NO_QUORUM,
      "sigs",
      `${signed.length} guardian signatures, the quorum is ${quorum}`,
      {
        signatures: signed.length,
        quorum,
      },
    );
  const msg = depositMessage(batchId, keysRoot, first.blockRoot, first.slot);
  for (const s of signed)
    if (!signatureValid(msg, s.guardian.publicKey, s.signature))
      refuse(
        DEPOSIT_SECURITY_ERRORS.INVALID_SIGNATURE,
        `${s.field}.signature`,
        `is not ${s.guardian.id}'s signature of the message`,
        {
          guardianId: s.guardian.id,
        },
      );
  return {
    batchId,
    keysRoot,
    blockRoot: first.blockRoot,
    slot: first.slot,
    signers: signed.map((s) => s.guardian.id),
  };
}

export interface PauseOptions {
  currentSlot: number;
  /** A pause is valid while currentSlot − its slot ≤ this. */
  pauseExpirySlots: number;
  /** The slot of the last unpause (null: never unpaused): only pauses made after it are valid. */
  lastUnpauseSlot: number | null;
}

export interface VerifiedPause {
  guardianId: string;
  slot: number;
  /** The last slot at which the pause is valid. */
  expiresAtSlot: number;
}

/**
 * Whether one guardian's pause stops deposits now: a current guardian's valid signature over
 * pauseMessage(slot), the slot not after the current one and within `pauseExpirySlots` of it, and
 * after the last unpause, so that a pause signed before an unpause cannot be replayed after it
 * (the finding in Lido's DepositSecurityModule). Refusals: ERR_NOT_GUARDIAN,
 * ERR_INVALID_SIGNATURE, ERR_GUARDIAN_MESSAGE_STALE (a slot after the current one),
 * ERR_PAUSE_REPLAYED, ERR_PAUSE_EXPIRED; malformed input a ValidationError naming the field.
 */
export function verifyPause(
  pause: GuardianPause,
  guardians: readonly Guardian[],
  opts: PauseOptions,
): VerifiedPause {
  if (!Array.isArray(guardians) || guardians.length === 0)
    throw new ValidationError("guardians", "must name at least one guardian");
  // any one guardian may pause: the quorum plays no part
  const byId = checkGuardians(guardians, guardians.length);
  if (opts === null || typeof opts !== "object") throw new ValidationError("options", "must be an object");
  const currentSlot = checkSlot(opts.currentSlot, "currentSlot");
  const expiry = checkSlot(opts.pauseExpirySlots, "pauseExpirySlots");
  const unpause = opts.lastUnpauseSlot === null ? null : checkSlot(opts.lastUnpauseSlot, "lastUnpauseSlot");
  const { guardian, slot, signature } = checkSigned(pause, "pause", byId);
  if (!signatureValid(pauseMessage(slot), guardian.publicKey, signature))
    refuse(
      DEPOSIT_SECURITY_ERRORS.INVALID_SIGNATURE,
      "pause.signature",
      `is not ${guardian.id}'s signature of a pause at slot ${slot}`,
      {
        guardianId: guardian.id,
      },
    );
  if (unpause !== null && slot <= unpause)
    refuse(
      DEPOSIT_SECURITY_ERRORS.PAUSE_REPLAYED,
      "pause.slot",
      `slot ${slot} is not after the last unpause at slot ${unpause}: a pause from before the unpause cannot be replayed`,
      { guardianId: guardian.id, slot, lastUnpauseSlot: unpause },
    );
  checkFresh(slot, currentSlot, expiry, "pause.slot", DEPOSIT_SECURITY_ERRORS.PAUSE_EXPIRED);
  return { guardianId: guardian.id, slot, expiresAtSlot: slot + expiry };
}

// ---------------------------------------------------------------- one guardian's messages

/**
 * One guardian's release signature, checked alone (the registry collects them until a quorum
 * signs the same block and slot, then checks the set with verifyDepositQuorum): a current
 * guardian, over this batch, fresh, valid. Refusals as verifyDepositQuorum's.
 */
export function verifyDepositSignature(
  sig: GuardianDepositSignature,
  guardians: readonly Guardian[],
  opts: DepositQuorumOptions,
  field = "signature",
): GuardianDepositSignature {
  const byId = checkGuardians(guardians, guardians.length);
  const { guardian, slot, signature } = checkSigned(sig, field, byId);
  const batchId = checkSlot(sig.batchId, `${field}.batchId`);
  const keysRoot = checkRoot(sig.keysRoot, `${field}.keysRoot`);
  const blockRoot = checkRoot(sig.blockRoot, `${field}.blockRoot`);
  if (batchId !== opts.batchId)
    refuse(
      DEPOSIT_SECURITY_ERRORS.MESSAGE_MISMATCH,
      `${field}.batchId`,
      `is ${batchId}, not ${opts.batchId}`,
      {
        guardianId: guardian.id,
      },
    );
  if (keysRoot !== opts.keysRoot)
    refuse(
      DEPOSIT_SECURITY_ERRORS.MESSAGE_MISMATCH,
      `${field}.keysRoot`,
      `is not the root of batch ${batchId}'s keys`,
      { guardianId: guardian.id },
    );
  checkFresh(
    slot,
    opts.currentSlot,
    opts.maxAgeSlots,
    `${field}.slot`,
    DEPOSIT_SECURITY_ERRORS.STALE_MESSAGE,
  );
  if (!signatureValid(depositMessage(batchId, keysRoot, blockRoot, slot), guardian.publicKey, signature))
    refuse(
      DEPOSIT_SECURITY_ERRORS.INVALID_SIGNATURE,
      `${field}.signature`,
      `is not ${guardian.id}'s signature of the message`,
      { guardianId: guardian.id },
    );
  return { guardianId: guardian.id, batchId, keysRoot, blockRoot, slot, signature };
}

/** A guardian's refusal of a batch: the keys it found front-run, their evidence bound by `evidenceRoot`. */
export interface GuardianRefusal {
  guardianId: string;
  batchId: number;
  keysRoot: string;
  /** guardianEvidenceRoot(findings), 0x + 64 hex. */
  evidenceRoot: string;
  slot: number;
  signature: string;
}

export const RefusalMessageType = new ContainerType(
  { batchId: Uint64, keysRoot: Bytes32, evidenceRoot: Bytes32, slot: Uint64 },
  { typeName: "RefusalMessage", jsonCase: "snake" },
);
export const HeartbeatMessageType = new ContainerType(
  { slot: Uint64, blockRoot: Bytes32 },
  { typeName: "HeartbeatMessage", jsonCase: "snake" },
);
/** The signing domain of refusals. */
export const GUARDIAN_REFUSE_DOMAIN = domain("refuse");
/** The signing domain of heartbeats (a guardian's "still watching, at this head"). */
export const GUARDIAN_HEARTBEAT_DOMAIN = domain("heartbeat");

/** sha256 of the findings' JSON with object keys sorted and bigints as decimal strings. */
export function guardianEvidenceRoot(findings: unknown): string {
  const text = JSON.stringify(findings, (_k, x: unknown) => {
    if (typeof x === "bigint") return x.toString();
    if (x !== null && typeof x === "object" && !Array.isArray(x))
      return Object.fromEntries(
        Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    return x;
  });
  return `0x${createHash("sha256").update(text).digest("hex")}`;
}

export function refusalMessage(
  batchId: number,
  keysRoot: string,
  evidenceRoot: string,
  slot: number,
): Uint8Array {
  return computeSigningRoot(
    RefusalMessageType.hashTreeRoot({
      batchId: checkSlot(batchId, "batchId"),
      keysRoot: fromHex(checkRoot(keysRoot, "keysRoot"), "keysRoot", 32),
      evidenceRoot: fromHex(checkRoot(evidenceRoot, "evidenceRoot"), "evidenceRoot", 32),
      slot: checkSlot(slot, "slot"),
    }),
    GUARDIAN_REFUSE_DOMAIN,
  );
}

export function heartbeatMessage(slot: number, blockRoot: string): Uint8Array {
  return computeSigningRoot(
    HeartbeatMessageType.hashTreeRoot({
      slot: checkSlot(slot, "slot"),
      blockRoot: fromHex(checkRoot(blockRoot, "blockRoot"), "blockRoot", 32),
    }),
    GUARDIAN_HEARTBEAT_DOMAIN,
  );
}

export function signRefusal(
  secretKey: Uint8Array,
  guardianId: string,
  m: Omit<GuardianRefusal, "guardianId" | "signature">,
): GuardianRefusal {
  const msg = refusalMessage(m.batchId, m.keysRoot, m.evidenceRoot, m.slot);
  return { guardianId, ...m, signature: toHex0x(SecretKey.fromBytes(secretKey).sign(msg).toBytes()) };
}

export interface GuardianHeartbeat {
  guardianId: string;
  slot: number;
  blockRoot: string;
  signature: string;
}

export function signHeartbeat(
  secretKey: Uint8Array,
  guardianId: string,
  slot: number,
  blockRoot: string,
): GuardianHeartbeat {
  const msg = heartbeatMessage(slot, blockRoot);
  return {
    guardianId,
    slot,
    blockRoot,
    signature: toHex0x(SecretKey.fromBytes(secretKey).sign(msg).toBytes()),
  };
}

/** A refusal of batch `batchId` (its `keysRoot`): a current guardian's valid, fresh signature. */
export function verifyRefusal(
  r: GuardianRefusal,
  guardians: readonly Guardian[],
  opts: DepositQuorumOptions,
): GuardianRefusal {
  const byId = checkGuardians(guardians, guardians.length);
  const { guardian, slot, signature } = checkSigned(r, "refusal", byId);
  const batchId = checkSlot(r.batchId, "refusal.batchId");
  const keysRoot = checkRoot(r.keysRoot, "refusal.keysRoot");
  const evidenceRoot = checkRoot(r.evidenceRoot, "refusal.evidenceRoot");
  if (batchId !== opts.batchId || keysRoot !== opts.keysRoot)
    refuse(DEPOSIT_SECURITY_ERRORS.MESSAGE_MISMATCH, "refusal.keysRoot", `is not batch ${opts.batchId}'s`, {
      guardianId: guardian.id,
    });
  checkFresh(slot, opts.currentSlot, opts.maxAgeSlots, "refusal.slot", DEPOSIT_SECURITY_ERRORS.STALE_MESSAGE);
  if (!signatureValid(refusalMessage(batchId, keysRoot, evidenceRoot, slot), guardian.publicKey, signature))
    refuse(
      DEPOSIT_SECURITY_ERRORS.INVALID_SIGNATURE,
      "refusal.signature",
      `is not ${guardian.id}'s signature`,
      {
        guardianId: guardian.id,
      },
    );
  return { guardianId: guardian.id, batchId, keysRoot, evidenceRoot, slot, signature };
}

/** A heartbeat: a current guardian's valid signature, its slot fresh (within `maxAgeSlots`). */
export function verifyHeartbeat(
  h: GuardianHeartbeat,
  guardians: readonly Guardian[],
  opts: { currentSlot: number; maxAgeSlots: number },
): GuardianHeartbeat {
  const byId = checkGuardians(guardians, guardians.length);
  const { guardian, slot, signature } = checkSigned(h, "heartbeat", byId);
  const blockRoot = checkRoot(h.blockRoot, "heartbeat.blockRoot");
  checkFresh(
    slot,
    opts.currentSlot,
    opts.maxAgeSlots,
    "heartbeat.slot",
    DEPOSIT_SECURITY_ERRORS.STALE_MESSAGE,
  );
  if (!signatureValid(heartbeatMessage(slot, blockRoot), guardian.publicKey, signature))
    refuse(
      DEPOSIT_SECURITY_ERRORS.INVALID_SIGNATURE,
      "heartbeat.signature",
      `is not ${guardian.id}'s signature`,
      {
        guardianId: guardian.id,
      },
    );
  return { guardianId: guardian.id, slot, blockRoot, signature };
}
