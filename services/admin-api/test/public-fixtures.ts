/**
 * A pool with something on every section of the public page, for the public routes' test, the
 * browser test and the benchmark: operators A (3 keys) and B (1 key) deposited, the watcher's
 * epochs and alerts (watcher-fixtures.ts), three applied oracle reports (the figures of
 * operator-rewards.test.ts: R1 +1.28 ETH, R2 −0.01 ETH, R3 +1 ETH), and a withdrawal request
 * waiting in the queue.
 */
import { TEST_STAKER } from "@poolkeeper/ledger/testing";
import { generateMemberKey, type ReportData, reportHash } from "@poolkeeper/oracle";
import { depositEntries, TEST_NETWORK } from "./deposit-fixtures.js";
import { bearer, createOperator, depositKeys, type Harness, testReport, voteBody } from "./harness.js";
import { seedWatcher } from "./watcher-fixtures.js";

export const ORACLE_KEYS = [generateMemberKey(), generateMemberKey(), generateMemberKey()];
const GWEI = 10n ** 9n;
export const REF_SLOTS = [6_399_999, 6_415_999, 8_015_999] as const;

export interface SeededPool {
  a: number;
  b: number;
  names: Record<number, string>;
  /** The operators' reward addresses (lower case): never on a public route. */
  rewardAddresses: string[];
  withdrawalRequestId: number;
}

/**
 * A report of the 4 deposited keys (128 ETH) with this CL balance and, per operator, its
 * [operatorId, active, rewarded] validators.
 */
export function fourKeyReport(
  refSlot: number,
  clBalanceGwei: bigint,
  operators: [number, number, number][],
): ReportData {
  return testReport({
    refSlot,
    clValidators: 4,
    clDepositedGwei: 128n * GWEI,
    clBalanceGwei,
    operators: operators.map(([operatorId, activeValidators, rewardedValidators]) => ({
      operatorId,
      activeValidators,
      exitedValidators: 0,
      rewardedValidators,
      balanceGwei: 0n,
    })),
  });
}

/**
 * Operators A (3 keys) and B (1 key) deposited, then R1..R3 applied by members m1 and m2 (the
 * figures are worked by hand in operator-rewards.test.ts). `h` is made with
 * `oracle: testOracleConfig(ORACLE_KEYS)`. Returns the operators and each report's hash.
 */
export async function seedThreeReports(
  h: Harness,
  keyBase = 8100,
): Promise<{ a: number; b: number; hashes: Record<number, string> }> {
  const a = await createOperator(h, { vettedLimit: 3 });
  const b = await createOperator(h, { vettedLimit: 1 });
  await depositKeys(
    h,
    [
      [a, depositEntries(keyBase, 3)],
      [b, depositEntries(keyBase + 100, 1)],
    ],
    4,
  );
  const oracle = await h.oracleToken();
  const hashes: Record<number, string> = {};
  for (const r of [
    fourKeyReport(REF_SLOTS[0], 129_280_000_000n, [
      [a, 3, 2],
      [b, 1, 1],
    ]),
    fourKeyReport(REF_SLOTS[1], 129_270_000_000n, [
      [a, 3, 3],
      [b, 1, 1],
    ]),
    fourKeyReport(REF_SLOTS[2], 130_270_000_000n, [[a, 3, 3]]),
  ]) {
    let decided: unknown = null;
    for (const i of [0, 1]) {
      const res = await h.app.inject({
        method: "POST",
        url: "/v1/oracle/votes",
        headers: bearer(oracle),
        payload: voteBody(ORACLE_KEYS, i, r),
      });
      if (res.statusCode !== 200) throw new Error(`vote: ${res.statusCode} ${res.body}`);
      decided = res.json().data.decided;
    }
    if (JSON.stringify(decided) !== JSON.stringify({ status: "applied", failed: [] }))
      throw new Error(`report ${r.refSlot} not applied: ${JSON.stringify(decided)}`);
    hashes[r.refSlot] = reportHash(r);
  }
  return { a, b, hashes };
}

/** Seeds `h` (made with `oracle: testOracleConfig(ORACLE_KEYS)`): seedThreeReports, the watcher, a withdrawal. */
export async function seedPublicPool(h: Harness, keyBase = 8100): Promise<SeededPool> {
  const { a, b } = await seedThreeReports(h, keyBase);
  const get = async (url: string) => {
    const r = await h.app.inject({ method: "GET", url, headers: bearer(h.admin) });
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r.json().data;
  };
  const opA = await get(`/v1/operators/${a}`);
  const opB = await get(`/v1/operators/${b}`);
  await seedWatcher(h.store, TEST_NETWORK.name, a, b);
  const w = await h.app.inject({
    method: "POST",
    url: "/v1/withdrawals",
    headers: bearer(h.admin),
    payload: { account: TEST_STAKER, amount: (10n ** 18n).toString() },
  });
  if (w.statusCode !== 200) throw new Error(`withdrawal: ${w.statusCode} ${w.body}`);
  return {
    a,
    b,
    names: { [a]: opA.name, [b]: opB.name },
    rewardAddresses: [opA.rewardAddress.toLowerCase(), opB.rewardAddress.toLowerCase()],
    withdrawalRequestId: w.json().data.requestId,
  };
}
