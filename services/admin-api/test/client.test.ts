/**
 * The typed client of @poolkeeper/contract against the real admin API (PGlite test store, over a
 * real socket): every route of API_ROUTES is called through `createApiClient`, each answer is
 * checked against the route's own success schema, and the last test fails when a route of the
 * table was not called here (a new route needs its call in this file).
 */
import {
  API_ROUTES,
  type ApiClient,
  ApiError,
  createApiClient,
  type RouteName,
  type RouteSpec,
} from "@poolkeeper/contract";
import { daoPublicKeyOf, generateDaoKey, signGovernance } from "@poolkeeper/governance";
import { keysWei, TEST_STAKER } from "@poolkeeper/ledger/testing";
import {
  CONSENSUS_VERSION,
  encodeReport,
  generateMemberKey,
  ReportDataType,
  reportHash,
  signVote,
} from "@poolkeeper/oracle";
import { Value } from "typebox/value";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries, TEST_NETWORK } from "./deposit-fixtures.js";
import { createHarness, type Harness, operatorBody, testOracleConfig } from "./harness.js";
import { pubkeyHex, seedWatcher } from "./watcher-fixtures.js";

const called = new Set<string>();
const ORACLE_KEYS = [generateMemberKey(), generateMemberKey(), generateMemberKey()];

/** The client, recording each route it calls and checking each JSON answer against the route's schema. */
function checked(client: ApiClient): ApiClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const f = Reflect.get(target, prop, receiver) as (input?: unknown) => Promise<unknown>;
      if (typeof prop !== "string" || !(prop in API_ROUTES)) return f;
      const spec: RouteSpec = API_ROUTES[prop as RouteName];
      return async (input?: unknown) => {
        called.add(prop);
        const answer = await f(input);
        if (spec.format === "text") {
          expect(typeof answer).toBe("string");
        } else if (spec.format === "sse") {
          expect(Symbol.asyncIterator in (answer as object), `${prop}: answer is a stream of events`).toBe(
            true,
          );
        } else {
          const [status, schema] = Object.entries(spec.response)[0]!;
          expect(Value.Check(schema, answer), `${prop}: answer ${status} fits its schema`).toBe(true);
        }
        return answer;
      };
    },
  });
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

