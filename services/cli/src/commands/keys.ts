import { resolve } from "node:path";
import {
  ConfigError,
  loadNetwork,
  type Network,
  parseAddress,
  parseEthToGwei,
  parseUint,
  toHex0x,
  ValidationError,
} from "@poolkeeper/core";
import {
  checkDepositAmount,
  decryptKeystore,
  defaultThreads,
  describeDeposits,
  generateKeys,
  generateMnemonic,
  type KdfFunction,
  type KdfSettings,
  launchpadAcceptsCliVersion,
  MAX_VALIDATOR_INDEX,
  MIN_KEYSTORE_PASSWORD_LENGTH,
  type MnemonicLanguage,
  parseMnemonicLanguage,
  pubkeyFromSecret,
  uvThreadpoolSize,
  writeFileAtomic,
} from "@poolkeeper/keys";
import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import { passwordFromFile, readInputFile } from "../input.js";
import { registerExit } from "./keys-exit.js";
import { readKeystoreFile } from "./keys-keystore.js";
import { registerVerify } from "./keys-verify.js";

/**
 * `poolkeeper keys`: offline key tools. Secrets (mnemonic, passwords, keys) come from files,
 * an environment variable or a hidden prompt on a terminal; they are never printed (except the
 * new mnemonic, once, when asked for without --out), logged or put in an error message.
 */

// ---- input helpers ----

function isInteractive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** Read a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolvePrompt, reject) => {
    process.stderr.write(question);
    let value = "";
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const finish = (err?: Error) => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.removeListener("data", onData);
      process.stderr.write("\n");
      if (err === undefined) resolvePrompt(value);
      else reject(err);
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === "\r" || c === "\n" || c === "\u0004") return finish();
        if (c === "\u0003") return finish(new ValidationError("input", "cancelled"));
        if (c === "\u007f" || c === "\b") value = value.slice(0, -1);
        else value += c;
      }
    };
    stdin.on("data", onData);
  });
}

async function promptNewPassword(): Promise<string> {
  for (;;) {
    const a = await promptHidden(`Keystore password (at least ${MIN_KEYSTORE_PASSWORD_LENGTH} characters): `);
    if ([...a].length < MIN_KEYSTORE_PASSWORD_LENGTH) {
      process.stderr.write(`The password must have at least ${MIN_KEYSTORE_PASSWORD_LENGTH} characters.\n`);
      continue;
    }
    const b = await promptHidden("Repeat the keystore password: ");
    if (a === b) return a;
    process.stderr.write("The passwords do not match; try again.\n");
  }
}

function networkOption(value: string): Network {
  try {
    return loadNetwork(value);
  } catch (e) {
    if (e instanceof ConfigError) throw new ValidationError("--network", e.message);
    throw e;
  }
}

function intOption(value: string, flag: string, min: number, max: number): number {
  const n = parseUint(value, flag);
  if (n < BigInt(min) || n > BigInt(max))
    throw new ValidationError(flag, `must be from ${min} to ${max}, got ${value}`);
  return Number(n);
}

// ---- new-mnemonic ----

interface NewMnemonicOptions {
  out?: string;
  language: string;
}

