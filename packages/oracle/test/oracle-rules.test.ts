/**
 * The oracle's rules without a chain: frames and ref slots, the report's canonical encoding and
 * hash, every sanity check rejecting a crafted report (and passing a normal one), and hash
 * consensus among members with signed votes.
 */
import { describe, expect, it } from "vitest";
import {
  checkMembers,
  diffReports,
  generateMemberKey,
  type OracleMember,
  publicKeyOf,
  signVote,
  tally,
  voteSignatureValid,
} from "../src/consensus.js";
import { frameAt, frameOfEpoch, frameOfRefSlot, lastReportableFrame } from "../src/frames.js";
import {
  CONSENSUS_VERSION,
  decodeReport,
  encodeReport,
  type ReportData,
  ReportDataType,
  reportHash,
} from "../src/report-data.js";
import { DEFAULT_SANITY_LIMITS, runSanityChecks, type SanityInput } from "../src/sanity.js";

const ETH = 10n ** 18n;
const E27 = 10n ** 27n;

describe("frames", () => {
  const c = {
    slotsPerEpoch: 32,
    secondsPerSlot: 12,
    genesisTime: 1_606_824_023,
    epochsPerFrame: 225,
    initialEpoch: 100,
  };
  it("a frame of 225 epochs; its ref slot is its last slot", () => {
    expect(frameAt(c, 0)).toEqual({
      index: 0,
      firstEpoch: 100,
      lastEpoch: 324,
      refSlot: 325 * 32 - 1,
      refTimestamp: 1_606_824_023 + (325 * 32 - 1) * 12,
    });
    expect(frameOfEpoch(c, 99)).toBeNull();
    expect(frameOfEpoch(c, 325)?.index).toBe(1);
    expect(frameOfRefSlot(c, 325 * 32 - 1)?.index).toBe(0);
    expect(frameOfRefSlot(c, 325 * 32 - 2)).toBeNull();
  });
  it("a frame is reportable once its ref slot is final: the finalized checkpoint past its last epoch", () => {
    // epoch 324 finalized makes final only up to its first slot, not the ref slot at its end
    expect(lastReportableFrame(c, 324)).toBeNull();
    expect(lastReportableFrame(c, 325)?.index).toBe(0);
    expect(lastReportableFrame(c, 549)?.index).toBe(0);
    expect(lastReportableFrame(c, 550)?.index).toBe(1);
  });
});

function sampleReport(over: Partial<ReportData> = {}): ReportData {
  return {
    ...ReportDataType.defaultValue(),
    consensusVersion: CONSENSUS_VERSION,
    refSlot: 10_399,
    clValidators: 3,
    clDepositedGwei: 96_000_000_000n,
    clBalanceGwei: 96_010_000_000n,
    clPendingBalanceGwei: 0n,
    operators: [
      {
        operatorId: 1,
        activeValidators: 2,
        exitedValidators: 0,
        rewardedValidators: 2,
        balanceGwei: 64_006_000_000n,
      },
      {
        operatorId: 2,
        activeValidators: 1,
        exitedValidators: 0,
        rewardedValidators: 0,
        balanceGwei: 32_004_000_000n,
      },
    ],
    elRewardsVaultBalanceWei: 5n * 10n ** 15n,
    withdrawalFinalizationBatches: [3, 5],
    simulatedShareRate: 1_000_100_000_000_000_000_000_000_000n,
    ...over,
  };
}

