import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromHex, loadNetwork } from "@poolkeeper/core";
import { encryptKeystoreSync, verifyVoluntaryExit } from "@poolkeeper/keys";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
// eth-staking-smith / ethdo vector: mainnet, validator 100, epoch 305658.
const SECRET = fromHex("6d446ca271eb229044b9039354ecdfa6244d1a11615ec1a46fc82a800367de5d", "sk", 32);
const PUBKEY =
  "8844cebb34d10e0e57f3c29ada375dafe14762ab85b2e408c3d6d55ce6d03317660bca9f2c2d17d8fbe14a2529ada1ea";
const SIGNATURE =
  "0xa74f22d26da9934c2a9c783799fb9e7bef49b3d7c3759a0683b52ee5d71516c0ecdbcc47703f11959c5e701a6c47194410bed800217bd4dd0dab1e0587b14551771accd04ff1c78302f9605f44c3894976c5b3537b70cb7ac9dcb5398dc22079";
const PASSWORD = "correct horse 🔑 battery";

const dir = mkdtempSync(join(tmpdir(), "pk-keys-exit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keystore = join(dir, "keystore-m_12381_3600_0_0_0.json");
writeFileSync(
  keystore,
  JSON.stringify(
    encryptKeystoreSync({
      secret: SECRET,
      password: PASSWORD,
      path: "m/12381/3600/0/0/0",
      kdf: { function: "pbkdf2", cost: 1024 },
    }),
  ),
);
const passwordFile = join(dir, "password.txt");
writeFileSync(passwordFile, `${PASSWORD}\n`);
const wrongPasswordFile = join(dir, "wrong.txt");
writeFileSync(wrongPasswordFile, "not the password\n");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function exit(...args: string[]): Promise<Run> {
  const base = [
    "--keystore",
    keystore,
    "--validator-index",
    "100",
    "--epoch",
    "305658",
    "--network",
    "mainnet",
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", MAIN, "keys", "exit", ...base, ...args],
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("poolkeeper keys exit", () => {
  it("prints the signed exit (the ethdo vector) on stdout, only there", async () => {
    const r = await exit("--password-file", passwordFile);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `{"message":{"epoch":"305658","validator_index":"100"},"signature":"${SIGNATURE}"}\n`,
    );
    expect(r.stderr).toContain(`validator 100 (0x${PUBKEY}) at epoch 305658 on mainnet`);
    expect(r.stderr).not.toContain(SIGNATURE.slice(2, 40));
  });

  it("writes --out with mode 0600, never to stdout or stderr, and refuses to overwrite", async () => {
    const out = join(dir, "exit-100.json");
    const r = await exit("--password-file", passwordFile, "--out", out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toContain(SIGNATURE.slice(2, 40));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const signed = JSON.parse(readFileSync(out, "utf8")) as unknown;
    expect(verifyVoluntaryExit(signed, fromHex(PUBKEY, "pk", 48), loadNetwork("mainnet"))).toBe(true);

    const again = await exit("--password-file", passwordFile, "--out", out);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`error: --out: ${out} already exists (not overwritten)\n`);
    expect(readFileSync(out, "utf8")).toContain(SIGNATURE);
  });

  it("a wrong password, a bad index, a missing keystore: one clear line, exit 1, nothing written", async () => {
    const out = join(dir, "never.json");
    const [wrong, badIndex, missing, noDir] = await Promise.all([
      exit("--password-file", wrongPasswordFile, "--out", out),
      exit("--password-file", passwordFile, "--validator-index", "-3"),
      exit("--password-file", passwordFile, "--keystore", join(dir, "nope.json")),
      exit("--password-file", passwordFile, "--out", join(dir, "no-such-dir", "exit.json")),
    ]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toBe(`error: --out: ${join(dir, "no-such-dir")} is not an existing directory\n`);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe("error: --password-file: keystore password is wrong\n");
    expect(() => statSync(out)).toThrow();
    expect(badIndex.code).toBe(1);
    expect(badIndex.stderr).toMatch(/^error: --validator-index: /);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: --keystore: ${join(dir, "nope.json")} cannot be read (ENOENT)\n`);
    for (const r of [wrong, badIndex, missing, noDir]) {
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain(PASSWORD);
    }
  });

  it("a keystore whose KDF asks for 1 GiB (scrypt n=2^20, r=8, p=16) is refused before any KDF work", async () => {
    const hostile = JSON.parse(readFileSync(keystore, "utf8")) as { crypto: { kdf: unknown } };
    hostile.crypto.kdf = {
      function: "scrypt",
      params: { dklen: 32, n: 2 ** 20, r: 8, p: 16, salt: "00".repeat(32) },
      message: "",
    };
    const file = join(dir, "hostile.json");
    writeFileSync(file, JSON.stringify(hostile));
    const out = join(dir, "never-hostile.json");
    const r = await exit("--password-file", passwordFile, "--keystore", file, "--out", out);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "error: --keystore: keystore.crypto.kdf.params: scrypt n=1048576, r=8 needs 128·n·r = 1 GiB of memory, above the cap of 256 MiB (n=262144, r=8, as EIP-2335 tools write)\n",
    );
    expect(() => statSync(out)).toThrow();
  });
});