async function newMnemonic(opts: NewMnemonicOptions): Promise<void> {
  const language = parseMnemonicLanguage(opts.language, "--language");
  const mnemonic = generateMnemonic(language);
  if (opts.out !== undefined) {
    const path = resolve(opts.out);
    try {
      await writeFileAtomic(path, `${mnemonic}\n`, { noOverwrite: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ValidationError(
        "--out",
        code === "EEXIST"
          ? `${path} already exists (not overwritten)`
          : `cannot write ${path} (${code ?? "error"})`,
      );
    }
    process.stderr.write(
      `A new 24-word ${language} mnemonic is in ${path} (mode 0600). Back it up offline: it is the only way to recover these keys.\n`,
    );
    return;
  }
  process.stderr.write(
    "Your new mnemonic (24 words). Write it down offline; it is shown once and never stored:\n",
  );
  process.stdout.write(`${mnemonic}\n`);
}

// ---- generate ----

interface GenerateCliOptions {
  mnemonicFile?: string;
  mnemonicEnv?: string;
  mnemonicPasswordFile?: string;
  mnemonicLanguage?: string;
  network: string;
  startIndex: string;
  count: string;
  withdrawalAddress?: string;
  compounding?: boolean;
  amountEth?: string;
  kdf: string;
  kdfCost?: string;
  passwordFile?: string;
  keystores: boolean;
  depositCliVersion?: string;
  threads?: string;
  out: string;
}

async function readMnemonic(opts: GenerateCliOptions): Promise<{ mnemonic: string; field: string }> {
  if (opts.mnemonicFile !== undefined && opts.mnemonicEnv !== undefined) {
    throw new ValidationError("--mnemonic-file", "give either --mnemonic-file or --mnemonic-env, not both");
  }
  if (opts.mnemonicFile !== undefined) {
    return { mnemonic: await readInputFile(opts.mnemonicFile, "--mnemonic-file"), field: "--mnemonic-file" };
  }
  if (opts.mnemonicEnv !== undefined) {
    const value = process.env[opts.mnemonicEnv];
    if (value === undefined || value.trim() === "") {
      throw new ValidationError("--mnemonic-env", `environment variable ${opts.mnemonicEnv} is not set`);
    }
    return { mnemonic: value, field: "--mnemonic-env" };
  }
  if (isInteractive()) {
    return { mnemonic: await promptHidden("Mnemonic (input hidden): "), field: "mnemonic" };
  }
  throw new ValidationError("--mnemonic-file", "is required (or --mnemonic-env) when not on a terminal");
}

async function generate(opts: GenerateCliOptions): Promise<void> {
  // Everything that can be checked without secrets first: a typo fails before any prompt.
  const network = networkOption(opts.network);
  const startIndex = intOption(opts.startIndex, "--start-index", 0, MAX_VALIDATOR_INDEX);
  const count = intOption(opts.count, "--count", 1, 1_000_000);
  const withdrawalAddress =
    opts.withdrawalAddress === undefined
      ? undefined
      : parseAddress(opts.withdrawalAddress, "--withdrawal-address");
  if (opts.compounding === true && withdrawalAddress === undefined) {
    throw new ValidationError(
      "--compounding",
      "needs --withdrawal-address (0x02 credentials pay to an address)",
    );
  }
  const amountGwei =
    opts.amountEth === undefined ? undefined : parseEthToGwei(opts.amountEth, "--amount-eth");
  if (amountGwei !== undefined) {
    const type = withdrawalAddress === undefined ? 0 : opts.compounding === true ? 2 : 1;
    checkDepositAmount(amountGwei, type, "--amount-eth");
  }
  if (opts.depositCliVersion !== undefined && !launchpadAcceptsCliVersion(opts.depositCliVersion)) {
    throw new ValidationError(
      "--deposit-cli-version",
      `"${opts.depositCliVersion}" must be a version x.y.z of at least 1.0.0 (the staking launchpad rejects older ones)`,
    );
  }
  if (opts.kdf !== "scrypt" && opts.kdf !== "pbkdf2") {
    throw new ValidationError("--kdf", `"${opts.kdf}" is not supported: use scrypt or pbkdf2`);
  }
  const kdf = {
    function: opts.kdf as KdfFunction,
    ...(opts.kdfCost === undefined ? {} : { cost: intOption(opts.kdfCost, "--kdf-cost", 1, 1 << 24) }),
  };
  const threads = opts.threads === undefined ? undefined : intOption(opts.threads, "--threads", 0, 256);
  let language: MnemonicLanguage | undefined;
  if (opts.mnemonicLanguage !== undefined)
    language = parseMnemonicLanguage(opts.mnemonicLanguage, "--mnemonic-language");
  const noKeystores = !opts.keystores;
  const outDir = resolve(opts.out);

  const { mnemonic, field: mnemonicField } = await readMnemonic(opts);
  const mnemonicPassword =
    opts.mnemonicPasswordFile === undefined
      ? ""
      : passwordFromFile(await readInputFile(opts.mnemonicPasswordFile, "--mnemonic-password-file"));
  let keystorePassword: string | undefined;
  if (!noKeystores) {
    if (opts.passwordFile !== undefined) {
      keystorePassword = passwordFromFile(await readInputFile(opts.passwordFile, "--password-file"));
    } else if (isInteractive()) {
      keystorePassword = await promptNewPassword();
    } else {
      throw new ValidationError(
        "--password-file",
        "is required to write keystores when not on a terminal (or --no-keystores)",
      );
    }
  }

  const progress = makeProgress(count);
  let result: Awaited<ReturnType<typeof generateKeys>>;
  try {
    result = await generateKeys({
      mnemonic,
      mnemonicPassword,
      ...(language === undefined ? {} : { mnemonicLanguage: language }),
      network,
      startIndex,
      count,
      ...(withdrawalAddress === undefined ? {} : { withdrawalAddress }),
      compounding: opts.compounding === true,
      ...(amountGwei === undefined ? {} : { amountGwei }),
      kdf,
      ...(keystorePassword === undefined ? {} : { keystorePassword }),
      noKeystores,
      outDir,
      ...(opts.depositCliVersion === undefined ? {} : { depositCliVersion: opts.depositCliVersion }),
      ...(threads === undefined ? {} : { threads }),
      onProgress: progress.update,
      fieldNames: {
        mnemonic: mnemonicField,
        startIndex: "--start-index",
        count: "--count",
        withdrawalAddress: "--withdrawal-address",
        compounding: "--compounding",
        amount: "--amount-eth",
        kdf: "--kdf",
        kdfCost: "--kdf-cost",
        keystorePassword: "--password-file",
        outDir: "--out",
        depositCliVersion: "--deposit-cli-version",
        threads: "--threads",
      },
    });
  } finally {
    progress.stop();
  }
  const out = process.stdout;
  out.write(
    `deposit data: ${result.depositDataFile}${result.depositDataWritten ? "" : " (already there, identical)"}\n  ${describeDeposits(result.deposits)}, indices ${startIndex}..${startIndex + count - 1}\n`,
  );
  if (!noKeystores) {
    out.write(
      `keystores: ${result.keystoresCreated} written${result.keystoresReused > 0 ? `, ${result.keystoresReused} kept from an earlier run` : ""}, in ${result.outDir}\n`,
    );
    if (threads === undefined && result.keystoresCreated > 1) out.write(threadpoolNote(kdf));
  }
}

/**
 * KDFs run on libuv's thread pool, whose size is fixed when the process starts (UV_THREADPOOL_SIZE,
 * default 4): on a machine with more cores, say how to use them all.
 */
function threadpoolNote(kdf: KdfSettings): string {
  const used = defaultThreads(kdf);
  const wanted = defaultThreads(kdf, { uvThreads: Number.MAX_SAFE_INTEGER });
  if (used >= wanted) return "";
  const pool = uvThreadpoolSize();
  return `  ${used} keystore${used === 1 ? "" : "s"} at once: libuv's thread pool has ${pool} thread${pool === 1 ? "" : "s"}; run with UV_THREADPOOL_SIZE=${wanted + 1} to use every core\n`;
}

interface Progress {
  update: (done: number, total: number) => void;
  stop: () => void;
}

/** A bar on a terminal; otherwise one line every 5 seconds (and none for quick runs). */
function makeProgress(total: number): Progress {
  if (process.stderr.isTTY === true) {
    const bar = new SingleBar({
      format: "generating keys [{bar}] {value}/{total} {percentage}% eta {eta_formatted}",
      stream: process.stderr,
      hideCursor: true,
    });
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  let last = Date.now();
  let lastDone = 0;
  return {
    update: (done, t) => {
      lastDone = done;
      const now = Date.now();
      if (now - last >= 5000) {
        last = now;
        process.stderr.write(`generating keys: ${done}/${t}\n`);
      }
    },
    stop: () => {
      if (lastDone > 0 && Date.now() - last >= 5000)
        process.stderr.write(`generating keys: ${lastDone}/${total}\n`);
    },
  };
}

// ---- decrypt ----

interface DecryptOptions {
  keystore: string;
  passwordFile?: string;
}

async function decrypt(opts: DecryptOptions): Promise<void> {
  const json = await readKeystoreFile(opts.keystore, "--keystore");
  let password: string;
  if (opts.passwordFile !== undefined) {
    password = passwordFromFile(await readInputFile(opts.passwordFile, "--password-file"));
  } else if (isInteractive()) {
    password = await promptHidden("Keystore password: ");
  } else {
    throw new ValidationError("--password-file", "is required when not on a terminal");
  }
  const secret = await decryptKeystore(json, password, "--password-file");
  try {
    process.stdout.write(`pubkey: ${toHex0x(pubkeyFromSecret(secret))}\npath: ${json.path}\n`);
  } finally {
    secret.fill(0);
  }
}

// ---- registration ----

export function register(program: Command): void {
  const keys = program
    .command("keys")
    .description("Validator keys: mnemonics, keystores, deposit data, exits");

  keys
    .command("new-mnemonic")
    .description("Make a new 24-word BIP-39 mnemonic: shown once on stdout, or written to --out (0600)")
    .option(
      "--out <file>",
      "write the mnemonic to this file (mode 0600, never overwritten) instead of stdout",
    )
    .option("--language <language>", "wordlist language", "english")
    .action(newMnemonic);

  keys
    .command("generate")
    .description(
      "Write EIP-2335 keystores and a deposit_data-<unix>.json for indices start..start+count-1, like ethstaker-deposit-cli",
    )
    .option("--mnemonic-file <file>", "file holding the mnemonic")
    .option("--mnemonic-env <var>", "environment variable holding the mnemonic")
    .option("--mnemonic-password-file <file>", "file holding the optional BIP-39 mnemonic password")
    .option("--mnemonic-language <language>", "wordlist of the mnemonic (detected when not given)")
    .requiredOption("--network <network>", "mainnet | sepolia | holesky | hoodi | PATH.json")
    .requiredOption("--start-index <i>", "first EIP-2334 index")
    .requiredOption("--count <n>", "number of validators")
    .option(
      "--withdrawal-address <address>",
      "execution address: 0x01 credentials (0x02 with --compounding); none: 0x00",
    )
    .option("--compounding", "0x02 (compounding, EIP-7251) credentials; allows --amount-eth from 32 to 2048")
    .option("--amount-eth <eth>", "deposit amount per validator in ETH (default 32)")
    .option("--kdf <kdf>", "keystore KDF: scrypt | pbkdf2", "scrypt")
    .addOption(
      new Option("--kdf-cost <n>", "scrypt N or pbkdf2 c (lower than the default only for tests)").hideHelp(),
    )
    .option("--password-file <file>", "file holding the keystore password (prompted for on a terminal)")
    .option("--no-keystores", "write only the deposit data")
    .option("--deposit-cli-version <v>", "deposit_cli_version written in the deposit data (default 2.7.0)")
    .option(
      "--threads <n>",
      "parallel jobs: worker threads for derivation and signing, and keystores encrypted at once (default: from cores and free memory)",
    )
    .requiredOption("--out <dir>", "output directory (created with mode 0700)")
    .action(generate);

  keys
    .command("decrypt")
    .description("Check a keystore password: prints only the pubkey and the path, never the secret")
    .requiredOption("--keystore <file>", "EIP-2335 keystore")
    .option("--password-file <file>", "file holding the keystore password (prompted for on a terminal)")
    .action(decrypt);

  registerVerify(keys);
  registerExit(keys);
}
