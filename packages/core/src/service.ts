/**
 * The service kit: every long-running process starts and stops the same way.
 *
 * - settings: one `ConfigSpec` per service, composed of the shared fragments (settings.ts), read
 *   and checked by `loadConfig` before anything starts;
 * - `start(settings, deps)`: the service starts its parts in order, each registered on a
 *   `ServiceParts`, and returns something closable; a failure part-way closes what had started;
 * - `runService` / `runProcess`: `logProcessFaults`, SIGTERM/SIGINT (also while starting) close
 *   everything once, in reverse order of start, then exit 0; a start-up failure is ONE line on
 *   stderr, `error: <message>`, and exit code 1 (the form of every poolkeeper command); the values
 *   of secret settings never appear in it.
 *
 * Core depends on no other poolkeeper package: opening the store, the beacon nodes or the queues is
 * done by the service's own `start` (its layer may depend on them).
 */
import { readFileSync } from "node:fs";
import { type ConfigOf, type ConfigSpec, type Env, loadConfig } from "./config.js";
import { isPoolkeeperError } from "./errors.js";
import { createLogger, type Logger, scrubUrl } from "./logger.js";
import { logProcessFaults } from "./process.js";

export interface Closable {
  close(): Promise<unknown> | unknown;
  /** Resolves (with the reason) when the service has done its job and should stop without a signal. */
  finished?: Promise<string>;
}

/**
 * What a service has started, in start order. `close()` closes them in reverse order, each once,
 * every one even when another fails (the first failure is rethrown at the end); a second call
 * returns the first call's promise.
 */
export class ServiceParts {
  private readonly started: Array<{ name: string; close: () => Promise<unknown> | unknown }> = [];
  private closing: Promise<void> | undefined;

  /** Registers `part` (started just now) under `name`; returns it. */
  add<T extends Closable>(name: string, part: T): T {
    this.onClose(name, () => part.close());
    return part;
  }

  /** Registers a close step for something that is not a `Closable`. */
  onClose(name: string, close: () => Promise<unknown> | unknown): void {
    if (this.closing !== undefined) throw new Error(`service parts: "${name}" started after close`);
    this.started.push({ name, close });
  }

  /** Names of the parts still open, in start order. */
  names(): string[] {
    return this.started.map((p) => p.name);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      let first: unknown;
      let failed = false;
      while (this.started.length > 0) {
        const part = this.started.pop()!;
        try {
          await part.close();
        } catch (e) {
          if (!failed) first = e;
          failed = true;
        }
      }
      if (failed) throw first;
    })();
    return this.closing;
  }
}

/**
 * Start a service's parts: `build` registers each on `parts` as it starts it. When `build` throws,
 * whatever it had started is closed (reverse order) and the error is rethrown; otherwise its result
 * gets `close()`, which closes every part in reverse order, once.
 */
export async function startParts<R extends object>(
  build: (parts: ServiceParts) => Promise<R>,
): Promise<R & { close(): Promise<void> }> {
  const parts = new ServiceParts();
  try {
    const r = await build(parts);
    return Object.assign(r, { close: () => parts.close() });
  } catch (e) {
    await parts.close().catch(() => undefined);
    throw e;
  }
}

function isUrl(s: string): boolean {
  try {
    return new URL(s).host !== "";
  } catch {
    return false;
  }
}

/**
 * An error as one line, for a person: `error: <message>` (lines folded), no stack, no data; each
 * of `secrets` (setting values) is taken out: a URL down to scheme, host and port (`scrubUrl`),
 * anything else replaced by "[redacted]".
 */
export function errorLine(e: unknown, secrets: readonly string[] = []): string {
  let msg: string;
  if (isPoolkeeperError(e)) msg = e.message;
  else {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    const text = e instanceof Error ? e.message || e.name : String(e);
    msg = `unexpected failure${typeof code === "string" ? ` (${code})` : ""}: ${text}`;
  }
  // a list setting (BEACON_URLS) holds several values; a URL keeps its scheme, host and port
  const values = secrets.flatMap((s) => (s.includes(",") ? s.split(",").map((p) => p.trim()) : [s]));
  for (const s of values.sort((a, b) => b.length - a.length)) {
    if (s.length < 4) continue;
    msg = isUrl(s) ? scrubUrl(msg, s) : msg.split(s).join("[redacted]");
  }
  return `error: ${msg.replace(/\s*\n\s*/g, "; ").trim()}`;
}

export interface RunProcessOptions {
  /** The process's name in its fault log lines ("admin-api"). */
  name: string;
  /** Logs unhandled rejections and uncaught exceptions (`logProcessFaults`); default: a logger on stdout. */
  faultLogger?: Logger;
  /** Stop without a signal after this long (ms). */
  stopAfterMs?: number;
  /** Values that must never appear in the failure line (secret settings). */
  secrets?: () => readonly string[];
  /** Where the failure line goes (default stderr). */
  stderr?: (line: string) => void;
  /** Told when a stop begins (the signal's name, or "timeout"). */
  onStop?: (reason: string) => void;
  /**
   * End the process with the exit code once stopped or failed (default true: a library may leave a
   * handle that would keep a stopped service alive). False: set `process.exitCode` and return.
   */
  exit?: boolean;
}

