/**
 * The pool ledger on PGlite and PostgreSQL: operations applied whole or not at all, the history
 * append-only, concurrent writers serialised, and a long random run whose history replays to
 * exactly the stored state.
 */
import { isPoolkeeperError } from "@poolkeeper/core";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PoolLedger } from "../src/ledger.js";

const ETH = 10n ** 18n;
const FEES = {
  totalFeeBP: 1000,
  operatorsFeeBP: 500,
  treasury: "0x00000000000000000000000000000000000000ee",
};
const A = "0x00000000000000000000000000000000000000aa";
const B = "0x00000000000000000000000000000000000000Bb";

describe.each(TEST_STORE_KINDS)("pool ledger on %s", (kind) => {
  let store: TestStore;
  let now = 1_000;
  let ledger: PoolLedger;
  beforeAll(async () => {
    store = await createTestStore(kind);
    ledger = new PoolLedger(store, { now: () => now });
  });
  afterAll(() => store.dispose());

  it("submit, deposit, request, finalize, claim: balances, the queue and the summary", async () => {
    expect((await ledger.summary()).shareRate).toBe(10n ** 27n);
    await ledger.submit(A, 40n * ETH);
    await ledger.submit(B, "5000000000000000000");
    await store.transaction((tx) => ledger.deposit("7", 1, 32n * ETH, tx));
    let s = await ledger.summary();
    expect(s).toMatchObject({
      totalPooledEther: 45n * ETH,
      totalShares: 45n * ETH,
      bufferedWei: 13n * ETH,
      pendingWei: 32n * ETH,
    });
    now = 2_000;
    const r = await ledger.requestWithdrawal(B, 2n * ETH);
    expect(r).toMatchObject({ requestId: 1, shares: 2n * ETH });
    const b = await ledger.account(B);
    expect(b).toMatchObject({ account: B.toLowerCase(), shares: 3n * ETH, balanceWei: 3n * ETH });
    expect(b.withdrawalRequests.map((x) => [x.id, x.status, x.steth])).toEqual([[1, "pending", 2n * ETH]]);
    // the cut-off excludes it, then includes it
    expect(await ledger.finalize({ maxTimestamp: 1_999 })).toBeNull();
    const f = await ledger.finalize({ maxTimestamp: 2_000 });
    expect(f).toMatchObject({ firstRequestId: 1, lastRequestId: 1, wei: 2n * ETH, shares: 2n * ETH });
    s = await ledger.summary();
    expect(s).toMatchObject({ bufferedWei: 11n * ETH, lockedWei: 2n * ETH, totalShares: 43n * ETH });
    expect(await ledger.claim(B, 1)).toMatchObject({ wei: 2n * ETH });
    expect((await ledger.account(B)).withdrawalRequests[0]?.status).toBe("claimed");
    expect((await ledger.summary()).lockedWei).toBe(0n);
    await ledger.verify();
  });

  it("refusals name the field or the reason and leave no entry behind", async () => {
    const before = await ledger.summary();
    const refusals: [() => Promise<unknown>, RegExp][] = [
      [() => ledger.submit("0x12", 1n), /account: must be an address/],
      [() => ledger.submit(A, "1.5"), /amount: must be a whole number of wei/],
      [() => ledger.submit(A, 0n), /amount: must be more than 0 wei/],
      [() => ledger.requestWithdrawal(A, 10n ** 30n), /amount: must be at most/],
      [() => ledger.claim(B, 1), /claimed already/],
      [() => ledger.claim(A, 99), /no withdrawal request 99/],
      [() => ledger.claim(A, 0), /requestId: must be a positive integer/],
      [
        () => store.transaction((tx) => ledger.deposit("8", 1, 32n * ETH, tx)),
        /buffer cannot pay for deposit batch 8/,
      ],
    ];
    for (const [p, re] of refusals) {
      const e = await p().then(
        () => null,
        (x: unknown) => x,
      );
      expect(isPoolkeeperError(e), String(e)).toBe(true);
      expect((e as Error).message).toMatch(re);
    }
    expect(await ledger.summary()).toEqual(before);
  });

  it("a deposit in the caller's transaction rolls back with it", async () => {
    const before = await ledger.summary();
    await expect(
      store.transaction(async (tx) => {
        await ledger.deposit("9", 1, 1n * ETH, tx);
        throw new Error("the batch insert failed");
      }),
    ).rejects.toThrow(/batch insert failed/);
    expect(await ledger.summary()).toEqual(before);
  });

  it("the history is append-only: UPDATE, DELETE and TRUNCATE are refused", async () => {
    await expect(store.query("UPDATE ledger_entries SET account = NULL")).rejects.toThrow(/append-only/);
    await expect(store.query("DELETE FROM ledger_entries")).rejects.toThrow(/append-only/);
    await expect(store.query("TRUNCATE ledger_entries CASCADE")).rejects.toThrow(/append-only/);
  });

  it("concurrent submits and requests are serialised: the history replays to the stored state", async () => {
    const accounts = Array.from({ length: 8 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}`);
    await Promise.all(accounts.map((a, i) => ledger.submit(a, BigInt(i + 1) * ETH + 7n)));
    await Promise.all(accounts.map((a) => ledger.requestWithdrawal(a, 1000n)));
    const book = await ledger.verify();
    expect(book.queue.length - 1).toBe(1 + accounts.length);
    // request ids are 2..9 with cumulative sums in id order
    const ids = book.queue.slice(1).map((r) => r.id);
    expect(ids).toEqual(Array.from({ length: 9 }, (_, i) => i + 1));
  });

  it("verify finds a stored balance that its history does not give", async () => {
    await store.query("UPDATE ledger_accounts SET shares = shares + 1 WHERE account = $1", [A]);
    await expect(ledger.verify()).rejects.toThrow(/holds .* shares, history gives/);
    await store.query("UPDATE ledger_accounts SET shares = shares - 1 WHERE account = $1", [A]);
    await ledger.verify();
  });

  it("a report is applied once per ref slot, its fee shares minted to their recipients", async () => {
    const s = await ledger.state();
    const base = {
      refSlot: s.lastRefSlot + 32,
      timestamp: now,
      timeElapsed: 384,
      clValidators: s.depositedValidators,
      clDepositedWei: s.depositedWei,
      clBalanceWei: s.depositedWei + 10n ** 16n,
      clPendingWei: 0n,
      withdrawalVaultWei: 10n ** 15n,
      elRewardsVaultWei: 2n * 10n ** 15n,
      operators: [],
    };
    // a request made now: a cut-off before it (the bunker border) leaves it out, one at now takes it
    now += 1;
    const req = await ledger.requestWithdrawal(A, ETH);
    const held = await ledger.prepareReport(base, FEES, { maxTimestamp: now - 1 });
    expect(held.finalizationBatches.at(-1) ?? 0).toBeLessThan(req.requestId);
    const input = await ledger.prepareReport(base, FEES, { maxTimestamp: now });
    expect(input.finalizationBatches.at(-1)).toBe(req.requestId);
    const { outcome } = await ledger.applyReport(input, FEES);
    // 0.01 ETH on the CL side + 0.001 from the withdrawal vault + 0.002 of EL rewards
    expect(outcome.rewardsWei).toBe(13n * 10n ** 15n);
    const sum = await ledger.summary();
    expect([sum.withdrawalsCollectedWei, sum.elRewardsCollectedWei]).toEqual([10n ** 15n, 2n * 10n ** 15n]);
    // no operator reported: the operators' half is not minted, the treasury gets its half and the rounding
    const treasuryShares = outcome.sharesToMintAsFees - outcome.sharesNotMinted;
    expect(outcome.sharesNotMinted).toBe((outcome.sharesToMintAsFees * 500n) / 1000n);
    expect(outcome.mints).toEqual([{ account: FEES.treasury, shares: treasuryShares, operatorId: null }]);
    expect((await ledger.account(FEES.treasury)).shares).toBe(treasuryShares);
    await expect(ledger.applyReport(input, FEES)).rejects.toThrow(/refSlot: must be after/);
    const [last] = await ledger.reports(1);
    expect(last?.report.input.refSlot).toBe(base.refSlot);
    expect(last?.report.outcome).toEqual(outcome);
    await ledger.verify();
  });

  it("a long random run: every step checked, then the whole history replayed", async () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const who = [A, B, "0x00000000000000000000000000000000000000cc"];
    for (let i = 0; i < 150; i++) {
      now += 10;
      const acct = who[rnd(3)]!;
      try {
        switch (rnd(6)) {
          case 0:
          case 1:
            await ledger.submit(acct, BigInt(rnd(10_000) + 1) * 10n ** 15n);
            break;
          case 2: {
            const { balanceWei } = await ledger.account(acct);
            await ledger.requestWithdrawal(acct, (balanceWei * BigInt(rnd(100) + 1)) / 100n);
            break;
          }
          case 3:
            await ledger.finalize();
            break;
          case 4: {
            const v = await ledger.account(acct);
            const fin = v.withdrawalRequests.find((r) => r.status === "finalized");
            if (fin !== undefined) await ledger.claim(acct, fin.id);
            break;
          }
          case 5: {
            const st = await ledger.state();
            if (st.bufferedWei - st.unfinalizedSteth >= 32n * ETH)
              await store.transaction((tx) => ledger.deposit(`r${i}`, 1, 32n * ETH, tx));
            const s2 = await ledger.state();
            const cl =
              s2.depositedValidators === 0
                ? 0n
                : s2.depositedWei + BigInt(rnd(2000)) * 10n ** 14n - 10n ** 17n;
            const input = await ledger.prepareReport(
              {
                refSlot: s2.lastRefSlot + 32,
                timestamp: now,
                timeElapsed: 384,
                clValidators: s2.depositedValidators,
                clDepositedWei: s2.depositedWei,
                clBalanceWei: cl < 0n ? 0n : cl,
                clPendingWei: 0n,
                withdrawalVaultWei: 0n,
                elRewardsVaultWei: BigInt(rnd(100)) * 10n ** 14n,
                operators: [
                  { operatorId: "1", rewardAddress: who[2]!, activeValidators: 1, rewardedValidators: 1 },
                ],
              },
              FEES,
              { maxTimestamp: now },
            );
            await ledger.applyReport(input, FEES);
            break;
          }
        }
      } catch (e) {
        if (!isPoolkeeperError(e)) throw e;
      }
    }
    const book = await ledger.verify();
    const s = await ledger.summary();
    const n = await store.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM ledger_entries");
    expect(book.entries.length).toBe(Number(n.rows[0]?.n)); // seq has gaps (rolled-back transactions), the count has none
    expect(book.entries.length).toBeGreaterThan(100);
    let sum = 0n;
    for (const a of [
      ...who,
      ...Array.from({ length: 8 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}`),
    ])
      sum += (await ledger.account(a)).balanceWei;
    expect(sum).toBeLessThanOrEqual(s.totalPooledEther);
  });
});
