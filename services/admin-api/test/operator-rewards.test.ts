/**
 * GET /v1/operators/{id}/rewards over reports applied by the oracle's consensus flow: 128 ETH
 * staked, operator A's 3 keys and B's 1 deposited, then three reports (two members' votes each)
 * whose fee shares per operator are computed by hand below; an operator token reads its own
 * operator only, the DAO and admins any; pages by ref slot; an unknown operator is a 404.
 */
import { TEST_STORE_KINDS } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createHarness, createOperator, type Harness, testOracleConfig } from "./harness.js";
import { ORACLE_KEYS, REF_SLOTS, seedThreeReports } from "./public-fixtures.js";

/*
 * The test oracle's frames are 16 slots of 6 s from genesis time 1,000 (ref slots 16k − 1), the
 * fee 10% of rewards, 5% to the operators. Ref slots far apart keep the CL increases within the
 * annual 10% sanity limit.
 *
 * Before R1: 128 ETH pooled (the buffer paid 4 deposits of 32 ETH), 128e18 shares.
 * R1 (ref slot 6,399,999, 38,400,000 s after the first ref time): CL 128 → 129.28 ETH, A 3 active
 *   2 rewarded, B 1 active 1 rewarded.
 *   rewards 1.28 ETH, fee 0.128 ETH, post pooled 129.28 ETH
 *   sharesToMint = 0.128e18 × 128e18 / (129.28e18 − 0.128e18) = 126,858,275,520,317,145
 *   operators' part = ⌊/2⌋ = 63,429,137,760,158,572; active 4:
 *   A = part × 2/4 = 31,714,568,880,079,286; B = part × 1/4 = 15,857,284,440,039,643
 *   (1/4 not minted); treasury 63,429,137,760,158,573
 *   post shares 128e18 + A + B + treasury = 128,111,000,991,080,277,502
 *   A's worth = A × 129.28e18 / post shares = 32,003,960,886,248,297 wei; B's 16,001,980,443,124,148
 * R2 (ref slot 6,415,999): CL −0.01 ETH, a negative rebase: nothing minted; both listed.
 *   post pooled 129.27 ETH, shares unchanged.
 * R3 (ref slot 8,015,999): CL +1 ETH, only A listed (3 active, 3 rewarded).
 *   fee 0.1 ETH, post pooled 130.27 ETH
 *   sharesToMint = 0.1e18 × 128,111,000,991,080,277,502 / (130.27e18 − 0.1e18) = 98,418,223,086,026,179
 *   A = ⌊/2⌋ = 49,209,111,543,013,089 (all its validators rewarded); treasury 49,209,111,543,013,090
 *   post shares 128,209,419,214,166,303,681; A's worth 49,999,999,999,999,999 wei (5% of 1 ETH, rounded down)
 * Now: A's reward address holds 31,714,568,880,079,286 + 49,209,111,543,013,089 = 80,923,680,423,092,375
 *   shares, worth × 130.27e18 / 128,209,419,214,166,303,681 = 82,224,285,183,809,876 wei;
 *   B's 15,857,284,440,039,643 shares, worth 16,112,142,591,904,938 wei.
 */
const [R1, R2, R3] = REF_SLOTS;
const time = (refSlot: number) => 1_000 + 6 * refSlot;