describe("the report's encoding and hash", () => {
  it("the same report gives the same bytes and hash; any field changes the hash", () => {
    const a = sampleReport();
    const b = decodeReport(encodeReport(sampleReport()));
    expect(Buffer.from(encodeReport(b)).equals(Buffer.from(encodeReport(a)))).toBe(true);
    expect(reportHash(b)).toBe(reportHash(a));
    expect(reportHash(a)).toMatch(/^0x[0-9a-f]{64}$/);
    const changed = [
      sampleReport({ clBalanceGwei: 96_010_000_001n }),
      sampleReport({ isBunkerMode: true }),
      sampleReport({ withdrawalFinalizationBatches: [3] }),
      sampleReport({ operators: sampleReport().operators.map((o) => ({ ...o, rewardedValidators: 1 })) }),
    ];
    for (const r of changed) expect(reportHash(r)).not.toBe(reportHash(a));
  });

  it("a field-by-field diff names what a member got differently", () => {
    const agreed = sampleReport();
    const member = sampleReport({
      clBalanceGwei: 96_000_000_000n,
      operators: [sampleReport().operators[0]!],
    });
    expect(diffReports(agreed, member)).toEqual([
      { field: "clBalanceGwei", agreed: '"96010000000"', member: '"96000000000"' },
      { field: "operators[2].activeValidators", agreed: "1", member: "absent" },
      { field: "operators[2].exitedValidators", agreed: "0", member: "absent" },
      { field: "operators[2].rewardedValidators", agreed: "0", member: "absent" },
      { field: "operators[2].balanceGwei", agreed: '"32004000000"', member: "absent" },
    ]);
  });
});

function sane(over: Partial<SanityInput> = {}): SanityInput {
  return {
    timestamp: 100 * 86_400,
    timeElapsed: 86_400,
    principalClWei: 3_200n * ETH,
    postClWei: 3_200n * ETH + 8n * 10n ** 17n, // +0.8 ETH a day on 3,200: 9.1% a year
    withdrawalVaultWei: 0n,
    preClValidators: 100,
    postClValidators: 100,
    appearedWei: 0n,
    preExitedValidators: 0,
    postExitedValidators: 0,
    exitedWei: 0n,
    simulatedShareRate: E27,
    actualShareRate: E27,
    lastFinalizedRequestTimestamp: null,
    history: [],
    ...over,
  };
}

const failing = (i: SanityInput) =>
  runSanityChecks(i, DEFAULT_SANITY_LIMITS)
    .filter((r) => !r.ok)
    .map((r) => r.check);

describe("sanity checks (Lido's mainnet limits)", () => {
  it("a normal day passes every check", () => {
    const r = runSanityChecks(sane());
    expect(r.every((x) => x.ok)).toBe(true);
    // 0.8 / 3200 × 365 = 9.125% → 912 basis points
    expect(r.find((x) => x.check === "annual_balance_increase")).toMatchObject({
      value: "912",
      limit: "1000",
    });
  });

  it("each crafted report fails its check, naming the figure and the limit", () => {
    expect(failing(sane({ postClWei: 3_201n * ETH }))).toEqual(["annual_balance_increase"]); // 11.4% a year
    // 100 validators: 0.8 ETH (initial slashings) + 10.1 ETH (inactivity) allowed; 11 ETH lost
    expect(failing(sane({ postClWei: 3_189n * ETH }))).toEqual(["cl_balance_decrease"]);
    expect(failing(sane({ postClWei: 3_190n * ETH }))).toEqual([]);
    expect(failing(sane({ postClValidators: 1_901 }))).toEqual(["appeared_validators"]);
    expect(failing(sane({ postExitedValidators: 3_601 }))).toEqual(["exited_validators"]);
    expect(failing(sane({ postExitedValidators: 0, preExitedValidators: 5 }))).toEqual(["exited_validators"]);
    expect(failing(sane({ simulatedShareRate: (E27 * 10_051n) / 10_000n }))).toEqual([
      "simulated_share_rate",
    ]);
    expect(failing(sane({ lastFinalizedRequestTimestamp: 100 * 86_400 - 7_679 }))).toEqual([
      "request_timestamp_margin",
    ]);
    expect(failing(sane({ lastFinalizedRequestTimestamp: 100 * 86_400 - 7_680 }))).toEqual([]);
  });

  it("decreases add up over 18 days; exits before 18 and 54 days shrink the allowance", () => {
    const history = [
      { timestamp: 85 * 86_400, exitedValidators: 0, negativeRebaseWei: 6n * ETH },
      { timestamp: 81 * 86_400, exitedValidators: 0, negativeRebaseWei: 0n },
    ].reverse();
    // 6 ETH fell 15 days ago + 5 ETH now = 11 ETH > the 10.9 ETH allowed for 100 validators
    expect(failing(sane({ postClWei: 3_195n * ETH, history }))).toEqual(["cl_balance_decrease"]);
    // the 6 ETH fell 19 days ago: outside the window
    const old = [{ timestamp: 81 * 86_400, exitedValidators: 0, negativeRebaseWei: 6n * ETH }];
    expect(failing(sane({ postClWei: 3_195n * ETH, history: old }))).toEqual([]);
    // 50 validators had exited 60 days ago: both allowances count 50 validators, 5.45 ETH
    const exited = [{ timestamp: 40 * 86_400, exitedValidators: 50, negativeRebaseWei: 0n }];
    expect(failing(sane({ postClWei: 3_194n * ETH, history: exited }))).toEqual(["cl_balance_decrease"]);
    expect(failing(sane({ postClWei: 3_195n * ETH, history: exited }))).toEqual([]);
  });

  it("the ether form of the churn limits replaces the counts when configured", () => {
    const limits = { ...DEFAULT_SANITY_LIMITS, appearedEthPerDay: 1_000n * ETH };
    const r = runSanityChecks(sane({ postClValidators: 150, appearedWei: 1_600n * ETH }), limits);
    expect(r.find((x) => x.check === "appeared_validators")).toMatchObject({
      ok: false,
      unit: "wei appeared",
    });
  });
});

