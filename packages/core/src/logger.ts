import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

/** Field names whose values must never reach a log, at any of the first three levels. */
export const SECRET_FIELDS = [
  "mnemonic",
  "mnemonicPassword",
  "password",
  "secret",
  "secretKey",
  "privateKey",
  "keystore",
  "token",
  "authorization",
  "exitMessage",
  "signedExit",
] as const;

export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const f of SECRET_FIELDS) {
    paths.push(f, `*.${f}`, `*.*.${f}`);
  }
  paths.push('req.headers["x-api-key"]', "req.headers.cookie");
  return paths;
}

export interface LoggerOpts {
  name?: string;
  level?: string;
  /** Where to write; stdout by default. Tests pass a stream to capture output. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOpts = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? "info",
    redact: { paths: redactPaths(), censor: "[redacted]" },
    base: opts.name === undefined ? {} : { name: opts.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}

/**
 * A configured URL as it may be printed or stored: scheme, host and port only. User, password,
 * path, query and fragment are dropped: webhook URLs (Slack, Discord) carry their secret in the
 * path, others in a query parameter (`sig`, `code`, `api_key`).
 */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.host === "" ? "<invalid url>" : `${u.protocol}//${u.host}`;
  } catch {
    return "<invalid url>";
  }
}

/**
 * `text` with `url` replaced by its printable form (`safeUrl`) and every secret-bearing part of it
 * (user, password, path and its longer segments, query and its values, fragment) replaced by
 * "[redacted]": library errors (fetch, HTTP clients) echo whole or partial URLs.
 */
export function scrubUrl(text: string, url: string): string {
  let out = text.split(url).join(safeUrl(url));
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return out;
  }
  out = out.split(u.href).join(safeUrl(url));
  const parts = new Set<string>([u.username, u.password, u.search, u.hash]);
  if (u.pathname.length > 1) parts.add(u.pathname);
  for (const seg of u.pathname.split("/")) if (seg.length >= 6) parts.add(seg);
  for (const v of u.searchParams.values()) if (v.length >= 4) parts.add(v);
  for (const p of [...parts]) {
    try {
      parts.add(decodeURIComponent(p));
    } catch {
      /* not percent-encoded */
    }
  }
  const list = [...parts].filter((p) => p.length > 1).sort((a, b) => b.length - a.length);
  for (const p of list) out = out.split(p).join("[redacted]");
  return out;
}
