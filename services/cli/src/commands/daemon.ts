import type { Command } from "commander";
import { flagsToEnv, passwordFromFile, readInputFile } from "../input.js";

/**
 * `poolkeeper daemon init|run`: one node operator's daemon (services/operator-daemon). `init`
 * writes its directory (settings, the token, the encrypted mnemonic) after the pool's withdrawal
 * credentials are confirmed; `run` starts it from that directory, with flags and environment
 * variables over the directory's settings. The mnemonic and the passwords are never printed.
 */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function passwordFrom(
  opts: { passwordFile?: string; passwordEnv?: string },
  required: boolean,
): Promise<string | undefined> {
  const { ValidationError } = await import("@poolkeeper/core");
  if (opts.passwordFile !== undefined && opts.passwordEnv !== undefined)
    throw new ValidationError("--password-file", "give --password-file or --password-env, not both");
  if (opts.passwordFile !== undefined)
    return passwordFromFile(await readInputFile(opts.passwordFile, "--password-file"));
  if (opts.passwordEnv !== undefined) {
    const v = process.env[opts.passwordEnv];
    if (v === undefined || v === "")
      throw new ValidationError("--password-env", `the variable ${opts.passwordEnv} is not set`);
    return v;
  }
  if (required)
    throw new ValidationError("--password-file", "the mnemonic's password is required (or --password-env)");
  return undefined;
}

async function confirmOnTty(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function int(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v)) throw new Error(`${flag}: must be a non-negative integer`);
  return Number(v);
}