describe.each(TEST_STORE_KINDS)("operator rewards on %s", (kind) => {
  let h: Harness;
  let a: number;
  let b: number;
  let addrA: string;
  let addrB: string;
  let tokenA: string;
  let hashes: Record<number, string> = {};

  const get = (url: string, token: string) => h.app.inject({ method: "GET", url, headers: bearer(token) });

  beforeAll(async () => {
    h = await createHarness(kind, {}, { oracle: testOracleConfig(ORACLE_KEYS) });
    ({ a, b, hashes } = await seedThreeReports(h));
    addrA = (await get(`/v1/operators/${a}`, h.admin)).json().data.rewardAddress.toLowerCase();
    addrB = (await get(`/v1/operators/${b}`, h.admin)).json().data.rewardAddress.toLowerCase();
    tokenA = await h.operatorToken(a);
  }, 60_000);
  afterAll(() => h.close());

  it("operator A reads its own: the fee shares of each report and their worth, computed by hand", async () => {
    const r = await get(`/v1/operators/${a}/rewards`, tokenA);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({
      data: {
        operatorId: a,
        rewardAddress: addrA,
        sharesMinted: "80923680423092375",
        shares: "80923680423092375",
        balance: "82224285183809876",
        reports: [
          {
            refSlot: R3,
            timestamp: time(R3),
            reportHash: hashes[R3],
            rewardAddress: addrA,
            activeValidators: 3,
            rewardedValidators: 3,
            shares: "49209111543013089",
            ether: "49999999999999999",
          },
          {
            refSlot: R2,
            timestamp: time(R2),
            reportHash: hashes[R2],
            rewardAddress: addrA,
            activeValidators: 3,
            rewardedValidators: 3,
            shares: "0",
            ether: "0",
          },
          {
            refSlot: R1,
            timestamp: time(R1),
            reportHash: hashes[R1],
            rewardAddress: addrA,
            activeValidators: 3,
            rewardedValidators: 2,
            shares: "31714568880079286",
            ether: "32003960886248297",
          },
        ],
      },
      meta: { count: 3, nextCursor: null },
    });
    // the holding is the ledger's account of the reward address
    const acct = await get(`/v1/accounts/${addrA}`, h.dao);
    expect(acct.json().data).toMatchObject({ shares: "80923680423092375", balance: "82224285183809876" });
  });

  it("the DAO and admins read B's: only the reports that list B", async () => {
    for (const token of [h.dao, h.admin]) {
      const r = await get(`/v1/operators/${b}/rewards`, token);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().data).toMatchObject({
        operatorId: b,
        rewardAddress: addrB,
        sharesMinted: "15857284440039643",
        shares: "15857284440039643",
        balance: "16112142591904938",
      });
      expect(
        r
          .json()
          .data.reports.map((x: { refSlot: number; shares: string; ether: string }) => [
            x.refSlot,
            x.shares,
            x.ether,
          ]),
      ).toEqual([
        [R2, "0", "0"],
        [R1, "15857284440039643", "16001980443124148"],
      ]);
    }
    const aByDao = await get(`/v1/operators/${a}/rewards`, h.dao);
    expect(aByDao.json().data.sharesMinted).toBe("80923680423092375");
  });

  it("an operator token gets 403 on another operator's rewards", async () => {
    const r = await get(`/v1/operators/${b}/rewards`, tokenA);
    expect(r.statusCode).toBe(403);
    expect(r.json().code).toBe("ERR_FORBIDDEN");
    expect(r.body).not.toContain("15857284440039643");
  });

  it("pages newest first by ref slot; the totals are the same on every page", async () => {
    const p1 = await get(`/v1/operators/${a}/rewards?limit=2`, tokenA);
    expect(p1.json().data.reports.map((x: { refSlot: number }) => x.refSlot)).toEqual([R3, R2]);
    expect(p1.json().meta).toEqual({ count: 2, nextCursor: String(R2) });
    const p2 = await get(`/v1/operators/${a}/rewards?limit=2&cursor=${p1.json().meta.nextCursor}`, tokenA);
    expect(p2.json().data.reports.map((x: { refSlot: number }) => x.refSlot)).toEqual([R1]);
    expect(p2.json().meta).toEqual({ count: 1, nextCursor: null });
    expect(p2.json().data.sharesMinted).toBe("80923680423092375");
    const one = await get(`/v1/operators/${b}/rewards?limit=1`, h.dao);
    expect(one.json().meta.nextCursor).toBe(String(R2));
    const rest = await get(`/v1/operators/${b}/rewards?limit=1&cursor=${R2}`, h.dao);
    expect(rest.json().data.reports.map((x: { refSlot: number }) => x.refSlot)).toEqual([R1]);
    const past = await get(`/v1/operators/${b}/rewards?cursor=${R1}`, h.dao);
    expect(past.json()).toMatchObject({ data: { reports: [] }, meta: { count: 0, nextCursor: null } });
    const bad = await get(`/v1/operators/${a}/rewards?limit=0`, h.dao);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.field).toBe("querystring.limit");
  });

  it("an operator in no report: zeros; an unknown operator: 404 naming it", async () => {
    const c = await createOperator(h);
    const none = await get(`/v1/operators/${c}/rewards`, h.dao);
    expect(none.statusCode, none.body).toBe(200);
    expect(none.json().data).toMatchObject({ sharesMinted: "0", shares: "0", balance: "0", reports: [] });
    for (const id of [9999, 99_999_999_999]) {
      const r = await get(`/v1/operators/${id}/rewards`, h.dao);
      expect(r.statusCode, r.body).toBe(404);
      expect(r.json()).toMatchObject({ code: "ERR_NOT_FOUND", details: { operator: String(id) } });
      expect(r.json().message).toContain(`operator ${id}`);
    }
  });
});
