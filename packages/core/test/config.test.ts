import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, loadConfig } from "../src/index.js";

const spec = {
  PORT: { schema: z.coerce.number().int().min(1).max(65535), example: "3000", default: "3000" },
  POOLKEEPER_NETWORK: { schema: z.enum(["mainnet", "hoodi"]), example: "hoodi" },
  API_TOKEN: { schema: z.string().min(16), example: "<32 random bytes>", secret: true },
};

describe("loadConfig", () => {
  it("parses, applies defaults and coerces", () => {
    const c = loadConfig(spec, { POOLKEEPER_NETWORK: "hoodi", API_TOKEN: "x".repeat(20) });
    expect(c).toEqual({ PORT: 3000, POOLKEEPER_NETWORK: "hoodi", API_TOKEN: "x".repeat(20) });
  });

  it("names every bad variable with an example, in one error", () => {
    let err: unknown;
    try {
      loadConfig(spec, { PORT: "99999", API_TOKEN: "y".repeat(20) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain('PORT: "99999" is invalid');
    expect(msg).toContain("(example: PORT=3000)");
    expect(msg).toContain("POOLKEEPER_NETWORK: is required (example: POOLKEEPER_NETWORK=hoodi)");
  });

  it("reads secrets from X_FILE and never echoes a secret value", () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-config-"));
    const f = join(dir, "token");
    writeFileSync(f, "from-file-secret-value\n");
    const c = loadConfig(spec, { POOLKEEPER_NETWORK: "mainnet", API_TOKEN_FILE: f });
    expect(c.API_TOKEN).toBe("from-file-secret-value");

    writeFileSync(f, "short-secret");
    try {
      loadConfig(spec, { POOLKEEPER_NETWORK: "mainnet", API_TOKEN_FILE: f });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain("API_TOKEN: is invalid (set API_TOKEN or API_TOKEN_FILE)");
      expect((e as Error).message).not.toContain("short-secret");
    }
  });

  it("refuses both X and X_FILE, and names an unreadable file", () => {
    expect(() =>
      loadConfig(spec, { POOLKEEPER_NETWORK: "mainnet", API_TOKEN: "a".repeat(20), API_TOKEN_FILE: "/x" }),
    ).toThrow(/set either API_TOKEN or API_TOKEN_FILE/);
    expect(() =>
      loadConfig(spec, { POOLKEEPER_NETWORK: "mainnet", API_TOKEN_FILE: "/nonexistent/t" }),
    ).toThrow(/API_TOKEN_FILE: cannot read \/nonexistent\/t \(ENOENT\)/);
  });
});
