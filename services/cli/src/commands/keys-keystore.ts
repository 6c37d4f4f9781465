import { open } from "node:fs/promises";
import { isPoolkeeperError, PoolkeeperError, ValidationError } from "@poolkeeper/core";
import { type KeystoreJson, parseKeystore } from "@poolkeeper/keys";

/** A keystore is under 2 KiB; anything much larger is not one (and is not read whole). */
const MAX_KEYSTORE_BYTES = 64 * 1024;

/**
 * Read and check the keystore named by `flag` (structure, and KDF parameters within KDF_CAPS)
 * before anything asks for a password or runs a KDF. Reads at most 64 KiB (a pipe or /dev/zero
 * cannot stall it). Every failure is one error naming the flag; the code of the keys package's
 * error (e.g. ERR_KEYSTORE_KDF_COST) is kept.
 */
export async function readKeystoreFile(path: string, flag: string): Promise<KeystoreJson> {
  let text: string;
  try {
    const h = await open(path, "r");
    try {
      const buf = Buffer.alloc(MAX_KEYSTORE_BYTES + 1);
      let size = 0;
      for (;;) {
        const { bytesRead } = await h.read(buf, size, buf.length - size);
        if (bytesRead === 0) break;
        size += bytesRead;
        if (size > MAX_KEYSTORE_BYTES) {
          throw new ValidationError(flag, `${path} is larger than 64 KiB: not an EIP-2335 keystore`);
        }
      }
      text = buf.toString("utf8", 0, size);
    } finally {
      await h.close();
    }
  } catch (e) {
    if (isPoolkeeperError(e)) throw e;
    throw new ValidationError(
      flag,
      `${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError(flag, `${path} is not valid JSON`);
  }
  try {
    return parseKeystore(json);
  } catch (e) {
    if (!isPoolkeeperError(e)) throw e;
    throw new PoolkeeperError(e.code, `${flag}: ${e.message}`, e.details, { cause: e });
  }
}
