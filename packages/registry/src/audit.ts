import { LIMITS, ValidationError } from "@poolkeeper/core";
import { listAuditRows } from "@poolkeeper/store";
import type { RegistryContext } from "./context.js";
import type { AuditEntry } from "./types.js";
import { checkCount } from "./validate.js";

/* The audit log, read back (rows are written by each change, in its own transaction). */

/** Newest first; `cursor` is an audit id (exclusive); `target` e.g. "operator:3". */
export async function listAudit(
  ctx: RegistryContext,
  opts: { cursor?: string; limit?: number; target?: string } = {},
): Promise<AuditEntry[]> {
  let beforeId: bigint | undefined;
  if (opts.cursor !== undefined) {
    if (typeof opts.cursor !== "string" || !/^[1-9][0-9]{0,18}$/.test(opts.cursor)) {
      throw new ValidationError("cursor", "must be an audit entry id (example: 42)");
    }
    beforeId = BigInt(opts.cursor);
  }
  const limit =
    opts.limit === undefined ? LIMITS.listPageDefault : checkCount(opts.limit, "limit", 1, LIMITS.listPage);
  if (
    opts.target !== undefined &&
    (typeof opts.target !== "string" || opts.target.length > LIMITS.auditTargetLength)
  ) {
    throw new ValidationError("target", "must be a string such as operator:3");
  }
  const rows = await listAuditRows(ctx.store, {
    limit,
    ...(beforeId === undefined ? {} : { beforeId }),
    ...(opts.target === undefined ? {} : { target: opts.target }),
  });
  return rows.map((r) => ({ ...r, id: r.id.toString() }));
}
