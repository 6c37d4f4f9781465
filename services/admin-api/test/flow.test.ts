import { loadNetwork } from "@poolkeeper/core";
import { type DepositDataJson, serializeDepositDataFile, verifyDepositData } from "@poolkeeper/keys";
import { TEST_STORE_KINDS } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries, OTHER_WC, TEST_NETWORK } from "./deposit-fixtures.js";
import { bearer, createHarness, type Harness, operatorBody } from "./harness.js";

interface Failure {
  index: number;
  field: string;
  reason: string;
}

describe.each(TEST_STORE_KINDS)("admin-api flow on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = async (
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    token: string,
    payload?: unknown,
  ) => {
    const r = await h.app.inject({
      method,
      url,
      headers: bearer(token),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    return { status: r.statusCode, body: r.body, json: () => r.json() };
  };

  async function createOperator(extra: Record<string, unknown> = {}): Promise<number> {
    const r = await call("POST", "/v1/operators", h.admin, operatorBody(extra));
    expect(r.status, r.body).toBe(201);
    return r.json().data.id as number;
  }

  it("rejects an upload with bad entries with 422, a reason per entry, and stores nothing", async () => {
    const id = await createOperator({ vettedLimit: 100 });
    const good = depositEntries(2000, 3);
    const known = depositEntries(2010, 1);
    expect((await call("POST", `/v1/operators/${id}/keys`, h.admin, known)).status).toBe(201);

    const wrongCredentials = depositEntries(2020, 1, { withdrawalCredentials: OTHER_WC })[0]!;
    const wrongNetwork = depositEntries(2021, 1, { network: loadNetwork("sepolia") })[0]!;
    const badSignature = { ...depositEntries(2022, 1)[0]!, signature: depositEntries(2023, 1)[0]!.signature };
    const wrongAmount = { ...depositEntries(2024, 1)[0]!, amount: 1_000_000_000 };
    const notHex = { ...depositEntries(2025, 1)[0]!, pubkey: "zz".repeat(48) };
    const upload = [
      good[0]!,
      wrongCredentials,
      wrongNetwork,
      badSignature,
      wrongAmount,
      notHex,
      good[1]!,
      good[1]!, // duplicate within the upload
      known[0]!, // already in the registry
      good[2]!,
    ];
    const r = await call("POST", `/v1/operators/${id}/keys`, h.admin, upload);
    expect(r.status, r.body).toBe(422);
    const body = r.json() as { code: string; message: string; details: { failures: Failure[] } };
    expect(body.code).toBe("ERR_INVALID_DEPOSIT_DATA");
    const failed = new Map<number, Failure[]>();
    for (const f of body.details.failures) failed.set(f.index, [...(failed.get(f.index) ?? []), f]);
    // Every bad entry is named, each with a reason; the good ones are not.
    for (const i of [1, 2, 3, 4, 5, 8]) expect(failed.has(i), `entry ${i}: ${r.body}`).toBe(true);
    expect(failed.has(7) || failed.has(6), "duplicate inside the upload").toBe(true);
    for (const i of [0, 9]) expect(failed.has(i), `entry ${i} is good`).toBe(false);
    expect(failed.get(1)!.map((f) => f.field)).toContain("withdrawal_credentials");
    expect(failed.get(2)!.some((f) => f.field === "fork_version" || f.field === "signature")).toBe(true);
    expect(failed.get(3)!.map((f) => f.field)).toContain("signature");
    expect(failed.get(4)!.map((f) => f.field)).toContain("amount");
    expect(failed.get(5)!.map((f) => f.field)).toContain("pubkey");
    expect(failed.get(8)!.map((f) => f.field)).toContain("pubkey");
    for (const fs of failed.values()) for (const f of fs) expect(f.reason.length).toBeGreaterThan(3);

    // Nothing of it was stored: the operator still has only the one known key.
    const op = await call("GET", `/v1/operators/${id}`, h.admin);
    expect(op.json().data.keys.total).toBe(1);
    for (const e of [good[0]!, good[2]!]) {
      expect((await call("GET", `/v1/keys/${e.pubkey}`, h.admin)).status).toBe(404);
    }
  });

  it("runs the whole flow: operators, upload, vet, limits, dry run, allocation, review, audit", async () => {
    const ids = [await createOperator({ vettedLimit: 0 }), await createOperator({ vettedLimit: 0 })];
    const [x, y] = ids as [number, number];
    const opX = await h.operatorToken(x);
    // The operator uploads its own keys; the admin uploads for the other.
    const up1 = await call("POST", `/v1/operators/${x}/keys`, opX, depositEntries(3000, 6));
    expect(up1.status, up1.body).toBe(201);
    expect(up1.json().data).toMatchObject({ operatorId: x, count: 6 });
    expect((await call("POST", `/v1/operators/${y}/keys`, h.admin, depositEntries(3100, 4))).status).toBe(
      201,
    );

    // The DAO raises the limits and vets.
    const patch = await call("PATCH", `/v1/operators/${x}`, h.dao, {
      vettedLimit: 5,
      reason: "approved in vote 12",
    });
    expect(patch.status, patch.body).toBe(200);
    expect(patch.json().data.vettedLimit).toBe(5);
    expect((await call("PATCH", `/v1/operators/${y}`, h.dao, { vettedLimit: 4 })).status).toBe(200);
    for (const id of ids)
      expect((await call("POST", `/v1/operators/${id}/keys/vet`, h.dao, {})).status).toBe(200);
    const vx = (await call("GET", `/v1/operators/${x}`, h.dao)).json().data;
    expect(vx.keys.vetted).toBe(5);
    expect(vx.keys.submitted).toBe(1);

    // A dry run changes nothing.
    const sim = await call("POST", "/v1/allocation/simulate", h.dao, {
      count: 4,
      limits: [{ operatorId: y, vettedLimit: 2 }],
    });
    expect(sim.status, sim.body).toBe(200);
    expect(sim.json().data).toMatchObject({ requested: 4 });
    expect((await call("GET", `/v1/operators/${y}`, h.admin)).json().data.vettedLimit).toBe(4);

    // Allocate a batch: MinFirst splits 4 deposits 2/2 between two empty operators... among all
    // operators with capacity; at least our keys show up as deposited.
    await h.stakeForKeys(4); // the buffer pays for the batch
    const batch = await call("POST", "/v1/deposits/batches", h.admin, { count: 4 });
    expect(batch.status, batch.body).toBe(201);
    expect(batch.json().meta.count).toBe(4);
    const batchKeys = batch.json().data.keys as { depositData: { pubkey: string } }[];
    expect(batchKeys).toHaveLength(4);
    const pk = batchKeys[0]!.depositData.pubkey;
    // The batch hands out each key's deposit_data.json entry exactly as it was uploaded.
    const uploaded = [...depositEntries(3000, 6), ...depositEntries(3100, 4)];
    for (const k of batchKeys) {
      expect(uploaded).toContainEqual(k.depositData);
    }
    const key = await call("GET", `/v1/keys/${pk}`, h.dao);
    expect(key.status).toBe(200);
    expect(key.json().data.state).toBe("deposited");
    expect(key.json().data.used).toBe(true);
    expect((key.json().data.history as { to: string }[]).map((e) => e.to)).toEqual([
      "submitted",
      "vetted",
      "deposited",
    ]);
    const listed = await call("GET", "/v1/deposits/batches", h.dao);
    expect(listed.json().data.length).toBeGreaterThanOrEqual(1);
    const again = await call("GET", `/v1/deposits/batches/${batch.json().data.id}`, h.dao);
    expect(again.status, again.body).toBe(200);
    expect(again.json().data).toEqual(batch.json().data);
    expect((await call("GET", "/v1/deposits/batches/999999", h.dao)).status).toBe(404);
    // The batch as a deposit_data.json file: the uploaded entries in batch order, byte for byte in
    // the deposit CLIs' format, and valid for the launchpad's checks.
    const file = await call("GET", `/v1/deposits/batches/${batch.json().data.id}/deposit_data`, h.dao);
    expect(file.status, file.body).toBe(200);
    const batchEntries = batchKeys.map((k) => k.depositData as unknown as DepositDataJson);
    expect(file.body).toBe(serializeDepositDataFile(batchEntries));
    const checked = verifyDepositData(JSON.parse(file.body), { network: TEST_NETWORK });
    expect(checked.failures).toEqual([]);
    expect(checked.passed).toBe(4);
    expect((await call("GET", "/v1/deposits/batches/999999/deposit_data", h.dao)).status).toBe(404);

    // A deposited key cannot be removed, and the limit cannot drop below the deposited count.
    const depositedOwner = (key.json().data.operatorId as number) ?? x;
    const del = await call("DELETE", `/v1/operators/${depositedOwner}/keys/${pk}`, h.admin);
    expect(del.status, del.body).toBe(409);
    const lower = await call("PATCH", `/v1/operators/${depositedOwner}`, h.dao, { vettedLimit: 0 });
    expect(lower.status, lower.body).toBe(409);
    expect(lower.json().code).toBe("ERR_LIMIT_BELOW_DEPOSITED");

    // Asking for more than the capacity: 409 and nothing changes.
    const tooMany = await call("POST", "/v1/deposits/batches", h.admin, { count: 10_000 });
    expect(tooMany.status, tooMany.body).toBe(409);
    expect(tooMany.json().code).toBe("ERR_NO_CAPACITY");

    // An undeposited key can be removed by its operator.
    const spare = depositEntries(3005, 1)[0]!; // x's sixth key: never vetted
    const rm = await call("DELETE", `/v1/operators/${x}/keys/${spare.pubkey}?reason=rotated`, opX);
    expect(rm.status, rm.body).toBe(204);
    expect((await call("GET", `/v1/keys/${spare.pubkey}`, opX)).json().data.state).toBe("removed");

    const review = await call("GET", "/v1/review", h.dao);
    expect(review.status).toBe(200);
    const rv = review.json().data as { operators: { operatorId: number }[]; concentration: { hhi: number } };
    expect(rv.operators.map((o) => o.operatorId)).toEqual(expect.arrayContaining(ids));
    expect(typeof rv.concentration.hhi).toBe("number");

    const audit = await call("GET", "/v1/audit?limit=50", h.dao);
    expect(audit.status).toBe(200);
    const entries = audit.json().data as { actor: string; reason: string | null }[];
    expect(entries.some((e) => e.reason === "approved in vote 12" && e.actor.includes(":dao"))).toBe(true);
    const forX = await call("GET", `/v1/audit?target=operator:${x}`, h.dao);
    const xs = forX.json().data as { target: string }[];
    expect(xs.length).toBeGreaterThan(0);
    expect(new Set(xs.map((e) => e.target))).toEqual(new Set([`operator:${x}`]));

    const notFound = await call("GET", "/v1/operators/999999", h.admin);
    expect(notFound.status).toBe(404);
    expect(notFound.json().code).toBe("ERR_NOT_FOUND");
  });

  it("streams every key as one valid JSON document, and pages with a cursor", async () => {
    const id = await createOperator({ vettedLimit: 0 });
    expect((await call("POST", `/v1/operators/${id}/keys`, h.admin, depositEntries(4000, 25))).status).toBe(
      201,
    );
    const all = await h.app.inject({
      method: "GET",
      url: `/v1/keys?operator=${id}`,
      headers: bearer(h.admin),
    });
    expect(all.statusCode).toBe(200);
    expect(all.headers["content-type"]).toMatch(/application\/json/);
    const doc = JSON.parse(all.body) as {
      data: { id: number; key: string; operatorId: number }[];
      meta: { count: number; nextCursor: string | null };
    };
    expect(doc.data).toHaveLength(25);
    expect(doc.meta).toEqual({ count: 25, nextCursor: null });
    expect(doc.data.map((k) => k.key)).toEqual(depositEntries(4000, 25).map((e) => `0x${e.pubkey}`));

    // Every key in the registry, no filter.
    const everything = JSON.parse(
      (await h.app.inject({ method: "GET", url: "/v1/keys", headers: bearer(h.dao) })).body,
    ) as { data: unknown[]; meta: { count: number } };
    expect(everything.meta.count).toBe(everything.data.length);
    expect(everything.data.length).toBeGreaterThanOrEqual(25);

    // Pages of 10 with the cursor give the same keys in the same order.
    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/keys?operator=${id}&limit=10${cursor !== null ? `&cursor=${cursor}` : ""}`;
      const page = JSON.parse(
        (await h.app.inject({ method: "GET", url, headers: bearer(h.admin) })).body,
      ) as {
        data: { key: string }[];
        meta: { nextCursor: string | null };
      };
      paged.push(...page.data.map((k) => k.key));
      cursor = page.meta.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(paged).toEqual(doc.data.map((k) => k.key));

    const submitted = JSON.parse(
      (
        await h.app.inject({
          method: "GET",
          url: `/v1/keys?operator=${id}&state=vetted`,
          headers: bearer(h.admin),
        })
      ).body,
    ) as { data: unknown[] };
    expect(submitted.data).toHaveLength(0);
  });

  it("never returns or logs a token", async () => {
    const text = h.logs.text();
    for (const t of h.secrets) expect(text).not.toContain(t);
    const responses = [
      await call("GET", "/v1/audit?limit=1000", h.admin),
      await call("GET", "/v1/operators", h.admin),
      await call("GET", "/v1/review", h.admin),
    ];
    for (const r of responses) for (const t of h.secrets) expect(r.body).not.toContain(t);
    // Request logs exist and carry no Authorization header value.
    expect(text).toContain('"url":"/v1/operators"');
    expect(text).not.toMatch(/Bearer /);
  });
});

describe.each(TEST_STORE_KINDS)("concurrent deposit batches on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("never hands out one key twice", async () => {
    const entries = depositEntries(7000, 24);
    for (let o = 0; o < 3; o++) {
      const r = await h.app.inject({
        method: "POST",
        url: "/v1/operators",
        headers: bearer(h.admin),
        payload: operatorBody({ vettedLimit: 8 }),
      });
      const id = r.json().data.id as number;
      const up = await h.app.inject({
        method: "POST",
        url: `/v1/operators/${id}/keys`,
        headers: bearer(h.admin),
        payload: entries.slice(o * 8, o * 8 + 8),
      });
      expect(up.statusCode, up.body).toBe(201);
      await h.app.inject({
        method: "POST",
        url: `/v1/operators/${id}/keys/vet`,
        headers: bearer(h.dao),
        payload: {},
      });
    }
    // 15 concurrent requests for 2 keys each over 24 vetted keys: 12 succeed, the rest find no capacity.
    await h.stakeForKeys(30); // more than the keys: capacity, not the buffer, limits here
    const results = await Promise.all(
      Array.from({ length: 15 }, () =>
        h.app.inject({
          method: "POST",
          url: "/v1/deposits/batches",
          headers: bearer(h.admin),
          payload: { count: 2 },
        }),
      ),
    );
    const ok = results.filter((r) => r.statusCode === 201);
    const refused = results.filter((r) => r.statusCode !== 201);
    expect(ok).toHaveLength(12);
    for (const r of refused) expect(r.json().code, r.body).toBe("ERR_NO_CAPACITY");
    const pubkeys = ok.flatMap((r) =>
      (r.json().data.keys as { depositData: { pubkey: string } }[]).map((k) => k.depositData.pubkey),
    );
    expect(pubkeys).toHaveLength(24);
    expect(new Set(pubkeys).size).toBe(24);
    expect(new Set(pubkeys)).toEqual(new Set(entries.map((e) => e.pubkey)));
  });
});
