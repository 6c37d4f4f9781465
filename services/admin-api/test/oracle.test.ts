/**
 * The oracle routes: two of three members' votes apply a report to the pool ledger; the report
 * reads back with its checks and votes; a vote without configured members is a 503; bad votes
 * are refused with the field named and nothing stored.
 */
import {
  CONSENSUS_VERSION,
  generateMemberKey,
  type ReportData,
  ReportDataType,
  reportHash,
} from "@poolkeeper/oracle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createHarness, type Harness, testOracleConfig, voteBody } from "./harness.js";

const KEYS = [generateMemberKey(), generateMemberKey(), generateMemberKey()];

describe("oracle routes", () => {
  let h: Harness;
  let bare: Harness;
  let token: string;
  beforeAll(async () => {
    h = await createHarness(
      "pglite",
      {},
      {
        oracle: testOracleConfig(KEYS),
      },
    );
    bare = await createHarness("pglite");
    token = await h.oracleToken();
  });
  afterAll(async () => {
    await h.close();
    await bare.close();
  });

  const body = (i: number, r: ReportData) => voteBody(KEYS, i, r);
  const post = (x: Harness, t: string, payload: object) =>
    x.app.inject({ method: "POST", url: "/v1/oracle/votes", headers: bearer(t), payload });

  it("two agreeing votes apply the report; it reads back applied with its checks and votes", async () => {
    const r = { ...ReportDataType.defaultValue(), consensusVersion: CONSENSUS_VERSION, refSlot: 15 };
    const first = await post(h, token, { ...body(0, r), source: "json" });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().data.decided).toBeNull();
    const second = await post(h, token, body(2, r));
    expect(second.json().data).toMatchObject({
      consensusHash: reportHash(r),
      decided: { status: "applied", failed: [] },
    });
    const got = await h.app.inject({ method: "GET", url: "/v1/oracle/reports/15", headers: bearer(h.dao) });
    expect(got.json().data).toMatchObject({
      status: "applied",
      reportHash: reportHash(r),
      report: { refSlot: 15 },
    });
    expect(
      got.json().data.votes.map((v: { memberId: string; source: string | null }) => [v.memberId, v.source]),
    ).toEqual([
      ["m1", "json"],
      ["m3", null],
    ]);
    const list = await h.app.inject({ method: "GET", url: "/v1/oracle/reports", headers: bearer(h.admin) });
    expect(list.json().data.map((x: { refSlot: number }) => x.refSlot)).toEqual([15]);
    const pool = await h.app.inject({ method: "GET", url: "/v1/pool", headers: bearer(h.admin) });
    expect(pool.json().data.lastReport.refSlot).toBe(15);
    const again = await post(h, token, body(1, r));
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("ERR_REPORT_DECIDED");
  });

  it("bad votes: named and not stored; no members configured: 503; other roles: 403", async () => {
    const r = { ...ReportDataType.defaultValue(), consensusVersion: CONSENSUS_VERSION, refSlot: 31 };
    const wrongSig = { ...body(0, r), memberId: "m2" };
    const cases: [object, number, string][] = [
      [wrongSig, 422, "ERR_INVALID_SIGNATURE"],
      [{ ...body(0, r), memberId: "nobody" }, 403, "ERR_NOT_ORACLE_MEMBER"],
      [{ ...body(0, r), refSlot: 30 }, 400, "ERR_VALIDATION"],
      [{ ...body(0, r), report: "0x00" }, 400, "ERR_VALIDATION"],
      [{ ...body(0, r), extra: true }, 400, "ERR_VALIDATION"],
    ];
    for (const [payload, status, code] of cases) {
      const res = await post(h, token, payload);
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().code).toBe(code);
    }
    const none = await h.app.inject({ method: "GET", url: "/v1/oracle/reports/31", headers: bearer(h.dao) });
    expect(none.statusCode).toBe(404);
    const off = await post(bare, await bare.oracleToken(), body(0, r));
    expect(off.statusCode).toBe(503);
    expect(off.json().code).toBe("ERR_ORACLE_NOT_CONFIGURED");
    const admin = await post(h, h.admin, body(0, r));
    expect(admin.statusCode).toBe(403);
  });
});
