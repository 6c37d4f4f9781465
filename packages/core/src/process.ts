import type { Logger } from "pino";

let installed = false;

function errFields(e: unknown): { name: string; message: string; stack?: string } {
  if (e instanceof Error) return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { name: typeof e, message: String(e) };
}

/**
 * The last line of defence of a long-running process (every service's run function calls it once):
 * an unhandled promise rejection is logged as one JSON line at error level, with its stack, and the
 * process goes on (it is still a bug, to fix where the promise was dropped: the line says where);
 * an uncaught exception is logged the same way and the process exits 1, as Node would, its state
 * being unknown.
 */
export function logProcessFaults(logger: Logger): void {
  if (installed) return;
  installed = true;
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: errFields(reason) }, "unhandled rejection");
  });
  process.on("uncaughtException", (err) => {
    logger.fatal({ err: errFields(err) }, "uncaught exception");
    process.exit(1);
  });
}
