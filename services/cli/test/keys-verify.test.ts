import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const REFERENCE_DIR = join(import.meta.dirname, "../../../test/fixtures/vectors/reference");
const HOODI = "lighthouse_hoodi_first_0_count_2_prefix_0x01_eth1_true_edc-1.3.0.json";
const dir = mkdtempSync(join(tmpdir(), "pk-keys-verify-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", MAIN, "keys", "verify", ...args],
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

type Entry = Record<string, string | number>;
const reference = (name: string) => JSON.parse(readFileSync(join(REFERENCE_DIR, name), "utf8")) as Entry[];

function tampered(name: string, entries: Entry[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(entries));
  return path;
}

function lastLine(s: string): string {
  return s.trimEnd().split("\n").at(-1) ?? "";
}

describe("poolkeeper keys verify", () => {
  it("passes every reference file on its network: exit 0, `N passed, 0 failed`", async () => {
    const files = readdirSync(REFERENCE_DIR).filter((f) => f.endsWith(".json"));
    const runs = await Promise.all(
      files.map((f) => {
        const network = (reference(f)[0]!.network_name as string) ?? "";
        return cli(join(REFERENCE_DIR, f), "--network", network);
      }),
    );
    runs.forEach((r, i) => {
      const count = reference(files[i]!).length;
      expect(r.stdout).toBe(`${count} passed, 0 failed\n`);
      expect(r.code).toBe(0);
    });
  });

  it("checks the withdrawal address", async () => {
    const file = join(REFERENCE_DIR, HOODI);
    const ok = await cli(
      file,
      "--network",
      "hoodi",
      "--withdrawal-address",
      "0x0f51bb10119727a7e5ea3538074fb341f56b09ad",
    );
    expect(ok.code).toBe(0);
    expect(lastLine(ok.stdout)).toBe("2 passed, 0 failed");
    const other = await cli(
      file,
      "--network",
      "hoodi",
      "--withdrawal-address",
      "0x00000000219ab540356cBB839Cbe05303d7705Fa",
    );
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(
      /^entry 0: withdrawal_credentials: do not pay the expected withdrawal address/,
    );
    expect(lastLine(other.stdout)).toBe("0 passed, 2 failed");
  });

  it("names a bad signature, a wrong fork version, a wrong deposit_data_root and a duplicate pubkey", async () => {
    const [e0, e1] = reference(HOODI) as [Entry, Entry];
    const cases: Array<[string, Entry[], RegExp]> = [
      // A valid G2 point that is not this key's signature; the data root then differs as well.
      [
        "bad-signature.json",
        [e0, { ...e1, signature: e0.signature! }],
        /^entry 1: signature: does not verify for this pubkey and deposit message$/m,
      ],
      [
        "wrong-fork.json",
        [e0, { ...e1, fork_version: "00000000" }],
        /^entry 1: fork_version: 00000000 is not the genesis fork version of hoodi \(10000910\)$/m,
      ],
      [
        "wrong-root.json",
        [{ ...e0, deposit_data_root: e1.deposit_data_root! }, e1],
        /^entry 0: deposit_data_root: does not match/m,
      ],
      ["duplicate.json", [e0, e1, e0], /^entry 2: pubkey: duplicate of entry 0$/m],
    ];
    const runs = await Promise.all(
      cases.map(([name, entries]) => cli(tampered(name, entries), "--network", "hoodi")),
    );
    runs.forEach((r, i) => {
      const [name, entries, expected] = cases[i]!;
      expect(r.code, name).toBe(1);
      expect(r.stdout, name).toMatch(expected);
      expect(lastLine(r.stdout), name).toBe(`${entries.length - 1} passed, 1 failed`);
    });
  });

  it("an unreadable file, a file that is not JSON, an unknown network: one clear line, exit 1", async () => {
    const notJson = join(dir, "not-json.json");
    writeFileSync(notJson, "pubkey,signature\n");
    const [missing, junk, network] = await Promise.all([
      cli(join(dir, "missing.json"), "--network", "hoodi"),
      cli(notJson, "--network", "hoodi"),
      cli(join(REFERENCE_DIR, HOODI), "--network", "nowhere"),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: ${join(dir, "missing.json")}: cannot be read (ENOENT)\n`);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toBe(`error: ${notJson}: is not valid JSON (expected a deposit_data-*.json file)\n`);
    expect(network.code).toBe(1);
    expect(network.stderr).toMatch(/^error: unknown network "nowhere"/);
    expect(network.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("an empty array or a JSON object fails with a file-level line", async () => {
    const [empty, object] = await Promise.all([
      cli(tampered("empty.json", []), "--network", "hoodi"),
      cli(tampered("object.json", { pubkey: "00" } as unknown as Entry[]), "--network", "hoodi"),
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toBe("file: contains no deposit data entries\n0 passed, 0 failed\n");
    expect(object.code).toBe(1);
    expect(object.stdout).toBe("file: must be a JSON array of deposit data entries\n0 passed, 0 failed\n");
  });
});
