import { findApiToken, type Queryable, touchApiToken } from "@poolkeeper/store";
import type { Principal, TokenVerifier } from "./auth.js";

/** Verify bearer tokens against the api_tokens table (by sha256; never logs the token). */
export function storeTokenVerifier(db: Queryable): TokenVerifier {
  return {
    async verify(token: string): Promise<Principal | undefined> {
      const info = await findApiToken(db, token);
      if (info === undefined) return undefined;
      // last_used_at has minute precision: skip the write while it is fresh.
      if (info.lastUsedAt === null || Date.now() - info.lastUsedAt.getTime() > 60_000) {
        await touchApiToken(db, info.id);
      }
      return { tokenId: info.id, role: info.role, operatorId: info.operatorId, label: info.label };
    },
  };
}
