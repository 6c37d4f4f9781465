import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries } from "./deposit-fixtures.js";
import { bearer, createHarness, type Harness, operatorBody } from "./harness.js";

describe("admin-api edges (pglite)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lists keys exactly as GET /v1/keys/{pubkey} shows them", async () => {
    const r = await h.app.inject({
      method: "POST",
      url: "/v1/operators",
      headers: bearer(h.admin),
      payload: operatorBody({ vettedLimit: 2 }),
    });
    const id = r.json().data.id as number;
    const entries = depositEntries(5000, 3);
    expect(
      (
        await h.app.inject({
          method: "POST",
          url: `/v1/operators/${id}/keys`,
          headers: bearer(h.admin),
          payload: entries,
        })
      ).statusCode,
    ).toBe(201);
    await h.app.inject({
      method: "POST",
      url: `/v1/operators/${id}/keys/vet`,
      headers: bearer(h.dao),
      payload: {},
    });
    await h.stakeForKeys(1);
    await h.app.inject({
      method: "POST",
      url: "/v1/deposits/batches",
      headers: bearer(h.admin),
      payload: { count: 1 },
    });
    const list = JSON.parse(
      (await h.app.inject({ method: "GET", url: `/v1/keys?operator=${id}`, headers: bearer(h.admin) })).body,
    ) as { data: Record<string, unknown>[] };
    expect(list.data.map((k) => k.state)).toEqual(["deposited", "vetted", "submitted"]);
    for (const k of list.data) {
      const d = (
        await h.app.inject({ method: "GET", url: `/v1/keys/${String(k.key)}`, headers: bearer(h.admin) })
      ).json().data as Record<string, unknown>;
      for (const f of ["id", "key", "depositSignature", "operatorId", "state", "used"])
        expect(k[f]).toEqual(d[f]);
    }
    expect(list.data[0]!.depositSignature).toBe(`0x${entries[0]!.signature}`);
  });

  it("accepts a 10,000-entry upload body (about 7 MB) up to validation", async () => {
    const e = depositEntries(6000, 1)[0]!;
    const body = Array.from({ length: 10_000 }, () => ({ ...e, pubkey: "zz".repeat(48) }));
    expect(JSON.stringify(body).length).toBeGreaterThan(6_000_000);
    const r = await h.app.inject({
      method: "POST",
      url: "/v1/operators/1/keys",
      headers: bearer(h.admin),
      payload: body,
    });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(422);
    const details = r.json().details as {
      failures: { index: number; field: string }[];
      failedEntries?: number;
    };
    expect(details.failures[0]).toMatchObject({ index: 0, field: "pubkey" });
    expect(details.failedEntries).toBe(10_000);
    // 10,001 entries: refused while the body streams in, before it is parsed.
    const over = await h.app.inject({
      method: "POST",
      url: "/v1/operators/1/keys",
      headers: bearer(h.admin),
      payload: [...body, e],
    });
    expect(over.statusCode).toBe(413);
    expect(over.json().details).toMatchObject({ field: "body", maxEntries: 10_000 });
  });

  it("answers 503 on /health/ready when the database is gone, and keeps /health/live", async () => {
    await h.store.close();
    const ready = await h.app.inject({ method: "GET", url: "/health/ready" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ code: "ERR_UNAVAILABLE" });
    expect((await h.app.inject({ method: "GET", url: "/health/live" })).statusCode).toBe(200);
    // Metrics still answer (without the database gauges); a scrape counts the failed reads of the
    // previous ones (gauges and counters are read concurrently).
    await h.app.inject({ method: "GET", url: "/metrics" });
    const m = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(m.statusCode).toBe(200);
    expect(m.body).toMatch(/poolkeeper_api_scrape_errors_total [1-9]/);
  });
});