/**
 * Run a long-running process: install `logProcessFaults`, start, wait for SIGTERM/SIGINT (or
 * `stopAfterMs`), close once. A signal during start-up stops the service as soon as it has started.
 * Returns (or exits with) the exit code: 0 after a clean stop, 1 when starting or closing failed,
 * after printing one `error: …` line.
 */
export async function runProcess<R extends Closable>(
  start: () => Promise<R>,
  opts: RunProcessOptions,
): Promise<number> {
  logProcessFaults(opts.faultLogger ?? createLogger({ name: opts.name }));
  const print = opts.stderr ?? ((l: string) => void process.stderr.write(`${l}\n`));
  let wake: ((reason: string) => void) | undefined;
  let stopReason: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stopReason ??= signal;
    wake?.(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  let code = 0;
  try {
    let running: R;
    try {
      running = await start();
    } catch (e) {
      print(errorLine(e, opts.secrets?.() ?? []));
      code = 1;
      return code;
    }
    const reason =
      stopReason ??
      (await new Promise<string>((resolve) => {
        // Signal handlers do not keep Node's event loop alive: a service whose parts hold no open
        // handle would end here with exit code 13 (unsettled top-level await) instead of waiting.
        const keepAlive = setInterval(() => undefined, 2 ** 30);
        wake = (r) => {
          clearInterval(keepAlive);
          resolve(r);
        };
        if (opts.stopAfterMs !== undefined) setTimeout(() => wake?.("timeout"), opts.stopAfterMs).unref();
        running.finished?.then(
          (r) => wake?.(r),
          () => wake?.("failed"),
        );
      }));
    opts.onStop?.(reason);
    try {
      await running.close();
    } catch (e) {
      print(errorLine(e, opts.secrets?.() ?? []));
      code = 1;
    }
    return code;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    if (opts.exit === false) process.exitCode = code;
    else process.exit(code);
  }
}

/** What every service's start gets besides its settings. */
export interface ServiceDeps {
  logger: Logger;
}

/** A long-running service: its name, its settings and how it starts. */
export interface Service<S extends ConfigSpec, R extends Closable> {
  name: string;
  env: S;
  /** Settings given on the command line, over the environment's (each error names its flag). */
  fromArgv?(argv: readonly string[]): Partial<ConfigOf<S>>;
  start(settings: ConfigOf<S>, deps: ServiceDeps): Promise<R>;
}

/** Helps inference: `defineService({ name, env, start })`. */
export function defineService<S extends ConfigSpec, R extends Closable>(s: Service<S, R>): Service<S, R> {
  return s;
}

/** The settings of a service from the environment and its argv (a ConfigError names each bad one). */
export function serviceSettings<S extends ConfigSpec>(
  service: Pick<Service<S, Closable>, "env" | "fromArgv">,
  env: Env,
  argv: readonly string[] = [],
): ConfigOf<S> {
  const fromArgv = service.fromArgv?.(argv) ?? {};
  return { ...loadConfig(service.env, env), ...fromArgv };
}

/** The values of the secret settings that are set, directly or in `NAME_FILE` (never printed). */
export function secretValues(spec: ConfigSpec, env: Env): string[] {
  const out: string[] = [];
  for (const [name, v] of Object.entries(spec)) {
    if (v.secret !== true) continue;
    const value = env[name];
    if (value !== undefined && value !== "") out.push(value);
    const file = env[`${name}_FILE`];
    if (file === undefined || file === "") continue;
    try {
      out.push(readFileSync(file, "utf8").replace(/\r?\n$/, ""));
    } catch {
      // unreadable: its content cannot be in any message either
    }
  }
  return out;
}

export interface RunServiceOptions extends Pick<RunProcessOptions, "exit" | "stderr"> {
  argv?: readonly string[];
  /** Overrides the logger built from LOG_LEVEL. */
  logger?: Logger;
}

/**
 * `main.ts` of a service: read its settings from `env` (and argv), build its logger (LOG_LEVEL),
 * start it, run until SIGTERM/SIGINT, close it, exit. See `runProcess`.
 */
export function runService<S extends ConfigSpec, R extends Closable>(
  service: Service<S, R>,
  env: Env,
  opts: RunServiceOptions = {},
): Promise<number> {
  const bootLogger = opts.logger ?? createLogger({ name: service.name });
  let logger: Logger | undefined;
  return runProcess(
    async () => {
      const settings = serviceSettings(service, env, opts.argv);
      const level = (settings as { LOG_LEVEL?: unknown }).LOG_LEVEL;
      logger =
        opts.logger ?? createLogger({ name: service.name, ...(typeof level === "string" ? { level } : {}) });
      return service.start(settings, { logger });
    },
    {
      name: service.name,
      onStop: (reason) => logger?.info({ signal: reason }, `${service.name} stopping`),
      faultLogger: bootLogger,
      secrets: () => secretValues(service.env, env),
      ...(opts.exit !== undefined ? { exit: opts.exit } : {}),
      ...(opts.stderr !== undefined ? { stderr: opts.stderr } : {}),
    },
  );
}
