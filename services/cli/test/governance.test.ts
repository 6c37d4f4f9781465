/**
 * `poolkeeper governance` by hand, as the README shows it: three DAO keys from keygen (0600), an
 * admin API started with them (quorum 2, no timelock), a fee proposal, two approvals signed from
 * the key files, the execution, the governed fee; a signature printed without posting verifies;
 * no key appears in any output of the CLI or the API.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { governanceSignatureValid } from "@poolkeeper/governance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type StartedApi, startApi } from "../../../test/process-helpers.js";

const root = mkdtempSync(join(tmpdir(), "pk-cli-governance-"));
const outputs: string[] = [];

async function cli(args: string[], env: Record<string, string> = {}) {
  const r = await runCli(["governance", ...args], env);
  outputs.push(r.stdout, r.stderr);
  return r;
}

describe("poolkeeper governance", () => {
  const keyFiles = [0, 1, 2].map((i) => join(root, `dao${i + 1}.key`));
  const publicKeys: string[] = [];
  let api: StartedApi;
  let env: Record<string, string>;

  beforeAll(async () => {
    for (const f of keyFiles) {
      const r = await cli(["keygen", "--out", f]);
      expect(r.code, r.stderr).toBe(0);
      publicKeys.push(r.stdout.trim());
    }
    const dataDir = join(root, "db");
    const token = await runCli(["tokens", "create", "--role", "dao", "--label", "dao member"], {
      POOLKEEPER_DATA_DIR: dataDir,
      POOLKEEPER_NETWORK: "hoodi",
      POOLKEEPER_WITHDRAWAL_CREDENTIALS: "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f",
    });
    expect(token.code, token.stderr).toBe(0);
    const tokenFile = join(root, "dao.token");
    writeFileSync(tokenFile, token.stdout, { mode: 0o600 });
    api = await startApi({
      POOLKEEPER_DATA_DIR: dataDir,
      GOVERNANCE_DAO_MEMBERS: publicKeys.map((k, i) => `dao${i + 1}=${k}`).join(","),
      GOVERNANCE_QUORUM: "2",
      GOVERNANCE_TIMELOCK_SECONDS: "0",
      ORACLE_MEMBERS: `m1=${publicKeys[0]}`,
      POOL_TREASURY: "0x00000000000000000000000000000000000000ee",
    });
    expect(api.url, api.output()).not.toBe("");
    env = { ADMIN_API_URL: api.url, ADMIN_API_TOKEN_FILE: tokenFile };
  }, 120_000);
  afterAll(async () => {
    api?.child.kill("SIGTERM");
    await api?.exited;
    rmSync(root, { recursive: true, force: true });
  });

  it("keygen writes a 0600 key file and prints its BLS public key; never over an existing file", async () => {
    expect(publicKeys.every((k) => /^0x[0-9a-f]{96}$/.test(k))).toBe(true);
    expect(statSync(keyFiles[0]!).mode & 0o777).toBe(0o600);
    const again = await cli(["keygen", "--out", keyFiles[0]!]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--out: .* exists/);
  });

  it("propose, approve twice from key files, execute: the fee is the proposal's", async () => {
    const value =
      '{"totalFeeBP":800,"operatorsFeeBP":400,"treasury":"0x00000000000000000000000000000000000000ee"}';
    const p = await cli(["propose", "--kind", "fee", "--value", value, "--reason", "cheaper pool"], env);
    expect(p.code, p.stderr).toBe(0);
    const [id, changeHash] = p.stdout.trim().split(" ");
    expect(changeHash).toMatch(/^0x[0-9a-f]{64}$/);

    const printed = await cli(
      ["sign", "--proposal", id!, "--key-file", keyFiles[2]!, "--member", "dao3"],
      env,
    );
    expect(printed.code, printed.stderr).toBe(0);
    const params = JSON.parse((await cli(["show"], env)).stdout) as { poolId: string };
    expect(
      governanceSignatureValid(
        JSON.parse(printed.stdout),
        { id: "dao3", publicKey: publicKeys[2]! },
        "approve",
        {
          poolId: params.poolId,
          proposalId: Number(id),
          changeHash: changeHash!,
        },
      ),
    ).toBe(true);

    const one = await cli(
      ["approve", "--proposal", id!, "--key-file", keyFiles[0]!, "--member", "dao1"],
      env,
    );
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/pending, 1\/2 approvals/);
    expect(one.stderr).toMatch(/fee = \{"operatorsFeeBP":400,"totalFeeBP":800/);
    const wrong = await cli(
      ["approve", "--proposal", id!, "--key-file", keyFiles[0]!, "--member", "dao2"],
      env,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/ERR_INVALID_SIGNATURE/);
    const two = await cli(
      ["approve", "--proposal", id!, "--key-file", keyFiles[1]!, "--member", "dao2"],
      env,
    );
    expect(two.stdout).toMatch(/approved, 2\/2 approvals/);
    const done = await cli(["execute", "--proposal", id!], env);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/executed/);
    const shown = JSON.parse((await cli(["show"], env)).stdout) as {
      parameters: { name: string; value: { totalFeeBP: number }; proposalId: number | null }[];
    };
    expect(shown.parameters.find((x) => x.name === "fee")).toMatchObject({
      value: { totalFeeBP: 800 },
      proposalId: Number(id),
    });
  });

  it("a bad --proposal names the flag; the keys are in no output of the CLI or the API", async () => {
    const bad = await cli(["execute", "--proposal", "x1"], env);
    expect(bad.stderr).toBe('error: --proposal: must be a proposal id (a whole number from 1), got "x1"\n');
    const everything = outputs.join("\n") + api.output();
    for (const f of keyFiles) {
      const hex = readFileSync(f, "utf8").trim().slice(2);
      expect(everything).not.toContain(hex);
    }
  });
});
