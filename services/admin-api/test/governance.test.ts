/**
 * Governance through the admin API (issue 14): a fee change from proposal to execution and the
 * oracle's decider applying the governed fee; oracle members changed by proposal; operators
 * added and limits beyond the step only by proposals; every governed kind refused outside a
 * proposal; the parameters with the proposal that set each; the history replayed; DAO keys in no
 * log line or answer.
 */

import { API_ROUTES } from "@poolkeeper/contract";
import { generateGuardianKey, guardianPublicKey, signPause } from "@poolkeeper/deposit-security";
import {
  daoPublicKeyOf,
  type GovernanceSetup,
  generateDaoKey,
  replayHistory,
  signGovernance,
} from "@poolkeeper/governance";
import {
  CONSENSUS_VERSION,
  generateMemberKey,
  publicKeyOf,
  type ReportData,
  ReportDataType,
} from "@poolkeeper/oracle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  createHarness,
  createOperator,
  type Harness,
  TEST_POOL_ID,
  testOracleConfig,
  voteBody,
} from "./harness.js";

const DAO_KEYS = [generateDaoKey(), generateDaoKey(), generateDaoKey()];
const ORACLE_KEYS = [generateMemberKey(), generateMemberKey(), generateMemberKey()];
const SETUP: GovernanceSetup = {
  members: DAO_KEYS.map((k, i) => ({ id: `dao${i + 1}`, publicKey: daoPublicKeyOf(k) })),
  quorum: 2,
  timelockSeconds: 3600,
  limitStep: 10,
  guardians: { members: [], quorum: 0 },
};
const TREASURY = "0x00000000000000000000000000000000000000ee";

interface ProposalJson {
  id: number;
  changeHash: string;
  status: string;
  executableAt: string | null;
}