export function register(program: Command): void {
  const cmd = program
    .command("daemon")
    .description("A node operator's daemon: keys kept topped up, exit requests signed");
  cmd
    .command("init")
    .description("Write an operator daemon's directory: settings, token, encrypted mnemonic")
    .requiredOption("--dir <dir>", "the daemon's directory (created 0700)")
    .requiredOption("--api-url <url>", "the pool's admin API")
    .requiredOption("--operator-id <id>", "this operator's id")
    .requiredOption(
      "--token-file <file>",
      "file holding the operator's API token (copied into the directory, 0600)",
    )
    .requiredOption("--network <name>", "mainnet, hoodi, sepolia, holesky or a network JSON file")
    .option("--mnemonic-file <file>", "import this mnemonic (default: generate a new one)")
    .option("--mnemonic-out <file>", "write a generated mnemonic's backup here (0600; never printed)")
    .option("--password-file <file>", "file holding the password the mnemonic is encrypted with")
    .option("--password-env <name>", "environment variable holding that password")
    .option(
      "--keystore-dir <dir>",
      "keystores for the validator client: <dir>/keys + <dir>/passwords (Teku layout)",
    )
    .option("--keymanager-url <url>", "import keystores through this Keymanager API instead")
    .option("--low-water <n>", "keep at least this many uploaded, undeposited keys", "50")
    .option("--batch-size <n>", "keys per top-up", "50")
    .option("--start-index <n>", "first index to derive (an imported mnemonic whose lower indices are used)")
    .option("--mnemonic-kdf-cost <n>", "scrypt n of the mnemonic file (default 262144)")
    .option("--yes", "accept the pool's withdrawal credentials without asking")
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const s = (k: string) => opts[k] as string | undefined;
      const password = (await passwordFrom(
        { passwordFile: s("passwordFile"), passwordEnv: s("passwordEnv") },
        true,
      ))!;
      const token = passwordFromFile(await readInputFile(s("tokenFile")!, "--token-file")).trim();
      const mnemonic =
        s("mnemonicFile") === undefined
          ? undefined
          : (await readInputFile(s("mnemonicFile")!, "--mnemonic-file")).trim();
      const { initDaemonDir } = await import("@poolkeeper/operator-daemon");
      const r = await initDaemonDir({
        dir: s("dir")!,
        apiUrl: s("apiUrl")!,
        operatorId: int(s("operatorId"), "--operator-id", 0),
        token,
        network: s("network")!,
        ...(mnemonic === undefined ? {} : { mnemonic }),
        ...(s("mnemonicOut") === undefined ? {} : { mnemonicOut: s("mnemonicOut")! }),
        password,
        ...(s("keystoreDir") === undefined ? {} : { keystoreDir: s("keystoreDir")! }),
        ...(s("keymanagerUrl") === undefined ? {} : { keymanagerUrl: s("keymanagerUrl")! }),
        lowWater: int(s("lowWater"), "--low-water", 50),
        batchSize: int(s("batchSize"), "--batch-size", 50),
        ...(s("startIndex") === undefined ? {} : { startIndex: int(s("startIndex"), "--start-index", 0) }),
        ...(s("mnemonicKdfCost") === undefined
          ? {}
          : { mnemonicKdfCost: int(s("mnemonicKdfCost"), "--mnemonic-kdf-cost", 0) }),
        async confirm(identity) {
          process.stderr.write(
            `The pool (network ${identity.network}) takes deposits with withdrawal credentials\n  ${identity.withdrawalCredentials}\n`,
          );
          if (opts.yes === true) return true;
          return confirmOnTty("Derive and upload keys for these credentials? [y/N] ");
        },
      });
      process.stderr.write(
        `daemon directory ${r.dir} written for operator ${r.operatorName}; mnemonic ${r.generated ? "generated" : "imported"} and encrypted${r.generated && s("mnemonicOut") === undefined ? " (no backup was asked for: --mnemonic-out)" : ""}\n`,
      );
    });
  cmd
    .command("presign")
    .description("Pre-sign exits, encrypted as Lido's validator-ejector reads them (one file per validator)")
    .requiredOption("--dir <dir>", "the daemon's directory")
    .requiredOption("--out <dir>", "where the encrypted messages go (<validator index>.json, 0600)")
    .requiredOption(
      "--messages-password-file <file>",
      "the password the messages are encrypted with (the ejector's MESSAGES_PASSWORD)",
    )
    .requiredOption("--beacon-url <url>", "beacon node (validator indices); repeat for several", collect)
    .requiredOption("--epoch <n>", "the exits' epoch (not after the chain's current epoch when submitted)")
    .option("--from <i>", "first derivation index", "0")
    .option("--count <n>", "how many indices", "1")
    .option("--preset <name>", "consensus preset of the nodes: mainnet | minimal", "mainnet")
    .option("--password-file <file>", "file holding the mnemonic's password")
    .option("--password-env <name>", "environment variable holding it")
    .action(async (opts: Record<string, string | string[] | undefined>) => {
      const s = (k: string) => opts[k] as string | undefined;
      const password = (await passwordFrom(
        { passwordFile: s("passwordFile"), passwordEnv: s("passwordEnv") },
        true,
      ))!;
      const messagesPassword = passwordFromFile(
        await readInputFile(s("messagesPasswordFile")!, "--messages-password-file"),
      );
      const { presignFromDir } = await import("@poolkeeper/operator-daemon");
      const r = await presignFromDir({
        dir: s("dir")!,
        password,
        beaconUrls: opts.beaconUrl as string[],
        preset: s("preset") === "minimal" ? "minimal" : "mainnet",
        from: int(s("from"), "--from", 0),
        count: int(s("count"), "--count", 1),
        epoch: int(s("epoch"), "--epoch", 0),
        messagesPassword,
        outDir: s("out")!,
      });
      process.stderr.write(
        `${r.written.length} encrypted exit messages written to ${s("out")}${r.skipped.length > 0 ? `; not validators yet: indices ${r.skipped.join(", ")}` : ""}\n`,
      );
    });
  cmd
    .command("run")
    .description("Run the daemon of a directory `daemon init` wrote")
    .requiredOption("--dir <dir>", "the daemon's directory")
    .option("--password-file <file>", "file holding the mnemonic's password (DAEMON_MNEMONIC_PASSWORD_FILE)")
    .option("--password-env <name>", "environment variable holding it")
    .option("--beacon-url <url>", "beacon node for exits (repeat for several; BEACON_URLS)", collect)
    .option("--preset <name>", "consensus preset of the nodes: mainnet | minimal (DAEMON_PRESET)")
    .option(
      "--exit-signer <who>",
      "mnemonic | keymanager | none (DAEMON_EXIT_SIGNER; none: exit requests are not followed)",
    )
    .option("--keymanager-token-file <file>", "the Keymanager API's token (DAEMON_KEYMANAGER_TOKEN_FILE)")
    .option("--metrics-port <port>", "Prometheus /metrics and /health port (METRICS_PORT)")
    .option("--poll-seconds <s>", "how often the supply is checked (DAEMON_POLL_SECONDS)")
    .action(async (opts: Record<string, string | string[] | undefined>) => {
      const { envFromDir, runOperatorDaemonProcess } = await import("@poolkeeper/operator-daemon");
      const env = flagsToEnv(
        opts,
        {
          passwordFile: "DAEMON_MNEMONIC_PASSWORD_FILE",
          beaconUrl: "BEACON_URLS",
          preset: "DAEMON_PRESET",
          exitSigner: "DAEMON_EXIT_SIGNER",
          keymanagerTokenFile: "DAEMON_KEYMANAGER_TOKEN_FILE",
          metricsPort: "METRICS_PORT",
          pollSeconds: "DAEMON_POLL_SECONDS",
        },
        await envFromDir(opts.dir as string, process.env),
      );
      if (opts.passwordFile === undefined && opts.passwordEnv !== undefined)
        env.DAEMON_MNEMONIC_PASSWORD = await passwordFrom({ passwordEnv: opts.passwordEnv as string }, true);
      await runOperatorDaemonProcess(env);
    });
}
