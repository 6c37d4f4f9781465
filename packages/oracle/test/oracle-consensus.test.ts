/**
 * Hash consensus over the database (PGlite and PostgreSQL): three members, quorum two. Votes are
 * checked before anything is stored; the second agreeing vote applies the report to the ledger
 * once, even when members race; a disagreeing member's vote is listed with its diff; a report
 * failing a sanity check is kept as refused and changes nothing in the ledger.
 */
import { isPoolkeeperError } from "@poolkeeper/core";
import { PoolLedger } from "@poolkeeper/ledger";
import { insertOperator } from "@poolkeeper/store";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateMemberKey, publicKeyOf, signVote } from "../src/consensus.js";
import { frameAt } from "../src/frames.js";
import { OracleConsensus } from "../src/oracle-consensus.js";
import {
  CONSENSUS_VERSION,
  encodeReport,
  type ReportData,
  ReportDataType,
  reportHash,
} from "../src/report-data.js";

const ETH = 10n ** 18n;
const FRAMES = {
  slotsPerEpoch: 8,
  secondsPerSlot: 6,
  genesisTime: 1_000_000,
  epochsPerFrame: 4,
  initialEpoch: 0,
};
const FEES = {
  totalFeeBP: 1000,
  operatorsFeeBP: 500,
  treasury: "0x00000000000000000000000000000000000000ee",
};
const keys = [generateMemberKey(), generateMemberKey(), generateMemberKey()];
const MEMBERS = keys.map((k, i) => ({ id: `member-${i + 1}`, publicKey: publicKeyOf(k) }));

