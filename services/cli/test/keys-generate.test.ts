import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { toHex } from "@poolkeeper/core";
import {
  decryptKeystore,
  mnemonicToSeed,
  parseMnemonic,
  pubkeyFromSecret,
  ValidatorKeyDeriver,
} from "@poolkeeper/keys";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
// The CLI runs in a temp directory: load tsx by absolute URL, not by name from the cwd.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const REFERENCE = join(import.meta.dirname, "../../../test/fixtures/vectors/reference");
const MNEMONIC = "test test test test test test test test test test test waste";
const ADDRESS = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";
const PASSWORD = "Sup3r-s3cret-keystore-pw!";

const dir = mkdtempSync(join(tmpdir(), "pk-keys-gen-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mnemonicFile = join(dir, "mnemonic.txt");
writeFileSync(mnemonicFile, `${MNEMONIC}\n`);
const passwordFile = join(dir, "password.txt");
writeFileSync(passwordFile, `${PASSWORD}\n`);
let runs = 0;
const outDir = () => join(dir, `out-${runs++}`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", TSX, MAIN, "keys", ...args],
      // Killed before the test's own timeout: a CLI that hangs fails its test and leaves no process.
      { env: { ...process.env, ...env }, cwd: dir, timeout: 50_000, killSignal: "SIGKILL" },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Nothing secret in what the CLI printed. */
function expectNoSecrets(r: Run, mnemonic = MNEMONIC): void {
  const text = r.stdout + r.stderr;
  expect(text).not.toContain(PASSWORD);
  const words = mnemonic.split(" ");
  for (let i = 0; i + 3 <= words.length; i++) expect(text).not.toContain(words.slice(i, i + 3).join(" "));
  expect(text).not.toContain("waste");
}

interface ReferenceCase {
  file: string;
  network: string;
  start: number;
  count: number;
  args: string[];
}

function referenceCases(): ReferenceCase[] {
  return readdirSync(REFERENCE)
    .filter((f) => f.endsWith(".json"))
    .map((file) => {
      const m = /^lighthouse_(\w+?)_first_(\d+)_count_(\d+)(?:_prefix_0x0(\d))?_eth1_(true|false)_/.exec(
        file,
      );
      if (m === null) throw new Error(`unexpected reference file name ${file}`);
      const [, network, start, count, prefix, eth1] = m;
      const entries = JSON.parse(readFileSync(join(REFERENCE, file), "utf8")) as {
        deposit_cli_version: string;
      }[];
      const args: string[] = [];
      if (eth1 === "true") {
        args.push("--withdrawal-address", ADDRESS);
        if (prefix === "2") args.push("--compounding");
      }
      args.push("--deposit-cli-version", entries[0]!.deposit_cli_version);
      return { file, network: network!, start: Number(start), count: Number(count), args };
    });
}

describe("poolkeeper keys generate: byte-identical deposit data for every reference file", () => {
  const cases = referenceCases();
  it("finds the ten reference files", () => expect(cases).toHaveLength(10));
  for (const c of cases) {
    it(c.file, async () => {
      const out = outDir();
      const r = await cli([
        "generate",
        "--mnemonic-file",
        mnemonicFile,
        "--network",
        c.network,
        "--start-index",
        String(c.start),
        "--count",
        String(c.count),
        ...c.args,
        "--no-keystores",
        "--out",
        out,
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const files = readdirSync(out);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^deposit_data-\d{10}\.json$/);
      expect(r.stdout).toContain(join(out, files[0]!));
      expect(readFileSync(join(out, files[0]!))).toEqual(readFileSync(join(REFERENCE, c.file)));
      expectNoSecrets(r);
    });
  }
});

describe("poolkeeper keys generate with keystores", () => {
  it("pbkdf2 keystores decrypt and re-derive to the deposit pubkeys; modes 0600/0700; decrypt prints only pubkey and path", async () => {
    const out = outDir();
    const r = await cli(
      [
        "generate",
        "--mnemonic-env",
        "PK_TEST_MNEMONIC",
        "--network",
        "hoodi",
        "--start-index",
        "3",
        "--count",
        "3",
        "--withdrawal-address",
        ADDRESS,
        "--kdf",
        "pbkdf2",
        "--kdf-cost",
        "2048",
        "--password-file",
        passwordFile,
        "--out",
        out,
      ],
      // A pool with a thread for every KDF: no note on how to size it.
      { PK_TEST_MNEMONIC: MNEMONIC, UV_THREADPOOL_SIZE: "64" },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("keystores: 3 written");
    expect(r.stdout).not.toContain("UV_THREADPOOL_SIZE");
    expectNoSecrets(r);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    const names = readdirSync(out).sort();
    const keystores = names.filter((f) => f.startsWith("keystore-"));
    expect(keystores.map((f) => f.replace(/-\d+\.json$/, ""))).toEqual([
      "keystore-m_12381_3600_3_0_0",
      "keystore-m_12381_3600_4_0_0",
      "keystore-m_12381_3600_5_0_0",
    ]);
    const depositFile = names.find((f) => f.startsWith("deposit_data-"))!;
    const deposits = JSON.parse(readFileSync(join(out, depositFile), "utf8")) as { pubkey: string }[];
    const deriver = ValidatorKeyDeriver.fromSeed(mnemonicToSeed(MNEMONIC));
    for (const [k, name] of keystores.entries()) {
      const file = join(out, name);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const json = JSON.parse(readFileSync(file, "utf8")) as {
        path: string;
        crypto: { kdf: { params: { c: number } } };
      };
      expect(json.path).toBe(`m/12381/3600/${3 + k}/0/0`);
      expect(json.crypto.kdf.params.c).toBe(2048);
      const secret = await decryptKeystore(json, PASSWORD);
      expect(toHex(secret)).toBe(toHex(deriver.keys(3 + k).signingKey));
      expect(toHex(pubkeyFromSecret(secret))).toBe(deposits[k]!.pubkey);
    }
    const d = await cli(["decrypt", "--keystore", join(out, keystores[1]!), "--password-file", passwordFile]);
    expect(d.code).toBe(0);
    expect(d.stdout).toBe(`pubkey: 0x${deposits[1]!.pubkey}\npath: m/12381/3600/4/0/0\n`);
    expect(d.stdout + d.stderr).not.toContain(toHex(deriver.keys(4).signingKey));
    expectNoSecrets(d);
  });

  it("says how to use every core when libuv's thread pool limits the KDFs", async () => {
    const r = await cli(
      [
        "generate",
        "--mnemonic-file",
        mnemonicFile,
        ..."--network hoodi --start-index 0 --count 2 --kdf pbkdf2 --kdf-cost 16".split(" "),
        "--password-file",
        passwordFile,
        "--out",
        outDir(),
      ],
      { UV_THREADPOOL_SIZE: "1" },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("keystores: 2 written");
    // pbkdf2: one KDF per core and one more, and a pool thread for file writes.
    expect(r.stdout).toContain(
      `  1 keystore at once: libuv's thread pool has 1 thread; run with UV_THREADPOOL_SIZE=${availableParallelism() + 2} to use every core\n`,
    );
  });

  it("scrypt by default, with the real EIP-2335 parameters", async () => {
    const out = outDir();
    const r = await cli([
      "generate",
      "--mnemonic-file",
      mnemonicFile,
      "--network",
      "mainnet",
      "--start-index",
      "0",
      "--count",
      "1",
      "--password-file",
      passwordFile,
      "--out",
      out,
    ]);
    expect(r.code).toBe(0);
    const ks = readdirSync(out).find((f) => f.startsWith("keystore-"))!;
    const json = JSON.parse(readFileSync(join(out, ks), "utf8")) as {
      crypto: { kdf: { function: string; params: object } };
    };
    expect(json.crypto.kdf.function).toBe("scrypt");
    expect(json.crypto.kdf.params).toMatchObject({ dklen: 32, n: 262144, r: 8, p: 1 });
    expect(toHex(await decryptKeystore(json, PASSWORD))).toBe(
      toHex(ValidatorKeyDeriver.fromSeed(mnemonicToSeed(MNEMONIC)).keys(0).signingKey),
    );
  });

  it("an interrupted run (killed) resumes: only missing keystores are made, one file per index", async () => {
    const out = outDir();
    const args = [
      "generate",
      "--mnemonic-file",
      mnemonicFile,
      "--network",
      "mainnet",
      "--start-index",
      "0",
      "--count",
      "6",
      "--kdf",
      "pbkdf2",
      "--kdf-cost",
      "400000",
      "--threads",
      "1",
      "--password-file",
      passwordFile,
      "--out",
      out,
    ];
    const child: ChildProcess = spawn(process.execPath, ["--import", TSX, MAIN, "keys", ...args], {
      cwd: dir,
      stdio: "ignore",
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      if (existsSync(out) && readdirSync(out).filter((f) => f.startsWith("keystore-")).length >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await exited;
    const before = readdirSync(out).filter((f) => f.startsWith("keystore-"));
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.length).toBeLessThan(6);
    expect(readdirSync(out).some((f) => f.startsWith("deposit_data-"))).toBe(false);

    const r = await cli(args.map((a) => (a === "400000" ? "2048" : a)));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `keystores: ${6 - before.length} written, ${before.length} kept from an earlier run`,
    );
    const after = readdirSync(out);
    const keystores = after.filter((f) => f.startsWith("keystore-"));
    expect(keystores).toHaveLength(6);
    for (const f of before) expect(keystores).toContain(f);
    const perIndex = keystores.map((f) => /^keystore-m_12381_3600_(\d+)_0_0-/.exec(f)![1]).sort();
    expect(perIndex).toEqual(["0", "1", "2", "3", "4", "5"]);
    expect(after.filter((f) => f.startsWith(".poolkeeper"))).toEqual([]);
    const deposits = JSON.parse(
      readFileSync(join(out, after.find((f) => f.startsWith("deposit_data-"))!), "utf8"),
    ) as {
      pubkey: string;
    }[];
    expect(deposits).toHaveLength(6);
    for (const f of keystores) {
      const json = JSON.parse(readFileSync(join(out, f), "utf8")) as { path: string };
      const i = Number(json.path.split("/")[3]);
      expect(toHex(pubkeyFromSecret(await decryptKeystore(json, PASSWORD)))).toBe(deposits[i]!.pubkey);
    }
  });
});

describe("bad input: non-zero exit, one clear line naming the flag, nothing written", () => {
  const good = (out: string) => [
    "generate",
    "--mnemonic-file",
    mnemonicFile,
    "--network",
    "mainnet",
    "--start-index",
    "0",
    "--count",
    "2",
    "--no-keystores",
    "--out",
    out,
  ];
  const replace = (args: string[], flag: string, value: string) => {
    const i = args.indexOf(flag);
    const copy = [...args];
    copy[i + 1] = value;
    return copy;
  };
  const badMnemonicFile = join(dir, "bad-mnemonic.txt");
  writeFileSync(badMnemonicFile, MNEMONIC.replace("waste", "test"));
  const cases: [string, (out: string) => string[], RegExp][] = [
    [
      "unknown network",
      (o) => replace(good(o), "--network", "mainnett"),
      /^error: --network: unknown network "mainnett"/,
    ],
    [
      "malformed address",
      (o) => [...good(o), "--withdrawal-address", "0x1234"],
      /^error: --withdrawal-address: "0x1234" is not an address/,
    ],
    [
      "address with a bad EIP-55 checksum",
      (o) => [...good(o), "--withdrawal-address", "0x0F51bb10119727a7e5ea3538074fb341f56b09ad"],
      /^error: --withdrawal-address: .* fails its EIP-55 checksum/,
    ],
    [
      "amount out of range for 0x01",
      (o) => [...good(o), "--withdrawal-address", ADDRESS, "--amount-eth", "64"],
      /^error: --amount-eth: 64 ETH is out of range for 0x01/,
    ],
    [
      "amount out of range for 0x02",
      (o) => [...good(o), "--withdrawal-address", ADDRESS, "--compounding", "--amount-eth", "2048.5"],
      /^error: --amount-eth: 2048.5 ETH is out of range for 0x02/,
    ],
    ["count 0", (o) => replace(good(o), "--count", "0"), /^error: --count: must be from 1 to/],
    [
      "unreadable mnemonic file",
      (o) => replace(good(o), "--mnemonic-file", join(dir, "nope.txt")),
      /^error: --mnemonic-file: .*nope.txt cannot be read \(ENOENT\)/,
    ],
    [
      "mnemonic with a wrong checksum",
      (o) => replace(good(o), "--mnemonic-file", badMnemonicFile),
      /^error: --mnemonic-file: checksum is wrong/,
    ],
    [
      "keystores without a password file off a terminal",
      (o) => good(o).filter((a) => a !== "--no-keystores"),
      /^error: --password-file: is required to write keystores/,
    ],
    ["unknown kdf", (o) => [...good(o), "--kdf", "argon2"], /^error: --kdf: "argon2" is not supported/],
    [
      "a KDF cost above the cap (keystores this tool would refuse to read)",
      (o) => [
        ...good(o).filter((a) => a !== "--no-keystores"),
        "--password-file",
        passwordFile,
        "--kdf-cost",
        "1048576",
      ],
      /^error: --kdf-cost: scrypt n=1048576, r=8 needs 128·n·r = 1 GiB of memory, above the cap of 256 MiB/,
    ],
  ];
  for (const [name, args, want] of cases) {
    it(name, async () => {
      const out = outDir();
      const r = await cli(args(out));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
      expectNoSecrets(r);
    });
  }
  const outCases: [string, () => string, RegExp][] = [
    // mkdir in /proc fails with ENOENT however often it is retried (Node's recursive mkdir spun).
    [
      "--out under /proc",
      () => "/proc/pkout",
      /^error: --out: cannot create directory \/proc\/pkout \(ENOENT\)$/,
    ],
    // An existing directory in which no file can be created.
    ["--out /proc", () => "/proc", /^error: --out: cannot create files in \/proc \(ENOENT\)$/],
    [
      "--out that is a file",
      () => {
        const file = join(dir, `a-file-${runs++}`);
        writeFileSync(file, "not a directory");
        return file;
      },
      /^error: --out: .*a-file-\d+ is not a directory$/,
    ],
    [
      "--out under a file",
      () => {
        const file = join(dir, `a-file-${runs++}`);
        writeFileSync(file, "not a directory");
        return join(file, "sub");
      },
      /^error: --out: cannot create directory .*a-file-\d+\/sub \(ENOTDIR\)$/,
    ],
  ];
  for (const [name, out, want] of outCases) {
    it(`${name}: checked once, one line, exit 1`, async () => {
      const r = await cli(good(out()));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr.trimEnd()).toMatch(want);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    });
  }
  it("wrong keystore password on decrypt", async () => {
    const out = outDir();
    expect(
      (
        await cli([
          "generate",
          ...good(out)
            .slice(1)
            .filter((a) => a !== "--no-keystores"),
          "--kdf",
          "pbkdf2",
          "--kdf-cost",
          "16",
          "--password-file",
          passwordFile,
        ])
      ).code,
    ).toBe(0);
    const ks = readdirSync(out).find((f) => f.startsWith("keystore-"))!;
    const wrong = join(dir, "wrong-password.txt");
    writeFileSync(wrong, "Not-the-password-123\n");
    const r = await cli(["decrypt", "--keystore", join(out, ks), "--password-file", wrong]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("error: --password-file: keystore password is wrong\n");
  });
  it("decrypt refuses a hostile keystore before any KDF work: KDF above the caps, or not a keystore file", async () => {
    const vector = join(import.meta.dirname, "../../../test/fixtures/vectors/eip2335/scrypt.json");
    const hostile = JSON.parse(readFileSync(vector, "utf8")) as { crypto: { kdf: { params: object } } };
    Object.assign(hostile.crypto.kdf.params, { n: 2 ** 20, r: 8, p: 16 });
    const file = join(dir, "hostile-keystore.json");
    writeFileSync(file, JSON.stringify(hostile));
    const [kdf, zero] = await Promise.all([
      cli(["decrypt", "--keystore", file, "--password-file", passwordFile]),
      cli(["decrypt", "--keystore", "/dev/zero", "--password-file", passwordFile]),
    ]);
    expect(kdf.code).toBe(1);
    expect(kdf.stdout).toBe("");
    expect(kdf.stderr).toBe(
      "error: --keystore: keystore.crypto.kdf.params: scrypt n=1048576, r=8 needs 128·n·r = 1 GiB of memory, above the cap of 256 MiB (n=262144, r=8, as EIP-2335 tools write)\n",
    );
    expect(zero.code).toBe(1);
    expect(zero.stderr).toBe(
      "error: --keystore: /dev/zero is larger than 64 KiB: not an EIP-2335 keystore\n",
    );
  });
});

describe("poolkeeper keys new-mnemonic", () => {
  it("prints a new valid 24-word mnemonic once on stdout", async () => {
    const r = await cli(["new-mnemonic"]);
    expect(r.code).toBe(0);
    const words = r.stdout.trim().split(" ");
    expect(words).toHaveLength(24);
    expect(parseMnemonic(r.stdout).language).toBe("english");
    expect(r.stderr).not.toContain(words.slice(0, 3).join(" "));
  });
  it("writes --out with mode 0600 and never overwrites it; a new mnemonic works with generate", async () => {
    const file = join(dir, "new-mnemonic.txt");
    const r = await cli(["new-mnemonic", "--out", file, "--language", "italian"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const mnemonic = readFileSync(file, "utf8").trim();
    expect(parseMnemonic(mnemonic).language).toBe("italian");
    expectNoSecrets(r, mnemonic);
    const again = await cli(["new-mnemonic", "--out", file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: --out: .* already exists \(not overwritten\)\n$/);
    expect(readFileSync(file, "utf8").trim()).toBe(mnemonic);
    const out = outDir();
    const g = await cli([
      "generate",
      "--mnemonic-file",
      file,
      "--network",
      "sepolia",
      "--start-index",
      "0",
      "--count",
      "1",
      "--kdf",
      "pbkdf2",
      "--kdf-cost",
      "16",
      "--password-file",
      passwordFile,
      "--out",
      out,
    ]);
    expect(g.code).toBe(0);
    expectNoSecrets(g, mnemonic);
  });
});
