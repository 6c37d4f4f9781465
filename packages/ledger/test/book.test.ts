/**
 * The ledger's rules in memory: hand-worked cases, then properties over long random runs
 * (fast-check): balances never add up to more than the pool holds, no operation rounds in a
 * holder's favour, and replaying the entries reproduces the book exactly.
 */
import { isPoolkeeperError } from "@poolkeeper/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LedgerBook } from "../src/book.js";
import { type ReportInput, simulatedShareRate } from "../src/report.js";
import { depositableEther, totalPooledEther, totals } from "../src/rules.js";
import { E27, etherByShares, shareRate } from "../src/shares.js";
import { finalizationBatches } from "../src/withdrawal-queue.js";

const ETH = 10n ** 18n;
const A = "0x00000000000000000000000000000000000000aa";
const B = "0x00000000000000000000000000000000000000bb";

/** What a report would do to the CL side (the oracle's slice applies real reports). */
function rebase(book: LedgerBook, clGainWei: bigint): void {
  book.state = { ...book.state, clBalanceWei: book.state.clBalanceWei + clGainWei };
}

describe("hand-worked", () => {
  it("the first deposit mints 1:1; later ones at the rate, rounded down", () => {
    const b = new LedgerBook();
    b.submit(A, 10n * ETH);
    expect(b.sharesOf(A)).toBe(10n * ETH);
    rebase(b, 1n * ETH); // 11 ETH for 10e18 shares
    b.submit(B, 1n * ETH);
    // 1e18 × 10e18 / 11e18 = 0.909090… e18, rounded down
    expect(b.sharesOf(B)).toBe(909090909090909090n);
    expect(totalPooledEther(b.state)).toBe(12n * ETH);
    // B's balance is a hair under what it paid: the rounding never favours the holder
    expect(b.balanceOf(B)).toBe(999999999999999999n);
    expect(shareRate(totals(b.state))).toBe((12n * ETH * E27) / (10n * ETH + 909090909090909090n));
  });

  it("a deposit batch takes 32 ETH per key from the buffer; one it cannot pay is refused whole", () => {
    const b = new LedgerBook();
    b.submit(A, 70n * ETH);
    b.deposit("1", 2, 64n * ETH);
    expect(b.state.bufferedWei).toBe(6n * ETH);
    expect(totalPooledEther(b.state)).toBe(70n * ETH); // the deposits count at their amount until a report sees them
    const before = b.state;
    try {
      b.deposit("2", 1, 32n * ETH);
      expect.unreachable();
    } catch (e) {
      expect(isPoolkeeperError(e) && e.code).toBe("ERR_BUFFER_INSUFFICIENT");
    }
    expect(b.state).toBe(before);
  });

  it("withdrawal requests reserve the buffer before deposits (Lido's depositable ether)", () => {
    const b = new LedgerBook();
    b.submit(A, 40n * ETH);
    b.requestWithdrawal(A, 10n * ETH, 100);
    expect(depositableEther(b.state)).toBe(30n * ETH);
    expect(() => b.deposit("1", 1, 32n * ETH)).toThrow(/cannot pay/);
    b.finalize(100);
    expect(b.state.bufferedWei).toBe(30n * ETH);
    expect(b.state.lockedWei).toBe(10n * ETH);
    expect(depositableEther(b.state)).toBe(30n * ETH);
  });

  it("a request made at a higher rate than its finalization's is paid at the lower one", () => {
    const b = new LedgerBook();
    b.submit(A, 10n * ETH);
    b.submit(B, 10n * ETH);
    rebase(b, 2n * ETH); // rate 1.1
    b.requestWithdrawal(A, 11n * ETH, 100); // 10 shares
    rebase(b, -2n * ETH); // a loss: rate back to 1.0
    const f = b.finalize(200);
    expect(f?.entry).toMatchObject({
      kind: "withdrawal_finalize",
      lastRequestId: 1,
      wei: 10n * ETH,
      shares: 10n * ETH,
    });
    const c = b.claim(A, 1);
    expect(c.entry).toMatchObject({ wei: 10n * ETH });
    // B keeps its whole share: 10 ETH for 10 shares
    expect(b.balanceOf(B)).toBe(10n * ETH);
    expect(() => b.claim(A, 1)).toThrow(/claimed already/);
    expect(() => b.claim(B, 1)).toThrow(/not the owner/);
  });

  it("bad input names the field and changes nothing", () => {
    const b = new LedgerBook();
    b.submit(A, 1n * ETH);
    const before = b.state;
    expect(() => b.submit(A, 0n)).toThrow(/amount: must be more than 0 wei/);
    expect(() => b.requestWithdrawal(A, 99n, 1)).toThrow(/amount: must be at least 100 wei/);
    expect(() => b.requestWithdrawal(A, 2n * ETH, 1)).toThrow(/amount: is more than the account's balance/);
    expect(() => b.requestWithdrawal(B, 1000n, 1)).toThrow(
      /amount: is more than the account's balance of 0 wei/,
    );
    expect(() => b.claim(A, 1)).toThrow(/no withdrawal request 1/);
    expect(b.state).toBe(before);
  });
});

type Op =
  | { op: "submit"; who: number; wei: bigint }
  | { op: "request"; who: number; part: number }
  | { op: "finalize" }
  | { op: "claim"; id: number }
  | { op: "deposit"; keys: number }
  | { op: "report"; clGwei: bigint; elGwei: bigint; finalize: boolean };

const ACCOUNTS = [A, B, "0x00000000000000000000000000000000000000cc"];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("submit" as const), who: fc.nat(2), wei: fc.bigInt(1n, 50n * ETH) }),
  fc.record({ op: fc.constant("request" as const), who: fc.nat(2), part: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ op: fc.constant("finalize" as const) }),
  fc.record({ op: fc.constant("claim" as const), id: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant("deposit" as const), keys: fc.integer({ min: 1, max: 2 }) }),
  fc.record({
    op: fc.constant("report" as const),
    clGwei: fc.bigInt(-3_000_000_000n, 3_000_000_000n),
    elGwei: fc.bigInt(0n, 2_000_000_000n),
    finalize: fc.boolean(),
  }),
);

