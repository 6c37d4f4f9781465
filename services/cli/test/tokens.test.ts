/**
 * `poolkeeper tokens` ids are checked before the database is opened, with the range the API
 * applies (an operator id is an `integer`, a token id a `bigint` read as a safe number); the error
 * names the option. Before: `--operator 99999999999` reached PostgreSQL and failed with
 * "unexpected failure (22003)".
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseId } from "@poolkeeper/core";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../../test/process-helpers.js";

const root = mkdtempSync(join(tmpdir(), "pk-cli-tokens-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("poolkeeper tokens: ids", () => {
  it.each([
    [
      ["create", "--role", "operator", "--operator", "99999999999"],
      '--operator: must be a whole number from 1 to 2147483647, got "99999999999"',
    ],
    [
      ["create", "--role", "operator", "--operator", "0"],
      '--operator: must be a whole number from 1 to 2147483647, got "0"',
    ],
    [
      ["create", "--role", "operator", "--operator", "1e3"],
      '--operator: must be a whole number from 1 to 2147483647, got "1e3"',
    ],
    [
      ["revoke", "99999999999999999"],
      'id: must be a whole number from 1 to 9007199254740991, got "99999999999999999"',
    ],
  ])("tokens %j: one line naming the option, nothing opened", async (args, line) => {
    const dir = join(root, `db-${Math.random().toString(16).slice(2)}`);
    const r = await runCli(["tokens", ...args], { POOLKEEPER_DATA_DIR: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(`error: ${line}\n`);
    expect(r.stdout).toBe("");
    expect(existsSync(dir)).toBe(false);
  });

  it("the CLI's rule is the registry's (the API's) rule", () => {
    expect(parseId("2147483647", "--operator")).toBe(2_147_483_647);
    expect(parseId(7, "x")).toBe(7);
    for (const bad of ["2147483648", "", " 1", "0x10", "1.0", 1.5, -1, Number.NaN]) {
      expect(() => parseId(bad, "--operator")).toThrow(
        /^--operator: must be a whole number from 1 to 2147483647/,
      );
    }
  });
});
