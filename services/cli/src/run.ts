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
