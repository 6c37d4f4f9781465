import { defineErrorCodes, PoolkeeperError } from "@poolkeeper/core";

/** Error codes of the API client, each with its kind. */
export const CONTRACT_ERRORS = defineErrorCodes({
  /** The admin API could not be reached (connection refused, reset, DNS). */
  UNREACHABLE: { code: "ERR_API_UNREACHABLE", kind: "unavailable" },
  /** The admin API answered something that is not its error body (a proxy's page, a cut body). */
  BAD_ANSWER: { code: "ERR_API_BAD_ANSWER", kind: "unavailable" },
});

/**
 * An error answer of the admin API: its `code` (`ERR_*`, as the server sent it), the HTTP
 * `status`, the server's message and details, and the route that answered. Never the token.
 */
export class ApiError extends PoolkeeperError {
  readonly status: number;
  /** `METHOD /path` of the request, e.g. `POST /v1/operators/3/keys`. */
  readonly route: string;

  constructor(
    route: string,
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(code, `admin API ${route} answered ${status} ${code}: ${message}`, details, options);
    this.name = "ApiError";
    this.status = status;
    this.route = route;
  }
}
