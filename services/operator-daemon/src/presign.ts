/**
 * Pre-signed exits for an operator who wants the pool (or its own validator-ejector) to hold
 * them: for each derivation index, the voluntary exit at `epoch` signed with the key from the
 * mnemonic, encrypted as Lido's validator-ejector reads its messages (an EIP-2335 keystore with a
 * pbkdf2 KDF whose plaintext is the signed exit's JSON; MESSAGES_PASSWORD opens it), one file
 * `<validator index>.json` each (0600, never overwritten). The validator index comes from the
 * beacon node (the key must be a validator already). The messages are secrets: never logged.
 */
import { join } from "node:path";
import type { Network } from "@poolkeeper/core";
import {
  encryptSecretBytes,
  ensurePrivateDir,
  pubkeyFromSecret,
  seedFromCanonical,
  signVoluntaryExit,
  ValidatorKeyDeriver,
  writeFileAtomic,
} from "@poolkeeper/keys";

export interface PresignOptions {
  mnemonic: string;
  network: Network;
  indices: readonly number[];
  epoch: number;
  /** The validator index of a pubkey (hex, no 0x) on the chain; undefined when it is none yet. */
  validatorIndexOf: (pubkey: string) => Promise<number | undefined>;
  messagesPassword: string;
  outDir: string;
  /** pbkdf2 c (default EIP-2335's 262144). */
  kdfCost?: number;
}

export interface PresignResult {
  written: { index: number; validatorIndex: number; file: string }[];
  /** Derivation indices whose key is no validator yet. */
  skipped: number[];
}

export async function presignExits(o: PresignOptions): Promise<PresignResult> {
  const seed = seedFromCanonical(o.mnemonic);
  const deriver = ValidatorKeyDeriver.fromSeed(seed);
  seed.fill(0);
  await ensurePrivateDir(o.outDir);
  const out: PresignResult = { written: [], skipped: [] };
  for (const index of o.indices) {
    const { signingKey, withdrawalKey } = deriver.keys(index);
    withdrawalKey.fill(0);
    try {
      const pubkey = Buffer.from(pubkeyFromSecret(signingKey)).toString("hex");
      const validatorIndex = await o.validatorIndexOf(pubkey);
      if (validatorIndex === undefined) {
        out.skipped.push(index);
        continue;
      }
      const signed = signVoluntaryExit({
        secretKey: signingKey,
        validatorIndex,
        epoch: o.epoch,
        network: o.network,
      });
      const plain = Buffer.from(JSON.stringify(signed), "utf8");
      const ks = await encryptSecretBytes(plain, o.messagesPassword, {
        kdf: { function: "pbkdf2", ...(o.kdfCost === undefined ? {} : { cost: o.kdfCost }) },
      });
      plain.fill(0);
      const file = join(o.outDir, `${validatorIndex}.json`);
      await writeFileAtomic(file, JSON.stringify(ks), { noOverwrite: true });
      out.written.push({ index, validatorIndex, file });
    } finally {
      signingKey.fill(0);
    }
  }
  return out;
}

/** `poolkeeper daemon presign`: the directory's mnemonic and network, validator indices from beacon nodes. */
export async function presignFromDir(o: {
  dir: string;
  password: string;
  beaconUrls: string[];
  preset: "mainnet" | "minimal";
  from: number;
  count: number;
  epoch: number;
  messagesPassword: string;
  outDir: string;
}): Promise<PresignResult> {
  const { loadNetwork } = await import("@poolkeeper/core");
  const { BeaconNodePool } = await import("@poolkeeper/beacon");
  const { readDaemonConfig, readEncryptedMnemonic } = await import("./dir.js");
  const config = await readDaemonConfig(o.dir);
  const mnemonic = await readEncryptedMnemonic(o.dir, o.password, "--password-file");
  const beacon = await BeaconNodePool.init({ urls: o.beaconUrls, preset: o.preset });
  return presignExits({
    mnemonic,
    network: loadNetwork(config.network),
    indices: Array.from({ length: o.count }, (_, k) => o.from + k),
    epoch: o.epoch,
    validatorIndexOf: async (pubkey) => {
      const i = await beacon.requestJson(
        "validator",
        `/eth/v1/beacon/states/head/validators/0x${pubkey}`,
        (j) => Number((j as { data: { index: string } }).data.index),
      );
      return i === null ? undefined : i;
    },
    messagesPassword: o.messagesPassword,
    outDir: o.outDir,
  });
}
