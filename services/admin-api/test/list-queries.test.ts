import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries } from "./deposit-fixtures.js";
import { bearer, createHarness, createOperator, type Harness, uploadKeys } from "./harness.js";

/**
 * Every query parameter of every list route is checked before the answer starts: a bad value is a
 * 400 naming the field, never a 200 whose body is cut when the database refuses the value.
 */
const BAD: [path: string, query: string, field: string][] = [
  ["/v1/keys", "cursor=abc", "querystring.cursor"],
  ["/v1/keys", "cursor=-1", "querystring.cursor"],
  ["/v1/keys", "cursor=1e400", "querystring.cursor"],
  ["/v1/keys", "cursor=2147483648", "querystring.cursor"],
  ["/v1/keys", "cursor=", "querystring.cursor"],
  ["/v1/keys", "operator=999999999999999999", "querystring.operator"],
  ["/v1/keys", "operator=2147483648", "querystring.operator"],
  ["/v1/keys", "operator=-1", "querystring.operator"],
  ["/v1/keys", "limit=0", "querystring.limit"],
  ["/v1/keys", "limit=1e3", "querystring.limit"],
  ["/v1/keys", "state=burnt", "querystring.state"],
  ["/v1/keys", "sort=id", "querystring.sort"],
  ["/v1/keys", "limit=10001", "querystring.limit"],
  ["/v1/audit", "cursor=99999999999999999999", "querystring.cursor"],
  ["/v1/audit", "cursor=9223372036854775808", "querystring.cursor"],
  ["/v1/audit", "limit=-5", "querystring.limit"],
  ["/v1/audit", "limit=1001", "querystring.limit"],
  ["/v1/audit", "before=5", "querystring.before"],
  ["/v1/deposits/batches", "cursor=abc", "querystring.cursor"],
  ["/v1/deposits/batches", "cursor=2147483648", "querystring.cursor"],
  ["/v1/deposits/batches", "limit=1001", "querystring.limit"],
  ["/v1/deposits/batches", "before=1", "querystring.before"],
  ["/v1/alerts", "cursor=1e400", "querystring.cursor"],
  ["/v1/alerts", "limit=1001", "querystring.limit"],
  ["/v1/alerts", "since=yesterday", "querystring.since"],
  ["/v1/alerts", "operator=2147483648", "querystring.operator"],
  ["/v1/performance/operators", "operator=abc", "querystring.operator"],
  ["/v1/performance/operators", "window=1y", "querystring.window"],
];

describe("query parameters of the list routes (pglite)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite");
    const id = await createOperator(h);
    expect((await uploadKeys(h, id, depositEntries(8000, 2))).statusCode).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(BAD)("%s?%s is a 400 naming %s", async (path, query, field) => {
    const r = await h.app.inject({ method: "GET", url: `${path}?${query}`, headers: bearer(h.admin) });
    expect(r.statusCode, r.body).toBe(400);
    const body = r.json() as { code: string; message: string; details: { field: string } };
    expect(body.code).toBe("ERR_VALIDATION");
    expect(body.details.field).toBe(field);
    expect(body.message).toContain(field);
  });

  it("still pages with a good cursor and streams a complete document", async () => {
    const first = await h.app.inject({ method: "GET", url: "/v1/keys?limit=1", headers: bearer(h.admin) });
    const page = first.json() as { data: { id: number }[]; meta: { nextCursor: string } };
    expect(page.data).toHaveLength(1);
    const next = await h.app.inject({
      method: "GET",
      url: `/v1/keys?limit=1&cursor=${page.meta.nextCursor}&operator=1`,
      headers: bearer(h.admin),
    });
    expect(next.statusCode).toBe(200);
    expect((next.json() as { data: { id: number }[] }).data[0]!.id).toBeGreaterThan(page.data[0]!.id);
    const max = await h.app.inject({
      method: "GET",
      url: "/v1/keys?cursor=2147483647&operator=2147483647",
      headers: bearer(h.admin),
    });
    expect(max.statusCode).toBe(200);
    expect(max.json()).toEqual({ data: [], meta: { count: 0, nextCursor: null } });
  });

  it("pages every list the same way: cursor + limit in, meta.nextCursor out (null at the end)", async () => {
    // Three more operators: the audit log has at least four entries, three batches of one key each.
    await h.stakeForKeys(3);
    for (let i = 0; i < 3; i++) {
      const id = await createOperator(h, { vettedLimit: 1 });
      expect((await uploadKeys(h, id, depositEntries(8100 + i, 1))).statusCode).toBe(201);
      const vet = await h.app.inject({
        method: "POST",
        url: `/v1/operators/${id}/keys/vet`,
        headers: bearer(h.admin),
        payload: {},
      });
      expect(vet.json(), vet.body).toEqual({ data: { vetted: 1 }, meta: {} });
      const b = await h.app.inject({
        method: "POST",
        url: "/v1/deposits/batches",
        headers: bearer(h.admin),
        payload: { count: 1 },
      });
      expect(b.statusCode, b.body).toBe(201);
    }
    for (const path of ["/v1/deposits/batches", "/v1/audit"]) {
      const all = (
        await h.app.inject({ method: "GET", url: `${path}?limit=1000`, headers: bearer(h.admin) })
      ).json() as { data: { id: number | string }[]; meta: { count: number; nextCursor: string | null } };
      expect(all.meta).toEqual({ count: all.data.length, nextCursor: null });
      expect(all.data.length).toBeGreaterThanOrEqual(3);
      const seen: (number | string)[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor === null ? "limit=2" : `limit=2&cursor=${cursor}`;
        const r = await h.app.inject({ method: "GET", url: `${path}?${q}`, headers: bearer(h.admin) });
        expect(r.statusCode, r.body).toBe(200);
        const page = r.json() as { data: { id: number | string }[]; meta: { nextCursor: string | null } };
        seen.push(...page.data.map((x) => x.id));
        cursor = page.meta.nextCursor;
        if (cursor !== null) expect(cursor).toBe(String(page.data.at(-1)!.id));
      } while (cursor !== null);
      expect(seen).toEqual(all.data.map((x) => x.id));
    }
  });
});
