import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { loadNetwork, toHex0x, ValidationError } from "@poolkeeper/core";
import {
  decryptKeystore,
  pubkeyFromSecret,
  signVoluntaryExit,
  toUint64,
  writeFileAtomic,
} from "@poolkeeper/keys";
import type { Command } from "commander";
import { passwordFromFile, readInputFile } from "../input.js";
import { readKeystoreFile } from "./keys-keystore.js";

export interface KeysExitOptions {
  keystore: string;
  passwordFile: string;
  validatorIndex: string;
  epoch: string;
  network: string;
  out?: string;
}

/** Write the signed exit with mode 0600, atomically, never over an existing file. */
async function writeExitFile(path: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(path, data, { noOverwrite: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ValidationError(
      "--out",
      code === "EEXIST"
        ? `${path} already exists (not overwritten)`
        : `cannot write ${path} (${code ?? "error"})`,
    );
  }
}

export interface KeysExitIo {
  /** Where the signed exit goes when there is no --out. */
  stdout: (text: string) => void;
  /** Notices for the user; never the signed exit. */
  stderr: (text: string) => void;
}

/**
 * Decrypt the keystore and sign a voluntary exit. The signed exit is a secret (it exits the
 * validator): it goes only to --out (0600, atomic, never overwritten) or to stdout.
 */
export async function runKeysExit(opts: KeysExitOptions, io: KeysExitIo): Promise<void> {
  const network = loadNetwork(opts.network);
  const validatorIndex = toUint64(opts.validatorIndex, "--validator-index");
  const epoch = toUint64(opts.epoch, "--epoch");
  if (opts.out !== undefined) {
    const exists = await stat(opts.out).then(
      () => true,
      () => false,
    );
    if (exists) throw new ValidationError("--out", `${opts.out} already exists (not overwritten)`);
    const dir = dirname(opts.out);
    const isDir = await stat(dir).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (!isDir) throw new ValidationError("--out", `${dir} is not an existing directory`);
  }
  const keystore = await readKeystoreFile(opts.keystore, "--keystore");
  const password = passwordFromFile(await readInputFile(opts.passwordFile, "--password-file"));
  const secret = await decryptKeystore(keystore, password, "--password-file");
  let text: string;
  let pubkey: string;
  try {
    pubkey = toHex0x(pubkeyFromSecret(secret));
    text = `${JSON.stringify(signVoluntaryExit({ secretKey: secret, validatorIndex, epoch, network }))}\n`;
  } finally {
    secret.fill(0);
  }
  const what = `voluntary exit for validator ${validatorIndex} (${pubkey}) at epoch ${epoch} on ${network.name}`;
  if (opts.out !== undefined) {
    await writeExitFile(opts.out, text);
    io.stderr(
      `signed a ${what}: written to ${opts.out} (mode 0600). Anyone holding it can exit the validator.\n`,
    );
  } else {
    io.stderr(`signed a ${what}. Anyone holding it can exit the validator: keep it secret.\n`);
    io.stdout(text);
  }
}

/** `poolkeeper keys exit --keystore F --password-file F --validator-index N --epoch E --network NET [--out FILE]` */
export function registerExit(keys: Command): void {
  keys
    .command("exit")
    .description(
      "Sign a voluntary exit (EIP-7044) in the JSON that POST /eth/v1/beacon/pool/voluntary_exits accepts",
    )
    .requiredOption("--keystore <file>", "EIP-2335 keystore of the validator")
    .requiredOption("--password-file <file>", "file holding the keystore password")
    .requiredOption("--validator-index <n>", "the validator's index on the beacon chain")
    .requiredOption("--epoch <e>", "earliest epoch at which the exit is valid")
    .requiredOption("--network <network>", "mainnet | sepolia | holesky | hoodi | PATH.json")
    .option("--out <file>", "write the signed exit here (0600, never overwritten) instead of stdout")
    .action(async (opts: KeysExitOptions) => {
      await runKeysExit(opts, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
      });
    });
}
