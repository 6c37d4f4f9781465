import { saveWatcherEpoch } from "@poolkeeper/store";
import { TEST_STORE_KINDS } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createHarness, type Harness, operatorBody } from "./harness.js";
import { epochRecord, pubkeyHex, seedWatcher } from "./watcher-fixtures.js";

/**
 * Performance and alert routes over a watcher history written with the watcher's own repository
 * functions (see watcher-fixtures.ts for the scenario). Expected figures are worked out by hand
 * from the scenario, not with the score functions the routes use.
 *
 * Timing of the test network: 1200 s slots, 8 slots per epoch → 9 epochs per day, so the windows
 * are 9 (1d), 63 (7d) and 270 (30d) epochs; the history has epochs 0..69.
 */

interface Scores {
  attester: number | null;
  proposer: number | null;
  effectiveness: number | null;
  participation: number | null;
  correctness: number | null;
  inclusionDelayScore: number | null;
  csmPerformance: number | null;
}
interface Duties {
  attestations: { assigned: number; included: number; missed: number };
  proposals: { assigned: number; proposed: number; missed: number };
  sync: { assigned: number; participated: number; missed: number };
}
interface OperatorPerf {
  operatorId: number;
  validators: number;
  balanceChangeGwei: string;
  scores: Scores;
  duties: Duties;
  vsNetwork: { effectiveness: number | null; csmPerformance: number | null };
}
interface PerfBody {
  data: {
    window: string;
    windowEpochs: number;
    range: { fromEpoch: number; toEpoch: number; processedEpochs: number } | null;
    network: { scores: Scores; duties: Duties };
    operators: OperatorPerf[];
  };
}

const close = (actual: number | null, expected: number) => {
  expect(actual).not.toBeNull();
  expect(actual as number).toBeCloseTo(expected, 12);
};

// The network, every window: 990/1000 included, correctness 0.9, delay 1; 31/32 proposals; sync all.
const NET_ATTESTER = 0.99 * 0.9 * 1;
const NET_PROPOSER = 31 / 32;
const NET_EFF = (5 / 8) * NET_ATTESTER + (3 / 8) * NET_PROPOSER;
const NET_CSM = (54 * 0.99 + 8 * (31 / 32) + 2 * 1) / 64;

