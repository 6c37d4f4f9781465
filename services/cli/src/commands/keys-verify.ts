import { readFile } from "node:fs/promises";
import { fromHex, loadNetwork, parseAddress, ValidationError } from "@poolkeeper/core";
import { formatDepositFailure, type VerifyDepositDataOptions, verifyDepositData } from "@poolkeeper/keys";
import type { Command } from "commander";

export interface KeysVerifyOptions {
  network: string;
  withdrawalAddress?: string;
  withdrawalCredentials?: string;
}

/**
 * Read and verify a deposit_data-*.json. Writes one line per failure, then `N passed, M failed`,
 * and returns the exit code: 0 when every entry is valid, 1 otherwise. A file that cannot be read
 * or is not JSON throws one clear error (the caller prints it and exits 1).
 */
export async function runKeysVerify(
  file: string,
  opts: KeysVerifyOptions,
  write: (line: string) => void,
): Promise<number> {
  const network = loadNetwork(opts.network);
  const verifyOpts: VerifyDepositDataOptions = { network };
  if (opts.withdrawalAddress !== undefined) {
    verifyOpts.expectedWithdrawalAddress = parseAddress(opts.withdrawalAddress, "--withdrawal-address");
  }
  if (opts.withdrawalCredentials !== undefined) {
    verifyOpts.expectedWithdrawalCredentials = fromHex(
      opts.withdrawalCredentials,
      "--withdrawal-credentials",
      32,
    );
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ValidationError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError(file, "is not valid JSON (expected a deposit_data-*.json file)");
  }
  const result = verifyDepositData(json, verifyOpts);
  for (const f of result.failures) write(formatDepositFailure(f));
  write(`${result.passed} passed, ${result.failed} failed`);
  return result.failures.length === 0 && result.passed > 0 ? 0 : 1;
}

/** `poolkeeper keys verify FILE --network NET [--withdrawal-address 0x…]` */
export function registerVerify(keys: Command): void {
  keys
    .command("verify")
    .description(
      "Verify a deposit_data-*.json as the staking launchpad does (fields, amounts, network, BLS points, signatures, roots, duplicates)",
    )
    .argument("<file>", "the deposit_data-*.json file")
    .requiredOption("--network <network>", "mainnet | sepolia | holesky | hoodi | PATH.json")
    .option("--withdrawal-address <address>", "every entry must pay this execution address (0x01 or 0x02)")
    .option("--withdrawal-credentials <hex>", "every entry must have exactly these 32 bytes of credentials")
    .action(async (file: string, opts: KeysVerifyOptions) => {
      process.exitCode = await runKeysVerify(file, opts, (line) => process.stdout.write(`${line}\n`));
    });
}
