import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadNetwork, toHex } from "@poolkeeper/core";
import { afterAll, describe, expect, it } from "vitest";
import { ValidatorKeyDeriver } from "../src/derive.js";
import { type GenerateOptions, generateKeys } from "../src/generate.js";
import { decryptKeystore, encryptKeystoreSync, serializeKeystore } from "../src/keystore.js";
import { mnemonicToSeed } from "../src/mnemonic.js";
import {
  bundledWorkerEntry,
  createKeyPool,
  defaultThreads,
  prepareKey,
  runKeyTask,
  sealKeystore,
  uvThreadpoolSize,
  wipeKey,
  workerExecArgv,
} from "../src/pool.js";
import { pubkeyFromSecret } from "../src/signing.js";

const MNEMONIC = "test test test test test test test test test test test waste";
const OTHER = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const root = mkdtempSync(join(tmpdir(), "pk-generate-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `run-${n++}`);
const mainnet = loadNetwork("mainnet");
const base = (outDir: string, over: Partial<GenerateOptions> = {}): GenerateOptions => ({
  mnemonic: MNEMONIC,
  network: mainnet,
  startIndex: 0,
  count: 2,
  kdf: { function: "pbkdf2", cost: 64 },
  keystorePassword: "a good password",
  outDir,
  timestamp: 1700000000,
  ...over,
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("generateKeys", () => {
  it("writes 0600 keystores that decrypt to the derived keys, and the deposit data, in a 0700 dir", async () => {
    const dir = fresh();
    const seen: number[] = [];
    const r = await generateKeys(base(dir, { count: 3, startIndex: 5, onProgress: (d) => seen.push(d) }));
    expect(seen).toEqual([1, 2, 3]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(r.keystoreFiles.map((f) => f.slice(dir.length + 1))).toEqual([
      "keystore-m_12381_3600_5_0_0-1700000000.json",
      "keystore-m_12381_3600_6_0_0-1700000000.json",
      "keystore-m_12381_3600_7_0_0-1700000000.json",
    ]);
    expect(r.depositDataFile).toBe(join(dir, "deposit_data-1700000000.json"));
    const deriver = ValidatorKeyDeriver.fromSeed(mnemonicToSeed(MNEMONIC));
    for (const [k, file] of r.keystoreFiles.entries()) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const secret = await decryptKeystore(JSON.parse(readFileSync(file, "utf8")), "a good password");
      expect(toHex(secret)).toBe(toHex(deriver.keys(5 + k).signingKey));
      expect(toHex(pubkeyFromSecret(secret))).toBe(r.deposits[k]!.pubkey);
    }
    const deposits = JSON.parse(readFileSync(r.depositDataFile, "utf8")) as { pubkey: string }[];
    expect(deposits.map((d) => d.pubkey)).toEqual(r.deposits.map((d) => d.pubkey));
  });

  it("worker pool and inline runs give the same deposit data", async () => {
    const a = await generateKeys(base(fresh(), { noKeystores: true, count: 4, threads: 0 }));
    const b = await generateKeys(base(fresh(), { noKeystores: true, count: 4, threads: 2 }));
    expect(b.threads).toBe(2);
    expect(readFileSync(b.depositDataFile, "utf8")).toBe(readFileSync(a.depositDataFile, "utf8"));
  });

  it("prepared keys: sealKeystore encrypts the prepared key, and their secrets are zeroed on success, failure or wipe", async () => {
    const deriver = ValidatorKeyDeriver.fromSeed(mnemonicToSeed(MNEMONIC));
    const task = {
      node: deriver.nodeSecret(),
      withdrawal: { type: 0 as const },
      amountGwei: 32_000_000_000n,
      network: mainnet,
      depositCliVersion: "2.7.0",
      keystore: { password: "a good password", kdf: { function: "pbkdf2" as const, cost: 64 } },
    };
    const p = prepareKey(task, 5);
    const expected = deriver.keys(5).signingKey;
    expect(p.keys.signingKey).toEqual(expected);
    const sealed = await sealKeystore(task, p);
    expect(p.keys.signingKey.every((b) => b === 0)).toBe(true);
    expect(p.keys.withdrawalKey.every((b) => b === 0)).toBe(true);
    expect(sealed.pubkey).toBe(toHex(pubkeyFromSecret(expected)));
    expect(await decryptKeystore(JSON.parse(sealed.keystore), "a good password")).toEqual(expected);

    const bad = { ...task, keystore: { ...task.keystore, kdf: { function: "scrypt" as const, cost: 3 } } };
    const q = prepareKey(bad, 6);
    await expect(sealKeystore(bad, q)).rejects.toThrow("kdf: scrypt n=3 must be a power of 2");
    expect(q.keys.signingKey.every((b) => b === 0)).toBe(true);
    const w = prepareKey(task, 7);
    wipeKey(w);
    expect(w.keys.signingKey.every((b) => b === 0)).toBe(true);
  });

  it("a KDF cost that cannot be used (not a power of 2, above the caps) is refused before anything is written", async () => {
    const dir = fresh();
    const e = await rejection(generateKeys(base(dir, { count: 5, kdf: { function: "scrypt", cost: 3 } })));
    expect(e.message).toBe("kdfCost: scrypt n=3 must be a power of 2 up to 1048576");
    const cap = await rejection(
      generateKeys(base(dir, { count: 5, kdf: { function: "pbkdf2", cost: 2 ** 21 } })),
    );
    expect(cap).toMatchObject({ code: "ERR_KEYSTORE_KDF_COST" });
    expect(cap.message).toMatch(/^kdfCost: pbkdf2 c=2097152 iterations is above the cap of 1048576/);
    expect(existsSync(dir)).toBe(false);
  });

  it("worker threads give the same entries from the bundled entry and from the tsx fallback", async () => {
    const deriver = ValidatorKeyDeriver.fromSeed(mnemonicToSeed(MNEMONIC));
    const task = {
      node: deriver.nodeSecret(),
      indices: [0, 1, 2],
      withdrawal: { type: 0 as const },
      amountGwei: 32_000_000_000n,
      network: mainnet,
      depositCliVersion: "2.7.0",
    };
    const entry = await bundledWorkerEntry();
    expect(entry).toMatch(/\/node_modules\/\.cache\/poolkeeper-keys\/key-task-[0-9a-f]{16}\.mjs$/);
    // The bundle is plain JavaScript: no TypeScript loader needed to import it.
    expect(readFileSync(new URL(entry), "utf8")).not.toMatch(/from "@poolkeeper\//);
    const inline = runKeyTask(task);
    for (const workerEntry of ["bundled", "tsx"] as const) {
      const pool = createKeyPool(1, { workerEntry });
      try {
        await pool.start();
        expect(await pool.run(task)).toEqual(inline);
      } finally {
        await pool.close();
      }
    }
  });

  it("reuses the bundled worker entry while its inputs are unchanged, and rebuilds it when they differ", async () => {
    const entry = await bundledWorkerEntry();
    const manifestFile = new URL("key-task.json", entry);
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as {
      bundle: string;
      inputs: Record<string, [number, number]>;
    };
    expect(manifest.bundle).toBe(entry.split("/").pop());
    // Every workspace source and npm file that went into the bundle, each with its size and mtime.
    const inputs = Object.keys(manifest.inputs);
    expect(inputs).toContain(fileURLToPath(new URL("../src/key-task.ts", import.meta.url)));
    expect(inputs.some((p) => p.includes("/@chainsafe/ssz/"))).toBe(true);
    // core's logger (and pino) is left out of the bundle: @poolkeeper/core has no side effects.
    expect(readFileSync(new URL(entry), "utf8")).not.toMatch(/node_modules\/\.pnpm\/pino@/);
    const written = statSync(manifestFile).mtimeMs;
    expect(await bundledWorkerEntry()).toBe(entry);
    expect(statSync(manifestFile).mtimeMs).toBe(written); // reused: nothing rebuilt
    for (const stale of [
      { ...manifest, inputs: { ...manifest.inputs, [inputs[0]!]: [0, 0] } }, // an input changed
      { ...manifest, bundle: "key-task-0000000000000000.mjs" }, // the bundle is gone
    ]) {
      writeFileSync(manifestFile, JSON.stringify(stale));
      expect(await bundledWorkerEntry()).toBe(entry);
      expect(JSON.parse(readFileSync(manifestFile, "utf8"))).toEqual(manifest);
    }
  });

  it("worker threads do not inherit the process's module loaders", () => {
    expect(workerExecArgv(["--import", "tsx", "--max-old-space-size=4096", "--loader=x", "-r", "y"])).toEqual(
      ["--max-old-space-size=4096"],
    );
    expect(workerExecArgv(["--import=tsx", "--enable-source-maps"])).toEqual(["--enable-source-maps"]);
  });

  it("resumes: keeps existing keystores, makes only the missing ones, one file per index", async () => {
    const dir = fresh();
    await generateKeys(base(dir, { count: 2 }));
    writeFileSync(join(dir, ".poolkeeper-tmp-keystore-m_12381_3600_2_0_0-1.json.abc"), "partial");
    const r = await generateKeys(base(dir, { count: 4, timestamp: 1700000100 }));
    expect(r.keystoresReused).toBe(2);
    expect(r.keystoresCreated).toBe(2);
    const names = readdirSync(dir).sort();
    expect(names.filter((f) => f.startsWith("keystore-"))).toEqual([
      "keystore-m_12381_3600_0_0_0-1700000000.json",
      "keystore-m_12381_3600_1_0_0-1700000000.json",
      "keystore-m_12381_3600_2_0_0-1700000100.json",
      "keystore-m_12381_3600_3_0_0-1700000100.json",
    ]);
    expect(names.some((f) => f.startsWith(".poolkeeper-tmp-"))).toBe(false);
    const whole = await generateKeys(base(fresh(), { count: 4, noKeystores: true }));
    expect(readFileSync(r.depositDataFile, "utf8")).toBe(readFileSync(whole.depositDataFile, "utf8"));
    // The same run again writes nothing new.
    const again = await generateKeys(base(dir, { count: 4, timestamp: 1700000200 }));
    expect(again.keystoresCreated).toBe(0);
    expect(again.depositDataWritten).toBe(false);
    expect(again.depositDataFile).toBe(r.depositDataFile);
    expect(readdirSync(dir).sort()).toEqual(names);
  });

  it("a resumed run must use the earlier run's keystore password", async () => {
    const dir = fresh();
    await generateKeys(base(dir, { count: 1 }));
    const e = await rejection(generateKeys(base(dir, { count: 2, keystorePassword: "another password" })));
    expect(e.message).toMatch(
      /^keystorePassword: does not open .*keystore-m_12381_3600_0_0_0-1700000000.json, written by an earlier run/,
    );
    expect(e.message).not.toContain("another password");
    expect(readdirSync(dir).filter((f) => f.startsWith("keystore-"))).toHaveLength(1);
  });

  it("a resumed run refuses a keystore in --out whose KDF is above the caps, before any KDF work", async () => {
    const dir = fresh();
    await generateKeys(base(dir, { count: 1 }));
    const file = join(dir, "keystore-m_12381_3600_0_0_0-1700000000.json");
    const ks = JSON.parse(readFileSync(file, "utf8")) as { crypto: { kdf: unknown } };
    ks.crypto.kdf = {
      function: "scrypt",
      params: { dklen: 32, n: 2 ** 20, r: 8, p: 16, salt: "00".repeat(32) },
      message: "",
    };
    writeFileSync(file, JSON.stringify(ks));
    const e = await rejection(generateKeys(base(dir, { count: 2 })));
    expect(e).toMatchObject({ code: "ERR_BAD_KEYSTORE" });
    expect(e.message).toContain(
      "keystore-m_12381_3600_0_0_0-1700000000.json.crypto.kdf.params: scrypt n=1048576, r=8 needs 128·n·r = 1 GiB of memory, above the cap of 256 MiB",
    );
    expect(readdirSync(dir).filter((f) => f.startsWith("keystore-"))).toHaveLength(1);
  });

  it("refuses a keystore of another mnemonic for a requested index", async () => {
    const dir = fresh();
    await generateKeys(base(dir, { mnemonic: OTHER, count: 1 }));
    const e = await rejection(generateKeys(base(dir, { count: 2, timestamp: 1700000300 })));
    expect(e.message).toMatch(/holds another key than index 0 of this mnemonic/);
    expect(readdirSync(dir).filter((f) => f.startsWith("keystore-"))).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.startsWith("deposit_data-"))).toHaveLength(1);
  });

  it("refuses a keystore whose path is not its index", async () => {
    const dir = fresh();
    await generateKeys(base(dir, { count: 1 }));
    const ks = encryptKeystoreSync({
      secret: new Uint8Array(32).fill(1),
      password: "x",
      path: "m/12381/3600/9/0/0",
      kdf: { function: "pbkdf2", cost: 1 },
    });
    writeFileSync(join(dir, "keystore-m_12381_3600_1_0_0-1.json"), serializeKeystore(ks));
    const e = await rejection(generateKeys(base(dir, { count: 2 })));
    expect(e.message).toMatch(/has path "m\/12381\/3600\/9\/0\/0", not m\/12381\/3600\/1\/0\/0/);
  });

  it("a live lock blocks, a stale lock is taken over", async () => {
    const dir = fresh();
    await generateKeys(base(dir, { noKeystores: true }));
    writeFileSync(join(dir, ".poolkeeper-generate.lock"), "1"); // pid 1 is always alive
    expect((await rejection(generateKeys(base(dir, { noKeystores: true })))).message).toMatch(
      /another key generation/,
    );
    writeFileSync(join(dir, ".poolkeeper-generate.lock"), "999999999");
    await generateKeys(base(dir, { noKeystores: true, count: 3 }));
    expect(readdirSync(dir).includes(".poolkeeper-generate.lock")).toBe(false);
  });

  it("validates every input before writing anything; errors never hold the secrets", async () => {
    const cases: [Partial<GenerateOptions>, RegExp][] = [
      [{ count: 0 }, /^count: must be an integer of at least 1/],
      [{ startIndex: -1 }, /^startIndex: must be an integer/],
      [{ startIndex: 0xffffffff, count: 2 }, /^count: start index 4294967295 \+ count 2 goes past/],
      [{ compounding: true }, /^compounding: needs a withdrawal address/],
      [{ amountGwei: 33_000_000_000n }, /^amount: 33 ETH is out of range for 0x00/],
      [
        { withdrawalAddress: new Uint8Array(20), compounding: true, amountGwei: 2049_000_000_000n },
        /^amount: 2049 ETH is out of range for 0x02/,
      ],
      [{ keystorePassword: "short" }, /^keystorePassword: must have at least 8 characters/],
      [{ keystorePassword: undefined }, /^keystorePassword: is required/],
      [{ depositCliVersion: "0.9.0" }, /^depositCliVersion: "0.9.0" must be a version/],
      [{ mnemonic: MNEMONIC.replace("waste", "test") }, /^mnemonic: checksum is wrong/],
      [
        { mnemonic: MNEMONIC.replace("waste", "wastex"), fieldNames: { mnemonic: "--mnemonic-file" } },
        /^--mnemonic-file: word 12 is not/,
      ],
    ];
    for (const [over, want] of cases) {
      const dir = fresh();
      const e = await rejection(generateKeys(base(dir, over))).catch(
        () => new Error(`no error for ${String(want)}`),
      );
      expect(e.message).toMatch(want);
      expect(e.message).not.toMatch(/test test|waste|a good password/);
      expect(() => statSync(dir)).toThrow();
    }
  });

  it("a mnemonic password changes every key (BIP-39 passphrase)", async () => {
    const r = await generateKeys(base(fresh(), { noKeystores: true, count: 1, mnemonicPassword: "TREZOR" }));
    const plain = await generateKeys(base(fresh(), { noKeystores: true, count: 1 }));
    const want = ValidatorKeyDeriver.fromSeed(mnemonicToSeed(MNEMONIC, "TREZOR")).keys(0).signingKey;
    expect(r.deposits[0]!.pubkey).toBe(toHex(pubkeyFromSecret(want)));
    expect(r.deposits[0]!.pubkey).not.toBe(plain.deposits[0]!.pubkey);
  });

  it("0x02 credentials take amounts up to 2048 ETH", async () => {
    const r = await generateKeys(
      base(fresh(), {
        noKeystores: true,
        count: 1,
        withdrawalAddress: Uint8Array.from(Buffer.from("0f51bb10119727a7e5ea3538074fb341f56b09ad", "hex")),
        compounding: true,
        amountGwei: 2048_000_000_000n,
      }),
    );
    expect(r.deposits[0]!.withdrawal_credentials).toBe(
      "0200000000000000000000000f51bb10119727a7e5ea3538074fb341f56b09ad",
    );
    expect(r.deposits[0]!.amount).toBe(2048_000_000_000);
  });
});

describe("defaultThreads", () => {
  it("one per core (pbkdf2: one more); keystores also bounded by libuv's pool and, for scrypt, half the free memory", () => {
    const gib = 1024 ** 3;
    expect(defaultThreads(undefined, { cores: 8 })).toBe(8);
    expect(defaultThreads({ function: "pbkdf2" }, { cores: 2, uvThreads: 4 })).toBe(3);
    expect(defaultThreads({ function: "pbkdf2" }, { cores: 1, uvThreads: 4 })).toBe(2);
    expect(defaultThreads({ function: "scrypt" }, { cores: 2, uvThreads: 4, freeBytes: 24 * gib })).toBe(2);
    expect(defaultThreads({ function: "pbkdf2" }, { cores: 8, uvThreads: 4 })).toBe(4);
    expect(defaultThreads({ function: "scrypt" }, { cores: 8, uvThreads: 8, freeBytes: 24 * gib })).toBe(8);
    expect(defaultThreads({ function: "scrypt" }, { cores: 8, uvThreads: 8, freeBytes: 1 * gib })).toBe(1);
    expect(defaultThreads({ function: "scrypt" }, { cores: 8, uvThreads: 8, freeBytes: 0.2 * gib })).toBe(1);
    expect(defaultThreads({ function: "scrypt" }, { cores: 8, uvThreads: 8, freeBytes: 2.4 * gib })).toBe(4);
    expect(uvThreadpoolSize({})).toBe(4);
    expect(uvThreadpoolSize({ UV_THREADPOOL_SIZE: "16" })).toBe(16);
  });
});

describe("fs-atomic", () => {
  it("writes 0600 files atomically, refuses to overwrite when asked, leaves no temp file", async () => {
    const { writeFileAtomic, ensurePrivateDir, removeStaleTempFiles, TEMP_PREFIX } = await import(
      "../src/fs-atomic.js"
    );
    const dir = join(fresh(), "a", "b");
    await ensurePrivateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const file = join(dir, "x.json");
    await writeFileAtomic(file, "one");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await writeFileAtomic(file, "two");
    expect(readFileSync(file, "utf8")).toBe("two");
    const e = await rejection(writeFileAtomic(file, "three", { noOverwrite: true }));
    expect((e as NodeJS.ErrnoException).code).toBe("EEXIST");
    expect(readFileSync(file, "utf8")).toBe("two");
    expect(readdirSync(dir)).toEqual(["x.json"]);
    writeFileSync(join(dir, `${TEMP_PREFIX}x.json.123`), "partial");
    expect(await removeStaleTempFiles(dir)).toBe(1);
    expect(readdirSync(dir)).toEqual(["x.json"]);
    const notDir = await rejection(ensurePrivateDir(file));
    expect((notDir as NodeJS.ErrnoException).code).toMatch(/EEXIST|ENOTDIR/);
  });
  it("ensurePrivateDir fails at once where mkdir cannot succeed (Node's recursive mkdir spins on /proc)", async () => {
    const { ensurePrivateDir, checkWritableDir } = await import("../src/fs-atomic.js");
    const e = await rejection(ensurePrivateDir("/proc/pkout/a/b"));
    expect((e as NodeJS.ErrnoException).code).toBe("ENOENT");
    const under = join(root, `file-${n++}`);
    writeFileSync(under, "x");
    expect((await rejection(ensurePrivateDir(join(under, "sub")))) as NodeJS.ErrnoException).toMatchObject({
      code: "ENOTDIR",
    });
    // An existing directory where no file can be created.
    expect((await rejection(checkWritableDir("/proc"))) as NodeJS.ErrnoException).toMatchObject({
      code: "ENOENT",
    });
    const ok = fresh();
    await ensurePrivateDir(ok);
    await checkWritableDir(ok);
    expect(readdirSync(ok)).toEqual([]);
  });
});
