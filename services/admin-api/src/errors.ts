import { isPoolkeeperError, PoolkeeperError } from "@poolkeeper/core";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/**
 * The admin API's one place where errors become HTTP responses. Every error body is
 * `{code, message, details}`; messages of our own errors are written for users and never hold
 * secrets, anything unexpected is logged and answered with a generic 500.
 */

export class UnauthorizedError extends PoolkeeperError {
  constructor(message: string) {
    super("ERR_UNAUTHORIZED", message);
    this.name = "UnauthorizedError";
  }
}

export class ForbiddenError extends PoolkeeperError {
  constructor(message: string) {
    super("ERR_FORBIDDEN", message);
    this.name = "ForbiddenError";
  }
}

export class NotFoundError extends PoolkeeperError {
  constructor(what: string, id: string) {
    super("ERR_NOT_FOUND", `${what} ${id} not found`, { [what]: id });
    this.name = "NotFoundError";
  }
}

/** Exact codes first; then suffix rules so that new module codes land somewhere sensible. */
const STATUS_BY_CODE: Record<string, number> = {
  ERR_VALIDATION: 400,
  ERR_CONFIG: 400,
  ERR_BAD_REQUEST: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_CONFLICT: 409,
  ERR_DUPLICATE: 409,
  ERR_INVALID_STATE: 409,
  ERR_INVALID_STATE_TRANSITION: 409,
  ERR_LIMIT_BELOW_DEPOSITED: 409,
  ERR_NO_CAPACITY: 409,
  ERR_UPLOAD_IN_PROGRESS: 409,
  ERR_NOT_IMPLEMENTED: 501,
  ERR_DATABASE_UNAVAILABLE: 503,
  ERR_UNPROCESSABLE: 422,
  ERR_UPLOAD_REJECTED: 422,
  ERR_INVALID_DEPOSIT_DATA: 422,
  ERR_RATE_LIMITED: 429,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNAVAILABLE: 503,
  ERR_DATABASE: 503,
};

export function statusForCode(code: string): number {
  const exact = STATUS_BY_CODE[code];
  if (exact !== undefined) return exact;
  if (code.endsWith("_NOT_FOUND") || code.startsWith("ERR_UNKNOWN_")) return 404;
  if (
    code.endsWith("_CONFLICT") ||
    code.endsWith("_EXISTS") ||
    code.endsWith("_DUPLICATE") ||
    code.includes("_ALREADY_") ||
    code.endsWith("_STATE") ||
    code.endsWith("_TRANSITION")
  )
    return 409;
  if (code.endsWith("_REJECTED") || code.startsWith("ERR_INVALID_") || code.endsWith("_LIMIT")) return 422;
  if (code.endsWith("_UNAVAILABLE") || code.endsWith("_TIMEOUT")) return 503;
  if (code.endsWith("_FORBIDDEN") || code.endsWith("_DENIED")) return 403;
  if (code.endsWith("_VALIDATION") || code.endsWith("_BAD_REQUEST")) return 400;
  return 400;
}

export interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** "body/keys/3/pubkey": the part of the request and the field a schema issue is about. */
export function fieldOfIssue(context: string | undefined, issue: AjvIssue): string {
  const path = (issue.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".");
  const missing =
    issue.keyword === "required" && typeof issue.params?.missingProperty === "string"
      ? issue.params.missingProperty
      : issue.keyword === "additionalProperties" && typeof issue.params?.additionalProperty === "string"
        ? issue.params.additionalProperty
        : undefined;
  const parts = [context ?? "body", path, missing].filter((p) => p !== undefined && p !== "");
  return parts.join(".");
}

function schemaErrorBody(error: FastifyError): ErrorBody {
  const issues = (error.validation ?? []) as AjvIssue[];
  const fields = issues.map((i) => ({
    field: fieldOfIssue(error.validationContext, i),
    reason: i.keyword === "required" ? "is required" : (i.message ?? "is invalid"),
  }));
  const first = fields[0] ?? { field: error.validationContext ?? "body", reason: "is invalid" };
  return {
    code: "ERR_VALIDATION",
    message: `${first.field}: ${first.reason}`,
    details: { field: first.field, reason: first.reason, issues: fields },
  };
}

/** Fastify's own errors (body too large, bad JSON, unsupported media type...) by their code. */
function fastifyErrorBody(error: FastifyError): { status: number; body: ErrorBody } | undefined {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: { code: "ERR_PAYLOAD_TOO_LARGE", message: "request body is too large", details: {} },
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: {
          code: "ERR_UNSUPPORTED_MEDIA_TYPE",
          message: "send a JSON body (application/json)",
          details: {},
        },
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        status: 400,
        body: { code: "ERR_VALIDATION", message: "body: is empty", details: { field: "body" } },
      };
    default:
      break;
  }
  if (error.statusCode === 400 && /JSON/i.test(error.message)) {
    return {
      status: 400,
      body: { code: "ERR_VALIDATION", message: "body: is not valid JSON", details: { field: "body" } },
    };
  }
  if (error.statusCode === 429) {
    return { status: 429, body: { code: "ERR_RATE_LIMITED", message: error.message, details: {} } };
  }
  return undefined;
}

