import type { Command } from "commander";
import { flagsToEnv } from "../input.js";
import { writeNewKey } from "./oracle.js";

/**
 * `poolkeeper guardian`: one deposit guardian (services/guardian). Flags override the same
 * environment variables the process reads; the signing key and the API token are better given as
 * files (GUARDIAN_KEY_FILE, ADMIN_API_TOKEN_FILE). `poolkeeper guardian keygen --out F` writes a
 * new guardian key to a file (0600) and prints its public key, for DEPOSIT_GUARDIANS.
 */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  const cmd = program
    .command("guardian")
    .description(
      "Check deposit batches against the chain and release them (or pause deposits) as one guardian",
    )
    .option("--beacon-url <url>", "beacon node URL (repeat for several; failover in health order)", collect)
    .option("--preset <name>", "consensus preset of the nodes: mainnet | minimal (GUARDIAN_PRESET)")
    .option("--api-url <url>", "the pool's admin API (ADMIN_API_URL)")
    .option(
      "--token-file <file>",
      "file holding the guardian's API token, role guardian (ADMIN_API_TOKEN_FILE)",
    )
    .option("--guardian-id <id>", "this guardian's id in DEPOSIT_GUARDIANS (GUARDIAN_ID)")
    .option("--key-file <file>", "file holding the guardian's BLS key (GUARDIAN_KEY_FILE)")
    .option("--el-sim-url <url>", "beacon-sim's execution side, the deposit log (GUARDIAN_EL_SIM_URL)")
    .option("--metrics-port <port>", "Prometheus /metrics port (METRICS_PORT)")
    .action(async (opts: Record<string, string | string[] | undefined>) => {
      const env = flagsToEnv(opts, {
        beaconUrl: "BEACON_URLS",
        preset: "GUARDIAN_PRESET",
        apiUrl: "ADMIN_API_URL",
        tokenFile: "ADMIN_API_TOKEN_FILE",
        guardianId: "GUARDIAN_ID",
        keyFile: "GUARDIAN_KEY_FILE",
        elSimUrl: "GUARDIAN_EL_SIM_URL",
        metricsPort: "METRICS_PORT",
      });
      const mod = await import("@poolkeeper/guardian");
      await mod.runGuardianProcess(env);
    });
  cmd
    .command("keygen")
    .description("Write a new guardian signing key to a file (0600) and print its public key")
    .requiredOption("--out <file>", "where the key goes (refused if the file exists)")
    .action(async (opts: { out: string }) => {
      const { newGuardianKey } = await import("@poolkeeper/guardian");
      await writeNewKey(opts.out, newGuardianKey);
    });
}
