/**
 * The proposal life cycle on PGlite and PostgreSQL: approvals below and at the quorum, the
 * timelock, execution exactly once (also when executes race), cancellation, replayed and foreign
 * signatures refused, the history replaying to the current values.
 */
import { isPoolkeeperError, ValidationError } from "@poolkeeper/core";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  catalogueOf,
  DEPOSITS_UNPAUSE,
  daoPublicKeyOf,
  Governance,
  type GovernanceEffects,
  GUARDIANS,
  generateDaoKey,
  type KindSpec,
  POOL_KINDS,
  poolIdOf,
  replayHistory,
  signGovernance,
} from "../src/index.js";

const FEE_KIND: KindSpec = {
  kind: "fee",
  type: "parameter",
  description: "test fee",
  parse(v) {
    const o = v as { totalFeeBP?: unknown };
    if (typeof o?.totalFeeBP !== "number" || o.totalFeeBP < 0 || o.totalFeeBP > 10_000)
      throw new ValidationError("value.totalFeeBP", "must be 0-10000");
    return { totalFeeBP: o.totalFeeBP };
  },
};

const KEYS = [1, 2, 3, 4].map((i) => generateDaoKey(new Uint8Array(32).fill(i)));
const MEMBERS = KEYS.slice(0, 3).map((k, i) => ({ id: `dao${i + 1}`, publicKey: daoPublicKeyOf(k) }));
const OUTSIDER = KEYS[3]!;
const POOL_ID = poolIdOf({
  genesisValidatorsRoot: new Uint8Array(32).fill(7),
  genesisForkVersion: new Uint8Array(4),
  withdrawalCredentials: new Uint8Array(32).fill(1),
});
const OTHER_POOL = poolIdOf({
  genesisValidatorsRoot: new Uint8Array(32).fill(8),
  genesisForkVersion: new Uint8Array(4),
  withdrawalCredentials: new Uint8Array(32).fill(1),
});
const GENESIS = { fee: { totalFeeBP: 1000 }, [GUARDIANS]: { members: [], quorum: 0 } };

function sign(
  i: number,
  action: "approve" | "cancel",
  p: { id: number; changeHash: string },
  poolId = POOL_ID,
) {
  return signGovernance(KEYS[i]!, `dao${i + 1}`, action, {
    poolId,
    proposalId: p.id,
    changeHash: p.changeHash,
  });
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (isPoolkeeperError(e)) return { code: e.code, details: e.details ?? {} };
    throw e;
  }
  throw new Error("expected a refusal");
}

