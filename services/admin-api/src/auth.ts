import { API_ROLES, type ApiRole } from "@poolkeeper/core";
import type { FastifyRequest } from "fastify";
import { ForbiddenError, UnauthorizedError } from "./errors.js";

/**
 * Bearer-token authentication and role checks. Tokens are looked up by their hash (see
 * @poolkeeper/store tokens/tokens.ts); the token itself is never logged or returned.
 *
 * The roles are `API_ROLES` (core vocabulary.ts).
 */
export type Role = ApiRole;
export const ROLES = API_ROLES;

export interface Principal {
  tokenId: string;
  role: Role;
  /** Set for the operator role: the one operator this token may act for. */
  operatorId: string | null;
  label: string | null;
}

/** What auth needs from the token store. */
export interface TokenVerifier {
  /** The principal of a live (not revoked) token, or undefined. */
  verify(token: string): Promise<Principal | undefined>;
}

/** Route-level access rule, set as `config: { access }` on each route. */
export interface Access {
  /** Roles allowed on the route; "public" routes need no token. */
  roles: readonly Role[] | "public";
  /** For operator tokens: the path parameter that holds the operator id the route acts on. */
  operatorParam?: string;
}

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** RFC 9110: the scheme is case-insensitive, one or more spaces before the token. */
const BEARER_RE = /^bearer +([A-Za-z0-9._~+/=-]{16,200})$/i;

export function actorOf(p: Principal): string {
  return p.role === "operator"
    ? `token:${p.tokenId}:operator:${p.operatorId}`
    : `token:${p.tokenId}:${p.role}`;
}

/** The principal of a request that passed `authenticate` on a non-public route. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new UnauthorizedError("missing bearer token");
  return request.principal;
}

/** An operator token may only act for its own operator. */
export function assertOperatorScope(p: Principal, operatorId: string): void {
  if (p.role === "operator" && p.operatorId !== operatorId) {
    throw new ForbiddenError(`this token may only act for operator ${p.operatorId}`);
  }
}

/** onRequest hook: authenticate, then check the route's roles and operator scope. */
export function makeAuthenticate(verifier: TokenVerifier) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    request.principal = null;
    const access = request.routeOptions.config.access;
    // Routes without an access rule (404s, docs, openapi) are public by construction.
    if (access === undefined || access.roles === "public") return;
    const header = request.headers.authorization;
    if (header === undefined || header === "") {
      throw new UnauthorizedError("missing bearer token (send Authorization: Bearer <token>)");
    }
    const m = BEARER_RE.exec(header);
    if (m === null) throw new UnauthorizedError("malformed Authorization header (expected: Bearer <token>)");
    const principal = await verifier.verify(m[1]!);
    if (principal === undefined) throw new UnauthorizedError("invalid or revoked token");
    request.principal = principal;
    if (!access.roles.includes(principal.role)) {
      throw new ForbiddenError(
        `role ${principal.role} may not ${request.method} ${request.routeOptions.url}`,
      );
    }
    if (access.operatorParam !== undefined) {
      const params = request.params as Record<string, string | undefined>;
      const id = params[access.operatorParam];
      if (id !== undefined) assertOperatorScope(principal, id);
    }
  };
}
