/**
 * The public routes (GET /v1/public/..., no token): every field of every answer is on an explicit
 * allow-list (nothing that needs a token leaks: no token, no reward, staker or treasury address,
 * no alert message, no key); the figures match the token routes' and hand-worked ones; answers
 * are cached for the TTL (Cache-Control) and rate-limited per address; the page at / is public,
 * same-origin only and reads only these routes.
 */
import { readFileSync } from "node:fs";
import { TEST_STAKER } from "@poolkeeper/ledger/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createHarness, createOperator, type Harness, testOracleConfig } from "./harness.js";
import { ORACLE_KEYS, REF_SLOTS, type SeededPool, seedPublicPool } from "./public-fixtures.js";

/** Every field path a public answer may have (`[]`: any array item, `*`: any record key). */
const ALLOWED: Record<string, string[]> = {
  "/v1/public/operators": [
    "at",
    "window",
    "network.effectiveness",
    "network.csmPerformance",
    "operators[].operatorId",
    "operators[].name",
    "operators[].active",
    "operators[].validators",
    "operators[].staked",
    "operators[].share",
    "operators[].effectiveness",
    "operators[].csmPerformance",
    "operators[].vsNetwork",
  ],
  "/v1/public/concentration": [
    "at",
    "validators",
    "staked",
    "operators",
    "concentration.top1Share",
    "concentration.top5Share",
    "concentration.hhi",
    "concentration.nakamoto33",
    "stakedConcentration.top1Share",
    "stakedConcentration.top5Share",
    "stakedConcentration.hhi",
    "stakedConcentration.nakamoto33",
    "shares[].operatorId",
    "shares[].name",
    "shares[].share",
    "shares[].stakedShare",
  ],
  "/v1/public/token": [
    "at",
    "shareRate",
    "totalPooledEther",
    "totalShares",
    "history[].refSlot",
    "history[].timestamp",
    "history[].before",
    "history[].after",
    "reports[].refSlot",
    "reports[].status",
    "reports[].reportHash",
    "reports[].decidedAt",
    "reports[].sanityPassed",
    "reports[].sanityFailed[]",
    "reports[].isBunkerMode",
    "reports[].votes[].memberId",
    "reports[].votes[].agrees",
    "reports[].votes[].votedAt",
  ],
  "/v1/public/fees": [
    "at",
    "fee.totalFeeBP",
    "fee.operatorsFeeBP",
    "fee.treasuryFeeBP",
    "fee.available",
    "fee.reason",
    "minted[].refSlot",
    "minted[].timestamp",
    "minted[].rewardsWei",
    "minted[].feeWei",
    "minted[].operatorsShares",
    "minted[].treasuryShares",
    "minted[].notMintedShares",
  ],
  "/v1/public/withdrawals": [
    "at",
    "queue.requests",
    "queue.unfinalizedStETH",
    "queue.bufferedEther",
    "bunkerMode",
    "expectedWait.seconds",
    "expectedWait.finalizationSeconds",
    "expectedWait.exitSeconds",
    "expectedWait.validatorsToExit",
    "expectedWait.nextReportRefSlot",
    "expectedWait.available",
    "expectedWait.reason",
  ],
  "/v1/public/risk": [
    "at",
    "slashedValidators",
    "penalties.balanceChangeGwei",
    "penalties.missedAttestations",
    "penalties.missedProposals",
    "lateExits",
    "triggeredExits",
    "alerts30d.total",
    "alerts30d.byKind.*",
    "alerts30d.recent[].kind",
    "alerts30d.recent[].operatorId",
    "alerts30d.recent[].epoch",
    "alerts30d.recent[].createdAt",
    "frontRunKeys.count",
    "frontRunKeys.lastAt",
  ],
  "/v1/public/control": [
    "at",
    "oracle.members",
    "oracle.quorum",
    "oracle.epochsPerFrame",
    "oracle.available",
    "oracle.reason",
    "deposits.guarded",
    "deposits.guardians",
    "deposits.quorum",
    "deposits.paused",
    "deposits.pausedBy",
    "deposits.pausedAt",
    "deposits.pauseReason",
    "deposits.unpausedAt",
    "deposits.unpauseReason",
    "governance.daoMembers",
    "governance.quorum",
    "governance.timelockSeconds",
    "governance.limitStep",
    "governance.parameters[].name",
    "governance.parameters[].proposalId",
    "governance.parameters[].setAt",
    "governance.pending[].id",
    "governance.pending[].kind",
    "governance.pending[].status",
    "governance.pending[].reason",
    "governance.pending[].executableAt",
    "governance.available",
    "governance.reason",
  ],
};
const ROUTES = Object.keys(ALLOWED);