const FEES = {
  totalFeeBP: 1000,
  operatorsFeeBP: 500,
  treasury: "0x00000000000000000000000000000000000000ee",
};

/** A report as an oracle would make it: every deposited key seen, the CL balance moved by `clGwei`. */
function reportOf(b: LedgerBook, o: Extract<Op, { op: "report" }>, t: number): ReportInput {
  const s = b.state;
  const seen = s.depositedWei - s.clDepositedWei;
  let cl = s.depositedValidators === 0 ? 0n : s.clBalanceWei + seen + o.clGwei * 10n ** 9n;
  if (cl < 0n) cl = 0n;
  const base = {
    refSlot: s.lastRefSlot + 1,
    timestamp: t,
    timeElapsed: t - s.lastReportTimestamp,
    clValidators: s.depositedValidators,
    clDepositedWei: s.depositedWei,
    clBalanceWei: cl,
    clPendingWei: 0n,
    withdrawalVaultWei: 0n,
    elRewardsVaultWei: o.elGwei * 10n ** 9n,
    operators: [{ operatorId: "1", rewardAddress: ACCOUNTS[2]!, activeValidators: 2, rewardedValidators: 1 }],
  };
  const rate = simulatedShareRate(s, base, FEES);
  const batches = o.finalize
    ? finalizationBatches(b.queue, s.lastFinalizedRequestId, rate, t, s.bufferedWei).batches
    : [];
  return { ...base, finalizationBatches: batches, simulatedShareRate: rate };
}

/** Run ops, skipping those the rules refuse (they must throw a PoolkeeperError and change nothing). */
function run(ops: Op[]): LedgerBook {
  const b = new LedgerBook();
  let t = 0;
  for (const o of ops) {
    t += 10;
    const before = b.state;
    try {
      switch (o.op) {
        case "submit":
          b.submit(ACCOUNTS[o.who]!, o.wei);
          break;
        case "request": {
          const acct = ACCOUNTS[o.who]!;
          b.requestWithdrawal(acct, (b.balanceOf(acct) * BigInt(o.part)) / 100n, t);
          break;
        }
        case "finalize":
          b.finalize(t);
          break;
        case "claim": {
          const req = b.queue[o.id];
          if (req !== undefined) b.claim(req.owner, o.id);
          break;
        }
        case "deposit":
          b.deposit(String(t), o.keys, BigInt(o.keys) * 32n * ETH);
          break;
        case "report":
          b.report(reportOf(b, o, t), FEES);
          break;
      }
    } catch (e) {
      if (!isPoolkeeperError(e)) throw e;
      expect(b.state).toBe(before);
    }
  }
  return b;
}

describe("properties over random runs", () => {
  it("balances never add up to more than the pool; claims never exceed what was locked", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => {
        const b = run(ops);
        const t = totals(b.state);
        let sum = 0n;
        let held = 0n;
        for (const [, sh] of b.accounts) {
          sum += etherByShares(sh, t);
          held += sh;
        }
        sum += etherByShares(b.state.queueShares + b.state.burnerShares, t);
        expect(sum).toBeLessThanOrEqual(t.totalPooledEther);
        expect(held + b.state.queueShares + b.state.burnerShares).toBe(b.state.totalShares);
        // a replay of the entries gives the same book
        const replay = new LedgerBook();
        for (const e of b.entries) replay.apply(e);
        expect(replay.state).toEqual(b.state);
        expect(replay.accounts).toEqual(b.accounts);
        const claimed = b.queue.slice(1).reduce((a, r) => a + (r.claimedWei ?? 0n), 0n);
        const locked = b.entries.reduce(
          (a, e) =>
            a +
            (e.kind === "withdrawal_finalize"
              ? e.wei
              : e.kind === "report"
                ? e.outcome.etherToFinalizeWei
                : 0n),
          0n,
        );
        expect(claimed + b.state.lockedWei).toBe(locked);
        expect(b.state.lockedWei).toBeGreaterThanOrEqual(0n);
      }),
      { numRuns: 300 },
    );
  });

  it("a submit never gives more than it takes; a claim never pays more than the request's stETH", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), fc.bigInt(1n, 10n * ETH), (ops, wei) => {
        const b = run(ops);
        const acct = "0x00000000000000000000000000000000000000dd";
        try {
          b.submit(acct, wei);
        } catch (e) {
          if (!isPoolkeeperError(e)) throw e;
          return;
        }
        expect(b.balanceOf(acct)).toBeLessThanOrEqual(wei);
        for (const e of b.entries)
          if (e.kind === "withdrawal_claim") {
            const req = b.queue[e.requestId]!;
            const prev = b.queue[e.requestId - 1]!;
            expect(e.wei).toBeLessThanOrEqual(req.cumulativeSteth - prev.cumulativeSteth);
          }
      }),
      { numRuns: 200 },
    );
  });
});