describe("hash consensus", () => {
  const keys = Array.from({ length: 5 }, () => generateMemberKey());
  const members: OracleMember[] = keys.map((k, i) => ({ id: `m${i + 1}`, publicKey: publicKeyOf(k) }));
  const H1 = `0x${"11".repeat(32)}`;
  const H2 = `0x${"22".repeat(32)}`;
  const H3 = `0x${"33".repeat(32)}`;
  const vote = (i: number, hash: string, refSlot = 100) => signVote(keys[i]!, `m${i + 1}`, refSlot, hash);

  it("the quorum must be more than half of the members", () => {
    expect(() => checkMembers(members, 2)).toThrow(
      /quorum: must be more than half of the 5 members.*\(3 to 5\)/,
    );
    expect(() => checkMembers(members, 6)).toThrow(/quorum/);
    expect(() => checkMembers([...members, members[0]!], 4)).toThrow(/members\[5\]\.id: m1 is listed twice/);
    checkMembers(members, 3);
  });

  it("3 of 5 agree: consensus; 2-2-1: none", () => {
    const agree = tally([vote(0, H1), vote(1, H1), vote(2, H1), vote(3, H2), vote(4, H3)], members, 3, 100);
    expect(agree.consensusHash).toBe(H1);
    expect(agree.byHash.get(H2)).toEqual(["m4"]);
    const split = tally([vote(0, H1), vote(1, H1), vote(2, H2), vote(3, H2), vote(4, H3)], members, 3, 100);
    expect(split.consensusHash).toBeNull();
  });

  it("a member's newest vote replaces its earlier one; other ref slots, versions and non-members do not count", () => {
    const t = tally(
      [
        vote(0, H2),
        vote(0, H1),
        vote(1, H1),
        vote(2, H1, 99),
        { ...vote(2, H1), consensusVersion: CONSENSUS_VERSION + 1 },
        { ...vote(3, H1), memberId: "m9" },
      ],
      members,
      3,
      100,
    );
    expect(t.byHash.get(H1)).toEqual(["m1", "m2"]);
    expect(t.byHash.get(H2)).toBeUndefined();
    expect(t.consensusHash).toBeNull();
  });

  it("a signature verifies only for its member, ref slot and hash", () => {
    const v = vote(0, H1);
    expect(voteSignatureValid(v, members[0]!)).toBe(true);
    expect(voteSignatureValid(v, members[1]!)).toBe(false);
    expect(voteSignatureValid({ ...v, reportHash: H2 }, members[0]!)).toBe(false);
    expect(voteSignatureValid({ ...v, refSlot: 101 }, members[0]!)).toBe(false);
    expect(voteSignatureValid({ ...v, signature: "0x1234" }, members[0]!)).toBe(false);
  });
});
