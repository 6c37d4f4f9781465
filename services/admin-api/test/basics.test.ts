import { createApiToken, listApiTokens, revokeApiToken } from "@poolkeeper/store";
import { TEST_STORE_KINDS } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createHarness, type Harness, operatorBody } from "./harness.js";

describe.each(TEST_STORE_KINDS)("admin-api basics on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers liveness and readiness (database reachable, migrations done)", async () => {
    const live = await h.app.inject({ method: "GET", url: "/health/live" });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: "ok" });
    const ready = await h.app.inject({ method: "GET", url: "/health/ready" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ready" });
  });

  it("publishes OpenAPI 3 with every route and bearer security, and serves /docs", async () => {
    const r = await h.app.inject({ method: "GET", url: "/openapi.json" });
    expect(r.statusCode).toBe(200);
    const doc = r.json() as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer" });
    const expected: [string, string][] = [
      ["/v1/operators", "get"],
      ["/v1/operators", "post"],
      ["/v1/operators/{id}", "get"],
      ["/v1/operators/{id}", "patch"],
      ["/v1/operators/{id}/keys", "post"],
      ["/v1/operators/{id}/keys/{pubkey}", "delete"],
      ["/v1/operators/{id}/keys/vet", "post"],
      ["/v1/keys", "get"],
      ["/v1/keys/{pubkey}", "get"],
      ["/v1/allocation/simulate", "post"],
      ["/v1/deposits/batches", "post"],
      ["/v1/deposits/batches", "get"],
      ["/v1/deposits/batches/{id}", "get"],
      ["/v1/deposits/batches/{id}/deposit_data", "get"],
      ["/v1/review", "get"],
      ["/v1/audit", "get"],
      ["/health/live", "get"],
      ["/health/ready", "get"],
      ["/metrics", "get"],
    ];
    for (const [path, method] of expected) {
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
    const docs = await h.app.inject({ method: "GET", url: "/docs/" });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers["content-type"]).toMatch(/text\/html/);
  });

  it("answers unknown routes with the error shape", async () => {
    const r = await h.app.inject({ method: "GET", url: "/v1/nothing-here" });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: "ERR_NOT_FOUND", details: {} });
  });

  it("refuses missing, malformed, unknown and revoked tokens with 401", async () => {
    const none = await h.app.inject({ method: "GET", url: "/v1/operators" });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: "ERR_UNAUTHORIZED" });
    const malformed = await h.app.inject({
      method: "GET",
      url: "/v1/operators",
      headers: { authorization: "Token abc" },
    });
    expect(malformed.statusCode).toBe(401);
    const unknown = await h.app.inject({
      method: "GET",
      url: "/v1/operators",
      headers: bearer(`pk_${"A".repeat(43)}`),
    });
    expect(unknown.statusCode).toBe(401);
    const { token, info } = await createApiToken(h.store, { role: "admin", label: "to revoke" });
    expect(
      (await h.app.inject({ method: "GET", url: "/v1/operators", headers: bearer(token) })).statusCode,
    ).toBe(200);
    expect(await revokeApiToken(h.store, info.id)).toBe(true);
    expect(await revokeApiToken(h.store, info.id)).toBe(false);
    const revoked = await h.app.inject({ method: "GET", url: "/v1/operators", headers: bearer(token) });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json()).toMatchObject({ code: "ERR_UNAUTHORIZED", message: "invalid or revoked token" });
  });

  it("stores tokens hashed and lists them without secrets", async () => {
    const rows = await h.store.query<{ token_hash: string }>("SELECT token_hash FROM api_tokens");
    for (const t of h.secrets) {
      expect(rows.rows.some((r) => r.token_hash.includes(t) || t.includes(r.token_hash))).toBe(false);
    }
    const list = await listApiTokens(h.store);
    expect(list.length).toBeGreaterThanOrEqual(2);
    const text = JSON.stringify(list);
    for (const t of h.secrets) expect(text).not.toContain(t);
    expect(list.map((t) => t.role)).toContain("dao");
  });

  it("refuses bad token requests with a reason naming the field", async () => {
    await expect(createApiToken(h.store, { role: "root" })).rejects.toThrow(/^role: "root" is not a role/);
    await expect(createApiToken(h.store, { role: "operator" })).rejects.toThrow(/^operator: /);
    await expect(createApiToken(h.store, { role: "dao", operatorId: 1 })).rejects.toThrow(
      /^operator: only operator tokens/,
    );
    await expect(createApiToken(h.store, { role: "operator", operatorId: 999_999 })).rejects.toThrow(
      /^operator: operator 999999 does not exist/,
    );
  });

  it("answers a body that fails its schema with 400 naming the field", async () => {
    const missing = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: { rewardAddress: "0x0000000000000000000000000000000000001234" },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: "ERR_VALIDATION", details: { field: "body.name" } });
    expect(missing.json().message).toMatch(/^body\.name: is required/);

    const wrongType = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: operatorBody({ vettedLimit: "ten" }),
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().details.field).toBe("body.vettedLimit");

    const extra = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: operatorBody({ stakingLimit: 5 }),
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().details.field).toBe("body.stakingLimit");

    const badAddress = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: operatorBody({ rewardAddress: "0x123" }),
    });
    expect(badAddress.statusCode).toBe(400);
    expect(badAddress.json().details.field).toBe("body.rewardAddress");

    const badJson = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: { ...bearer(h.admin), "content-type": "application/json" },
      payload: "{not json",
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ code: "ERR_VALIDATION", details: { field: "body" } });

    const badQuery = await h.app.inject({
      method: "GET",
      url: "/v1/keys?state=lost",
      headers: bearer(h.admin),
    });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json().details.field).toBe("querystring.state");

    const badParam = await h.app.inject({
      method: "GET",
      url: "/v1/operators/abc",
      headers: bearer(h.admin),
    });
    expect(badParam.statusCode).toBe(400);
    expect(badParam.json().details.field).toBe("params.id");
  });

  it("limits body sizes: 413 beyond the limit, the key upload route allows more", async () => {
    const big = { ...operatorBody(), reason: "x".repeat(300 * 1024) };
    const r = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: big,
    });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ code: "ERR_PAYLOAD_TOO_LARGE" });
    // The same size on the upload route passes the size check and reaches validation.
    const upload = await h.app.inject({
      method: "POST",
      url: "/v1/operators/1/keys",
      headers: bearer(h.admin),
      payload: [{ pubkey: "x".repeat(300 * 1024) }],
    });
    expect(upload.statusCode).toBe(400);
  });

  it("serves Prometheus metrics: request latency, keys by state, operators", async () => {
    await h.app.inject({ method: "GET", url: "/health/live" });
    const r = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toMatch(/text\/plain/);
    expect(r.body).toMatch(
      /poolkeeper_api_request_duration_seconds_count\{method="GET",route="\/health\/live",status_code="200"\} \d+/,
    );
    expect(r.body).toContain("# TYPE poolkeeper_keys gauge");
    expect(r.body).toMatch(/poolkeeper_operators\{active="true"\} \d+/);
    expect(r.body).toContain("poolkeeper_api_allocated_keys_total");
  });

  it("never writes a token to the logs", () => {
    const text = h.logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const t of h.secrets) expect(text).not.toContain(t);
    expect(text).not.toMatch(/pk_[A-Za-z0-9_-]{43}/);
  });
});

describe("rate limit", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", { rateLimitMax: 3 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers 429 with the error shape once a client is over its limit", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await h.app.inject({ method: "GET", url: "/health/live" })).statusCode);
    expect(codes.slice(0, 3)).toEqual([200, 200, 200]);
    expect(codes[4]).toBe(429);
    const r = await h.app.inject({ method: "GET", url: "/v1/operators", headers: bearer(h.admin) });
    expect(r.statusCode).toBe(429);
    expect(r.json()).toMatchObject({ code: "ERR_RATE_LIMITED" });
  });
});

describe("rate limit behind a proxy", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", { rateLimitMax: 2, trustProxy: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("limits each forwarded client address on its own", async () => {
    const from = (ip: string) =>
      h.app.inject({ method: "GET", url: "/health/live", headers: { "x-forwarded-for": ip } });
    expect((await from("203.0.113.1")).statusCode).toBe(200);
    expect((await from("203.0.113.1")).statusCode).toBe(200);
    expect((await from("203.0.113.1")).statusCode).toBe(429);
    expect((await from("203.0.113.2")).statusCode).toBe(200);
  });
});
