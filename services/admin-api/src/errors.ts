import { BeaconErrorCode } from "@poolkeeper/beacon";
import {
  CORE_ERRORS,
  defineErrorCodes,
  type ErrorKind,
  errorKind,
  isPoolkeeperError,
  PoolkeeperError,
} from "@poolkeeper/core";
import { REGISTRY_ERRORS } from "@poolkeeper/registry";
import { EXIT_ERRORS, STORE_ERRORS } from "@poolkeeper/store";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/**
 * The admin API's one place where errors become HTTP responses. Every error body is
 * `{code, message, details}`; messages of our own errors are written for users and never hold
 * secrets, anything unexpected is logged and answered with a generic 500.
 */

/** The HTTP layer's own codes, each with its kind. */
export const API_ERRORS = defineErrorCodes({
  UNAUTHORIZED: { code: "ERR_UNAUTHORIZED", kind: "unauthenticated" },
  FORBIDDEN: { code: "ERR_FORBIDDEN", kind: "forbidden" },
  BAD_REQUEST: { code: "ERR_BAD_REQUEST", kind: "invalid_input" },
  RATE_LIMITED: { code: "ERR_RATE_LIMITED", kind: "rate_limited" },
  PAYLOAD_TOO_LARGE: { code: "ERR_PAYLOAD_TOO_LARGE", kind: "too_large" },
  UNSUPPORTED_MEDIA_TYPE: { code: "ERR_UNSUPPORTED_MEDIA_TYPE", kind: "unsupported_media_type" },
  /** Another upload of the same operator is running (one at a time per operator). */
  UPLOAD_IN_PROGRESS: { code: "ERR_UPLOAD_IN_PROGRESS", kind: "conflict" },
  /** The client went away before its request was answered. */
  CLIENT_ABORTED: { code: "ERR_CLIENT_ABORTED", kind: "invalid_input" },
  /** The request took too long to arrive (Node's HTTP parser timed it out). */
  TIMEOUT: { code: "ERR_TIMEOUT", kind: "timeout" },
});

export class UnauthorizedError extends PoolkeeperError {
  constructor(message: string) {
    super(API_ERRORS.UNAUTHORIZED, message);
    this.name = "UnauthorizedError";
  }
}

export class ForbiddenError extends PoolkeeperError {
  constructor(message: string) {
    super(API_ERRORS.FORBIDDEN, message);
    this.name = "ForbiddenError";
  }
}

export class NotFoundError extends PoolkeeperError {
  constructor(what: string, id: string) {
    super("ERR_NOT_FOUND", `${what} ${id} not found`, { [what]: id });
    this.name = "NotFoundError";
  }
}

/** The one map from an error's kind to its HTTP status. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  timeout: 408,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
};

/** The codes the API can meet, whose modules define them (imported so that they are registered). */
export const API_CODE_SETS = [
  CORE_ERRORS,
  REGISTRY_ERRORS,
  STORE_ERRORS,
  EXIT_ERRORS,
  BeaconErrorCode,
  API_ERRORS,
] as const;

/** The status of a code, by its kind; a code that no module defined is a bug: 500. */
export function statusForCode(code: string): number {
  return STATUS_BY_KIND[errorKind(code) ?? "internal"];
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
