import { connect } from "node:net";
import { recordKeyChainDeposits } from "@poolkeeper/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries } from "./deposit-fixtures.js";
import { bearer, createHarness, createOperator, type Harness, operatorBody, uploadKeys } from "./harness.js";

/** A raw HTTP/1.1 exchange: what the server answered before it closed the connection. */
function rawExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let out = "";
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => {
      out += c;
    });
    socket.once("error", reject);
    socket.once("close", () => resolve(out));
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

describe("admin-api hardening (pglite)", () => {
  let h: Harness;
  let url: string;
  let a: number;
  let b: number;
  let tokenA: string;
  const keysB = depositEntries(9100, 1);

  beforeAll(async () => {
    h = await createHarness("pglite");
    a = await createOperator(h);
    b = await createOperator(h);
    tokenA = await h.operatorToken(a);
    const r = await uploadKeys(h, b, keysB);
    expect(r.statusCode, r.body).toBe(201);
    url = await h.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers a URL that does not decode in the API's error shape", async () => {
    const r = await fetch(`${url}/v1/operators/%zz`, { headers: bearer(h.admin) });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({
      code: "ERR_VALIDATION",
      message: "url: is not a valid URL (malformed percent-encoding)",
      details: { field: "url", reason: "malformed percent-encoding" },
    });
  });

  it("answers a request with both Content-Length and Transfer-Encoding in the API's error shape", async () => {
    const answer = await rawExchange(
      url,
      "POST /v1/operators HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["code", "details", "message"]);
    expect(body.code).toBe("ERR_BAD_REQUEST");
    expect(body.message).toMatch(/Content-Length or Transfer-Encoding/);
  });

  it("logs a client that leaves mid-request as a client abort at info, not a database failure", async () => {
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    await new Promise<void>((r) => socket.once("connect", () => r()));
    socket.write(
      `POST /v1/operators HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${h.admin}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":`,
    );
    try {
      await until(
        () => h.logs.text().includes('"method":"POST","url":"/v1/operators"'),
        "the request reached the API",
      );
    } finally {
      socket.destroy();
    }
    await until(() => h.logs.text().includes("client aborted the request"), "the abort is logged");
    const lines = h.logs
      .text()
      .split("\n")
      .filter((l) => l.includes("client aborted the request") || l.includes("database unavailable"));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      const entry = JSON.parse(l) as { level: number; msg: string };
      expect(entry.msg).toBe("client aborted the request");
      expect(entry.level).toBe(30);
    }
  });

  it("never logs query-string values (a token put in the query string)", async () => {
    const secret = `pk_${"Q".repeat(40)}`;
    for (const path of ["/v1/keys?limit=1&token=", "/health/live?token=", "/nope?access_token="]) {
      await fetch(`${url}${path}${secret}`, { headers: bearer(h.admin) });
    }
    await fetch(`${url}/v1/keys?token=${secret}`, { headers: { authorization: `Bearer ${secret}` } });
    const text = h.logs.text();
    expect(text).toContain('"url":"/v1/keys","query":["limit","token"]');
    expect(text).toContain('"url":"/health/live","query":["token"]');
    expect(text).not.toContain(secret);
    expect(text).not.toContain("Q".repeat(20));
    for (const s of h.secrets) expect(text).not.toContain(s);
  });

  it("answers another operator's key exactly as an unknown key (404)", async () => {
    const other = await h.app.inject({
      method: "GET",
      url: `/v1/keys/${keysB[0]!.pubkey}`,
      headers: bearer(tokenA),
    });
    const unknownKey = depositEntries(9200, 1)[0]!.pubkey;
    const unknown = await h.app.inject({
      method: "GET",
      url: `/v1/keys/${unknownKey}`,
      headers: bearer(tokenA),
    });
    expect(other.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(other.body.replaceAll(keysB[0]!.pubkey, "PUBKEY")).toBe(
      unknown.body.replaceAll(unknownKey, "PUBKEY"),
    );
    // the admin still sees it
    const admin = await h.app.inject({
      method: "GET",
      url: `/v1/keys/${keysB[0]!.pubkey}`,
      headers: bearer(h.admin),
    });
    expect(admin.statusCode).toBe(200);
  });

  it("matches the Bearer scheme case-insensitively", async () => {
    for (const scheme of ["bearer", "BEARER", "bEaReR", "Bearer "]) {
      const r = await h.app.inject({
        method: "GET",
        url: "/v1/operators",
        headers: { authorization: `${scheme} ${h.admin}` },
      });
      expect(r.statusCode, scheme).toBe(200);
    }
    const basic = await h.app.inject({
      method: "GET",
      url: "/v1/operators",
      headers: { authorization: `Basic ${h.admin}` },
    });
    expect(basic.statusCode).toBe(401);
  });

  it.each([
    ["right-to-left override", "evil\u202Eop"],
    ["first-strong isolate", "op\u2068x"],
    ["zero-width space", "sta\u200Bking"],
    ["zero-width joiner", "op\u200Dx"],
    ["bell", "op\u0007"],
    ["delete", "op\u007F"],
    ["C1 control", "op\u0085x"],
    ["line separator", "op\u2028x"],
    ["zero-width no-break space", "op\uFEFFx"],
  ])("refuses an operator name with a %s", async (_what, name) => {
    const created = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: operatorBody({ name }),
    });
    expect(created.statusCode, created.body).toBe(400);
    expect(created.json()).toMatchObject({ code: "ERR_VALIDATION", details: { field: "name" } });
    expect(created.json().message).toMatch(/^name: must not contain control, format .* U\+[0-9A-F]{4}/);
    const patched = await h.app.inject({
      method: "PATCH",
      url: `/v1/operators/${a}`,
      headers: bearer(h.admin),
      payload: { name },
    });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().details.field).toBe("name");
  });

  it("accepts names in any script", async () => {
    const r = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: operatorBody({ name: `Stäking Fàcilities 株式会社 ${Date.now()}` }),
    });
    expect(r.statusCode, r.body).toBe(201);
  });

  it("refuses the zero address as a reward address", async () => {
    const zero = `0x${"0".repeat(40)}`;
    const created = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: operatorBody({ rewardAddress: zero }),
    });
    expect(created.statusCode).toBe(400);
    expect(created.json()).toMatchObject({ code: "ERR_VALIDATION", details: { field: "rewardAddress" } });
    const patched = await h.app.inject({
      method: "PATCH",
      url: `/v1/operators/${a}`,
      headers: bearer(h.admin),
      payload: { rewardAddress: zero },
    });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().details.field).toBe("rewardAddress");
  });

  it("shows who uploaded a key first, and when", async () => {
    const entries = depositEntries(9300, 1);
    const up = await uploadKeys(h, a, entries, tokenA);
    expect(up.statusCode, up.body).toBe(201);
    // the same key from another operator is refused: the first upload wins
    const squat = await uploadKeys(h, b, entries);
    expect(squat.statusCode).toBe(422);
    const key = (
      await h.app.inject({ method: "GET", url: `/v1/keys/${entries[0]!.pubkey}`, headers: bearer(h.dao) })
    ).json().data as {
      operatorId: number;
      uploadedBy: string;
      uploadedAt: string;
      history: { actor: string }[];
    };
    expect(key.operatorId).toBe(a);
    expect(key.uploadedBy).toMatch(new RegExp(`^token:\\d+:operator:${a}$`));
    expect(key.history[0]!.actor).toBe(key.uploadedBy);
    expect(Number.isNaN(Date.parse(key.uploadedAt))).toBe(false);
  });

  it("shows the key's deposit as the chain first showed it (recorded by the watcher), null before", async () => {
    const entries = depositEntries(9310, 1);
    expect((await uploadKeys(h, a, entries, tokenA)).statusCode).toBe(201);
    const pk = entries[0]!.pubkey;
    const get = async () =>
      (await h.app.inject({ method: "GET", url: `/v1/keys/${pk}`, headers: bearer(h.dao) })).json().data
        .chainDeposit;
    expect(await get()).toBeNull();
    const wc = new Uint8Array(32).fill(7); // a front-run deposit: other credentials than the key's
    const seen = { slot: 41, amountGwei: 1_000_000_000n, withdrawalCredentials: wc, seenEpoch: 7 };
    expect(await recordKeyChainDeposits(h.store, [{ ...seen, pubkey: pk.replace(/^0x/, "") }])).toBe(1);
    // the first record stays
    expect(
      await recordKeyChainDeposits(h.store, [{ ...seen, slot: 90, pubkey: pk.replace(/^0x/, "") }]),
    ).toBe(0);
    expect(await get()).toEqual({
      slot: 41,
      amountGwei: "1000000000",
      withdrawalCredentials: `0x${"07".repeat(32)}`,
      seenEpoch: 7,
    });
  });
});
