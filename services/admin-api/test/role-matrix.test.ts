import { TEST_STORE_KINDS } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries, TEST_NETWORK } from "./deposit-fixtures.js";
import { bearer, createHarness, type Harness, operatorBody } from "./harness.js";
import { pubkeyHex, seedWatcher } from "./watcher-fixtures.js";

type Who = "admin" | "dao" | "operatorA" | "none" | "bad";

interface Case {
  name: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Built when the case runs: operator ids and keys exist by then. */
  url: () => string;
  body?: () => unknown;
  /** Who may call it; everyone else gets 403 (or 401 without a valid token). */
  allowed: readonly Who[];
  /** Operator tokens get this instead of 403 where a 403 would tell that the thing exists. */
  operatorDenied?: { status: 404; code: "ERR_NOT_FOUND" };
}

describe.each(TEST_STORE_KINDS)("role matrix on %s", (kind) => {
  let h: Harness;
  let a: number;
  let b: number;
  let opA: string;
  // Keys: A's and B's (uploaded by admin), plus spares that allowed DELETE calls may remove.
  const keysA = depositEntries(1000, 8);
  const keysB = depositEntries(1100, 8);
  let nextUpload = 1200;

  beforeAll(async () => {
    h = await createHarness(kind);
    const create = async (extra: Record<string, unknown>) => {
      const r = await h.app.inject({
        method: "POST",
        url: "/v1/operators",
        headers: bearer(h.admin),
        payload: operatorBody(extra),
      });
      expect(r.statusCode).toBe(201);
      return (r.json() as { data: { id: number } }).data.id;
    };
    a = await create({ vettedLimit: 10 });
    b = await create({ vettedLimit: 10 });
    opA = await h.operatorToken(a, "operator A");
    for (const [id, entries] of [
      [a, keysA],
      [b, keysB],
    ] as const) {
      const r = await h.app.inject({
        method: "POST",
        url: `/v1/operators/${id}/keys`,
        headers: bearer(h.admin),
        payload: entries,
      });
      expect(r.statusCode, r.body).toBe(201);
    }
    await h.stakeForKeys(16); // the buffer pays for the allocations the matrix makes
    // watcher history: validators 10, 11 of A and 20 of B (the harness reads TEST_NETWORK's rows)
    await seedWatcher(h.store, TEST_NETWORK.name, a, b);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const headers = (who: Who): Record<string, string> => {
    switch (who) {
      case "admin":
        return bearer(h.admin);
      case "dao":
        return bearer(h.dao);
      case "operatorA":
        return bearer(opA);
      case "bad":
        return bearer(`pk_${"Z".repeat(43)}`);
      case "none":
        return {};
    }
  };

  const fresh = () => depositEntries(nextUpload++, 1);

  const cases: Case[] = [
    {
      name: "list operators",
      method: "GET",
      url: () => "/v1/operators",
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "create operator",
      method: "POST",
      url: () => "/v1/operators",
      body: () => operatorBody(),
      allowed: ["admin"],
    },
    {
      name: "get own operator",
      method: "GET",
      url: () => `/v1/operators/${a}`,
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "get another operator",
      method: "GET",
      url: () => `/v1/operators/${b}`,
      allowed: ["admin", "dao"],
    },
    {
      name: "set limits",
      method: "PATCH",
      url: () => `/v1/operators/${a}`,
      body: () => ({ vettedLimit: 10, reason: "matrix" }),
      allowed: ["admin", "dao"],
    },
    {
      name: "rename operator",
      method: "PATCH",
      url: () => `/v1/operators/${a}`,
      body: () => ({ name: `renamed-${Math.random().toString(36).slice(2)}` }),
      allowed: ["admin"],
    },
    {
      name: "upload own keys",
      method: "POST",
      url: () => `/v1/operators/${a}/keys`,
      body: fresh,
      allowed: ["admin", "operatorA"],
    },
    {
      name: "upload another's keys",
      method: "POST",
      url: () => `/v1/operators/${b}/keys`,
      body: fresh,
      allowed: ["admin"],
    },
    {
      name: "delete own key",
      method: "DELETE",
      url: () => `/v1/operators/${a}/keys/${keysA.pop()?.pubkey ?? "00"}`,
      allowed: ["admin", "operatorA"],
    },
    {
      name: "delete another's key",
      method: "DELETE",
      url: () => `/v1/operators/${b}/keys/${keysB.pop()?.pubkey ?? "00"}`,
      allowed: ["admin"],
    },
    {
      name: "vet keys",
      method: "POST",
      url: () => `/v1/operators/${a}/keys/vet`,
      body: () => ({}),
      allowed: ["admin", "dao"],
    },
    { name: "list keys", method: "GET", url: () => "/v1/keys", allowed: ["admin", "dao", "operatorA"] },
    {
      name: "list own keys",
      method: "GET",
      url: () => `/v1/keys?operator=${a}`,
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "list another's keys",
      method: "GET",
      url: () => `/v1/keys?operator=${b}`,
      allowed: ["admin", "dao"],
    },
    {
      name: "get own key",
      method: "GET",
      url: () => `/v1/keys/0x${keysA[0]!.pubkey}`,
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "get another's key",
      method: "GET",
      url: () => `/v1/keys/${keysB[0]!.pubkey}`,
      allowed: ["admin", "dao"],
      operatorDenied: { status: 404, code: "ERR_NOT_FOUND" },
    },
    {
      name: "simulate",
      method: "POST",
      url: () => "/v1/allocation/simulate",
      body: () => ({ count: 1, limits: [{ operatorId: a, vettedLimit: 5 }] }),
      allowed: ["admin", "dao"],
    },
    {
      name: "allocate",
      method: "POST",
      url: () => "/v1/deposits/batches",
      body: () => ({ count: 1 }),
      allowed: ["admin"],
    },
    { name: "list batches", method: "GET", url: () => "/v1/deposits/batches", allowed: ["admin", "dao"] },
    { name: "get batch", method: "GET", url: () => "/v1/deposits/batches/1", allowed: ["admin", "dao"] },
    {
      name: "batch deposit_data.json",
      method: "GET",
      url: () => "/v1/deposits/batches/1/deposit_data",
      allowed: ["admin", "dao"],
    },
    { name: "review", method: "GET", url: () => "/v1/review", allowed: ["admin", "dao"] },
    { name: "audit", method: "GET", url: () => "/v1/audit", allowed: ["admin", "dao"] },
    {
      name: "operators' performance",
      method: "GET",
      url: () => "/v1/performance/operators?window=7d",
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "own performance",
      method: "GET",
      url: () => `/v1/performance/operators?operator=${a}`,
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "another's performance",
      method: "GET",
      url: () => `/v1/performance/operators?operator=${b}`,
      allowed: ["admin", "dao"],
    },
    {
      name: "own validator's history",
      method: "GET",
      url: () => `/v1/performance/validators/${pubkeyHex(10)}`,
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "another's validator's history",
      method: "GET",
      url: () => `/v1/performance/validators/${pubkeyHex(20)}?from=0&to=69`,
      allowed: ["admin", "dao"],
    },
    { name: "alerts", method: "GET", url: () => "/v1/alerts", allowed: ["admin", "dao", "operatorA"] },
    {
      name: "pool identity",
      method: "GET",
      url: () => "/v1/pool/identity",
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "own alerts",
      method: "GET",
      url: () => `/v1/alerts?operator=${a}&kind=validator_offline`,
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "another's alerts",
      method: "GET",
      url: () => `/v1/alerts?operator=${b}`,
      allowed: ["admin", "dao"],
    },
    {
      name: "own rewards",
      method: "GET",
      url: () => `/v1/operators/${a}/rewards`,
      allowed: ["admin", "dao", "operatorA"],
    },
    {
      name: "another's rewards",
      method: "GET",
      url: () => `/v1/operators/${b}/rewards?limit=5`,
      allowed: ["admin", "dao"],
    },
  ];

  const everyone: Who[] = ["none", "bad", "operatorA", "dao", "admin"];

  it.each(cases)("$method $name", async (c) => {
    for (const who of everyone) {
      const r = await h.app.inject({
        method: c.method,
        url: c.url(),
        headers: headers(who),
        ...(c.body !== undefined ? { payload: c.body() as object } : {}),
      });
      const label = `${c.method} ${c.name} as ${who}: ${r.body.slice(0, 300)}`;
      if (who === "none" || who === "bad") {
        expect(r.statusCode, label).toBe(401);
        expect(r.json().code, label).toBe("ERR_UNAUTHORIZED");
      } else if (c.allowed.includes(who)) {
        expect(r.statusCode, label).toBeGreaterThanOrEqual(200);
        expect(r.statusCode, label).toBeLessThan(300);
      } else {
        const denied = (who === "operatorA" ? c.operatorDenied : undefined) ?? {
          status: 403,
          code: "ERR_FORBIDDEN",
        };
        expect(r.statusCode, label).toBe(denied.status);
        expect(r.json().code, label).toBe(denied.code);
      }
    }
  });

  it("an operator token sees its own operator and keys only", async () => {
    const ops = await h.app.inject({ method: "GET", url: "/v1/operators", headers: bearer(opA) });
    expect((ops.json() as { data: { id: number }[] }).data.map((o) => o.id)).toEqual([a]);
    const keys = await h.app.inject({ method: "GET", url: "/v1/keys", headers: bearer(opA) });
    const list = (keys.json() as { data: { operatorId: number }[] }).data;
    expect(list.length).toBeGreaterThan(0);
    expect(new Set(list.map((k) => k.operatorId))).toEqual(new Set([a]));
  });

  it("a refused operator call changes nothing", async () => {
    const before = await h.app.inject({ method: "GET", url: `/v1/operators/${b}`, headers: bearer(h.admin) });
    const entries = depositEntries(1300, 2);
    const r = await h.app.inject({
      method: "POST",
      url: `/v1/operators/${b}/keys`,
      headers: bearer(opA),
      payload: entries,
    });
    expect(r.statusCode).toBe(403);
    const after = await h.app.inject({ method: "GET", url: `/v1/operators/${b}`, headers: bearer(h.admin) });
    expect(after.json().data.keys).toEqual(before.json().data.keys);
    const key = await h.app.inject({
      method: "GET",
      url: `/v1/keys/${entries[0]!.pubkey}`,
      headers: bearer(h.admin),
    });
    expect(key.statusCode).toBe(404);
    // B's key named under A's path: not A's key, so not removed.
    const bKey = keysB[0]!.pubkey;
    const sneaky = await h.app.inject({
      method: "DELETE",
      url: `/v1/operators/${a}/keys/${bKey}`,
      headers: bearer(opA),
    });
    expect([403, 404]).toContain(sneaky.statusCode);
    const still = await h.app.inject({ method: "GET", url: `/v1/keys/${bKey}`, headers: bearer(h.admin) });
    expect(still.json().data.state).not.toBe("removed");
  });
});
