import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, safeUrl, scrubUrl } from "../src/index.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination };
}

describe("logger", () => {
  it("redacts secret fields at several depths", () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    log.info({ mnemonic: "test test waste", password: "hunter2", nested: { token: "tok-123" } }, "x");
    log.info(
      { a: { b: { keystore: { crypto: "c" } } }, req: { headers: { authorization: "Bearer abc" } } },
      "y",
    );
    const out = lines.join("");
    for (const s of ["test test waste", "hunter2", "tok-123", "Bearer abc", '"crypto"'])
      expect(out).not.toContain(s);
    expect(out).toContain("[redacted]");
  });

  it("prints URLs as scheme, host and port only", () => {
    expect(safeUrl("http://user:pass@node:5052/eth?api_key=s3cret&x=1")).toBe("http://node:5052");
    expect(safeUrl("https://hooks.slack.com/services/T0AAA/B0BBB/xyzSecret123?sig=abc#frag")).toBe(
      "https://hooks.slack.com",
    );
    expect(safeUrl("redis://:redispass@127.0.0.1:6379/2")).toBe("redis://127.0.0.1:6379");
    expect(safeUrl("postgres://pk:pgpass@db.internal:5432/pool?sslmode=require")).toBe(
      "postgres://db.internal:5432",
    );
    expect(safeUrl("not a url")).toBe("<invalid url>");
  });

  it("scrubs a URL and its secret parts from a message", () => {
    const url = "https://hooks.example.org/api/webhooks/123456/tOkEnPaRt?sig=S1G-value&code=C0DE-value";
    const msg = `request to ${url} failed; path /api/webhooks/123456/tOkEnPaRt; sig S1G-value; C0DE-value`;
    const out = scrubUrl(msg, url);
    for (const s of ["tOkEnPaRt", "123456", "S1G-value", "C0DE-value", "/api/webhooks"])
      expect(out).not.toContain(s);
    expect(out).toContain("request to https://hooks.example.org failed");
    expect(scrubUrl("nothing here", url)).toBe("nothing here");
  });
});
