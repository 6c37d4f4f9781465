/**
 * The pool routes over the pool ledger: stake, the summary and an account as decimal strings,
 * a withdrawal request that waits for finalization, a report raising the share rate, the
 * history of the rate, deposit batches paid from the buffer, and refusals that name the field.
 */
import { PoolLedger, simulatedShareRate } from "@poolkeeper/ledger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries } from "./deposit-fixtures.js";
import { bearer, createHarness, createOperator, type Harness, uploadKeys } from "./harness.js";

const A = "0x00000000000000000000000000000000000000Aa";
const ETH = 10n ** 18n;

/** POST with the admin's token. */
function post(h: Harness, url: string, payload: object) {
  return h.app.inject({ method: "POST", url, headers: bearer(h.admin), payload });
}

describe("pool routes", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite");
  });
  afterAll(() => h.close());

  it("stake, read the pool and the account, request a withdrawal", async () => {
    const sub = await post(h, "/v1/pool/submit", { account: A, amount: (40n * ETH).toString() });
    expect(sub.statusCode, sub.body).toBe(200);
    expect(sub.json().data).toEqual({
      account: A.toLowerCase(),
      amount: "40000000000000000000",
      shares: "40000000000000000000",
    });

    const pool = await h.app.inject({ method: "GET", url: "/v1/pool", headers: bearer(h.dao) });
    expect(pool.json().data).toMatchObject({
      totalPooledEther: "40000000000000000000",
      totalShares: "40000000000000000000",
      bufferedEther: "40000000000000000000",
      shareRate: "1.000000000000000000000000000",
      lastReport: null,
    });

    const w = await post(h, "/v1/withdrawals", { account: A, amount: (5n * ETH).toString() });
    expect(w.statusCode, w.body).toBe(200);
    expect(w.json().data).toEqual({
      requestId: 1,
      amountOfStETH: "5000000000000000000",
      amountOfShares: "5000000000000000000",
    });

    const acct = await h.app.inject({ method: "GET", url: `/v1/accounts/${A}`, headers: bearer(h.dao) });
    expect(acct.json().data).toMatchObject({
      address: A.toLowerCase(),
      shares: "35000000000000000000",
      balance: "35000000000000000000",
      withdrawalRequests: [
        { id: 1, status: "pending", amountOfStETH: "5000000000000000000", claimedEther: null },
      ],
    });

    // not finalized yet: 409 with the ledger's code
    const c = await post(h, "/v1/withdrawals/1/claim", { account: A });
    expect(c.statusCode).toBe(409);
    expect(c.json().code).toBe("ERR_WITHDRAWAL_NOT_FINALIZED");
  });

  it("a deposit batch is paid from the buffer; one the buffer cannot pay for is refused whole (409)", async () => {
    const id = await createOperator(h, { vettedLimit: 2 });
    expect((await uploadKeys(h, id, depositEntries(7700, 2))).statusCode).toBe(201);
    expect((await post(h, `/v1/operators/${id}/keys/vet`, {})).statusCode).toBe(200);
    const pool = async () =>
      (await h.app.inject({ method: "GET", url: "/v1/pool", headers: bearer(h.admin) })).json().data;
    const before = await pool();
    // 40 ETH staked, 5 ETH of it reserved for the pending withdrawal request
    expect(before).toMatchObject({
      bufferedEther: (40n * ETH).toString(),
      depositableEther: (35n * ETH).toString(),
    });

    const refused = await post(h, "/v1/deposits/batches", { count: 2 });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({
      code: "ERR_BUFFER_INSUFFICIENT",
      details: {
        requested: 2,
        payableKeys: 1,
        neededWei: (64n * ETH).toString(),
        depositableWei: (35n * ETH).toString(),
        shortfallWei: (29n * ETH).toString(),
      },
    });
    expect(refused.json().message).toContain("it needs 64 ETH, 35 ETH is depositable");
    expect(await pool()).toEqual(before);
    const keys = await h.app.inject({
      method: "GET",
      url: `/v1/keys?operator=${id}`,
      headers: bearer(h.admin),
    });
    expect(keys.json().data.map((k: { state: string }) => k.state)).toEqual(["vetted", "vetted"]);

    const paid = await post(h, "/v1/deposits/batches", { count: 1 });
    expect(paid.statusCode, paid.body).toBe(201);
    expect(await pool()).toMatchObject({
      totalPooledEther: (40n * ETH).toString(),
      bufferedEther: (8n * ETH).toString(),
      depositableEther: (3n * ETH).toString(),
      pendingEther: (32n * ETH).toString(),
    });
    const s = await new PoolLedger(h.store).state();
    expect(s).toMatchObject({ depositedValidators: 1, depositedWei: 32n * ETH });
  });

  it("a report raises the share rate; the history shows it; the finalized request is claimed", async () => {
    const ledger = new PoolLedger(h.store);
    const fees = {
      totalFeeBP: 1000,
      operatorsFeeBP: 500,
      treasury: "0x00000000000000000000000000000000000000ee",
    };
    const base = {
      refSlot: 64,
      timestamp: Math.floor(Date.now() / 1000),
      timeElapsed: 768,
      clValidators: 1,
      clDepositedWei: 32n * ETH,
      clBalanceWei: 32n * ETH + 10n ** 16n,
      clPendingWei: 0n,
      withdrawalVaultWei: 0n,
      elRewardsVaultWei: 3n * 10n ** 15n,
      operators: [],
    };
    const input = await ledger.prepareReport(base, fees, { maxTimestamp: base.timestamp });
    expect(input.simulatedShareRate).toBe(simulatedShareRate(await ledger.state(), base, fees));
    expect(input.finalizationBatches).toEqual([1]);
    await ledger.applyReport(input, fees);

    const hist = await h.app.inject({
      method: "GET",
      url: "/v1/pool/share-rate?from=1",
      headers: bearer(h.admin),
    });
    const [point] = hist.json().data;
    expect(point).toMatchObject({ refSlot: 64, before: "1.000000000000000000000000000" });
    expect(point.after > point.before).toBe(true);
    const none = await h.app.inject({
      method: "GET",
      url: "/v1/pool/share-rate?to=63",
      headers: bearer(h.admin),
    });
    expect(none.json().data).toEqual([]);

    const claim = await post(h, "/v1/withdrawals/1/claim", { account: A });
    expect(claim.json().data).toEqual({ requestId: 1, amount: "5000000000000000000" });
    const pool = (await h.app.inject({ method: "GET", url: "/v1/pool", headers: bearer(h.admin) })).json();
    expect(pool.data.lastReport).toEqual({ refSlot: 64, timestamp: base.timestamp });
    expect(pool.data.lockedForWithdrawals).toBe("0");
    expect([pool.data.withdrawalsCollected, pool.data.elRewardsCollected]).toEqual(["0", "3000000000000000"]);
    const again = await post(h, "/v1/withdrawals/1/claim", { account: A });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("ERR_WITHDRAWAL_CLAIMED");
    await ledger.verify();
  });

  it("refusals name the field; operators may not stake; nothing is applied", async () => {
    const before = (await h.app.inject({ method: "GET", url: "/v1/pool", headers: bearer(h.admin) })).json()
      .data;
    const bad = [
      [{ account: "0x12", amount: "1" }, "body.account"],
      [{ account: A, amount: "1.5" }, "body.amount"],
      [{ account: A, amount: "0" }, "amount"],
      [{ account: A, amount: "1", extra: 1 }, "body.extra"],
    ] as const;
    for (const [payload, field] of bad) {
      const r = await h.app.inject({
        method: "POST",
        url: "/v1/pool/submit",
        headers: bearer(h.admin),
        payload,
      });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().details.field).toBe(field);
    }
    const over = await post(h, "/v1/withdrawals", { account: A, amount: (10n ** 24n).toString() });
    expect(over.statusCode).toBe(400);
    expect(over.json().message).toMatch(/amount: must be at most/);
    const op = await h.operatorToken(await createOperator(h));
    const r = await h.app.inject({
      method: "POST",
      url: "/v1/pool/submit",
      headers: bearer(op),
      payload: { account: A, amount: "1" },
    });
    expect(r.statusCode).toBe(403);
    const after = (await h.app.inject({ method: "GET", url: "/v1/pool", headers: bearer(h.admin) })).json()
      .data;
    expect(after).toEqual(before);
    const missing = await post(h, "/v1/withdrawals/99/claim", { account: A });
    expect(missing.statusCode).toBe(404);
  });
});
