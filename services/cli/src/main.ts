#!/usr/bin/env -S node --import tsx
/**
 * `poolkeeper`: one command, many subcommands. Each subcommand group lives in its own file under
 * commands/ and exports `register(program)`. This file only wires them and turns errors into one
 * clear line and a non-zero exit code.
 */
import { setProcessLabel } from "@poolkeeper/core";
import { Command, CommanderError } from "commander";
import { exitWithParent, run } from "./run.js";

// `pnpm devnet` killed with SIGTERM must not leave this process running as an orphan
exitWithParent();

const program = new Command();
program
  .name("poolkeeper")
  .description("Off-chain side of an Ethereum liquid-staking pool: keys, registry, watcher, oracle")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

// Subcommand groups: one line each.
const groups: Array<() => Promise<{ register: (p: Command) => void }>> = [
  () => import("./commands/keys.js"),
  () => import("./commands/admin-api.js"),
  () => import("./commands/tokens.js"),
  () => import("./commands/beacon-sim.js"),
  () => import("./commands/watcher.js"),
  () => import("./commands/oracle.js"),
  () => import("./commands/governance.js"),
  () => import("./commands/guardian.js"),
  () => import("./commands/daemon.js"),
  () => import("./commands/devnet.js"),
  () => import("./commands/config.js"),
];

// The command this process runs names it in the lock of a data directory it opens
// ("in use by process 123 (poolkeeper admin-api)").
program.hook("preAction", (_program, action) => {
  const words: string[] = [];
  for (let c: Command | null = action; c !== null && c !== program; c = c.parent) words.unshift(c.name());
  setProcessLabel(["poolkeeper", ...words].join(" "));
});

await run(async () => {
  for (const load of groups) (await load()).register(program);
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    throw e;
  }
});