describe.each(TEST_STORE_KINDS)("governance on %s", (kind) => {
  let store: TestStore;
  let clock = Date.parse("2030-01-01T00:00:00Z");
  let gov: Governance;
  const applied: { kind: string; value: unknown; proposalId: number }[] = [];
  const effects: GovernanceEffects = {
    async apply(_tx, k, value, ctx) {
      applied.push({ kind: k, value, proposalId: ctx.proposalId });
      return {};
    },
  };

  beforeAll(async () => {
    store = await createTestStore(kind);
    gov = new Governance(store, {
      members: MEMBERS,
      quorum: 2,
      timelockSeconds: 3600,
      poolId: POOL_ID,
      catalogue: catalogueOf([FEE_KIND], POOL_KINDS),
      effects,
      now: () => new Date(clock),
    });
    expect((await gov.init(GENESIS)).recorded.sort()).toEqual(["fee", GUARDIANS]);
  });
  afterAll(() => store.dispose());

  it("a second genesis records nothing and names a configured value that differs", async () => {
    const again = await gov.init({ ...GENESIS, fee: { totalFeeBP: 500 } });
    expect(again).toEqual({ recorded: [], differing: ["fee"] });
    expect(await gov.value("fee")).toEqual({ totalFeeBP: 1000 });
  });

  it("a change is checked by its kind's schema, naming the field", async () => {
    const e = await refusal(gov.propose({ kind: "fee", value: { totalFeeBP: 20_000 }, reason: "x" }, "t"));
    expect(e).toMatchObject({ code: "ERR_VALIDATION", details: { field: "value.totalFeeBP" } });
    expect(await refusal(gov.propose({ kind: "nope", value: {}, reason: "x" }, "t"))).toMatchObject({
      details: { field: "kind" },
    });
    expect(
      await refusal(gov.propose({ kind: "fee", value: { totalFeeBP: 1000 }, reason: "x" }, "t")),
    ).toMatchObject({
      details: { field: "value" },
    });
    expect(
      await refusal(
        gov.propose(
          { kind: GUARDIANS, value: { members: [{ id: "g", publicKey: "0x12" }], quorum: 1 }, reason: "x" },
          "t",
        ),
      ),
    ).toMatchObject({ details: { field: "value.members[0].publicKey" } });
  });

  it("below the quorum it stays pending; at the quorum the timelock starts; executed once after it", async () => {
    const p = await gov.propose(
      { kind: "fee", value: { totalFeeBP: 800 }, reason: "lower fee" },
      "token:1:dao",
    );
    expect(p.status).toBe("pending");
    const one = await gov.approve(p.id, sign(0, "approve", p));
    expect(one.status).toBe("pending");
    expect(one.approvals.map((a) => a.memberId)).toEqual(["dao1"]);
    const two = await gov.approve(p.id, sign(1, "approve", p));
    expect(two.status).toBe("approved");
    expect(two.executableAt!.getTime() - two.approvedAt!.getTime()).toBe(3600_000);

    expect(await refusal(gov.execute(p.id, "t"))).toMatchObject({ code: "ERR_TIMELOCK" });
    expect(await gov.value("fee")).toEqual({ totalFeeBP: 1000 });
    clock += 3600_000;
    const done = await gov.execute(p.id, "token:2:admin");
    expect(done.status).toBe("executed");
    expect(await gov.value("fee")).toEqual({ totalFeeBP: 800 });
    expect((await gov.values()).find((v) => v.name === "fee")?.proposalId).toBe(p.id);
    expect(await refusal(gov.execute(p.id, "t"))).toMatchObject({ code: "ERR_PROPOSAL_STATE" });
  });

  it("replayed, foreign, other-pool and non-member signatures are refused", async () => {
    const p = await gov.propose({ kind: "fee", value: { totalFeeBP: 700 }, reason: "r" }, "t");
    const q = await gov.propose({ kind: "fee", value: { totalFeeBP: 600 }, reason: "r" }, "t");
    const s = sign(0, "approve", p);
    await gov.approve(p.id, s);
    // the same signature again, and the member's second approval
    expect(await refusal(gov.approve(p.id, s))).toMatchObject({ code: "ERR_APPROVAL_REPEATED" });
    // a signature over another proposal, another pool, or a cancellation, is not an approval of this one
    expect(await refusal(gov.approve(q.id, s))).toMatchObject({ code: "ERR_INVALID_SIGNATURE" });
    expect(await refusal(gov.approve(q.id, sign(1, "approve", q, OTHER_POOL)))).toMatchObject({
      code: "ERR_INVALID_SIGNATURE",
    });
    expect(await refusal(gov.approve(q.id, sign(1, "cancel", q)))).toMatchObject({
      code: "ERR_INVALID_SIGNATURE",
    });
    // dao2's key signing as dao3
    const forged = { ...sign(1, "approve", q), memberId: "dao3" };
    expect(await refusal(gov.approve(q.id, forged))).toMatchObject({ code: "ERR_INVALID_SIGNATURE" });
    const outsider = signGovernance(OUTSIDER, "eve", "approve", {
      poolId: POOL_ID,
      proposalId: q.id,
      changeHash: q.changeHash,
    });
    expect(await refusal(gov.approve(q.id, outsider))).toMatchObject({ code: "ERR_NOT_DAO_MEMBER" });
    expect((await gov.get(q.id)).approvals).toEqual([]);
    expect((await gov.get(p.id)).status).toBe("pending");
  });

  it("any member cancels before execution; a cancelled proposal is neither approved nor executed", async () => {
    const p = await gov.propose({ kind: "fee", value: { totalFeeBP: 900 }, reason: "r" }, "t");
    await gov.approve(p.id, sign(0, "approve", p));
    await gov.approve(p.id, sign(1, "approve", p));
    expect(await refusal(gov.cancel(p.id, sign(2, "approve", p)))).toMatchObject({
      code: "ERR_INVALID_SIGNATURE",
    });
    const c = await gov.cancel(p.id, sign(2, "cancel", p));
    expect(c).toMatchObject({ status: "cancelled", cancelledBy: "dao:dao3" });
    clock += 7200_000;
    expect(await refusal(gov.execute(p.id, "t"))).toMatchObject({ code: "ERR_PROPOSAL_STATE" });
    expect(await refusal(gov.approve(p.id, sign(2, "approve", p)))).toMatchObject({
      code: "ERR_PROPOSAL_STATE",
    });
    expect(await refusal(gov.cancel(p.id, sign(0, "cancel", p)))).toMatchObject({
      code: "ERR_PROPOSAL_STATE",
    });
    expect(await gov.value("fee")).toEqual({ totalFeeBP: 800 });
  });

  it("concurrent executes: one wins, the others are refused, the change is recorded once", async () => {
    const p = await gov.propose({ kind: "fee", value: { totalFeeBP: 750 }, reason: "race" }, "t");
    await gov.approve(p.id, sign(1, "approve", p));
    await gov.approve(p.id, sign(2, "approve", p));
    clock += 3600_000;
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => gov.execute(p.id, `runner${i}`)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results)
      if (r.status === "rejected") expect((r.reason as { code: string }).code).toBe("ERR_PROPOSAL_STATE");
    const history = (await gov.history()).filter((h) => h.proposalId === p.id);
    expect(history).toHaveLength(1);
  });

  it("an action runs its effect once, in the execution", async () => {
    const p = await gov.propose({ kind: DEPOSITS_UNPAUSE, value: {}, reason: "incident over" }, "t");
    await gov.approve(p.id, sign(0, "approve", p));
    await gov.approve(p.id, sign(2, "approve", p));
    clock += 3600_000;
    await gov.execute(p.id, "t");
    expect(applied.filter((a) => a.proposalId === p.id)).toEqual([
      { kind: DEPOSITS_UNPAUSE, value: {}, proposalId: p.id },
    ]);
  });

  it("the history replays to the current values", async () => {
    const replayed = replayHistory(await gov.history());
    const current = await gov.values();
    expect(current.length).toBeGreaterThan(0);
    expect(new Map(current.map((v) => [v.name, { value: v.value, proposalId: v.proposalId }]))).toEqual(
      replayed,
    );
    // the genesis is in it, without a proposal
    expect(
      (await gov.history())
        .filter((h) => h.proposalId === null)
        .map((h) => h.name)
        .sort(),
    ).toEqual(["fee", GUARDIANS]);
  });

  it("the history is append-only", async () => {
    await expect(store.query("UPDATE governance_history SET value = '{}'::jsonb")).rejects.toThrow();
    await expect(store.query("DELETE FROM governance_approvals")).rejects.toThrow();
  });
});
