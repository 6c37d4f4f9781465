import type { Command } from "commander";

/**
 * `poolkeeper devnet`: the whole main job on one machine (see services/devnet). The package is
 * imported only when the command runs; it sets LODESTAR_PRESET to minimal (or refuses another)
 * before its first @lodestar import.
 */
export function register(program: Command): void {
  program
    .command("devnet")
    .description(
      "Run beacon-sim, the admin API, operator daemons, deposits, oracle members, exits and the watcher together on this machine (Redis required)",
    )
    .option("--operators <n>", "node operators (default 3)")
    .option(
      "--keys-per-operator <n>",
      "each operator daemon's low-water mark: keys it keeps uploaded (default 8)",
    )
    .option("--data-dir <dir>", "database, admin token, deposit data and logs (default ./.poolkeeper/devnet)")
    .option("--api-port <port>", "admin API port (default 3000; 0: any free port)")
    .option("--sim-port <port>", "beacon-sim port (default 5052; 0: any free port)")
    .option("--redis-url <url>", "Redis for the watcher's queue (default redis://127.0.0.1:6379)")
    .option("--database-url <url>", "an empty PostgreSQL database instead of PGlite under --data-dir")
    .option("--seconds-per-slot <s>", "slot time of the sim (default 2)")
    .option("--duration <seconds>", "stop after this long (default: run until Ctrl-C)")
    .option("--scenario <file>", "devnet scenario (default config/devnet/scenario.json)")
    .option("--summary-every <epochs>", "print the summary every this many finalized epochs (default 2)")
    .option(
      "--until-reports <n>",
      "headless: stop once n oracle reports are applied; the last line printed is the JSON summary",
    )
    .option(
      "--until-exits <n>",
      "headless: stop once n exit requests have exited (with --until-reports: both); the last line printed is the JSON summary",
    )
    .option("--reset", "start afresh (every run starts a new chain and database today)")
    // unknown flags and stray words: one clear line and exit 1 (not commander's usage dump)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      const stray = cmd.args[0];
      if (stray !== undefined) {
        const { ConfigError } = await import("@poolkeeper/core");
        throw new ConfigError(
          `${stray.startsWith("-") ? "unknown option" : "unexpected argument"} "${stray}" (see poolkeeper devnet --help)`,
        );
      }
      // the package chooses the minimal preset first thing (devnet preset.ts), or refuses another
      const mod = await import("@poolkeeper/devnet");
      const { reset: _reset, ...flags } = opts;
      await mod.runDevnet(flags);
      // Everything is closed by now; a handle left referenced by a library (seen: the deposit
      // verification worker's MessagePort) must not keep a stopped devnet hanging.
      process.exit(process.exitCode ?? 0);
    });
}
