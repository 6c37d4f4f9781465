import { chooseLodestarPreset } from "@poolkeeper/core";
import type { Command } from "commander";

/**
 * `poolkeeper beacon-sim`: a Beacon API simulator (see packages/beacon-sim). The package is
 * imported only when the command runs, after LODESTAR_PRESET is chosen from --preset.
 */
export function register(program: Command): void {
  program
    .command("beacon-sim")
    .description("Serve the Beacon API over a synthetic chain (tests, benchmarks, devnet)")
    .option("--validators <n>", "number of genesis validators", "64")
    .option("--port <port>", "HTTP port", "5052")
    .option("--host <host>", "listen address", "127.0.0.1")
    .option("--scenario <file>", "scenario JSON (behaviours, exits, slashings, deposits, finality, faults)")
    .option("--seconds-per-slot <s>", "seconds per slot")
    .option("--slots-per-epoch <n>", "slots per epoch (default: the preset's)")
    .option("--genesis-time <unix>", "genesis time (default: now)")
    .option("--preset <name>", "minimal | mainnet (default: LODESTAR_PRESET, else minimal)")
    .option(
      "--fork <name>",
      "deneb | electra | fulu: the fork the chain starts at (default: the scenario's, else fulu)",
    )
    .option("--network-out <file>", "write the chain's network file here (for POOLKEEPER_NETWORK)")
    .option("--network-name <name>", "the network's name in that file", "devnet")
    .action(async (opts: Record<string, string | undefined>) => {
      // before the first @lodestar import (the package's): --preset wins over LODESTAR_PRESET
      const preset = chooseLodestarPreset({
        wanted: opts.preset,
        source: "--preset",
        fallback: "minimal",
        override: true,
      });
      const mod = await import("@poolkeeper/beacon-sim");
      await mod.runBeaconSimProcess({ ...opts, preset });
    });
}
