import { type ClientRequest, request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAXIMAL_DEPOSIT_ENTRY } from "../src/routes/keys.js";
import { maxEntryBytes, uploadBodyLimit } from "../src/upload-guard.js";
import { depositEntries } from "./deposit-fixtures.js";
import { bearer, createHarness, createOperator, type Harness, uploadKeys } from "./harness.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { code: string; message: string; details: Record<string, unknown> };
}

/**
 * A POST that declares `declared` bytes and sends only `first`: the answer (if any) comes before
 * the rest of the body exists, so a server that answers has refused the body without parsing it.
 */
function partialPost(
  url: string,
  path: string,
  token: string,
  declared: number,
  first: string,
): { req: ClientRequest; answer: Promise<Answer> } {
  const req = httpRequest(`${url}${path}`, {
    method: "POST",
    headers: {
      ...bearer(token),
      "content-type": "application/json",
      "content-length": String(declared),
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("error", reject);
    req.once("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.once("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
      );
    });
  });
  answer.catch(() => undefined);
  req.write(first);
  return { req, answer };
}

/** The answer, or a failure naming that none came before the rest of the body was sent. */
function answered(a: Promise<Answer>, what: string): Promise<Answer> {
  return Promise.race([
    a,
    new Promise<never>((_r, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer while the body was incomplete`)), 15_000),
    ),
  ]);
}

describe("hostile key uploads (pglite)", () => {
  let h: Harness;
  let url: string;
  let opA: number;
  let opB: number;
  let tokenA: string;
  let tokenB: string;
  let nextKey = 7000;
  const limit = uploadBodyLimit(MAXIMAL_DEPOSIT_ENTRY, 10_000);

  beforeAll(async () => {
    h = await createHarness("pglite", { uploadRateLimitMax: 1000 });
    opA = await createOperator(h);
    opB = await createOperator(h);
    tokenA = await h.operatorToken(opA);
    tokenB = await h.operatorToken(opB);
    url = await h.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await h?.close();
  });

  const live = async () => (await fetch(`${url}/health/live`)).status;

  it("sizes the body limit for 10,000 maximal entries, well under the old 16 MiB", () => {
    expect(maxEntryBytes(MAXIMAL_DEPOSIT_ENTRY)).toBeGreaterThan(800);
    expect(limit).toBeGreaterThanOrEqual(10_000 * maxEntryBytes(MAXIMAL_DEPOSIT_ENTRY));
    expect(limit).toBeLessThan(9 * 1024 * 1024);
  });

  it("refuses a 16 MiB body by its Content-Length before reading it", async () => {
    const { req, answer } = partialPost(url, `/v1/operators/${opA}/keys`, tokenA, 16 * 1024 * 1024, "[{},");
    const a = await answered(answer, "16 MiB upload");
    req.destroy();
    expect(a.status).toBe(413);
    expect(a.body.code).toBe("ERR_PAYLOAD_TOO_LARGE");
    expect(a.body.details).toMatchObject({ field: "body", limit });
  });

  it("refuses the 10,001st entry while the body streams in, with /health/live answering meanwhile", async () => {
    // 8 MiB of `{}` entries declared (inside the byte limit); only the first 64 KiB are ever sent.
    const first = `[${"{},".repeat((64 * 1024) / 3)}`;
    const { req, answer } = partialPost(url, `/v1/operators/${opA}/keys`, tokenA, 8 * 1024 * 1024, first);
    expect(await live()).toBe(200);
    const a = await answered(answer, "5.6 million {} entries");
    expect(await live()).toBe(200);
    req.destroy();
    expect(a.status).toBe(413);
    expect(a.body).toMatchObject({
      code: "ERR_PAYLOAD_TOO_LARGE",
      details: { field: "body", reason: "too many entries", maxEntries: 10_000 },
    });
    expect(a.body.message).toContain("more than 10000 entries");
  });

  it.each(["[[[[", "]]][[[[{},{}"])("refuses %s while the body streams in", async (start) => {
    const { req, answer } = partialPost(url, `/v1/operators/${opA}/keys`, tokenA, 1024 * 1024, start);
    const a = await answered(answer, "malformed upload");
    req.destroy();
    expect(a.status).toBe(400);
    expect(a.body).toMatchObject({ code: "ERR_VALIDATION", details: { field: "body" } });
  });

  /** A small upload that is refused by the schema (400) once it may run; 409 while a slot is held. */
  const probe = async (token: string, id: number) =>
    (
      await h.app.inject({
        method: "POST",
        url: `/v1/operators/${id}/keys`,
        headers: bearer(token),
        payload: [{}],
      })
    ).json() as Answer["body"];

  it("allows one upload at a time per operator", async () => {
    const entries = depositEntries(nextKey++, 2);
    nextKey++;
    const text = JSON.stringify(entries);
    const running = partialPost(
      url,
      `/v1/operators/${opA}/keys`,
      tokenA,
      Buffer.byteLength(text),
      text.slice(0, 100),
    );
    let first: Answer | undefined;
    void running.answer.then((a) => {
      first = a;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(first, "the first upload is still reading its body").toBeUndefined();
    const second = await probe(tokenA, opA);
    expect(second.code).toBe("ERR_UPLOAD_IN_PROGRESS");
    expect(second.message).toContain(`operator ${opA}`);
    // an admin uploading for the same operator waits its turn too; another operator does not
    expect((await probe(h.admin, opA)).code).toBe("ERR_UPLOAD_IN_PROGRESS");
    expect((await probe(tokenB, opB)).code).toBe("ERR_VALIDATION");
    // the first upload completes, then the slot is free again
    running.req.end(text.slice(100));
    expect((await running.answer).status).toBe(201);
    expect((await probe(tokenA, opA)).code).toBe("ERR_VALIDATION");
  });

  it("frees the slot when the uploading client goes away", async () => {
    const gone = partialPost(url, `/v1/operators/${opA}/keys`, tokenA, 100_000, "[");
    await new Promise((r) => setTimeout(r, 200));
    expect((await probe(tokenA, opA)).code).toBe("ERR_UPLOAD_IN_PROGRESS");
    gone.req.destroy();
    let code = "";
    for (let i = 0; i < 100 && code !== "ERR_VALIDATION"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      code = (await probe(tokenA, opA)).code;
    }
    expect(code).toBe("ERR_VALIDATION");
    const r = await uploadKeys(h, opA, depositEntries(nextKey++, 1), tokenA);
    expect(r.statusCode, r.body).toBe(201);
  });
});

describe("key upload rate limit per token (pglite)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", { uploadRateLimitMax: 2 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers 429 with Retry-After once a token used its uploads; other tokens go on", async () => {
    const id = await createOperator(h);
    const a = await h.operatorToken(id, "A");
    const b = await h.operatorToken(id, "B");
    const upload = (token: string) =>
      h.app.inject({
        method: "POST",
        url: `/v1/operators/${id}/keys`,
        headers: bearer(token),
        payload: [{}],
      });
    expect((await upload(a)).statusCode).toBe(400);
    expect((await upload(a)).statusCode).toBe(400);
    const limited = await upload(a);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: "ERR_RATE_LIMITED", details: { limit: 2 } });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect((await upload(b)).statusCode).toBe(400);
    // other routes of the limited token are not affected
    expect((await h.app.inject({ method: "GET", url: "/v1/keys", headers: bearer(a) })).statusCode).toBe(200);
  });
});