describe.each(TEST_STORE_KINDS)("oracle consensus on %s", (kind) => {
  let store: TestStore;
  let oracle: OracleConsensus;
  let opId: number;
  const now = FRAMES.genesisTime + 10 * 8 * 6 * 4; // frames 0-9 have passed
  beforeAll(async () => {
    store = await createTestStore(kind);
    oracle = new OracleConsensus(store, {
      members: MEMBERS,
      quorum: 2,
      frames: FRAMES,
      fees: FEES,
      now: () => now,
    });
    const op = await insertOperator(store, {
      name: "op",
      rewardAddress: new Uint8Array(20).fill(0x11),
      active: true,
      vettedLimit: 10,
      targetLimit: null,
      targetLimitMode: null,
    });
    opId = op.id;
    const ledger = new PoolLedger(store);
    await ledger.submit("0x00000000000000000000000000000000000000aa", 64n * ETH);
    await store.transaction((tx) => ledger.deposit("1", 2, 64n * ETH, tx));
  });
  afterAll(() => store.dispose());

  const report = (refSlot: number, clBalanceGwei: bigint, over: Partial<ReportData> = {}): ReportData => ({
    ...ReportDataType.defaultValue(),
    consensusVersion: CONSENSUS_VERSION,
    refSlot,
    clValidators: 2,
    clDepositedGwei: 64_000_000_000n,
    clBalanceGwei,
    operators: [
      {
        operatorId: opId,
        activeValidators: 2,
        exitedValidators: 0,
        rewardedValidators: 2,
        balanceGwei: clBalanceGwei,
      },
    ],
    ...over,
  });
  const vote = (i: number, r: ReportData) =>
    oracle.submitVote(signVote(keys[i]!, MEMBERS[i]!.id, r.refSlot, reportHash(r)), encodeReport(r));

  it("refuses a vote before storing it: non-member, bad signature, wrong ref slot, future slot, hash mismatch", async () => {
    const r = report(frameAt(FRAMES, 0).refSlot, 64_000_000_010n);
    const v = signVote(keys[0]!, MEMBERS[0]!.id, r.refSlot, reportHash(r));
    const cases: [() => Promise<unknown>, RegExp][] = [
      [
        () => oracle.submitVote({ ...v, memberId: "member-9" }, encodeReport(r)),
        /member-9 is not an oracle member/,
      ],
      [
        () => oracle.submitVote({ ...v, memberId: "member-2" }, encodeReport(r)),
        /signature is not member-2's/,
      ],
      [
        () => oracle.submitVote(signVote(keys[0]!, "member-1", 30, reportHash(r)), encodeReport(r)),
        /refSlot: 30 is not the ref slot/,
      ],
      [
        () => vote(0, report(frameAt(FRAMES, 12).refSlot, 64_000_000_010n)),
        /refSlot: \d+ has not passed yet/,
      ],
      [
        () => oracle.submitVote(v, encodeReport(report(r.refSlot, 1n))),
        /reportHash: is not the hash tree root/,
      ],
      [() => oracle.submitVote(v, new Uint8Array([1, 2, 3])), /report: is not an SSZ-encoded report/],
    ];
    for (const [f, re] of cases) {
      const e = await f().then(
        () => null,
        (x: unknown) => x,
      );
      expect(isPoolkeeperError(e), String(e)).toBe(true);
      expect((e as Error).message).toMatch(re);
    }
    const n = await store.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM oracle_votes");
    expect(Number(n.rows[0]?.n)).toBe(0);
  });

  it("2 of 3 agree: applied exactly once though the deciding vote races itself; the dissenter's diff is listed", async () => {
    const refSlot = frameAt(FRAMES, 0).refSlot;
    const good = report(refSlot, 64_000_000_010n);
    expect(await vote(0, good)).toMatchObject({ consensusHash: null, decided: null });
    const other = report(refSlot, 64_000_000_020n);
    expect(await vote(2, other)).toMatchObject({ consensusHash: null, decided: null });
    // the deciding vote sent twice at once: one applies, the other is told the report is decided
    const results = await Promise.allSettled([vote(1, good), vote(1, good)]);
    const applied = results.filter((r) => r.status === "fulfilled");
    expect(applied).toHaveLength(1);
    if (applied[0]?.status === "fulfilled")
      expect(applied[0].value.decided).toEqual({ status: "applied", failed: [] });
    const refused = results.find((r) => r.status === "rejected");
    expect(refused?.status === "rejected" && String(refused.reason)).toMatch(/decided already/);

    const ledger = new PoolLedger(store);
    const s = await ledger.state();
    expect(s.lastRefSlot).toBe(refSlot);
    expect(s.clBalanceWei).toBe(64_000_000_010n * 10n ** 9n);
    const reports = await ledger.reports(10);
    expect(reports).toHaveLength(1);
    // 10 gwei in a frame of 192 s on 64 ETH: 2.6% a year
    expect(reports[0]?.report.outcome.rewardsWei).toBe(10n * 10n ** 9n);
    await expect(vote(2, good)).rejects.toThrow(/decided already/);

    const view = await oracle.reader.report(refSlot);
    expect(view).toMatchObject({ status: "applied", reportHash: reportHash(good) });
    expect(view.sanity.every((c) => c.ok)).toBe(true);
    expect(view.votes.map((v) => [v.memberId, v.agrees])).toEqual([
      ["member-1", true],
      ["member-2", true],
      ["member-3", false],
    ]);
    expect(view.votes[2]?.diff.map((d) => d.field)).toEqual([
      "clBalanceGwei",
      `operators[${opId}].balanceGwei`,
    ]);
    await ledger.verify();
  });

  it("a report that fails a sanity check is refused and the ledger stays as it was", async () => {
    const ledger = new PoolLedger(store);
    const before = await ledger.state();
    // +10 ETH on 64 in one frame of 192 s: far above 10% a year
    const greedy = report(frameAt(FRAMES, 1).refSlot, 74_001_000_000n);
    await vote(0, greedy);
    const out = await vote(1, greedy);
    expect(out.decided).toEqual({ status: "refused", failed: ["annual_balance_increase"] });
    expect(await ledger.state()).toEqual(before);
    const view = await oracle.reader.report(greedy.refSlot);
    expect(view.status).toBe("refused");
    expect(view.sanity.find((c) => c.check === "annual_balance_increase")).toMatchObject({
      ok: false,
      limit: "1000",
    });
    await expect(oracle.reader.report(frameAt(FRAMES, 5).refSlot)).rejects.toThrow(/no report or vote/);
    expect((await oracle.reader.reports(10)).map((r) => r.status)).toEqual(["refused", "applied"]);
  });
});
