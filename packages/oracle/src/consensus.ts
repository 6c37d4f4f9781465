/**
 * Hash consensus among oracle members, after Lido's HashConsensus: each member signs a vote for
 * (ref slot, consensus version, report hash) with its BLS key; a member's newest vote for a ref
 * slot counts (it may replace it before consensus); the report hash that a quorum of current
 * members vote for is the consensus. The quorum must be more than half of the members.
 */
import { createHash, randomBytes } from "node:crypto";
import { PublicKey, SecretKey, Signature, verify } from "@chainsafe/blst";
import { toHex0x, ValidationError } from "@poolkeeper/core";
import { toJsonValue } from "@poolkeeper/ledger";
import { CONSENSUS_VERSION, OperatorReportType, type ReportData, ReportDataType } from "./report-data.js";

export interface OracleMember {
  id: string;
  /** BLS public key, 0x + 96 hex. */
  publicKey: string;
}

export interface OracleVote {
  memberId: string;
  refSlot: number;
  consensusVersion: number;
  reportHash: string;
  /** BLS signature over voteMessage(…), 0x + 192 hex. */
  signature: string;
}

const HASH_RE = /^0x[0-9a-f]{64}$/;
const VOTE_DOMAIN = Buffer.from("poolkeeper/oracle/vote/v1", "utf8");

/** Members and quorum, checked: distinct ids and keys, quorum > members/2 and ≤ members. */
export function checkMembers(members: readonly OracleMember[], quorum: number): void {
  if (members.length === 0) throw new ValidationError("members", "must name at least one oracle member");
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const [i, m] of members.entries()) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(m.id))
      throw new ValidationError(`members[${i}].id`, "must be 1-64 letters, digits, . _ -");
    if (!/^0x[0-9a-f]{96}$/.test(m.publicKey))
      throw new ValidationError(
        `members[${i}].publicKey`,
        "must be a BLS public key: 0x and 96 lower-case hex digits",
      );
    if (ids.has(m.id)) throw new ValidationError(`members[${i}].id`, `${m.id} is listed twice`);
    if (keys.has(m.publicKey))
      throw new ValidationError(`members[${i}].publicKey`, "is another member's key");
    ids.add(m.id);
    keys.add(m.publicKey);
  }
  if (!Number.isSafeInteger(quorum) || quorum * 2 <= members.length || quorum > members.length)
    throw new ValidationError(
      "quorum",
      `must be more than half of the ${members.length} members and at most all of them (${Math.floor(members.length / 2) + 1} to ${members.length})`,
    );
}

/** The 32 bytes a member signs: sha256(domain ‖ refSlot u64 ‖ consensusVersion u64 ‖ report hash). */
export function voteMessage(refSlot: number, consensusVersion: number, reportHash: string): Uint8Array {
  if (!HASH_RE.test(reportHash))
    throw new ValidationError("reportHash", "must be 0x and 64 lower-case hex digits");
  const nums = Buffer.alloc(16);
  nums.writeBigUInt64LE(BigInt(refSlot), 0);
  nums.writeBigUInt64LE(BigInt(consensusVersion), 8);
  return createHash("sha256")
    .update(VOTE_DOMAIN)
    .update(nums)
    .update(Buffer.from(reportHash.slice(2), "hex"))
    .digest();
}

export function signVote(
  secretKey: Uint8Array,
  memberId: string,
  refSlot: number,
  reportHash: string,
  consensusVersion = CONSENSUS_VERSION,
): OracleVote {
  const sig = SecretKey.fromBytes(secretKey).sign(voteMessage(refSlot, consensusVersion, reportHash));
  return {
    memberId,
    refSlot,
    consensusVersion,
    reportHash,
    signature: toHex0x(sig.toBytes()),
  };
}

/** A new member signing key (32 bytes) from `ikm` (at least 32 bytes of entropy; random when absent). */
export function generateMemberKey(ikm: Uint8Array = randomBytes(32)): Uint8Array {
  return SecretKey.fromKeygen(ikm).toBytes();
}

export function publicKeyOf(secretKey: Uint8Array): string {
  return toHex0x(SecretKey.fromBytes(secretKey).toPublicKey().toBytes());
}

/** Whether `vote` is signed by `member`'s key (false for any malformed part). */
export function voteSignatureValid(vote: OracleVote, member: OracleMember): boolean {
  try {
    const msg = voteMessage(vote.refSlot, vote.consensusVersion, vote.reportHash);
    const pk = PublicKey.fromBytes(Buffer.from(member.publicKey.slice(2), "hex"), true);
    const sig = Signature.fromBytes(Buffer.from(vote.signature.replace(/^0x/, ""), "hex"), true);
    return verify(msg, pk, sig, false, false);
  } catch {
    return false;
  }
}

export interface Tally {
  refSlot: number;
  /** The hash a quorum agrees on, or null. */
  consensusHash: string | null;
  /** Member ids by the hash they vote for. */
  byHash: Map<string, string[]>;
  quorum: number;
}

/**
 * Count the newest vote of each current member for `refSlot` on `consensusVersion`; votes of
 * non-members and of other versions do not count.
 */
export function tally(
  votes: readonly OracleVote[],
  members: readonly OracleMember[],
  quorum: number,
  refSlot: number,
  consensusVersion = CONSENSUS_VERSION,
): Tally {
  const current = new Set(members.map((m) => m.id));
  const latest = new Map<string, OracleVote>();
  for (const v of votes)
    if (v.refSlot === refSlot && v.consensusVersion === consensusVersion && current.has(v.memberId))
      latest.set(v.memberId, v);
  const byHash = new Map<string, string[]>();
  for (const v of latest.values())
    byHash.set(v.reportHash, [...(byHash.get(v.reportHash) ?? []), v.memberId]);
  let consensusHash: string | null = null;
  for (const [h, ids] of byHash) if (ids.length >= quorum) consensusHash = h;
  return { refSlot, consensusHash, byHash, quorum };
}

export interface FieldDiff {
  field: string;
  agreed: string;
  member: string;
}

const show = (v: unknown): string => JSON.stringify(toJsonValue(v));

/** Field by field, where a member's report differs from the agreed one (operators by id). */
export function diffReports(agreed: ReportData, member: ReportData): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const field of Object.keys(ReportDataType.fields) as (keyof ReportData)[]) {
    if (field === "operators") continue;
    const a = show(agreed[field]);
    const b = show(member[field]);
    if (a !== b) out.push({ field, agreed: a, member: b });
  }
  const mine = new Map(member.operators.map((o) => [o.operatorId, o]));
  const ids = new Set([...agreed.operators.map((o) => o.operatorId), ...mine.keys()]);
  const theirs = new Map(agreed.operators.map((o) => [o.operatorId, o]));
  for (const id of [...ids].sort((x, y) => x - y)) {
    const a = theirs.get(id);
    const b = mine.get(id);
    for (const f of Object.keys(OperatorReportType.fields) as (keyof typeof OperatorReportType.fields)[]) {
      if (f === "operatorId") continue;
      const av = a === undefined ? "absent" : show(a[f]);
      const bv = b === undefined ? "absent" : show(b[f]);
      if (av !== bv) out.push({ field: `operators[${id}].${f}`, agreed: av, member: bv });
    }
  }
  return out;
}
