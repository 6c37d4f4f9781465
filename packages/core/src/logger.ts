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

/** Strip user:password@ and query tokens from a URL before it is printed. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username !== "" || u.password !== "") {
      u.username = "";
      u.password = "";
    }
    for (const k of [...u.searchParams.keys()]) {
      if (/token|key|secret|auth|password/i.test(k)) u.searchParams.set(k, "redacted");
    }
    return u.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
  } catch {
    return "<invalid url>";
  }
}
