import { createHash, randomBytes } from "node:crypto";
import { API_ROLES, type ApiRole, DB_BIGINT_ID_MAX, parseId, ValidationError } from "@poolkeeper/core";
import type { Queryable } from "../store.js";

/**
 * API tokens of the admin API. A token is 32 random bytes (base64url, prefixed `pk_` so secret
 * scanners can spot it); only its sha256 is stored. A token is shown once, when created, and
 * never again: listing returns ids, roles and labels only. Tokens are high-entropy, so a lookup by
 * hash needs no constant-time comparison.
 */

/** The roles are defined in core (vocabulary.ts). */
export { API_ROLES, type ApiRole } from "@poolkeeper/core";

export interface ApiTokenInfo {
  id: string;
  role: ApiRole;
  /** The operator an `operator` token acts for; null for admin and dao. */
  operatorId: string | null;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const TOKEN_PREFIX = "pk_";
const TOKEN_RE = /^pk_[A-Za-z0-9_-]{43}$/;

export function hashApiToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function generateApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

interface Row {
  id: string;
  role: ApiRole;
  operator_id: string | null;
  label: string | null;
  created_at: Date | string;
  revoked_at: Date | string | null;
  last_used_at: Date | string | null;
}

const COLUMNS =
  "id::text AS id, role, operator_id::text AS operator_id, label, created_at, revoked_at, last_used_at";

function toDate(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v);
}

function fromRow(r: Row): ApiTokenInfo {
  return {
    id: r.id,
    role: r.role,
    operatorId: r.operator_id,
    label: r.label,
    createdAt: toDate(r.created_at),
    revokedAt: r.revoked_at === null ? null : toDate(r.revoked_at),
    lastUsedAt: r.last_used_at === null ? null : toDate(r.last_used_at),
  };
}

export interface CreateApiTokenInput {
  role: string;
  operatorId?: string | number | bigint | null;
  label?: string | null;
}

/** Create a token. Returns the token (show it once) and its stored info. */
export async function createApiToken(
  db: Queryable,
  input: CreateApiTokenInput,
): Promise<{ token: string; info: ApiTokenInfo }> {
  if (!API_ROLES.includes(input.role as ApiRole)) {
    throw new ValidationError("role", `"${input.role}" is not a role (use one of ${API_ROLES.join(", ")})`);
  }
  const role = input.role as ApiRole;
  const op = input.operatorId === undefined || input.operatorId === null ? null : String(input.operatorId);
  if (role === "operator" && op === null) {
    throw new ValidationError("operator", "an operator token needs the operator id (example: --operator 1)");
  }
  if (role !== "operator" && op !== null) {
    throw new ValidationError("operator", `only operator tokens name an operator, not ${role} tokens`);
  }
  if (op !== null) parseId(op, "operator");
  const label = input.label ?? null;
  if (label !== null && (label.length > 200 || [...label].some((c) => c.charCodeAt(0) < 0x20))) {
    throw new ValidationError("label", "must be at most 200 printable characters");
  }
  const token = generateApiToken();
  let rows: { rows: Row[] };
  try {
    rows = await db.query<Row>(
      `INSERT INTO api_tokens (token_hash, role, operator_id, label) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [hashApiToken(token), role, op, label],
    );
  } catch (e) {
    // 23503: foreign_key_violation (the operator does not exist).
    if ((e as { code?: unknown }).code === "23503") {
      throw new ValidationError("operator", `operator ${op} does not exist`);
    }
    throw e;
  }
  return { token, info: fromRow(rows.rows[0]!) };
}

/** The live (not revoked) token with this value, or undefined. Touches last_used_at. */
export async function findApiToken(db: Queryable, token: string): Promise<ApiTokenInfo | undefined> {
  if (!TOKEN_RE.test(token)) return undefined;
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hashApiToken(token)],
  );
  const row = rows.rows[0];
  return row === undefined ? undefined : fromRow(row);
}

/** Record that a token was used (at most one write per token per minute is enough). */
export async function touchApiToken(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE api_tokens SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}

export async function listApiTokens(db: Queryable): Promise<ApiTokenInfo[]> {
  const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY id`);
  return rows.rows.map(fromRow);
}

/** Revoke a token by id. Returns false when no live token has that id. */
export async function revokeApiToken(db: Queryable, id: string): Promise<boolean> {
  parseId(id, "id", DB_BIGINT_ID_MAX);
  const rows = await db.query<{ id: string }>(
    "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id::text AS id",
    [id],
  );
  return rows.rows.length > 0;
}
