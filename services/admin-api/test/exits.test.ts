/**
 * The exit routes (issue 12) on the real admin API: DAO and admin requests with their audit entry,
 * the conflicts (a second open request, a key not on the chain), bad input named, an operator held
 * to its own requests (list, one, progress: 403 on another's), the DAO review's late exits, and
 * the operator's server-sent events stream over a real socket (a new request pushed promptly, a
 * reconnect with Last-Event-ID getting only later ones).
 */
import { type ApiClient, ApiError, createApiClient, type ServerSentEvent } from "@poolkeeper/contract";
import { insertExitRequest, moveExitRequest } from "@poolkeeper/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries, TEST_NETWORK } from "./deposit-fixtures.js";
import { bearer, createHarness, createOperator, depositKeys, type Harness } from "./harness.js";

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

/** A stream's events one at a time: `next(ms)` is the next one, or null when none comes within `ms`. */
function eventReader(events: AsyncIterable<ServerSentEvent>) {
  const it = events[Symbol.asyncIterator]();
  let pending: Promise<ServerSentEvent | null> | undefined;
  return {
    async next(ms: number): Promise<ServerSentEvent | null> {
      pending ??= it.next().then((x) => (x.done ? null : x.value));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((r) => {
        timer = setTimeout(() => r("timeout"), ms);
      });
      try {
        const got = await Promise.race([pending, timeout]);
        if (got === "timeout") return null;
        pending = undefined;
        return got;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

describe("exit requests on the admin API", () => {
  let h: Harness;
  let url: string;
  let dao: ApiClient;
  let admin: ApiClient;
  let opA = 0;
  let opB = 0;
  let tokenA = "";
  let clientA: ApiClient;
  const pubkeysA: string[] = [];
  const pubkeysB: string[] = [];

  beforeAll(async () => {
    h = await createHarness("pglite");
    url = await h.app.listen({ port: 0, host: "127.0.0.1" });
    dao = createApiClient({ baseUrl: url, token: h.dao });
    admin = createApiClient({ baseUrl: url, token: h.admin });
    opA = await createOperator(h, { vettedLimit: 4 });
    opB = await createOperator(h, { vettedLimit: 2 });
    const a = depositEntries(8300, 4);
    const b = depositEntries(8400, 2);
    await depositKeys(
      h,
      [
        [opA, a],
        [opB, b],
      ],
      6,
    );
    pubkeysA.push(...a.map((e) => `0x${e.pubkey}`));
    pubkeysB.push(...b.map((e) => `0x${e.pubkey}`));
    // the watcher saw them on the chain: validators 100.. (A), 200.. (B); A's last key not yet
    const onChain = [
      ...pubkeysA.slice(0, 3).map((p, i) => [p, 100 + i, opA]),
      ...pubkeysB.map((p, i) => [p, 200 + i, opB]),
    ];
    for (const [p, index, op] of onChain) {
      await h.store.query(
        `INSERT INTO watcher_validators (network, validator_index, pubkey, operator_id, first_epoch)
         VALUES ($1, $2, decode($3, 'hex'), $4, 0)`,
        [TEST_NETWORK.name, index, String(p).slice(2), op],
      );
    }
    tokenA = await h.operatorToken(opA);
    clientA = createApiClient({ baseUrl: url, token: tokenA });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  let first = 0;
  it("the DAO requests an exit by pubkey: 201, reason dao with its note, deadline 900 epochs on, audited", async () => {
    const r = await dao.createExit({ body: { pubkey: pubkeysA[0]!, reason: "misbehaving relay" } });
    first = r.data.id;
    expect(r.data).toMatchObject({
      operatorId: opA,
      pubkey: pubkeysA[0],
      validatorIndex: 100,
      reason: "dao",
      note: "misbehaving relay",
      refSlot: null,
      requestedEpoch: 0,
      deadlineEpoch: 900,
      state: "requested",
      exitedBy: null,
      exitEpoch: null,
    });
    const audit = await dao.listAudit({ query: { target: `exit:${first}` } });
    expect(audit.data).toHaveLength(1);
    expect(audit.data[0]).toMatchObject({ action: "exit.request", reason: "misbehaving relay" });
    expect(audit.data[0]!.actor).toMatch(/^token:\d+:dao$/);
  });

  it("an admin requests one by validator index: reason admin", async () => {
    const r = await admin.createExit({ body: { validatorIndex: 200, reason: "operator leaves" } });
    expect(r.data).toMatchObject({
      operatorId: opB,
      validatorIndex: 200,
      reason: "admin",
      state: "requested",
    });
  });

  it("refuses a second open request, an unknown key, a key not on the chain, and names bad input", async () => {
    const twice = await apiError(dao.createExit({ body: { validatorIndex: 100, reason: "again" } }));
    expect([twice.status, twice.code]).toEqual([409, "ERR_EXIT_REQUESTED"]);
    const unknown = await apiError(dao.createExit({ body: { pubkey: `0x${"ab".repeat(48)}`, reason: "x" } }));
    expect([unknown.status, unknown.code]).toEqual([404, "ERR_NOT_FOUND"]);
    const noIndex = await apiError(dao.createExit({ body: { validatorIndex: 999, reason: "x" } }));
    expect(noIndex.status).toBe(404);
    const notOnChain = await apiError(dao.createExit({ body: { pubkey: pubkeysA[3]!, reason: "x" } }));
    expect([notOnChain.status, notOnChain.code]).toEqual([409, "ERR_NOT_ON_CHAIN"]);
    const both = await apiError(
      dao.createExit({ body: { pubkey: pubkeysA[1]!, validatorIndex: 101, reason: "x" } }),
    );
    expect([both.status, both.code, both.details?.field]).toEqual([400, "ERR_VALIDATION", "body.pubkey"]);
    const noReason = await h.app.inject({
      method: "POST",
      url: "/v1/exits",
      headers: bearer(h.dao),
      payload: { validatorIndex: 101 },
    });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().details.field).toBe("body.reason");
    const byOperator = await apiError(clientA.createExit({ body: { validatorIndex: 101, reason: "x" } }));
    expect(byOperator.status).toBe(403);
    // nothing was half-made: still two requests
    expect((await dao.listExits()).data).toHaveLength(2);
  });

  it("an operator sees and reports on its own requests only", async () => {
    const mine = await clientA.listExits();
    expect(mine.data.map((r) => r.operatorId)).toEqual([opA]);
    expect((await apiError(clientA.listExits({ query: { operatorId: opB } }))).status).toBe(403);
    expect((await clientA.listExits({ query: { operatorId: opA } })).data).toHaveLength(1);
    const bRequest = (await dao.listExits({ query: { operatorId: opB } })).data[0]!;
    expect((await apiError(clientA.getExit({ params: { id: bRequest.id } }))).status).toBe(403);
    const foreign = await apiError(
      clientA.reportExitProgress({ params: { id: bRequest.id }, body: { stage: "signed" } }),
    );
    expect(foreign.status).toBe(403);
    expect(
      (await apiError(dao.reportExitProgress({ params: { id: first }, body: { stage: "signed" } }))).status,
    ).toBe(403);
    expect((await apiError(clientA.getExit({ params: { id: 99_999 } }))).status).toBe(404);

    await clientA.reportExitProgress({
      params: { id: first },
      body: { stage: "failed", detail: "beacon node down" },
    });
    await clientA.reportExitProgress({ params: { id: first }, body: { stage: "signed" } });
    const sub = await clientA.reportExitProgress({ params: { id: first }, body: { stage: "submitted" } });
    expect(sub.data.state).toBe("submitted");
    // a repeated report changes nothing but the history
    const again = await clientA.reportExitProgress({ params: { id: first }, body: { stage: "signed" } });
    expect(again.data.state).toBe("submitted");
    expect(again.data.history?.map((e) => [e.state, e.detail])).toEqual([
      ["requested", "misbehaving relay"],
      ["failed", "beacon node down"],
      ["signed", null],
      ["submitted", null],
      ["signed", null],
    ]);
    const bad = await h.app.inject({
      method: "POST",
      url: `/v1/exits/${first}/progress`,
      headers: bearer(tokenA),
      payload: { stage: "exited" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.field).toBe("body.stage");
    expect((await dao.listExits({ query: { state: "submitted" } })).data.map((r) => r.id)).toEqual([first]);
  });

  it("the DAO review shows an operator's late and triggered exits", async () => {
    await moveExitRequest(h.store, first, { to: "late", from: ["submitted"], actor: "watcher" });
    await moveExitRequest(h.store, first, {
      to: "triggered",
      from: ["late"],
      actor: "watcher",
      triggered: true,
    });
    const review = await dao.getReview();
    const a = review.data.operators.find((o) => o.operatorId === opA)!;
    const b = review.data.operators.find((o) => o.operatorId === opB)!;
    expect(a.exits).toMatchObject({ requested: 1, open: 1, late: 1, triggered: 1 });
    expect(a.exits.lastTriggeredAt).not.toBeNull();
    expect(b.exits).toEqual({ requested: 1, open: 1, late: 0, triggered: 0, lastTriggeredAt: null });
  });

  it("the stream: open requests on connect, a new one pushed promptly, a reconnect gets only later ones", async () => {
    expect((await apiError(clientA.streamOperatorExits({ params: { id: opB } }))).status).toBe(403);
    expect((await apiError(admin.streamOperatorExits({ params: { id: 99_999 } }))).status).toBe(404);
    const raw = await fetch(`${url}/v1/operators/${opA}/exits/stream`, { headers: bearer(tokenA) });
    expect(raw.headers.get("content-type")).toMatch(/^text\/event-stream/);
    await raw.body?.cancel();

    // request 1 is triggered (no longer the operator's to act on): not sent; make two more of A's
    const ac = new AbortController();
    const events = eventReader(await clientA.streamOperatorExits({ params: { id: opA }, signal: ac.signal }));
    expect(await events.next(300)).toBeNull();
    const t0 = Date.now();
    const second = (await dao.createExit({ body: { validatorIndex: 101, reason: "second" } })).data;
    const e1 = await events.next(3000);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(e1).toMatchObject({ event: "exit_requested", id: String(second.id) });
    expect(JSON.parse(e1!.data)).toMatchObject({ id: second.id, validatorIndex: 101, state: "requested" });
    ac.abort();

    const third = (await dao.createExit({ body: { validatorIndex: 102, reason: "third" } })).data;
    // reconnect: everything after the last event seen, nothing before it
    const ac2 = new AbortController();
    const resumed = eventReader(
      await clientA.streamOperatorExits({ params: { id: opA }, lastEventId: second.id, signal: ac2.signal }),
    );
    const e2 = await resumed.next(3000);
    expect(e2?.id).toBe(String(third.id));
    expect(await resumed.next(1500)).toBeNull();
    ac2.abort();
    // without Last-Event-ID: both open ones, oldest first
    const ac3 = new AbortController();
    const all = eventReader(await clientA.streamOperatorExits({ params: { id: opA }, signal: ac3.signal }));
    expect([(await all.next(3000))?.id, (await all.next(3000))?.id]).toEqual([
      String(second.id),
      String(third.id),
    ]);
    ac3.abort();
  });

  it("the stream: a heartbeat comment on an idle stream; a request made in the table (another replica, the oracle) arrives by the poll", async () => {
    const fast = await createHarness("pglite", { exitStreamHeartbeatMs: 100, exitStreamPollMs: 100 });
    try {
      const u = await fast.app.listen({ port: 0, host: "127.0.0.1" });
      const op = await createOperator(fast, { vettedLimit: 1 });
      const token = await fast.operatorToken(op);
      const res = await fetch(`${u}/v1/operators/${op}/exits/stream`, { headers: bearer(token) });
      const reader = res.body!.getReader();
      let text = "";
      const t0 = Date.now();
      while (!text.includes(": heartbeat\n\n") && Date.now() - t0 < 3000) {
        text += new TextDecoder().decode((await reader.read()).value);
      }
      expect(text).toContain(": heartbeat\n\n");
      await reader.cancel();
    } finally {
      await fast.close();
    }
    // this harness's API never made the request below: only the poll can find it
    const other = await h.store.query<{ id: number }>(
      `SELECT id FROM keys WHERE pubkey = decode($1, 'hex')`,
      [pubkeysB[1]!.slice(2)],
    );
    const ac = new AbortController();
    const events = eventReader(
      await createApiClient({ baseUrl: url, token: await h.operatorToken(opB) }).streamOperatorExits({
        params: { id: opB },
        signal: ac.signal,
      }),
    );
    const open = await events.next(2000); // B's admin request from above
    expect(open?.event).toBe("exit_requested");
    const made = await insertExitRequest(h.store, {
      operatorId: opB,
      keyId: other.rows[0]!.id,
      validatorIndex: 201,
      reason: "withdrawals",
      note: null,
      refSlot: 999,
      requestedEpoch: 5,
      deadlineEpoch: 905,
      actor: "oracle",
    });
    const e = await events.next(3000);
    expect(e?.id).toBe(String(made.id));
    expect(JSON.parse(e!.data)).toMatchObject({ reason: "withdrawals", refSlot: 999 });
    ac.abort();
  });
});