describe.each(TEST_STORE_KINDS)("performance routes on %s", (kind) => {
  let h: Harness;
  let a: number;
  let b: number;
  let c: number;
  let opA: string;
  let opC: string;
  const network = `perftest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    h = await createHarness(
      kind,
      {},
      { performanceNetwork: { name: network, secondsPerSlot: 1200, slotsPerEpoch: 8 } },
    );
    const create = async () => {
      const r = await h.app.inject({
        method: "POST",
        url: "/v1/operators",
        headers: bearer(h.admin),
        payload: operatorBody(),
      });
      expect(r.statusCode).toBe(201);
      return (r.json() as { data: { id: number } }).data.id;
    };
    a = await create();
    b = await create();
    c = await create();
    opA = await h.operatorToken(a);
    opC = await h.operatorToken(c);
    await seedWatcher(h.store, network, a, b);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const get = async (url: string, token: string) => {
    const r = await h.app.inject({ method: "GET", url, headers: bearer(token) });
    for (const s of h.secrets) expect(r.body).not.toContain(s);
    return r;
  };
  const perf = async (query: string, token: string): Promise<PerfBody["data"]> => {
    const r = await get(`/v1/performance/operators${query}`, token);
    expect(r.statusCode, r.body).toBe(200);
    return (r.json() as PerfBody).data;
  };
  const op = (d: PerfBody["data"], id: number): OperatorPerf => {
    const o = d.operators.find((x) => x.operatorId === id);
    if (o === undefined) throw new Error(`operator ${id} missing`);
    return o;
  };

  it("1d window: the last 9 epochs, figures by hand", async () => {
    const d = await perf("?window=1d", h.dao);
    expect(d.window).toBe("1d");
    expect(d.windowEpochs).toBe(9);
    expect(d.range).toEqual({ fromEpoch: 61, toEpoch: 69, processedEpochs: 9 });
    expect(d.operators.map((o) => o.operatorId)).toEqual([a, b].sort((x, y) => x - y));

    expect(d.network.duties).toEqual({
      attestations: { assigned: 9000, included: 8910, missed: 90 },
      proposals: { assigned: 288, proposed: 279, missed: 9 },
      sync: { assigned: 144, participated: 144, missed: 0 },
    });
    close(d.network.scores.attester, NET_ATTESTER);
    close(d.network.scores.proposer, NET_PROPOSER);
    close(d.network.scores.effectiveness, NET_EFF);
    close(d.network.scores.csmPerformance, NET_CSM);

    // A: epochs 61..64 both validators, 65..69 validator 10 offline → 13 of 18; proposal 501 made.
    const oa = op(d, a);
    expect(oa.validators).toBe(2);
    expect(oa.duties).toEqual({
      attestations: { assigned: 18, included: 13, missed: 5 },
      proposals: { assigned: 1, proposed: 1, missed: 0 },
      sync: { assigned: 0, participated: 0, missed: 0 },
    });
    close(oa.scores.participation, 13 / 18);
    close(oa.scores.attester, 13 / 18);
    expect(oa.scores.proposer).toBe(1);
    close(oa.scores.effectiveness, (5 / 8) * (13 / 18) + 3 / 8);
    close(oa.scores.csmPerformance, (54 * (13 / 18) + 8) / 62);
    close(oa.vsNetwork.effectiveness, (5 / 8) * (13 / 18) + 3 / 8 - NET_EFF);
    close(oa.vsNetwork.csmPerformance, (54 * (13 / 18) + 8) / 62 - NET_CSM);
    expect(oa.balanceChangeGwei).toBe(String(4 * 20 + 5 * -2));

    // B: every attestation included, correct, optimal delay 2 → 0.5; no proposal; sync 24 of 32.
    const ob = op(d, b);
    expect(ob.duties).toEqual({
      attestations: { assigned: 9, included: 9, missed: 0 },
      proposals: { assigned: 0, proposed: 0, missed: 0 },
      sync: { assigned: 32, participated: 24, missed: 8 },
    });
    close(ob.scores.correctness, 1);
    close(ob.scores.inclusionDelayScore, 0.5);
    close(ob.scores.attester, 0.5);
    expect(ob.scores.proposer).toBeNull();
    close(ob.scores.effectiveness, 0.5);
    close(ob.scores.csmPerformance, (54 + 2 * (24 / 32)) / 56);
    expect(ob.balanceChangeGwei).toBe(String(9 * 5));
  });

  it("7d window: 63 epochs; 30d: 270 epochs of which 70 processed", async () => {
    const d = await perf("?window=7d", h.admin);
    expect(d.windowEpochs).toBe(63);
    expect(d.range).toEqual({ fromEpoch: 7, toEpoch: 69, processedEpochs: 63 });
    const oa = op(d, a);
    expect(oa.duties.attestations).toEqual({ assigned: 126, included: 121, missed: 5 });
    expect(oa.duties.proposals).toEqual({ assigned: 2, proposed: 1, missed: 1 });
    close(oa.scores.effectiveness, (5 / 8) * (121 / 126) + (3 / 8) * 0.5);
    close(oa.scores.csmPerformance, (54 * (121 / 126) + 8 * 0.5) / 62);
    const ob = op(d, b);
    // head wrong in 40..49 (2/3 each), late in 60..69 (1/2 each)
    const corr = (53 + 10 * (2 / 3)) / 63;
    const delay = (53 + 10 * 0.5) / 63;
    close(ob.scores.correctness, corr);
    close(ob.scores.inclusionDelayScore, delay);
    close(ob.scores.attester, corr * delay);
    close(ob.scores.effectiveness, corr * delay);
    expect(ob.balanceChangeGwei).toBe(String(43 * 10 + 10 * 8 + 10 * 5));

    const m = await perf("?window=30d", h.admin);
    expect(m.windowEpochs).toBe(270);
    expect(m.range).toEqual({ fromEpoch: 0, toEpoch: 69, processedEpochs: 70 });
    expect(m.network.duties.attestations.assigned).toBe(70_000);
    expect(op(m, a).duties.proposals).toEqual({ assigned: 3, proposed: 1, missed: 2 });
    // default window is 1d
    expect((await perf("", h.admin)).range).toEqual({ fromEpoch: 61, toEpoch: 69, processedEpochs: 9 });
  });

  it("history: the window in buckets of whole epochs, each with the network's figure", async () => {
    type Hist = {
      bucketEpochs: number;
      points: {
        fromEpoch: number;
        toEpoch: number;
        network: { effectiveness: number };
        operators: { operatorId: number; effectiveness: number | null }[];
      }[];
    };
    const hist = async (query: string, token: string): Promise<Hist> => {
      const r = await get(`/v1/performance/history${query}`, token);
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { data: Hist }).data;
    };
    // 1d = 9 epochs: 9 buckets of one epoch, 61..69; the network's figure is the same every epoch
    const day = await hist("?window=1d", h.dao);
    expect(day.bucketEpochs).toBe(1);
    expect(day.points.map((p) => [p.fromEpoch, p.toEpoch])).toEqual(
      [61, 62, 63, 64, 65, 66, 67, 68, 69].map((e) => [e, e]),
    );
    for (const p of day.points) close(p.network.effectiveness, NET_EFF);
    // A: validator 10 offline from epoch 65: half its attestations missed from then on
    const effA = day.points.map((p) => p.operators.find((o) => o.operatorId === a)?.effectiveness ?? null);
    expect(effA[4]! < effA[0]!).toBe(true);
    // 30d = 270 epochs: buckets of ⌈270/24⌉ = 12 ending at 69, 57, …, 9 (the first from 0)
    const month = await hist("?window=30d", h.admin);
    expect(month.bucketEpochs).toBe(12);
    expect(month.points.map((p) => [p.fromEpoch, p.toEpoch])).toEqual([
      [0, 9],
      [10, 21],
      [22, 33],
      [34, 45],
      [46, 57],
      [58, 69],
    ]);
    // an operator token: its own operator only; another's is refused
    const own = await hist("?window=7d", opA);
    expect(new Set(own.points.flatMap((p) => p.operators.map((o) => o.operatorId)))).toEqual(new Set([a]));
    expect((await get(`/v1/performance/history?operator=${b}`, opA)).statusCode).toBe(403);
  });

  it("operators see their own operator only; the network figure stays", async () => {
    const d = await perf("?window=7d", opA);
    expect(d.operators.map((o) => o.operatorId)).toEqual([a]);
    expect(d.network.duties.attestations.assigned).toBe(63_000);
    expect((await perf(`?operator=${a}`, opA)).operators.map((o) => o.operatorId)).toEqual([a]);
    const other = await get(`/v1/performance/operators?operator=${b}`, opA);
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe("ERR_FORBIDDEN");
    // an operator without data: an empty list, not someone else's
    expect((await perf("", opC)).operators).toEqual([]);
    // dao may filter
    expect((await perf(`?operator=${b}`, h.dao)).operators.map((o) => o.operatorId)).toEqual([b]);
  });

  it("validator history: offline epochs, perfect epochs, totals", async () => {
    const r = await get(`/v1/performance/validators/${pubkeyHex(10)}?from=63&to=69`, opA);
    expect(r.statusCode, r.body).toBe(200);
    const d = r.json().data;
    expect(d.validator).toEqual({
      pubkey: pubkeyHex(10),
      index: 10,
      operatorId: a,
      firstEpoch: 0,
      lastEpoch: null,
      status: null,
    });
    expect(d.range).toEqual({ fromEpoch: 63, toEpoch: 69 });
    expect(d.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([69, 68, 67, 66, 65, 64, 63]);
    expect(d.epochs[0]).toEqual({
      epoch: 69,
      attestation: {
        slot: 69 * 8 + 1,
        included: false,
        missed: true,
        inclusionDelay: null,
        optimalInclusionDelay: null,
        sourceCorrect: false,
        targetCorrect: false,
        headCorrect: false,
        rewardsGwei: { source: "-5", target: "-9", head: "0" },
      },
      proposals: [],
      sync: null,
      balanceChangeGwei: "-12",
      status: null,
      events: [],
    });
    expect(d.epochs[5].attestation).toMatchObject({
      included: true,
      missed: false,
      optimalInclusionDelay: 1,
      sourceCorrect: true,
      targetCorrect: true,
      headCorrect: true,
    });
    expect(d.totals.duties.attestations).toEqual({ assigned: 7, included: 2, missed: 5 });
    close(d.totals.scores.attester, 2 / 7);
    // without from/to: the last day (9 epochs)
    const def = await get(`/v1/performance/validators/${pubkeyHex(10).slice(2)}`, h.dao);
    expect(def.statusCode).toBe(200);
    expect(def.json().data.range).toEqual({ fromEpoch: 61, toEpoch: 69 });
    expect(def.json().data.epochs).toHaveLength(9);
  });

  it("validator history: proposals missed and proposed, sync, late and wrong-head attestations", async () => {
    const v11 = (await get(`/v1/performance/validators/${pubkeyHex(11)}?from=0&to=69`, h.admin)).json().data;
    expect(v11.epochs).toHaveLength(70);
    const byEpoch = (d: { epochs: { epoch: number }[] }, e: number) => d.epochs.find((x) => x.epoch === e);
    expect(byEpoch(v11, 30)).toMatchObject({ proposals: [{ slot: 243, result: "missed" }] });
    expect(byEpoch(v11, 62)).toMatchObject({ proposals: [{ slot: 501, result: "proposed" }] });
    expect(byEpoch(v11, 5)).toMatchObject({ proposals: [{ slot: 45, result: "orphaned" }] });
    expect(byEpoch(v11, 6)).toMatchObject({ proposals: [] });
    expect(v11.totals.duties.proposals).toEqual({ assigned: 3, proposed: 1, missed: 2 });
    close(v11.totals.scores.proposer, 1 / 3);

    const v20 = (await get(`/v1/performance/validators/${pubkeyHex(20)}?from=40`, h.dao)).json().data;
    expect(v20.range).toEqual({ fromEpoch: 40, toEpoch: 69 });
    expect(byEpoch(v20, 66)).toMatchObject({
      attestation: { inclusionDelay: 2, optimalInclusionDelay: 2, headCorrect: true },
      sync: { assigned: 8, participated: 6, missed: 2 },
      balanceChangeGwei: "5",
    });
    expect(byEpoch(v20, 45)).toMatchObject({
      attestation: { sourceCorrect: true, targetCorrect: true, headCorrect: false, inclusionDelay: 1 },
      sync: null,
    });
    expect(v20.totals.duties.sync).toEqual({ assigned: 32, participated: 24, missed: 8 });
    close(v20.totals.scores.correctness, (20 + 10 * (2 / 3)) / 30);
  });

  it("validator history: another operator's → 403, unknown → 404", async () => {
    const other = await get(`/v1/performance/validators/${pubkeyHex(20)}`, opA);
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe("ERR_FORBIDDEN");
    const unknown = pubkeyHex(99);
    for (const token of [opA, h.admin]) {
      const r = await get(`/v1/performance/validators/${unknown}`, token);
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toBe("ERR_NOT_FOUND");
    }
  });

  it("alerts: filters, operator scope, paging", async () => {
    type Alert = { id: number; kind: string; operatorId: number | null; validatorPubkey: string | null };
    const list = async (
      q: string,
      token: string,
    ): Promise<{ data: Alert[]; meta: Record<string, unknown> }> => {
      const r = await get(`/v1/alerts${q}`, token);
      expect(r.statusCode, r.body).toBe(200);
      return r.json();
    };
    const all = await list("", h.dao);
    expect(all.data.map((x) => x.kind)).toEqual([
      "beacon_node_unreachable",
      "operator_underperforming",
      "validator_offline",
      "missed_proposal",
      "missed_proposal",
    ]);
    expect(all.data.find((x) => x.kind === "validator_offline")?.validatorPubkey).toBe(pubkeyHex(10));
    const mine = await list("", opA);
    expect(mine.data.map((x) => x.kind)).toEqual(["validator_offline", "missed_proposal", "missed_proposal"]);
    expect(new Set(mine.data.map((x) => x.operatorId))).toEqual(new Set([a]));
    expect((await list("?kind=missed_proposal", opA)).data).toHaveLength(2);
    expect((await list(`?operator=${b}`, h.admin)).data.map((x) => x.kind)).toEqual([
      "operator_underperforming",
    ]);
    expect((await list("?since=2100-01-01T00:00:00Z", h.admin)).data).toEqual([]);
    expect((await list("?since=2000-01-01T00:00:00Z", h.admin)).data).toHaveLength(5);
    const forbidden = await get(`/v1/alerts?operator=${b}`, opA);
    expect(forbidden.statusCode).toBe(403);
    // pages of 3 then 2
    const p1 = await list("?limit=3", h.admin);
    expect(p1.data).toHaveLength(3);
    expect(p1.meta.nextCursor).toBe(String(p1.data[2]!.id));
    const p2 = await list(`?limit=3&cursor=${p1.meta.nextCursor}`, h.admin);
    expect(p2.data.map((x) => x.kind)).toEqual(["missed_proposal", "missed_proposal"]);
    expect(p2.meta.nextCursor).toBeNull();
  });

  it.each([
    ["/v1/performance/operators?window=2d", "querystring.window"],
    ["/v1/performance/operators?window=1d&extra=1", "querystring.extra"],
    ["/v1/performance/operators?operator=x", "querystring.operator"],
    [`/v1/performance/validators/${"ab".repeat(47)}`, "params.pubkey"],
    [`/v1/performance/validators/${pubkeyHex(10)}?from=abc`, "querystring.from"],
    [`/v1/performance/validators/${pubkeyHex(10)}?to=-1`, "querystring.to"],
    [`/v1/performance/validators/${pubkeyHex(10)}?from=10&to=5`, "querystring.from"],
    [`/v1/performance/validators/${pubkeyHex(10)}?from=0&to=10000`, "querystring.to"],
    ["/v1/alerts?kind=nope", "querystring.kind"],
    ["/v1/alerts?since=yesterday", "querystring.since"],
    ["/v1/alerts?limit=0", "querystring.limit"],
    ["/v1/alerts?cursor=x", "querystring.cursor"],
  ])("%s → 400 naming %s", async (url, field) => {
    const r = await get(url, h.admin);
    expect(r.statusCode, r.body).toBe(400);
    const body = r.json();
    expect(body.code).toBe("ERR_VALIDATION");
    expect(body.details.field).toBe(field);
    expect(body.message.startsWith(`${field}:`)).toBe(true);
  });

  it("the OpenAPI document has the routes and their parameters; no token in the logs", async () => {
    const doc = (await h.app.inject({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/performance/operators",
        "/v1/performance/validators/{pubkey}",
        "/v1/alerts",
      ]),
    );
    const names = (p: string) => (doc.paths[p]?.get?.parameters ?? []).map((x) => x.name).sort();
    expect(names("/v1/performance/operators")).toEqual(["operator", "window"]);
    expect(names("/v1/performance/validators/{pubkey}")).toEqual(["from", "pubkey", "to"]);
    expect(names("/v1/alerts")).toEqual(["cursor", "kind", "limit", "operator", "since"]);
    expect(h.logs.text()).not.toMatch(new RegExp(h.secrets.join("|")));
  });

  // last: it adds an epoch
  it("figures follow newly stored epochs (the per-window cache is keyed by the epochs it covers)", async () => {
    const before = await perf("?window=7d", h.dao);
    expect(before.range).toEqual({ fromEpoch: 7, toEpoch: 69, processedEpochs: 63 });
    expect(await perf("?window=7d", h.dao)).toEqual(before);
    expect((await perf(`?window=7d&operator=${a}`, h.dao)).operators).toEqual([op(before, a)]);
    // epoch 70: validator 10 still offline; epoch 7 (2 of 2 included) leaves the window
    expect((await saveWatcherEpoch(h.store, epochRecord(network, 70, a, b))).saved).toBe(true);
    const after = await perf("?window=7d", h.dao);
    expect(after.range).toEqual({ fromEpoch: 8, toEpoch: 70, processedEpochs: 63 });
    expect(op(after, a).duties.attestations).toEqual({ assigned: 126, included: 120, missed: 6 });
    expect((await perf(`?window=7d&operator=${a}`, opA)).operators).toEqual([op(after, a)]);
  });
});