/** The field paths of a JSON value: `a.b[].c`; keys of `byKind` records as `*`. */
function fieldPaths(v: unknown, prefix = ""): string[] {
  if (Array.isArray(v)) return v.length === 0 ? [] : v.flatMap((x) => fieldPaths(x, `${prefix}[]`));
  if (v !== null && typeof v === "object") {
    return Object.entries(v).flatMap(([k, x]) => {
      const key = prefix.endsWith("byKind") ? "*" : k;
      return fieldPaths(x, prefix === "" ? key : `${prefix}.${key}`);
    });
  }
  return [prefix];
}

const PAGE = readFileSync(new URL("../src/web/public.html", import.meta.url), "utf8");
const SCRIPT = readFileSync(new URL("../src/web/public.js", import.meta.url), "utf8");

describe("public routes", () => {
  let h: Harness;
  let seeded: SeededPool;
  beforeAll(async () => {
    h = await createHarness("pglite", { publicCacheTtlMs: 0 }, { oracle: testOracleConfig(ORACLE_KEYS) });
    seeded = await seedPublicPool(h);
  }, 120_000);
  afterAll(() => h?.close());

  const pub = async (url: string) => {
    const r = await h.app.inject({ method: "GET", url });
    expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
    return r.json() as { data: Record<string, unknown> };
  };

  it("answer without a token, with only allowed fields and no secret", async () => {
    const secrets = [
      ...h.secrets,
      ...seeded.rewardAddresses,
      TEST_STAKER.toLowerCase(),
      "0x00000000000000000000000000000000000000ee", // the treasury
      ...ORACLE_KEYS.map((k) => Buffer.from(k).toString("hex")),
    ];
    for (const url of ROUTES) {
      const body = await pub(url);
      expect(Object.keys(body)).toEqual(["data", "meta"]);
      const paths = new Set(fieldPaths(body.data));
      const extra = [...paths].filter((p) => !ALLOWED[url]!.includes(p));
      expect(extra, `${url} answers fields off the allow-list`).toEqual([]);
      expect(paths.size, url).toBeGreaterThan(0);
      const text = JSON.stringify(body).toLowerCase();
      for (const s of secrets) expect(text, url).not.toContain(s.toLowerCase().replace(/^0x/, ""));
      expect(text).not.toMatch(/"message"|pubkey|rewardaddress|treasury"/);
    }
  });

  it("the allow-list covers every route of the contract tagged public, and each is in OpenAPI without security", async () => {
    const doc = (await h.app.inject({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, { get?: { security?: unknown[]; tags?: string[] } }>;
    };
    const tagged = Object.entries(doc.paths)
      .filter(([, p]) => p.get?.tags?.includes("public"))
      .map(([path]) => path)
      .sort();
    expect(tagged).toEqual([...ROUTES].sort());
    for (const url of ROUTES) expect(doc.paths[url]?.get?.security).toEqual([]);
  });

  it("operators and concentration agree with the DAO review; shares largest first", async () => {
    const review = (await h.app.inject({ method: "GET", url: "/v1/review", headers: bearer(h.dao) })).json()
      .data;
    const c = (await pub("/v1/public/concentration")).data as {
      concentration: unknown;
      stakedConcentration: unknown;
      validators: number;
      staked: number;
      shares: { operatorId: number; stakedShare: number }[];
    };
    expect(c.concentration).toEqual(review.concentration);
    expect(c.stakedConcentration).toEqual(review.stakedConcentration);
    // A 3 keys, B 1: staked shares 3/4 and 1/4
    expect(c.staked).toBe(4);
    expect(c.shares.map((x) => [x.operatorId, x.stakedShare])).toEqual([
      [seeded.a, 0.75],
      [seeded.b, 0.25],
    ]);
    expect(c.validators).toBe(review.totals.active);
    const ops = (await pub("/v1/public/operators")).data as {
      operators: { operatorId: number; name: string; validators: number; share: number }[];
    };
    for (const o of review.operators as { operatorId: number; name: string; activeShare: number }[]) {
      const p = ops.operators.find((x) => x.operatorId === o.operatorId);
      expect(p).toMatchObject({ name: o.name, share: o.activeShare });
    }
    expect(ops.operators.find((o) => o.operatorId === seeded.a)?.name).toBe(seeded.names[seeded.a]);
  });

  it("the token and fees: the three reports, their votes, and the fee shares worked by hand", async () => {
    const t = (await pub("/v1/public/token")).data as {
      history: { refSlot: number }[];
      reports: { refSlot: number; status: string; votes: { memberId: string; agrees: boolean }[] }[];
    };
    expect(t.history.map((p) => p.refSlot)).toEqual([...REF_SLOTS]);
    expect(t.reports.map((r) => r.refSlot)).toEqual([...REF_SLOTS].reverse());
    expect(t.reports[0]!.votes.map((v) => [v.memberId, v.agrees])).toEqual([
      ["m1", true],
      ["m2", true],
    ]);
    const f = (await pub("/v1/public/fees")).data as {
      fee: unknown;
      minted: { refSlot: number; feeWei: string; operatorsShares: string; treasuryShares: string }[];
    };
    expect(f.fee).toEqual({ totalFeeBP: 1000, operatorsFeeBP: 500, treasuryFeeBP: 500 });
    // R1 (operator-rewards.test.ts): fee 0.128 ETH; A 31,714,568,880,079,286 + B 15,857,284,440,039,643.
    const r1 = f.minted.find((m) => m.refSlot === REF_SLOTS[0]);
    expect(r1).toMatchObject({
      feeWei: "128000000000000000",
      operatorsShares: (31_714_568_880_079_286n + 15_857_284_440_039_643n).toString(),
      treasuryShares: "63429137760158573",
    });
    // R2 was a negative rebase: nothing minted.
    expect(f.minted.find((m) => m.refSlot === REF_SLOTS[1])).toMatchObject({
      feeWei: "0",
      treasuryShares: "0",
    });
  });

  it("withdrawals, risk and control: the queue, the wait, the watcher's alerts, the placeholders", async () => {
    const w = (await pub("/v1/public/withdrawals")).data as {
      queue: { requests: number; unfinalizedStETH: string };
      bunkerMode: boolean;
      expectedWait: { seconds: number; validatorsToExit: number };
    };
    expect(w.queue.requests).toBe(1);
    expect(BigInt(w.queue.unfinalizedStETH)).toBeGreaterThan(0n);
    expect(w.bunkerMode).toBe(false);
    // the buffer holds nothing after the 4 deposits: the queue needs one validator out
    expect(w.expectedWait.validatorsToExit).toBe(1);
    expect(w.expectedWait.seconds).toBeGreaterThan(0);

    const r = (await pub("/v1/public/risk")).data as {
      alerts30d: { total: number; byKind: Record<string, number> };
      frontRunKeys: { count: number; lastAt: string | null };
    };
    const alerts = (
      await h.app.inject({ method: "GET", url: "/v1/alerts?limit=1000", headers: bearer(h.dao) })
    ).json().data as { kind: string }[];
    expect(r.alerts30d.total).toBe(alerts.length);
    expect(r.alerts30d.byKind.missed_proposal).toBe(
      alerts.filter((a) => a.kind === "missed_proposal").length,
    );
    expect(r.frontRunKeys).toEqual({ count: 0, lastAt: null });

    const c = (await pub("/v1/public/control")).data;
    expect(c).toMatchObject({
      oracle: { members: 3, quorum: 2 },
      deposits: { guarded: false, guardians: 0, paused: false, pausedBy: null },
      governance: { available: false },
    });
  });

  it("the page at / is public, same-origin only, and reads only the public routes", async () => {
    const r = await h.app.inject({ method: "GET", url: "/" });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(r.body).toBe(PAGE);
    const csp = String(r.headers["content-security-policy"]);
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-|https?:|\*/);
    for (const text of [PAGE, SCRIPT]) expect(text).not.toMatch(/https?:\/\//);
    expect(PAGE).not.toMatch(/<script\b[^>]*>[^<]+<\/script>|<style\b|\sstyle="|\son[a-z]+=/i);
    const used = [...SCRIPT.matchAll(/"(\/v1\/[A-Za-z0-9_/.-]*)"/g)].map((m) => m[1]!);
    expect(used.sort()).toEqual([...ROUTES].sort());
    expect(SCRIPT).not.toMatch(/Authorization|sessionStorage|localStorage|innerHTML/);
    for (const asset of ["/assets/charts.js", "/assets/public.js", "/assets/public.css"]) {
      const a = await h.app.inject({ method: "GET", url: asset });
      expect(a.statusCode, asset).toBe(200);
      expect(PAGE).toContain(`"${asset}"`);
    }
  });
});

describe("public routes' cache and rate limit", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", { publicCacheTtlMs: 600_000, publicRateLimitMax: 5 });
  });
  afterAll(() => h?.close());

  it("reuses an answer for the TTL, says so in Cache-Control, and limits each address", async () => {
    const get = () =>
      h.app.inject({ method: "GET", url: "/v1/public/concentration", remoteAddress: "198.51.100.7" });
    const first = await get();
    expect(first.statusCode).toBe(200);
    expect(first.headers["cache-control"]).toBe("public, max-age=600");
    await createOperator(h);
    const second = await get();
    // the new operator is not in it yet: the cached answer, byte for byte
    expect(second.body).toBe(first.body);
    const review = await h.app.inject({ method: "GET", url: "/v1/review", headers: bearer(h.dao) });
    expect(review.json().data.totals.operators).toBe(1);
    for (let i = 0; i < 3; i++) expect((await get()).statusCode).toBe(200);
    const limited = await get();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe("ERR_RATE_LIMITED");
    // another address is not limited
    const other = await h.app.inject({
      method: "GET",
      url: "/v1/public/concentration",
      remoteAddress: "198.51.100.8",
    });
    expect(other.statusCode).toBe(200);
  });
});
