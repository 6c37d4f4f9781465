/**
 * `poolkeeper daemon init` as a process: refuses without confirmation (nothing written), writes
 * the directory with --yes (0600 files, the mnemonic encrypted), prints neither the mnemonic nor
 * the password nor the token; `daemon run` starts from it.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decryptSecretBytes } from "@poolkeeper/keys";
import { describe, expect, it } from "vitest";
import { readEncryptedMnemonic } from "../src/index.js";
import { pubkeysOf } from "./fixtures.js";
import { POOL_WC_HEX, TEST_MNEMONIC, TEST_PASSWORD, usePool } from "./harness.js";

const CLI = fileURLToPath(new URL("../../cli/src/main.ts", import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", CLI, ...args],
      { env: { PATH: process.env.PATH, ...env } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

const pool = usePool();

describe("poolkeeper daemon init", () => {
  it("shows the credentials, refuses without --yes, writes the directory with it; no secret printed", async () => {
    const { id, token } = await pool.newOperator();
    const tokenFile = join(pool.tmp, "op.token");
    const mnemonicFile = join(pool.tmp, "op.mnemonic");
    writeFileSync(tokenFile, `${token}\n`);
    writeFileSync(mnemonicFile, `${TEST_MNEMONIC}\n`);
    const dir = join(pool.tmp, "cli-daemon");
    const args = [
      "daemon",
      "init",
      "--dir",
      dir,
      "--api-url",
      pool.apiUrl,
      "--operator-id",
      String(id),
      "--token-file",
      tokenFile,
      "--network",
      pool.networkFile,
      "--mnemonic-file",
      mnemonicFile,
      "--password-env",
      "OP_PASSWORD",
      "--low-water",
      "4",
      "--batch-size",
      "2",
      "--mnemonic-kdf-cost",
      "1024",
    ];
    const refused = await cli(args, { OP_PASSWORD: TEST_PASSWORD });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(POOL_WC_HEX);
    expect(refused.out).toContain("--yes");
    expect(existsSync(join(dir, "daemon.json"))).toBe(false);

    const done = await cli([...args, "--yes"], { OP_PASSWORD: TEST_PASSWORD });
    expect(done.code, done.out).toBe(0);
    for (const f of ["daemon.json", "token", "mnemonic.json", "state.json"])
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(join(dir, "daemon.json"), "utf8"));
    expect(config).toMatchObject({
      operatorId: id,
      withdrawalCredentials: POOL_WC_HEX,
      lowWater: 4,
      batchSize: 2,
    });
    expect(readFileSync(join(dir, "mnemonic.json"), "utf8")).not.toContain("abandon");
    expect(await readEncryptedMnemonic(dir, TEST_PASSWORD)).toBe(TEST_MNEMONIC);
    for (const out of [refused.out, done.out])
      for (const secret of [TEST_MNEMONIC, "abandon abandon", TEST_PASSWORD, token])
        expect(out).not.toContain(secret);
    // presign: an exit for index 0 (a validator now), encrypted for the ejector; index 1 is none yet
    const [v0] = pool.sim.chain.addValidators([
      Uint8Array.from(Buffer.from(pubkeysOf(TEST_MNEMONIC, 1)[0]!, "hex")),
    ]);
    pool.sim.chain.advanceEpochs(2); // in the head state from the next epoch
    const messagesPassword = join(pool.tmp, "messages.password");
    writeFileSync(messagesPassword, "ejector password\n");
    const out = join(pool.tmp, "messages");
    const presigned = await cli(
      [
        "daemon",
        "presign",
        "--dir",
        dir,
        "--out",
        out,
        "--messages-password-file",
        messagesPassword,
        "--beacon-url",
        pool.sim.url,
        "--preset",
        "minimal",
        "--epoch",
        "0",
        "--count",
        "2",
        "--password-env",
        "OP_PASSWORD",
      ],
      { OP_PASSWORD: TEST_PASSWORD },
    );
    expect(presigned.code, presigned.out).toBe(0);
    expect(presigned.out).toContain("1 encrypted exit messages written");
    expect(presigned.out).toContain("not validators yet: indices 1");
    const exit = JSON.parse(
      Buffer.from(
        await decryptSecretBytes(
          JSON.parse(readFileSync(join(out, `${v0}.json`), "utf8")),
          "ejector password",
        ),
      ).toString(),
    );
    expect(exit.message).toEqual({ epoch: "0", validator_index: String(v0) });
    expect(presigned.out).not.toContain(exit.signature.slice(2, 40));
    // a second init into the same directory is refused
    const again = await cli([...args, "--yes"], { OP_PASSWORD: TEST_PASSWORD });
    expect(again.code).toBe(1);
    expect(again.out).toContain("already holds a daemon");
  }, 120_000);
});
