import { isPoolkeeperError } from "@poolkeeper/core";

/**
 * Run a CLI action: a PoolkeeperError prints `error: <message>` (its message never holds a secret)
 * and exits 1; anything else prints a generic line (no stack, no data) and exits 1.
 */
export async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    if (isPoolkeeperError(e)) {
      process.stderr.write(`error: ${e.message}\n`);
    } else {
      const code = (e as NodeJS.ErrnoException | undefined)?.code;
      process.stderr.write(
        `error: unexpected failure${code ? ` (${code})` : ""}: ${(e as Error)?.message ?? String(e)}\n`,
      );
    }
    process.exitCode = 1;
  }
}

/**
 * Stop (as on SIGTERM) when the process that started this one is gone: a package manager or a
 * shell between a supervisor and this process may die on SIGTERM without passing it on, which would
 * leave this process running as an orphan. On by default when started by a package-manager script
 * (`pnpm devnet`, `pnpm poolkeeper ...`: npm_lifecycle_event is set); POOLKEEPER_EXIT_WITH_PARENT=1
 * turns it on, =0 off (a process meant to outlive its parent, started from a script).
 */
export function exitWithParent(
  env: NodeJS.ProcessEnv = process.env,
  opts: { intervalMs?: number; stderr?: (line: string) => void } = {},
): () => void {
  const flag = env.POOLKEEPER_EXIT_WITH_PARENT;
  const on = flag === undefined || flag === "" ? env.npm_lifecycle_event !== undefined : flag === "1";
  if (!on) return () => undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    (opts.stderr ?? ((l: string) => process.stderr.write(l)))(
      `poolkeeper: parent process ${parent} is gone; stopping\n`,
    );
    // the command's own SIGTERM handling closes everything; a command without one ends at once
    process.kill(process.pid, "SIGTERM");
  }, opts.intervalMs ?? 500);
  timer.unref();
  return () => clearInterval(timer);
}
