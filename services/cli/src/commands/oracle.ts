import { existsSync } from "node:fs";
import type { Command } from "commander";
import { flagsToEnv } from "../input.js";

/**
 * `--out F` of a keygen command: refuse an existing file, write the new secret key to F (0600,
 * never overwritten) and print only its public key.
 */
export async function writeNewKey(
  out: string,
  make: () => { secretKeyHex: string; publicKey: string },
): Promise<void> {
  if (existsSync(out)) {
    const { ConfigError } = await import("@poolkeeper/core");
    throw new ConfigError(`--out: ${out} exists; pick a new file`);
  }
  const { writeFileAtomic } = await import("@poolkeeper/keys");
  const key = make();
  await writeFileAtomic(out, `${key.secretKeyHex}\n`, { mode: 0o600, noOverwrite: true });
  process.stdout.write(`${key.publicKey}\n`);
}

/**
 * `poolkeeper oracle-member`: one oracle member (services/oracle). Flags override the same
 * environment variables the process reads; the signing key and the API token are better given
 * as files (ORACLE_MEMBER_KEY_FILE, ADMIN_API_TOKEN_FILE). `poolkeeper oracle-member keygen`
 * writes a new member key to a file (0600) and prints its public key, for ORACLE_MEMBERS.
 */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  const cmd = program
    .command("oracle-member")
    .description("Build and vote the pool's oracle reports as one member, from its own beacon nodes")
    .option("--beacon-url <url>", "beacon node URL (repeat for several; failover in health order)", collect)
    .option("--preset <name>", "consensus preset of the nodes: mainnet | minimal (ORACLE_PRESET)")
    .option("--api-url <url>", "the pool's admin API (ADMIN_API_URL)")
    .option("--token-file <file>", "file holding the member's API token, role oracle (ADMIN_API_TOKEN_FILE)")
    .option("--member-id <id>", "this member's id in ORACLE_MEMBERS (ORACLE_MEMBER_ID)")
    .option("--key-file <file>", "file holding the member's BLS key (ORACLE_MEMBER_KEY_FILE)")
    .option("--cl-source <ssz|json>", "how the ref slot's validators are read (ORACLE_CL_SOURCE)")
    .option("--el-rpc-url <url>", "execution-layer JSON-RPC for the vaults (ORACLE_EL_RPC_URL)")
    .option("--metrics-port <port>", "Prometheus /metrics port (METRICS_PORT)")
    .action(async (opts: Record<string, string | string[] | undefined>) => {
      const env = flagsToEnv(opts, {
        beaconUrl: "BEACON_URLS",
        preset: "ORACLE_PRESET",
        apiUrl: "ADMIN_API_URL",
        tokenFile: "ADMIN_API_TOKEN_FILE",
        memberId: "ORACLE_MEMBER_ID",
        keyFile: "ORACLE_MEMBER_KEY_FILE",
        clSource: "ORACLE_CL_SOURCE",
        elRpcUrl: "ORACLE_EL_RPC_URL",
        metricsPort: "METRICS_PORT",
      });
      const mod = await import("@poolkeeper/oracle-member");
      await mod.runOracleMemberProcess(env);
    });
  cmd
    .command("keygen")
    .description("Write a new member signing key to a file (0600) and print its public key")
    .requiredOption("--out <file>", "where the key goes (refused if the file exists)")
    .action(async (opts: { out: string }) => {
      const { generateMemberKey, publicKeyOf } = await import("@poolkeeper/oracle");
      await writeNewKey(opts.out, () => {
        const key = generateMemberKey();
        return { secretKeyHex: `0x${Buffer.from(key).toString("hex")}`, publicKey: publicKeyOf(key) };
      });
    });
}
