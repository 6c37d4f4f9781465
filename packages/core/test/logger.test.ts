import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, safeUrl } from "../src/index.js";

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

  it("prints URLs without credentials", () => {
    expect(safeUrl("http://user:pass@node:5052/eth?api_key=s3cret&x=1")).toBe(
      "http://node:5052/eth?api_key=redacted&x=1",
    );
    expect(safeUrl("not a url")).toBe("<invalid url>");
  });
});