/**
 * A database error that reached the HTTP layer untranslated: rules the database enforces
 * (constraints, the key-lifecycle triggers) are conflicts with the stored state; a lost or
 * refused connection is 503. Other SQL errors stay 500.
 */
function databaseErrorBody(error: Error): { status: number; body: ErrorBody } | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ETIMEDOUT" || /^(08|53|57P)/.test(code)) {
    return {
      status: 503,
      body: { code: "ERR_UNAVAILABLE", message: "the database is unavailable, retry later", details: {} },
    };
  }
  if (/^23[0-9A-Z]{3}$/.test(code) || code === "P0001" || code === "40001" || code === "40P01") {
    return {
      status: 409,
      body: { code: "ERR_CONFLICT", message: error.message, details: { sqlstate: code } },
    };
  }
  return undefined;
}

/**
 * The client went away before its request was read or answered (socket closed mid-body): not a
 * fault of the server or of the database, so it is logged at info and nobody is answered.
 */
function isClientAbort(error: FastifyError, request: FastifyRequest): boolean {
  const raw = request.raw;
  const gone = raw.aborted || raw.readableAborted || raw.socket?.destroyed === true;
  return gone && ((error as { code?: unknown }).code === "ECONNRESET" || error.message === "aborted");
}

/** The one error handler. */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isClientAbort(error, request)) {
    request.log.info({ code: (error as { code?: unknown }).code }, "client aborted the request");
    void reply.status(400).send({ code: "ERR_CLIENT_ABORTED", message: "the client went away", details: {} });
    return;
  }
  if (error.validation !== undefined) {
    void reply.status(400).send(schemaErrorBody(error));
    return;
  }
  if (isPoolkeeperError(error)) {
    const status = statusForCode(error.code);
    if (status >= 500) request.log.error({ code: error.code, msg: error.message }, "request failed");
    void reply
      .status(status)
      .send({ code: error.code, message: error.message, details: error.details ?? {} });
    return;
  }
  const db = databaseErrorBody(error);
  if (db !== undefined) {
    if (db.status >= 500)
      request.log.error({ code: (error as { code?: unknown }).code }, "database unavailable");
    void reply.status(db.status).send(db.body);
    return;
  }
  const known = fastifyErrorBody(error);
  if (known !== undefined) {
    void reply.status(known.status).send(known.body);
    return;
  }
  if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
    void reply
      .status(error.statusCode)
      .send({ code: "ERR_BAD_REQUEST", message: error.message, details: {} });
    return;
  }
  // Unexpected: log the name and message (never the request body), answer without internals.
  request.log.error(
    { err: { name: error.name, message: error.message, stack: error.stack } },
    "unexpected error",
  );
  void reply.status(500).send({ code: "ERR_INTERNAL", message: "internal error", details: {} });
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({
    code: "ERR_NOT_FOUND",
    message: `no route ${request.method} ${request.url.split("?")[0] ?? ""}`,
    details: {},
  });
}

/**
 * Errors fastify raises before a route runs (a URL that does not decode, such as /v1/operators/%zz),
 * answered in the API's error shape (the `frameworkErrors` option).
 */
export function frameworkErrorHandler(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error.code === "FST_ERR_BAD_URL") {
    void reply.status(400).send({
      code: "ERR_VALIDATION",
      message: "url: is not a valid URL (malformed percent-encoding)",
      details: { field: "url", reason: "malformed percent-encoding" },
    });
    return;
  }
  const status = typeof error.statusCode === "number" && error.statusCode >= 400 ? error.statusCode : 400;
  void reply.status(status).send({
    code: status >= 500 ? "ERR_INTERNAL" : "ERR_BAD_REQUEST",
    message: status >= 500 ? "internal error" : "the request could not be routed",
    details: {},
  });
}

/** Why Node's HTTP parser refused a request, for the client (llhttp codes). */
function clientErrorMessage(code: string | undefined): { status: number; message: string } {
  switch (code) {
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
    case "HPE_INVALID_TRANSFER_ENCODING":
      return {
        status: 400,
        message: "send either Content-Length or Transfer-Encoding: chunked, not both",
      };
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, message: "request headers are too large" };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, message: "the request took too long to arrive" };
    default:
      return { status: 400, message: "malformed HTTP request" };
  }
}

/**
 * A request Node's HTTP parser refused before fastify saw it (both Content-Length and
 * Transfer-Encoding, bad header syntax...): answered in the API's error shape, then closed. A
 * client that reset its connection gets nothing (there is nobody to answer).
 */
export function clientErrorHandler(
  this: { log: { debug(obj: object, msg: string): void } },
  err: NodeJS.ErrnoException,
  socket: import("node:net").Socket,
): void {
  this.log.debug({ code: err.code }, "client error");
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, message } = clientErrorMessage(err.code);
  const body = JSON.stringify({
    code: status === 408 ? "ERR_TIMEOUT" : "ERR_BAD_REQUEST",
    message,
    details: { reason: err.code ?? "unknown" },
  });
  const reason =
    status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