describe("governance routes", () => {
  let h: Harness;
  let clock = Date.parse("2030-01-01T00:00:00Z");
  const bodies: string[] = [];
  beforeAll(async () => {
    h = await createHarness(
      "pglite",
      {},
      { oracle: testOracleConfig(ORACLE_KEYS), governance: { setup: SETUP, now: () => new Date(clock) } },
    );
  });
  afterAll(() => h.close());

  const call = async (method: "GET" | "POST" | "PATCH", url: string, payload?: object, token = h.dao) => {
    const r = await h.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });
    bodies.push(r.body);
    return r;
  };
  const sig = (i: number, action: "approve" | "cancel", p: ProposalJson) =>
    signGovernance(DAO_KEYS[i]!, `dao${i + 1}`, action, {
      poolId: TEST_POOL_ID,
      proposalId: p.id,
      changeHash: p.changeHash,
    });
  const propose = async (kind: string, value: unknown, reason = "test") => {
    const r = await call("POST", "/v1/governance/proposals", { kind, value, reason });
    expect(r.statusCode, r.body).toBe(201);
    return r.json().data as ProposalJson;
  };
  /** Proposed, approved by dao1 and dao2, the timelock waited out, executed: the proposal. */
  const enact = async (kind: string, value: unknown) => {
    const p = await propose(kind, value);
    for (const i of [0, 1]) {
      const r = await call("POST", `/v1/governance/proposals/${p.id}/approve`, sig(i, "approve", p));
      expect(r.statusCode, r.body).toBe(200);
    }
    clock += 3600_000;
    const r = await call("POST", `/v1/governance/proposals/${p.id}/execute`, undefined, h.admin);
    expect(r.statusCode, r.body).toBe(200);
    return r.json().data as ProposalJson;
  };
  const parameter = async (name: string) => {
    const r = await call("GET", "/v1/governance/parameters");
    expect(r.statusCode, r.body).toBe(200);
    return (r.json().data.parameters as { name: string; value: unknown; proposalId: number | null }[]).find(
      (x) => x.name === name,
    );
  };

  it("the genesis holds today's configuration, without a proposal", async () => {
    expect(await parameter("fee")).toMatchObject({
      value: { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: TREASURY },
      proposalId: null,
    });
    const r = await call("GET", "/v1/governance/parameters");
    expect(r.json().data).toMatchObject({ poolId: TEST_POOL_ID, timelockSeconds: 3600, limitStep: 10 });
    expect(r.json().data.dao.members.map((m: { id: string }) => m.id)).toEqual(["dao1", "dao2", "dao3"]);
    expect((await parameter("oracle.members"))?.value).toMatchObject({ quorum: 2 });
  });

  it("a fee change: the schema names the field; below quorum, at quorum, timelocked, executed once", async () => {
    const bad = await call("POST", "/v1/governance/proposals", {
      kind: "fee",
      value: { totalFeeBP: 500, operatorsFeeBP: 800, treasury: TREASURY },
      reason: "split above the fee",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: "ERR_VALIDATION", details: { field: "value.operatorsFeeBP" } });

    const p = await propose(
      "fee",
      { totalFeeBP: 800, operatorsFeeBP: 400, treasury: TREASURY },
      "cheaper pool",
    );
    const one = await call("POST", `/v1/governance/proposals/${p.id}/approve`, sig(0, "approve", p));
    expect(one.json().data.status).toBe("pending");
    const again = await call("POST", `/v1/governance/proposals/${p.id}/approve`, sig(0, "approve", p));
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("ERR_APPROVAL_REPEATED");
    const outsider = signGovernance(generateDaoKey(), "mallory", "approve", {
      poolId: TEST_POOL_ID,
      proposalId: p.id,
      changeHash: p.changeHash,
    });
    const refused = await call("POST", `/v1/governance/proposals/${p.id}/approve`, outsider);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe("ERR_NOT_DAO_MEMBER");
    const forged = await call("POST", `/v1/governance/proposals/${p.id}/approve`, {
      ...sig(0, "approve", p),
      memberId: "dao3",
    });
    expect(forged.statusCode).toBe(422);
    expect(forged.json().code).toBe("ERR_INVALID_SIGNATURE");

    const two = await call("POST", `/v1/governance/proposals/${p.id}/approve`, sig(1, "approve", p));
    expect(two.json().data.status).toBe("approved");
    const early = await call("POST", `/v1/governance/proposals/${p.id}/execute`);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({
      code: "ERR_TIMELOCK",
      details: { executableAt: two.json().data.executableAt },
    });
    expect((await parameter("fee"))?.proposalId).toBeNull();

    clock += 3600_000;
    const done = await call("POST", `/v1/governance/proposals/${p.id}/execute`);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().data.status).toBe("executed");
    const twice = await call("POST", `/v1/governance/proposals/${p.id}/execute`);
    expect(twice.json().code).toBe("ERR_PROPOSAL_STATE");
    expect(await parameter("fee")).toMatchObject({ value: { totalFeeBP: 800 }, proposalId: p.id });
  });

  it("the oracle uses the governed fee: the frame members build on and the report the decider applies", async () => {
    const oracle = await h.oracleToken();
    const frame = await call("GET", "/v1/oracle/frames/15", undefined, oracle);
    expect(frame.statusCode, frame.body).toBe(200);
    expect(frame.json().data.fees).toMatchObject({ totalFeeBP: 800, operatorsFeeBP: 400 });
    const r: ReportData = {
      ...ReportDataType.defaultValue(),
      consensusVersion: CONSENSUS_VERSION,
      refSlot: 15,
    };
    for (const i of [0, 1])
      expect((await call("POST", "/v1/oracle/votes", voteBody(ORACLE_KEYS, i, r), oracle)).statusCode).toBe(
        200,
      );
    const { rows } = await h.store.query<{ fees: { totalFeeBP: number } }>(
      "SELECT data -> 'fees' AS fees FROM ledger_entries WHERE kind = 'report'",
    );
    expect(rows.map((x) => x.fees.totalFeeBP)).toEqual([800]);
  });

  it("oracle members changed by a proposal: a removed member's vote is refused", async () => {
    const members = ORACLE_KEYS.slice(0, 2).map((k, i) => ({ id: `m${i + 1}`, publicKey: publicKeyOf(k) }));
    await enact("oracle.members", { members, quorum: 2 });
    const oracle = await h.oracleToken();
    const setup = await call("GET", "/v1/oracle/setup", undefined, oracle);
    expect(setup.json().data.members.map((m: { id: string }) => m.id)).toEqual(["m1", "m2"]);
    const r: ReportData = {
      ...ReportDataType.defaultValue(),
      consensusVersion: CONSENSUS_VERSION,
      refSlot: 31,
    };
    const vote = await call("POST", "/v1/oracle/votes", voteBody(ORACLE_KEYS, 2, r), oracle);
    expect(vote.statusCode).toBe(403);
    expect(vote.json().code).toBe("ERR_NOT_ORACLE_MEMBER");
  });

  it("a frame keeps the fee pinned at its first ask: a fee executed meanwhile applies from the next frame", async () => {
    const oracle = await h.oracleToken();
    const frame = async (ref: number) =>
      (await call("GET", `/v1/oracle/frames/${ref}`, undefined, oracle)).json().data;
    expect((await frame(47)).fees.totalFeeBP).toBe(800);
    await enact("fee", { totalFeeBP: 700, operatorsFeeBP: 400, treasury: TREASURY });
    expect((await frame(47)).fees.totalFeeBP).toBe(800);
    const r: ReportData = {
      ...ReportDataType.defaultValue(),
      consensusVersion: CONSENSUS_VERSION,
      refSlot: 47,
    };
    for (const i of [0, 1]) {
      const v = await call("POST", "/v1/oracle/votes", voteBody(ORACLE_KEYS, i, r), oracle);
      expect(v.statusCode, v.body).toBe(200);
    }
    const { rows } = await h.store.query<{ fees: { totalFeeBP: number } }>(
      "SELECT data -> 'fees' AS fees FROM ledger_entries WHERE kind = 'report' ORDER BY seq",
    );
    expect(rows.map((x) => x.fees.totalFeeBP)).toEqual([800, 800]);
    expect((await frame(63)).fees.totalFeeBP).toBe(700);
  });

  let opId = 0;
  it("operators: added, limited beyond the step and deactivated only by proposals; inside the step immediate", async () => {
    const direct = await call(
      "POST",
      "/v1/operators",
      { name: "op-direct", rewardAddress: `0x${"ab".repeat(20)}` },
      h.admin,
    );
    expect(direct.statusCode).toBe(409);
    expect(direct.json()).toMatchObject({
      code: "ERR_GOVERNANCE_REQUIRED",
      details: { kind: "operator.add" },
    });
    expect(direct.json().message).toMatch(/\/v1\/governance\/proposals/);

    const added = await enact("operator.add", { name: "op-governed", rewardAddress: `0x${"cd".repeat(20)}` });
    const ops = (await call("GET", "/v1/operators")).json().data as { id: number; name: string }[];
    opId = ops.find((o) => o.name === "op-governed")!.id;
    expect((await call("GET", "/v1/governance/history")).json().data).toContainEqual(
      expect.objectContaining({ name: `operator:${opId}`, proposalId: added.id }),
    );

    const small = await call("PATCH", `/v1/operators/${opId}`, { vettedLimit: 10, reason: "routine" });
    expect(small.statusCode, small.body).toBe(200);
    const jump = await call("PATCH", `/v1/operators/${opId}`, { vettedLimit: 50, reason: "big" });
    expect(jump.statusCode).toBe(409);
    expect(jump.json()).toMatchObject({
      code: "ERR_GOVERNANCE_REQUIRED",
      details: { field: "vettedLimit", kind: "operator.limits", from: 10, to: 50, step: 10 },
    });
    const target = await call("PATCH", `/v1/operators/${opId}`, { targetLimit: { limit: 5, mode: "soft" } });
    expect(target.json()).toMatchObject({
      code: "ERR_GOVERNANCE_REQUIRED",
      details: { field: "targetLimit" },
    });
    const off = await call("PATCH", `/v1/operators/${opId}`, { active: false }, h.admin);
    expect(off.json()).toMatchObject({
      code: "ERR_GOVERNANCE_REQUIRED",
      details: { kind: "operator.deactivate" },
    });
    // nothing was half-applied
    expect((await call("GET", `/v1/operators/${opId}`)).json().data).toMatchObject({
      vettedLimit: 10,
      targetLimit: null,
      active: true,
    });

    await enact("operator.limits", { operatorId: opId, vettedLimit: 50 });
    await enact("operator.deactivate", { operatorId: opId });
    expect((await call("GET", `/v1/operators/${opId}`)).json().data).toMatchObject({
      vettedLimit: 50,
      active: false,
    });
    const on = await call("PATCH", `/v1/operators/${opId}`, { active: true }, h.admin);
    expect(on.json()).toMatchObject({
      code: "ERR_GOVERNANCE_REQUIRED",
      details: { kind: "operator.activate" },
    });
  });

  it("every governed kind is refused outside a proposal", async () => {
    const kinds = (await call("GET", "/v1/governance/parameters")).json().data.kinds as {
      kind: string;
      type: string;
    }[];
    const before = (await call("GET", "/v1/governance/history")).json().data.length as number;
    const attempts: Record<string, () => Promise<{ statusCode: number; json(): { code: string } }>> = {
      "operator.add": () =>
        call("POST", "/v1/operators", { name: "x-direct", rewardAddress: `0x${"ef".repeat(20)}` }, h.admin),
      "operator.limits": () => call("PATCH", `/v1/operators/${opId}`, { vettedLimit: 200 }, h.admin),
      "operator.activate": () => call("PATCH", `/v1/operators/${opId}`, { active: true }, h.admin),
      "operator.deactivate": async () => {
        const other = await enactOperator();
        return call("PATCH", `/v1/operators/${other}`, { active: false }, h.admin);
      },
    };
    const enactOperator = async () => {
      await enact("operator.add", { name: `op-${clock}`, rewardAddress: `0x${"12".repeat(20)}` });
      const ops = (await call("GET", "/v1/operators")).json().data as { id: number; name: string }[];
      return ops.find((o) => o.name === `op-${clock - 3600_000}`)!.id;
    };
    // the API has no other route that writes a parameter or unpauses deposits: only the proposals'
    // (the guardians' own messages, signed by a current guardian, change no parameter: they
    // release, refuse, pause and report; the DAO's unpause route is refused under governance below)
    const writers = Object.entries(API_ROUTES)
      .filter(
        ([, r]) =>
          r.method !== "GET" &&
          !(r.access.roles as readonly string[]).includes("guardian") &&
          /governance|fee|oracle\/members|sanity|frame|guardian|unpause/.test(r.url),
      )
      .map(([name]) => name)
      .sort();
    expect(writers).toEqual([
      "approveProposal",
      "cancelProposal",
      "createProposal",
      "executeProposal",
      "unpauseDeposits",
    ]);
    const unpause = await call("POST", "/v1/deposits/unpause", { reason: "direct" }, h.dao);
    expect([unpause.statusCode, unpause.json()]).toMatchObject([
      409,
      { code: "ERR_GOVERNANCE_REQUIRED", details: { kind: "deposits.unpause" } },
    ]);
    for (const { kind, type } of kinds) {
      if (type === "parameter") continue; // no route but the proposals' writes one (above)
      if (kind === "deposits.unpause") continue; // its route is refused (above); its proposal is its only path
      const attempt = attempts[kind];
      expect(attempt, `a direct attempt at ${kind}`).toBeDefined();
      const r = await attempt!();
      expect([r.statusCode, r.json().code], kind).toEqual([409, "ERR_GOVERNANCE_REQUIRED"]);
    }
    const after = (await call("GET", "/v1/governance/history")).json().data as {
      proposalId: number | null;
    }[];
    // the only new history rows are the helper proposal's (operator.add for the deactivate attempt)
    expect(after.slice(before).every((x) => x.proposalId !== null)).toBe(true);
  });

  it("the guardian set is the governed one, and deposits resume only by an executed deposits.unpause", async () => {
    const gKeys = [1, 2, 3].map((i) => generateGuardianKey(new Uint8Array(32).fill(40 + i)));
    const security = async () => (await call("GET", "/v1/deposits/security")).json().data;
    expect((await security()).enabled).toBe(false); // genesis: no guardians
    await enact("guardians", {
      members: gKeys.map((k, i) => ({ id: `g${i + 1}`, publicKey: guardianPublicKey(k) })),
      quorum: 2,
    });
    // read from the governance store at once, no restart
    expect(await security()).toMatchObject({ enabled: true, quorum: 2 });
    expect((await security()).guardians.map((g: { id: string }) => g.id)).toEqual(["g1", "g2", "g3"]);
    const guardian = await h.guardianToken();
    const pause = signPause(gKeys[1]!, "g2", 0);
    const paused = await call("POST", "/v1/deposits/pause", pause, guardian);
    expect(paused.statusCode, paused.body).toBe(200);
    expect((await security()).paused).toBe(true);
    const p = await enact("deposits.unpause", {});
    expect(p.status).toBe("executed");
    expect(await security()).toMatchObject({ paused: false });
    // the same pause message after the unpause is a replay
    const replay = await call("POST", "/v1/deposits/pause", pause, guardian);
    expect(replay.statusCode).not.toBe(200);
    expect((await security()).paused).toBe(false);
    // the public page's control section: who releases deposits, who can change what, what waits
    const waiting = await propose("oracle.frame", { epochsPerFrame: 8, initialEpoch: 0 });
    const control = (await h.app.inject({ method: "GET", url: "/v1/public/control" })).json().data;
    expect(control.deposits).toMatchObject({ guarded: true, guardians: 3, quorum: 2, paused: false });
    expect(control.governance).toMatchObject({ daoMembers: 3, quorum: SETUP.quorum });
    expect(control.governance.timelockSeconds).toBe(SETUP.timelockSeconds);
    const guardiansRow = control.governance.parameters.find((x: { name: string }) => x.name === "guardians");
    expect(guardiansRow.proposalId).not.toBeNull();
    expect(control.governance.pending).toContainEqual(
      expect.objectContaining({
        id: waiting.id,
        kind: "oracle.frame",
        status: "pending",
        executableAt: null,
      }),
    );
    await call("POST", `/v1/governance/proposals/${waiting.id}/cancel`, sig(0, "cancel", waiting));
  });

  it("a restart configured otherwise keeps the governed values", async () => {
    const differing = await h.governance!.governance.init({
      guardians: SETUP.guardians,
      fee: { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: TREASURY },
      "oracle.members": {
        members: ORACLE_KEYS.map((k, i) => ({ id: `m${i + 1}`, publicKey: publicKeyOf(k) })),
        quorum: 2,
      },
      "oracle.sanityLimits": (await parameter("oracle.sanityLimits"))!.value,
      "oracle.frame": { epochsPerFrame: 2, initialEpoch: 0 },
    });
    // (the guardians too: an earlier test enacted a set)
    expect(differing).toEqual({ recorded: [], differing: ["guardians", "fee", "oracle.members"] });
    expect((await parameter("fee"))?.value).toMatchObject({ totalFeeBP: 700 });
  });

  it("a DAO member cancels before execution; the cancelled proposal never executes", async () => {
    const p = await propose("oracle.frame", { epochsPerFrame: 4, initialEpoch: 100 });
    await call("POST", `/v1/governance/proposals/${p.id}/approve`, sig(0, "approve", p));
    await call("POST", `/v1/governance/proposals/${p.id}/approve`, sig(2, "approve", p));
    const c = await call("POST", `/v1/governance/proposals/${p.id}/cancel`, sig(1, "cancel", p));
    expect(c.json().data).toMatchObject({ status: "cancelled", cancelledBy: "dao:dao2" });
    clock += 3600_000;
    const x = await call("POST", `/v1/governance/proposals/${p.id}/execute`);
    expect(x.json().code).toBe("ERR_PROPOSAL_STATE");
    expect((await parameter("oracle.frame"))?.value).toEqual({ epochsPerFrame: 2, initialEpoch: 0 });
    const list = await call("GET", "/v1/governance/proposals?status=cancelled");
    expect(list.json().data.map((q: { id: number }) => q.id)).toContain(p.id);
  });

  it("the history replays to the parameters' current values", async () => {
    const history = (await call("GET", "/v1/governance/history")).json().data as {
      seq: number;
      name: string;
      value: unknown;
      proposalId: number | null;
      at: string;
    }[];
    const replayed = replayHistory(history.map((x) => ({ ...x, at: new Date(x.at) })));
    const current = (await call("GET", "/v1/governance/parameters")).json().data.parameters as {
      name: string;
      value: unknown;
      proposalId: number | null;
    }[];
    const governed = [...replayed].filter(([name]) => !name.startsWith("operator:"));
    expect(new Map(current.map((c) => [c.name, { value: c.value, proposalId: c.proposalId }]))).toEqual(
      new Map([...replayed].filter(([name]) => current.some((c) => c.name === name))),
    );
    expect(governed.length).toBe(current.filter((c) => !c.name.startsWith("operator:")).length);
  });

  it("operator tokens may not propose; DAO keys appear in no answer and no log line", async () => {
    const op = await h.operatorToken(opId);
    const r = await call("POST", "/v1/governance/proposals", { kind: "fee", value: {}, reason: "x" }, op);
    expect(r.statusCode).toBe(403);
    const everything = bodies.join("\n") + h.logs.text();
    for (const k of DAO_KEYS) {
      const hex = Buffer.from(k).toString("hex");
      expect(everything).not.toContain(hex);
    }
    for (const s of h.secrets) expect(bodies.join("\n")).not.toContain(s);
  });
});

describe("governance off (no DAO configured)", () => {
  it("every governance route answers 503 naming the setting; operators stay immediate", async () => {
    const h = await createHarness("pglite");
    try {
      const r = await h.app.inject({
        method: "GET",
        url: "/v1/governance/parameters",
        headers: bearer(h.dao),
      });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ code: "ERR_GOVERNANCE_NOT_CONFIGURED" });
      expect(r.json().message).toMatch(/GOVERNANCE_DAO_MEMBERS/);
      const id = await createOperator(h);
      const p = await h.app.inject({
        method: "PATCH",
        url: `/v1/operators/${id}`,
        headers: bearer(h.admin),
        payload: { vettedLimit: 500 },
      });
      expect(p.statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });
});
