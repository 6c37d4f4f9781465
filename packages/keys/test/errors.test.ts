import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { errorKind, PoolkeeperError } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import { KEYS_ERROR_CODES, KEYS_ERRORS, KeysError, KeystorePasswordError } from "../src/errors.js";

const SRC = join(import.meta.dirname, "../src");

describe("the keys package's error codes live in errors.ts", () => {
  it("keeps every code's string value and declares its kind", () => {
    // The CLI, the tests and users' scripts depend on these values: they never change.
    expect(Object.fromEntries(Object.values(KEYS_ERRORS).map((d) => [d.code, d.kind]))).toEqual({
      ERR_KEYSTORE_PASSWORD: "invalid_input",
      ERR_KEYSTORE_KDF_COST: "invalid_input",
      ERR_OUTDIR_LOCKED: "conflict",
      ERR_DUPLICATE_KEYSTORE: "conflict",
      ERR_BAD_KEYSTORE: "conflict",
      ERR_FOREIGN_KEYSTORE: "conflict",
    });
    expect(errorKind(KEYS_ERROR_CODES.OUTDIR_LOCKED)).toBe("conflict");
    expect(errorKind("ERR_NOPE")).toBeUndefined();
  });

  it("no other source file of the package spells a code (every one goes through KEYS_ERRORS)", () => {
    const offenders: string[] = [];
    for (const name of readdirSync(SRC)) {
      if (name === "errors.ts" || !/\.(ts|mjs)$/.test(name)) continue;
      const text = readFileSync(join(SRC, name), "utf8");
      for (const m of text.matchAll(/["'`](ERR_[A-Z0-9_]+)["'`]/g)) offenders.push(`${name}: ${m[1]}`);
      if (/new PoolkeeperError\(/.test(text)) offenders.push(`${name}: new PoolkeeperError(`);
    }
    expect(offenders).toEqual([]);
  });

  it("a KeysError is a PoolkeeperError with its code and kind; the password error names the field only", () => {
    const e = new KeysError(KEYS_ERRORS.FOREIGN_KEYSTORE, "x: y");
    expect(e).toBeInstanceOf(PoolkeeperError);
    expect(e).toMatchObject({ code: "ERR_FOREIGN_KEYSTORE", kind: "conflict", message: "x: y" });
    const p = new KeystorePasswordError("--password-file");
    expect(p).toBeInstanceOf(KeysError);
    expect(p.toJSON()).toEqual({
      code: "ERR_KEYSTORE_PASSWORD",
      message: "--password-file: keystore password is wrong",
      details: { field: "--password-file" },
    });
    expect(p.kind).toBe("invalid_input");
  });
});
