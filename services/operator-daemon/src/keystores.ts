/**
 * How keystores reach the validator client.
 *
 * - `TekuLayout`: plain EIP-2335 files, Teku's `--validator-keys=<dir>/keys:<dir>/passwords`
 *   layout (Lodestar, Nimbus and Lighthouse's `validator_manager import` read it too): each
 *   keys/keystore-m_12381_3600_<i>_0_0.json has its password in passwords/keystore-m_12381_3600_<i>_0_0.txt.
 *   The password file is written first, so a client never sees a keystore it cannot open.
 * - `KeymanagerImport`: `POST /eth/v1/keystores` of a running validator client, with an EIP-3076
 *   slashing-protection interchange (format 5) naming each key with no signed blocks or
 *   attestations: the keys are new. "duplicate" answers (a repeated import after a crash) are fine.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { PoolkeeperError, toHex0x } from "@poolkeeper/core";
import { ensurePrivateDir, fsyncDir, writeFileAtomic } from "@poolkeeper/keys";
import { DAEMON_ERRORS } from "./errors.js";

export interface DeliveredKey {
  index: number;
  pubkey: string;
  /** The keystore file in the batch's staging directory. */
  file: string;
  password: string;
  /** A fsynced file holding `password` (the batch's): linked instead of written again. */
  passwordFile?: string;
}

export interface KeystoreSink {
  readonly kind: "files" | "keymanager";
  deliver(keys: readonly DeliveredKey[]): Promise<void>;
}

export function keystoreName(index: number): string {
  return `keystore-m_12381_3600_${index}_0_0`;
}

export class TekuLayout implements KeystoreSink {
  readonly kind = "files";
  readonly keysDir: string;
  readonly passwordsDir: string;

  constructor(root: string) {
    this.keysDir = join(root, "keys");
    this.passwordsDir = join(root, "passwords");
  }

  async deliver(keys: readonly DeliveredKey[]): Promise<void> {
    await ensurePrivateDir(this.keysDir);
    await ensurePrivateDir(this.passwordsDir);
    const todo: DeliveredKey[] = [];
    for (const k of keys)
      if (!(await exists(join(this.keysDir, `${keystoreName(k.index)}.json`)))) todo.push(k); // delivered before a restart
    // Passwords first (all of them durable), then the keystores: a client never sees a keystore
    // without its password. Hard links of the staged files (already fsynced) where the file system
    // allows, so each file costs a directory entry, not another write and fsync.
    for (const k of todo) {
      const target = join(this.passwordsDir, `${keystoreName(k.index)}.txt`);
      await fs.rm(target, { force: true }); // a half-delivered key's password: made again
      await linkOrWrite(k.passwordFile, target, k.password);
    }
    await fsyncDir(this.passwordsDir);
    for (const k of todo) await linkOrWrite(k.file, join(this.keysDir, `${keystoreName(k.index)}.json`));
    await fsyncDir(this.keysDir);
  }
}

/** Link `source` to `target` (EEXIST: there already); across file systems, write a copy atomically. */
async function linkOrWrite(source: string | undefined, target: string, data?: string): Promise<void> {
  try {
    if (source === undefined) throw Object.assign(new Error("no source"), { code: "EXDEV" });
    await fs.link(source, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "ENOTSUP") throw e;
    try {
      await writeFileAtomic(target, data ?? (await fs.readFile(source!)), {
        noOverwrite: true,
        syncDir: false,
      });
    } catch (w) {
      if ((w as NodeJS.ErrnoException).code !== "EEXIST") throw w;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

/** EIP-3076 interchange (format 5) for keys that never signed: one entry each, empty histories. */
export function emptyInterchange(genesisValidatorsRoot: Uint8Array, pubkeys: readonly string[]): string {
  return JSON.stringify({
    metadata: { interchange_format_version: "5", genesis_validators_root: toHex0x(genesisValidatorsRoot) },
    data: pubkeys.map((p) => ({
      pubkey: p.startsWith("0x") ? p : `0x${p}`,
      signed_blocks: [],
      signed_attestations: [],
    })),
  });
}

export class KeymanagerImport implements KeystoreSink {
  readonly kind = "keymanager";

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly genesisValidatorsRoot: Uint8Array,
    private readonly doFetch: typeof fetch = fetch,
  ) {}

  async deliver(keys: readonly DeliveredKey[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 100) {
      const chunk = keys.slice(i, i + 100);
      const body = {
        keystores: await Promise.all(chunk.map((k) => fs.readFile(k.file, "utf8"))),
        passwords: chunk.map((k) => k.password),
        slashing_protection: emptyInterchange(
          this.genesisValidatorsRoot,
          chunk.map((k) => k.pubkey),
        ),
      };
      const res = await this.doFetch(`${this.url.replace(/\/+$/, "")}/eth/v1/keystores`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
        body: JSON.stringify(body),
      });
      if (!res.ok) {
        await res.body?.cancel();
        throw new PoolkeeperError(
          DAEMON_ERRORS.KEYMANAGER,
          `Keymanager API: POST /eth/v1/keystores answered ${res.status}`,
        );
      }
      const json = (await res.json()) as { data?: { status?: string }[] };
      const bad = (json.data ?? []).filter((d) => d.status !== "imported" && d.status !== "duplicate");
      if ((json.data ?? []).length !== chunk.length || bad.length > 0) {
        throw new PoolkeeperError(
          DAEMON_ERRORS.KEYMANAGER,
          `Keymanager API: ${bad.length} of ${chunk.length} keystores not imported (status ${bad[0]?.status ?? "missing"})`,
        );
      }
    }
  }
}