describe("the typed API client against the real admin API", () => {
  let h: Harness;
  let url: string;
  let admin: ApiClient;
  let dao: ApiClient;
  const network = `clienttest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    h = await createHarness(
      "pglite",
      {},
      {
        performanceNetwork: { name: network, secondsPerSlot: 1200, slotsPerEpoch: 8 },
        oracle: testOracleConfig(ORACLE_KEYS),
      },
    );
    url = await h.app.listen({ port: 0, host: "127.0.0.1" });
    admin = checked(createApiClient({ baseUrl: url, token: h.admin }));
    dao = checked(createApiClient({ baseUrl: url, token: h.dao }));
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("health: live, ready, metrics (public, no token sent)", async () => {
    const anonymous = checked(createApiClient({ baseUrl: url }));
    expect(await anonymous.live()).toEqual({ status: "ok" });
    expect(await anonymous.ready()).toEqual({ status: "ready" });
    expect(await anonymous.metrics()).toMatch(/poolkeeper_/);
  });

  let opId = 0;
  let otherId = 0;
  it("operators: create, get, list, update", async () => {
    const body = operatorBody() as { name: string; rewardAddress: string };
    const created = await admin.createOperator({ body: { ...body, vettedLimit: 0, reason: "client test" } });
    opId = created.data.id;
    expect(created.data).toMatchObject({ name: body.name, vettedLimit: 0, targetLimit: null, active: true });
    otherId = (await admin.createOperator({ body: operatorBody() as typeof body })).data.id;
    expect((await admin.getOperator({ params: { id: opId } })).data.name).toBe(body.name);
    const list = await dao.listOperators();
    expect(list.data.map((o) => o.id)).toEqual(expect.arrayContaining([opId, otherId]));
    const updated = await dao.updateOperator({
      params: { id: opId },
      body: { vettedLimit: 2, reason: "ok" },
    });
    expect(updated.data.vettedLimit).toBe(2);
  });

  let pubkeys: string[] = [];
  it("keys: upload, vet, list in pages, get one, remove one", async () => {
    const entries = depositEntries(7100, 3);
    const up = await admin.uploadKeys({ params: { id: opId }, body: entries });
    expect(up.data).toMatchObject({ operatorId: opId, count: 3 });
    expect(up.data.lastKeyId - up.data.firstKeyId).toBe(2);
    expect((await dao.vetKeys({ params: { id: opId }, body: { reason: "looks fine" } })).data).toEqual({
      vetted: 2,
    });

    const first = await dao.listKeys({ query: { operator: opId, limit: 2 } });
    expect(first.data.map((k) => k.state)).toEqual(["vetted", "vetted"]);
    expect(first.meta.nextCursor).toBe(String(first.data[1]!.id));
    const rest = await dao.listKeys({ query: { operator: opId, limit: 2, cursor: first.meta.nextCursor! } });
    expect(rest.data.map((k) => k.state)).toEqual(["submitted"]);
    expect(rest.meta.nextCursor).toBeNull();
    pubkeys = [...first.data, ...rest.data].map((k) => k.key);
    expect(pubkeys).toEqual(entries.map((e) => `0x${e.pubkey}`));

    const one = await dao.getKey({ params: { pubkey: pubkeys[0]! } });
    expect(one.data.history.map((e) => e.to)).toEqual(["submitted", "vetted"]);
    expect(one.data.uploadedBy).toMatch(/^token:\d+:admin$/);

    expect(
      await admin.removeKey({ params: { id: opId, pubkey: pubkeys[2]! }, query: { reason: "spare" } }),
    ).toBe(null);
    expect((await dao.getKey({ params: { pubkey: pubkeys[2]! } })).data.state).toBe("removed");
  });

  let batchId = 0;
  it("allocation: simulate, allocate a batch, read it back, as a file and in the list", async () => {
    const sim = await dao.simulateAllocation({
      body: { count: 1, limits: [{ operatorId: opId, vettedLimit: 2 }] },
    });
    expect(sim.data).toMatchObject({ requested: 1, allocated: 1 });
    await admin.submitToPool({ body: { account: TEST_STAKER, amount: keysWei(2).toString() } });
    const batch = await admin.allocateDepositBatch({ body: { count: 2 } });
    batchId = batch.data.id;
    expect(batch.data.keyCount).toBe(2);
    expect(batch.data.keys.map((k) => `0x${k.depositData.pubkey}`)).toEqual(pubkeys.slice(0, 2));
    expect((await dao.getDepositBatch({ params: { id: batchId } })).data).toEqual(batch.data);
    const file = JSON.parse(await dao.getDepositDataFile({ params: { id: batchId } })) as {
      pubkey: string;
    }[];
    expect(file.map((e) => `0x${e.pubkey}`)).toEqual(pubkeys.slice(0, 2));
    const batches = await dao.listDepositBatches({ query: { limit: 10 } });
    expect(batches.data.map((b) => b.id)).toEqual([batchId]);
    expect(batches.meta.nextCursor).toBeNull();
  });

  it("review and audit, the audit in pages", async () => {
    const review = await dao.getReview();
    expect(review.data.operators.find((o) => o.operatorId === opId)?.keys.deposited).toBe(2);
    const page = await dao.listAudit({ query: { limit: 2 } });
    expect(page.data).toHaveLength(2);
    expect(page.meta.nextCursor).toBe(page.data[1]!.id);
    const next = await dao.listAudit({ query: { limit: 2, cursor: page.meta.nextCursor! } });
    expect(BigInt(next.data[0]!.id)).toBeLessThan(BigInt(page.data[1]!.id));
    const about = await dao.listAudit({ query: { target: `batch:${batchId}` } });
    expect(about.data.map((e) => e.action)).toEqual(["deposits.allocate"]);
  });

  it("exits: a DAO request, the operator's stream, its progress, the list and one with its history", async () => {
    await h.store.query(
      `INSERT INTO watcher_validators (network, validator_index, pubkey, operator_id, first_epoch)
       VALUES ($1, 500, decode($2, 'hex'), $3, 0)`,
      [network, pubkeys[0]!.slice(2), opId],
    );
    const made = await dao.createExit({ body: { validatorIndex: 500, reason: "client test" } });
    expect(made.data).toMatchObject({
      operatorId: opId,
      validatorIndex: 500,
      reason: "dao",
      state: "requested",
    });
    const again = await apiError(dao.createExit({ body: { pubkey: pubkeys[0]!, reason: "twice" } }));
    expect([again.status, again.code]).toEqual([409, "ERR_EXIT_REQUESTED"]);

    const operator = checked(createApiClient({ baseUrl: url, token: await h.operatorToken(opId) }));
    const ac = new AbortController();
    const events = await operator.streamOperatorExits({ params: { id: opId }, signal: ac.signal });
    for await (const e of events) {
      expect(e).toMatchObject({ event: "exit_requested", id: String(made.data.id) });
      expect(JSON.parse(e.data)).toMatchObject({ id: made.data.id, state: "requested" });
      break;
    }
    ac.abort();
    const signed = await operator.reportExitProgress({
      params: { id: made.data.id },
      body: { stage: "signed" },
    });
    expect(signed.data.state).toBe("signed");
    const mine = await operator.listExits();
    expect(mine.data.map((x) => x.id)).toEqual([made.data.id]);
    const one = await admin.getExit({ params: { id: made.data.id } });
    expect(one.data.history?.map((x) => x.state)).toEqual(["requested", "signed"]);
  });

  it("performance and alerts over a watcher history", async () => {
    await seedWatcher(h.store, network, opId, otherId);
    const perf = await dao.operatorsPerformance({ query: { window: "1d" } });
    expect(perf.data.window).toBe("1d");
    expect(perf.data.operators.map((o) => o.operatorId).sort((x, y) => x - y)).toEqual(
      [opId, otherId].sort((x, y) => x - y),
    );
    const history = await dao.validatorHistory({
      params: { pubkey: pubkeyHex(10) },
      query: { from: 60, to: 69 },
    });
    expect(history.data.validator).toMatchObject({ index: 10, operatorId: opId });
    expect(history.data.epochs).toHaveLength(10);
    const over = await dao.performanceHistory({ query: { window: "1d" } });
    expect(over.data.points.length).toBeGreaterThan(0);
    expect(over.data.points.at(-1)!.toEpoch).toBe(69);
    const alerts = await dao.listAlerts({ query: { limit: 1 } });
    expect(alerts.data).toHaveLength(1);
    expect(alerts.meta.nextCursor).toBe(String(alerts.data[0]!.id));
    const older = await dao.listAlerts({ query: { limit: 1000, cursor: alerts.meta.nextCursor! } });
    expect(older.data.every((a) => a.id < alerts.data[0]!.id)).toBe(true);
    expect(older.meta.nextCursor).toBeNull();
  });

  it("pool: stake, request a withdrawal, read the pool, its share-rate history and the account", async () => {
    const account = "0x00000000000000000000000000000000000000a1";
    const staked = await admin.submitToPool({ body: { account, amount: "2000000000000000000" } });
    expect(staked.data.shares).toBe("2000000000000000000");
    const w = await admin.requestWithdrawal({ body: { account, amount: "1000" } });
    expect(w.data.requestId).toBe(1);
    const claim = await apiError(admin.claimWithdrawal({ params: { id: "1" }, body: { account } }));
    expect(claim).toMatchObject({ status: 409, code: "ERR_WITHDRAWAL_NOT_FINALIZED" });
    const pool = await dao.getPool();
    // the 2 ETH staked here and the 64 ETH of the batch above (deposited, still pooled)
    expect(pool.data.totalPooledEther).toBe((2n * 10n ** 18n + keysWei(2)).toString());
    expect(pool.data.bufferedEther).toBe("2000000000000000000");
    // the pending request's 1000 wei stay in the buffer for it
    expect(pool.data.depositableEther).toBe((2n * 10n ** 18n - 1000n).toString());
    expect((await dao.poolShareRate({ query: { from: "0" } })).data).toEqual([]);
    const a = await dao.getAccount({ params: { address: account } });
    expect(a.data.withdrawalRequests.map((r) => r.status)).toEqual(["pending"]);
    // no report yet: the operator's rewards are zeros and an empty page
    const rewards = await dao.getOperatorRewards({ params: { id: opId }, query: { limit: 5 } });
    expect(rewards.data).toMatchObject({ operatorId: opId, sharesMinted: "0", balance: "0", reports: [] });
    expect(rewards.meta).toEqual({ count: 0, nextCursor: null });
  });

  it("oracle: a member's vote with its report, the pending report, the decided list", async () => {
    const oracle = checked(createApiClient({ baseUrl: url, token: await h.oracleToken() }));
    const report = { ...ReportDataType.defaultValue(), consensusVersion: CONSENSUS_VERSION, refSlot: 15 };
    const vote = signVote(ORACLE_KEYS[0]!, "m1", 15, reportHash(report));
    const r = await oracle.submitOracleVote({
      body: { ...vote, report: `0x${Buffer.from(encodeReport(report)).toString("hex")}` },
    });
    expect(r.data).toEqual({
      refSlot: 15,
      consensusHash: null,
      votes: { [vote.reportHash]: ["m1"] },
      decided: null,
    });
    const pending = await dao.getOracleReport({ params: { refSlot: "15" } });
    expect(pending.data).toMatchObject({ status: "pending", votes: [{ memberId: "m1", agrees: false }] });
    expect((await dao.listOracleReports({ query: { limit: "10" } })).data).toEqual([]);
    // what a member builds its report on: the setup, the frame's pinned context and its keys
    const setup = await oracle.getOracleSetup();
    expect(setup.data).toMatchObject({ consensusVersion: CONSENSUS_VERSION, quorum: 2 });
    // the pool's identity (what the operator daemon reads at init) agrees with the setup
    const identity = await oracle.getPoolIdentity();
    expect(identity.data).toEqual({
      network: TEST_NETWORK.name,
      withdrawalCredentials: setup.data.withdrawalCredentials,
      genesisForkVersion: setup.data.genesisForkVersion,
    });
    const frame = await oracle.getOracleFrame({ params: { refSlot: 15 } });
    expect(frame.data.frame).toMatchObject({ refSlot: 15, firstEpoch: 0, lastEpoch: 1 });
    const keys = await oracle.listOracleFrameKeys({ params: { refSlot: 15 }, query: { limit: 1 } });
    expect(keys.data).toHaveLength(1);
    expect(keys.meta.nextCursor).toBe(String(keys.data[0]!.id));
    // an oracle token may vote and read frames, nothing else
    expect(await apiError(oracle.getPool())).toMatchObject({ status: 403 });
  });

  it("an error answer is one ApiError with code, status and message, never the token", async () => {
    const missing = await apiError(admin.getOperator({ params: { id: 999_999 } }));
    expect(missing).toMatchObject({ code: "ERR_NOT_FOUND", status: 404, route: "GET /v1/operators/:id" });
    expect(missing.message).toMatch(/operator/);
    const badToken = `pk_${"x".repeat(43)}`;
    const refused = await apiError(createApiClient({ baseUrl: url, token: badToken }).listOperators());
    expect(refused).toMatchObject({ code: "ERR_UNAUTHORIZED", status: 401 });
    for (const e of [missing, refused]) {
      const text = `${e.message} ${JSON.stringify(e.details)} ${String(e.stack)}`;
      expect(text).not.toContain(badToken);
      for (const s of h.secrets) expect(text).not.toContain(s);
    }
    const invalid = await apiError(dao.listKeys({ query: { limit: "0" } }));
    expect(invalid).toMatchObject({ status: 400, details: { field: "querystring.limit" } });
    const gone = await apiError(createApiClient({ baseUrl: "http://127.0.0.1:1", token: h.admin }).live());
    expect(gone).toMatchObject({ code: "ERR_API_UNREACHABLE", status: 0 });
  });

  it("the public routes, with no token", async () => {
    const anonymous = checked(createApiClient({ baseUrl: url }));
    const c = await anonymous.publicConcentration();
    expect(c.data.concentration).toEqual((await dao.getReview()).data.concentration);
    expect((await anonymous.publicOperators()).data.operators.length).toBeGreaterThan(0);
    expect((await anonymous.publicToken()).data.shareRate).toMatch(/^[0-9]+\.[0-9]{27}$/);
    expect((await anonymous.publicFees()).data.minted).toBeInstanceOf(Array);
    expect((await anonymous.publicWithdrawals()).data.queue.requests).toBeGreaterThanOrEqual(0);
    expect((await anonymous.publicRisk()).data.frontRunKeys).toEqual({ count: 0, lastAt: null });
    const control = (await anonymous.publicControl()).data;
    expect(control.governance).toMatchObject({ available: false });
    expect(control.deposits).toMatchObject({ guarded: false, paused: false, guardians: 0 });
  });

  it("governance: propose, approve, cancel, execute, one and the list, parameters, history", async () => {
    const keys = [generateDaoKey(), generateDaoKey(), generateDaoKey()];
    let clock = Date.parse("2030-01-01T00:00:00Z");
    const g = await createHarness(
      "pglite",
      {},
      {
        governance: {
          setup: {
            members: keys.map((k, i) => ({ id: `d${i}`, publicKey: daoPublicKeyOf(k) })),
            quorum: 2,
            timelockSeconds: 60,
            limitStep: 5,
            guardians: { members: [], quorum: 0 },
          },
          now: () => new Date(clock),
        },
      },
    );
    try {
      const gUrl = await g.app.listen({ port: 0, host: "127.0.0.1" });
      const c = checked(createApiClient({ baseUrl: gUrl, token: g.dao }));
      const params = await c.getGovernanceParameters();
      expect(params.data.parameters.map((p) => p.name)).toEqual(["guardians"]);
      const sign = (i: number, action: "approve" | "cancel", p: { id: number; changeHash: string }) =>
        signGovernance(keys[i]!, `d${i}`, action, {
          poolId: params.data.poolId,
          proposalId: p.id,
          changeHash: p.changeHash,
        });
      const body = {
        kind: "operator.add",
        value: operatorBody() as { name: string; rewardAddress: string },
        reason: "client test",
      };
      const p = (await c.createProposal({ body })).data;
      const q = (await c.createProposal({ body: { ...body, value: operatorBody() } })).data;
      await c.approveProposal({ params: { id: p.id }, body: sign(0, "approve", p) });
      expect(
        (await c.approveProposal({ params: { id: p.id }, body: sign(1, "approve", p) })).data.status,
      ).toBe("approved");
      expect((await c.cancelProposal({ params: { id: q.id }, body: sign(2, "cancel", q) })).data.status).toBe(
        "cancelled",
      );
      expect(await apiError(c.executeProposal({ params: { id: p.id } }))).toMatchObject({
        code: "ERR_TIMELOCK",
        status: 409,
      });
      clock += 60_000;
      expect((await c.executeProposal({ params: { id: p.id } })).data.status).toBe("executed");
      expect((await c.getProposal({ params: { id: p.id } })).data.approvals).toHaveLength(2);
      const list = await c.listProposals({ query: { limit: "1" } });
      expect(list.data.map((x) => x.id)).toEqual([q.id]);
      expect(list.meta.nextCursor).toBe(String(q.id));
      const history = await c.getGovernanceHistory();
      expect(history.data.map((h) => h.proposalId)).toEqual([null, p.id]);
    } finally {
      await g.close();
    }
  });

  it("deposit security: the status, the pending batches; guardian messages refused without a guardian set", async () => {
    const guardian = checked(createApiClient({ baseUrl: url, token: await h.guardianToken() }));
    const status = await guardian.getDepositSecurity();
    expect(status.data).toMatchObject({ enabled: false, paused: false, guardians: [], pendingBatches: [] });
    // without guardians the batch was released at allocation
    expect((await dao.getDepositBatch({ params: { id: batchId } })).data.security).toMatchObject({
      status: "released",
      mode: "unguarded",
    });
    expect((await guardian.listPendingBatches()).data.batches).toEqual([]);
    const root = `0x${"11".repeat(32)}`;
    const sig = `0x${"22".repeat(96)}`;
    const noGuardians = { status: 409, code: "ERR_NO_GUARDIANS" };
    expect(
      await apiError(
        guardian.releaseDepositBatch({
          params: { id: batchId },
          body: {
            signatures: [
              { guardianId: "g1", batchId, keysRoot: root, blockRoot: root, slot: 1, signature: sig },
            ],
          },
        }),
      ),
    ).toMatchObject(noGuardians);
    const evidence = {
      source: "validator" as const,
      view: "head",
      slot: 1,
      credentials: root,
      amountGwei: "1",
      validatorIndex: 1,
      depositIndex: null,
    };
    expect(
      await apiError(
        guardian.refuseDepositBatch({
          params: { id: batchId },
          body: {
            refusal: {
              guardianId: "g1",
              batchId,
              keysRoot: root,
              evidenceRoot: root,
              slot: 1,
              signature: sig,
            },
            keys: [{ keyId: 1, pubkey: `0x${"33".repeat(48)}`, evidence }],
          },
        }),
      ),
    ).toMatchObject(noGuardians);
    expect(
      await apiError(guardian.pauseDeposits({ body: { guardianId: "g1", slot: 1, signature: sig } })),
    ).toMatchObject(noGuardians);
    expect(
      await apiError(
        guardian.guardianHeartbeat({ body: { guardianId: "g1", slot: 1, blockRoot: root, signature: sig } }),
      ),
    ).toMatchObject(noGuardians);
    // only the DAO unpauses, and only a paused pool
    expect(await apiError(admin.unpauseDeposits({ body: { reason: "x" } }))).toMatchObject({ status: 403 });
    expect(await apiError(dao.unpauseDeposits({ body: { reason: "nothing paused" } }))).toMatchObject({
      status: 409,
      code: "ERR_DEPOSITS_NOT_PAUSED",
    });
    // a guardian token reads nothing else
    expect(await apiError(guardian.listDepositBatches({ query: {} }))).toMatchObject({ status: 403 });
  });

  it("called every route of the route table", () => {
    expect(Object.keys(API_ROUTES).filter((name) => !called.has(name))).toEqual([]);
  });
});
