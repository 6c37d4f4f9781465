/**
 * `poolkeeper devnet` end to end: beacon-sim over HTTP, the admin API over HTTP with the devnet's
 * token, PGlite under a fresh data directory, the watcher's queue on the real Redis
 * (TEST_REDIS_URL), each operator's daemon and each oracle member as a process of its own. The sim
 * runs a manual clock that the test moves one epoch at a time, so the whole life of a deposit
 * (activation delay, offline epochs, watcher lag) and of two exits takes seconds per epoch.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pubkeyFromSecret, seedFromCanonical, ValidatorKeyDeriver } from "../packages/keys/src/index.js";
import { createTestDatabase } from "../packages/store/src/testing.js";
// The root test folder is not a workspace package: the devnet is reached through its source.
import {
  type Devnet,
  type DevnetOptions,
  parseDevnetScenario,
  startDevnet,
} from "../services/devnet/src/index.js";
import { loosePermissions } from "./process-helpers.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const OPERATORS = 3;
const KEYS = 4;
const LIMITS = [KEYS, KEYS, 2];
const DEPOSIT_SHARE = 0.8;
/** The operator whose daemon runs with --exit-signer none (the scenario's exits.ignoredBy). */
const IGNORING = 2;
/** The DAO's timelock (seconds of the wall clock) and the fee its scenario proposal sets. */
const TIMELOCK = 5;
const NEW_FEE = { totalFeeBP: 800, operatorsFeeBP: 400 };

/** Pubkeys (hex, no 0x) of indices 0..count-1 of a mnemonic. */
function pubkeysOf(mnemonic: string, count: number): string[] {
  const seed = seedFromCanonical(mnemonic);
  const d = ValidatorKeyDeriver.fromSeed(seed);
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(pubkeyFromSecret(d.keys(i).signingKey)).toString("hex"),
  );
}

/** MinFirst from nothing: the deposits go one by one to the operator with the fewest, within its vetted keys. */
function minFirst(limits: number[], count: number): number[] {
  const got = limits.map(() => 0);
  for (let n = 0; n < count; n++) {
    let best = -1;
    for (let i = 0; i < limits.length; i++) {
      if ((got[i] ?? 0) >= (limits[i] ?? 0)) continue;
      if (best === -1 || (got[i] ?? 0) < (got[best] ?? 0)) best = i;
    }
    if (best === -1) throw new Error("no room");
    got[best] = (got[best] ?? 0) + 1;
  }
  return got;
}

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("poolkeeper devnet", () => {
  let dataDir: string;
  let devnet: Devnet;
  const lines: string[] = [];

  let umask: number;
  let options: DevnetOptions;

  beforeAll(async () => {
    umask = process.umask(0o000); // every file it writes must be private all the same
    dataDir = mkdtempSync(join(tmpdir(), "pk-devnet-"));
    options = {
      operators: OPERATORS,
      keysPerOperator: KEYS,
      dataDir,
      apiPort: 0,
      simPort: 0,
      redisUrl: REDIS_URL,
      databaseUrl: undefined,
      secondsPerSlot: 2,
      duration: undefined,
      summaryEvery: 2,
      scenario: parseDevnetScenario({
        genesisValidators: 32,
        withdrawalAddress: "0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f",
        vettedLimits: [{ operator: 3, limit: LIMITS[2] }],
        depositShare: DEPOSIT_SHARE,
        offline: { operator: 2, afterActivationEpochs: 1, epochs: 4 },
        // 60 ETH asked: two validators exit (MinFirst gave 3, 3, 2: operators 1 and 2 are asked)
        exits: { withdrawEth: 60, afterActivationEpochs: 4, ignoredBy: IGNORING, deadlineEpochs: 8 },
        // three DAO keys, quorum 2; the fee proposal waits a few (wall-clock) seconds
        governance: { members: 3, quorum: 2, timelockSeconds: TIMELOCK, fee: NEW_FEE },
      }),
      clock: "manual",
      pollMs: 100,
      out: (l) => lines.push(l),
    };
    devnet = await startDevnet(options);
  }, 240_000); // the daemons' and the members' processes start (tsx) and the daemons upload their keys

  afterAll(async () => {
    await devnet?.close();
    process.umask(umask);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** GET an admin API route with the devnet's admin token: the `data` of its answer. */
  async function get<T>(path: string): Promise<T> {
    const token = readFileSync(devnet.tokenFile, "utf8").trim();
    const res = await fetch(`${devnet.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, path).toBe(200);
    return ((await res.json()) as { data: T }).data;
  }

  /** Secret files (keys, tokens): mode 0600, their contents (with or without 0x) never in the log or the output. */
  function expectPrivateSecrets(files: string[]): void {
    const log = readFileSync(devnet.logFile, "utf8");
    const text = lines.join("\n");
    for (const file of files) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const secret = readFileSync(file, "utf8").trim();
      expect(secret.length).toBeGreaterThan(16);
      expect(log).not.toContain(secret);
      expect(log).not.toContain(secret.replace(/^0x/, ""));
      expect(text).not.toContain(secret);
    }
  }

  interface Exit {
    id: number;
    operatorId: number;
    pubkey: string;
    validatorIndex: number;
    state: string;
    exitedBy: string | null;
    exitEpoch: number | null;
    history?: Array<{ state: string; actor: string; detail: string | null }>;
  }

  /**
   * One epoch further, once the daemons that sign exits have had their chance: the test moves the
   * chain only after each open request of such an operator was submitted (its daemon hears of it on
   * its stream within a moment); then it waits for the watcher, as everywhere in this test.
   */
  async function advance(): Promise<void> {
    await until(
      "the daemons to submit their exits",
      async () =>
        (await get<Exit[]>("/v1/exits?state=requested")).every((e) => e.operatorId === IGNORING) &&
        (await get<Exit[]>("/v1/exits?state=signed")).length === 0,
      30_000,
    );
    const chain = devnet.sim.chain;
    chain.advanceEpochs(1);
    const fin = chain.currentFinality().finalized.epoch;
    await until("the watcher", async () => ((await devnet.summary()).watcherEpoch ?? -1) >= fin - 2, 20_000);
  }

  it("runs daemons → registry → deposits → chain → watcher → alerts end to end", async () => {
    // each operator's daemon (a process) generated its mnemonic and uploaded its first keys (its
    // low-water mark, KEYS) with its own token; the devnet vetted them within the scenario's limits
    expect(devnet.operators.map((o) => o.uploaded)).toEqual([KEYS, KEYS, KEYS]);
    expect(devnet.operators.map((o) => o.vetted)).toEqual(LIMITS);
    for (const [i, op] of devnet.operators.entries()) {
      const home = join(devnet.operatorsDir, `operator-${i + 1}`);
      const mnemonic = readFileSync(join(home, "mnemonic-backup.txt"), "utf8").trim();
      expect(mnemonic.split(" ")).toHaveLength(24);
      const keys = await get<Array<{ key: string }>>(`/v1/keys?operator=${op.id}`);
      const uploaded = keys.map((k) => k.key.replace(/^0x/, ""));
      // all of them are indices 0..n-1 of its own mnemonic (it tops up as deposits use them)
      expect(uploaded.length).toBeGreaterThanOrEqual(KEYS);
      expect(new Set(uploaded)).toEqual(new Set(pubkeysOf(mnemonic, uploaded.length)));
      expect(op.daemonDir).toBe(join(home, "daemon"));
      // the daemon's directory: settings, its token, the encrypted mnemonic, keystores for the validator client
      const config = JSON.parse(readFileSync(join(op.daemonDir!, "daemon.json"), "utf8"));
      expect(config).toMatchObject({ operatorId: op.id, lowWater: KEYS });
      expect(readFileSync(join(op.daemonDir!, "mnemonic.json"), "utf8")).not.toContain(mnemonic);
      expect(
        statSync(join(op.daemonDir!, "validator-keys", "keys", "keystore-m_12381_3600_0_0_0.json")).isFile(),
      ).toBe(true);
      expect(op.signsExits).toBe(i + 1 !== IGNORING);
    }

    // one deposit batch, split MinFirst
    const count = Math.floor(LIMITS.reduce((a, b) => a + b, 0) * DEPOSIT_SHARE);
    const expected = minFirst(LIMITS, count);
    expect(devnet.batch.keyCount).toBe(count);
    const split = new Map(devnet.batch.perOperator.map((p) => [p.operatorId, p.count]));
    expect(devnet.operators.map((o) => split.get(o.id) ?? 0)).toEqual(expected);
    expect(devnet.operators.map((o) => o.validators.length)).toEqual(expected);

    // stakers submitted ether before the batch, exactly what it costs, and the buffer paid it
    const token = readFileSync(devnet.tokenFile, "utf8").trim();
    const staked = devnet.stakers.reduce((a, st) => a + st.wei, 0n);
    expect(devnet.stakers).toHaveLength(3);
    expect(staked).toBe(BigInt(count) * 32n * 10n ** 18n);
    const poolRes = await fetch(`${devnet.apiUrl}/v1/pool`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const pool = ((await poolRes.json()) as { data: Record<string, string> }).data;
    expect(pool).toMatchObject({
      totalPooledEther: staked.toString(),
      totalShares: staked.toString(),
      bufferedEther: "0",
      pendingEther: staked.toString(),
    });
    const started = lines.join("\n");
    expect(started).toContain(`stakers     3 accounts staked ${count * 32} ETH: `);
    expect(started).toContain(
      `deposit batch ${devnet.batch.id}: ${count} keys (MinFirst), ${count * 32} ETH from the buffer (0 ETH left)`,
    );

    // the batch's keys are deposited in the registry (read back through the admin API)
    const keysIn = async (state: string) => {
      const res = await fetch(`${devnet.apiUrl}/v1/keys?state=${state}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: unknown[] }).data.length;
    };
    expect(await keysIn("deposited")).toBe(count);
    expect(await keysIn("active")).toBe(0);

    // each key's own deposit data went to the chain as a deposit request: after one epoch they
    // wait in pending_deposits (over HTTP), in batch order, with the batch's signatures
    const chain = devnet.sim.chain;
    chain.advanceEpochs(1);
    const batchKeys = [...devnet.batch.keys].sort((a, b) => a.position - b.position);
    const pendingRes = await fetch(`${devnet.sim.url}/eth/v1/beacon/states/head/pending_deposits`);
    const pending = (await pendingRes.json()) as { data: Array<Record<string, string>> };
    expect(pending.data.map((d) => [d.pubkey, d.withdrawal_credentials, d.amount, d.signature])).toEqual(
      batchKeys.map((k) => [
        `0x${k.depositData.pubkey}`,
        `0x${k.depositData.withdrawal_credentials}`,
        String(k.depositData.amount),
        `0x${k.depositData.signature}`,
      ]),
    );
    expect(chain.countAt(chain.epochOf(chain.headSlot))).toBe(32); // none in the state yet

    // move the chain until the offline window is over and the watcher has processed it
    for (let step = 0; step < 60; step++) {
      await advance();
      const fin = chain.currentFinality().finalized.epoch;
      const to = devnet.offline?.toEpoch;
      if (to != null && fin - 2 >= to) break;
    }
    expect(devnet.offline?.toEpoch).not.toBeNull();

    // the deposited validators are on the sim (over HTTP) and active; by now the staker's
    // withdrawal may have made the pool ask some to exit: only those may be exiting
    const asked = new Set((await get<Exit[]>("/v1/exits")).map((e) => e.pubkey));
    const pubkeys = devnet.batch.keys.map((k) => `0x${k.depositData.pubkey}`);
    const res = await fetch(`${devnet.sim.url}/eth/v1/beacon/states/head/validators?id=${pubkeys.join(",")}`);
    const body = (await res.json()) as { data: Array<{ status: string; validator: { pubkey: string } }> };
    expect(body.data.map((v) => v.validator.pubkey).sort()).toEqual([...pubkeys].sort());
    for (const v of body.data)
      expect(v.status, v.validator.pubkey).toEqual(
        asked.has(v.validator.pubkey)
          ? expect.stringMatching(/^(active_ongoing|active_exiting|exited_unslashed)$/)
          : "active_ongoing",
      );

    // the chain applied them under the churn: 32 validators of 32 ETH give 64 ETH per epoch, so
    // two deposits per epoch and two activations per activation epoch
    const activations = devnet.operators.flatMap((o) => o.validators.map((i) => chain.activationEpoch[i]));
    const perEpoch = new Map<number | undefined, number>();
    for (const a of activations) perEpoch.set(a, (perEpoch.get(a) ?? 0) + 1);
    expect([...perEpoch.values()].sort()).toEqual(Array.from({ length: count / 2 }, () => 2));

    // the watcher moved the registry's keys deposited → active (read back through the admin API),
    // and those asked to exit on to exiting
    const leaving = (await keysIn("exiting")) + (await keysIn("exited"));
    expect((await keysIn("active")) + leaving).toBe(count);
    expect(leaving).toBeLessThanOrEqual(asked.size);
    expect(await keysIn("deposited")).toBe(0);

    // duties recorded for every operator; the offline one missed attestations and was alerted
    const s = await devnet.summary();
    const offlineId = devnet.offline?.operatorId;
    for (const op of s.operators) {
      expect(op.attAssigned, `operator ${op.id} duties`).toBeGreaterThan(0);
      if (op.id === offlineId) {
        expect(op.attIncluded).toBeLessThan(op.attAssigned);
        expect(op.alerts.validator_offline).toBe(op.validators);
        expect(op.alerts.operator_underperforming).toBeGreaterThanOrEqual(1);
      } else {
        expect(op.attIncluded).toBe(op.attAssigned);
        expect(op.alerts.validator_offline ?? 0).toBe(0);
        expect(op.alerts.operator_underperforming ?? 0).toBe(0);
      }
    }

    // the oracle: three member processes on two nodes vote; reports are applied by a quorum of
    // agreeing votes; after the validators earned, the share rate rose and fees were minted
    let oracle = s.oracle;
    for (
      let step = 0;
      step < 40 && (oracle.reportsApplied < 3 || oracle.shareRate.after === oracle.shareRate.before);
      step++
    ) {
      await advance();
      const fin = chain.currentFinality().finalized.epoch;
      const want = oracle.reportsApplied + 1;
      const end = Date.now() + 3_000;
      while (Date.now() < end && fin >= 8) {
        oracle = (await devnet.summary()).oracle;
        if (oracle.reportsApplied >= want) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(oracle.reportsApplied).toBeGreaterThanOrEqual(3);
    for (const r of oracle.reports) {
      expect(r.status, `report ${r.refSlot}: ${r.failedChecks.join(", ")}`).toBe("applied");
      const agreeing = Object.values(r.votes).filter((h) => h === r.hash);
      expect(agreeing.length).toBeGreaterThanOrEqual(2);
      expect(Object.values(r.votes).every((h) => h === r.hash)).toBe(true);
    }
    expect(BigInt(oracle.shareRate.after)).toBeGreaterThan(BigInt(oracle.shareRate.before));
    const treasury = options.scenario.oracle.treasury.toLowerCase();
    expect(oracle.feesMinted.map((m) => m.account)).toContain(treasury);
    expect(oracle.feesMinted.some((m) => m.operatorId !== null && BigInt(m.shares) > 0n)).toBe(true);
    // members' keys and tokens: files 0600, never in the output or the log
    const log = readFileSync(devnet.logFile, "utf8");
    expect(log).toContain('"msg":"oracle vote submitted"');
    for (const f of ["oracle-1.key", "oracle-1.token", "oracle-3.key", "oracle-3.token"]) {
      const file = join(dataDir, "oracle", f);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const secret = readFileSync(file, "utf8").trim();
      expect(log).not.toContain(secret);
      expect(lines.join("\n")).not.toContain(secret);
    }

    // the live summary was printed, with the URLs
    await devnet.printSummary();
    const text = lines.join("\n");
    expect(text).toContain(`${devnet.apiUrl}/docs`);
    expect(text).toContain(devnet.sim.url);
    expect(text).toContain(`${devnet.sim.url}  (fulu chain, `); // the devnet runs a Fulu chain
    expect(devnet.sim.chain.fork).toBe("fulu");
    expect(text).toMatch(new RegExp(`operator ${offlineId} .*validator_offline`));

    // the token: a 0600 file, never in the output or the log
    expect(statSync(devnet.tokenFile).mode & 0o777).toBe(0o600);
    expect(token.length).toBeGreaterThan(16);
    expect(text).not.toContain(token);
    expect(readFileSync(devnet.logFile, "utf8")).not.toContain(token);

    // under umask 0000: the data directory, the database, the daemons' directories, the log, the network file: private
    expect(loosePermissions(dataDir)).toEqual([]);
    // a second devnet on the same --data-dir is refused before it touches a file
    await expect(startDevnet({ ...options, out: () => undefined })).rejects.toThrow(
      `data directory ${dataDir} is in use by process ${process.pid}`,
    );
    expect(readFileSync(devnet.tokenFile, "utf8").trim()).toBe(token);
  }, 300_000); // the whole life of a deposit and four oracle frames; minutes on a loaded machine

  it("a staker's withdrawal → exit requests → one voluntary exit, one triggered by EIP-7002; no secret in the logs", async () => {
    const w = devnet.withdrawal();
    expect(w, "the staker's withdrawal was requested once the validators were active").not.toBeNull();
    expect(w!.wei).toBe(60n * 10n ** 18n);
    // the chain moves until every exit request has exited (the triggered one waits for its deadline)
    let exits: Exit[] = [];
    for (let step = 0; step < 80; step++) {
      exits = await get<Exit[]>("/v1/exits");
      if (exits.length >= 2 && exits.every((e) => e.state === "exited")) break;
      await advance();
    }
    // the report after the withdrawal asked two validators to exit, one of operator 1 and one of
    // the operator that ignores its requests
    expect(exits.map((e) => `operator ${e.operatorId}: ${e.state} (${e.exitedBy})`).sort()).toEqual([
      "operator 1: exited (voluntary)",
      `operator ${IGNORING}: exited (triggered)`,
    ]);
    const voluntary = exits.find((e) => e.operatorId !== IGNORING);
    const triggered = exits.find((e) => e.operatorId === IGNORING);
    expect(voluntary?.exitedBy).toBe("voluntary");
    expect(triggered?.exitedBy).toBe("triggered");
    const historyOf = async (e: Exit) => (await get<Exit>(`/v1/exits/${e.id}`)).history!;
    // the daemon signed and submitted its own (with its operator token); nobody signed the other:
    // late, then the pool's EIP-7002 request, both by the watcher
    const vol = await historyOf(voluntary!);
    expect(vol.map((h) => h.state)).toEqual(["requested", "signed", "submitted", "exiting", "exited"]);
    for (const h of vol.filter((x) => x.state === "signed" || x.state === "submitted"))
      expect(h.actor).toMatch(new RegExp(`operator:${voluntary!.operatorId}$`));
    const late = await historyOf(triggered!);
    expect(late.map((h) => `${h.state}:${h.actor}`)).toEqual([
      "requested:oracle",
      "late:watcher",
      "triggered:watcher",
      "exiting:watcher",
      "exited:watcher",
    ]);
    // the chain: both exited_unslashed (over HTTP), the voluntary one's exit came from the sim's pool
    const res = await fetch(
      `${devnet.sim.url}/eth/v1/beacon/states/head/validators?id=${exits.map((e) => e.validatorIndex).join(",")}`,
    );
    const states = (await res.json()) as { data: Array<{ status: string }> };
    expect(states.data.map((v) => v.status)).toEqual(["exited_unslashed", "exited_unslashed"]);
    // the registry shows the keys exited
    const exitedKeys = await get<Array<{ key: string }>>("/v1/keys?state=exited");
    expect(exitedKeys.map((k) => k.key.replace(/^0x/, "")).sort()).toEqual(
      exits.map((e) => e.pubkey.replace(/^0x/, "")).sort(),
    );
    // the summary's exits: validator, operator, voluntary or triggered, requested and exited epochs
    const s = await devnet.summary();
    expect(s.exits).toHaveLength(2);
    for (const e of s.exits) {
      const api = exits.find((x) => x.validatorIndex === e.validator.index)!;
      expect(e).toMatchObject({
        validator: { index: api.validatorIndex, pubkey: api.pubkey },
        operator: api.operatorId,
        by: api.operatorId === IGNORING ? "triggered" : "voluntary",
        state: "exited",
        exitedEpoch: api.exitEpoch,
      });
      expect(e.requestedEpoch).toBeLessThan(e.exitedEpoch!);
    }
    // the devnet prints an exit's line at its next poll (every second), after the API shows it
    const exitLines = [
      new RegExp(`exit {8}validator ${voluntary!.validatorIndex} .*: exited \\(voluntary\\)`),
      new RegExp(`exit {8}validator ${triggered!.validatorIndex} .*: exited \\(triggered\\)`),
    ];
    await until(
      "the exits' output lines",
      async () => exitLines.every((re) => re.test(lines.join("\n"))),
      20_000,
    );
    const text = lines.join("\n");
    expect(text).toMatch(/withdrawal {2}at epoch \d+: staker 0x[0-9a-f]{6}… asks for 60 ETH/);
    for (const re of exitLines) expect(text).toMatch(re);

    // no secret in the devnet's log or its output: the daemons' mnemonics, passwords and tokens
    const log = readFileSync(devnet.logFile, "utf8");
    // the daemon's lines name its operator (three daemons write to the one log)
    expect(log).toMatch(
      new RegExp(`"operator":${voluntary!.operatorId},[^\\n]*"msg":"voluntary exit signed and submitted"`),
    );
    expect(log).toContain('"msg":"late exit triggered by an EIP-7002 withdrawal request"');
    for (const [i, op] of devnet.operators.entries()) {
      const home = join(devnet.operatorsDir, `operator-${i + 1}`);
      const secrets = [
        readFileSync(join(home, "mnemonic-backup.txt"), "utf8").trim(),
        readFileSync(join(home, "password"), "utf8").trim(),
        readFileSync(join(op.daemonDir!, "token"), "utf8").trim(),
      ];
      for (const f of ["mnemonic-backup.txt", "password"])
        expect(statSync(join(home, f)).mode & 0o777).toBe(0o600);
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(16);
        expect(log).not.toContain(secret);
        expect(text).not.toContain(secret);
      }
      // a phrase of the mnemonic (four words) is not in the log either
      expect(log).not.toContain(secrets[0]!.split(" ").slice(0, 4).join(" "));
    }
  }, 300_000); // two exits' whole life: the deadline, the EIP-7002 request, the exit epochs

  it("the DAO (three keys, quorum 2) changes the fee after its timelock; a later report uses it; no DAO key in the logs", async () => {
    interface Proposal {
      id: number;
      kind: string;
      value: Record<string, unknown>;
      status: string;
      approvals: { memberId: string }[];
      approvedAt: string | null;
      executableAt: string | null;
      executedAt: string | null;
    }
    interface Frame {
      fees: { totalFeeBP: number; operatorsFeeBP: number; treasury: string };
    }
    const params = await get<{
      dao: { members: { id: string }[]; quorum: number };
      timelockSeconds: number;
      parameters: { name: string; value: unknown; proposalId: number | null }[];
    }>("/v1/governance/parameters");
    expect(params.dao.members.map((m) => m.id)).toEqual(["dao1", "dao2", "dao3"]);
    expect(params.dao.quorum).toBe(2);
    expect(params.timelockSeconds).toBe(TIMELOCK);
    // the starting operators were created before the DAO took over; with it, POST /v1/operators is refused
    const token = readFileSync(devnet.tokenFile, "utf8").trim();
    const refused = await fetch(`${devnet.apiUrl}/v1/operators`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "late",
        rewardAddress: "0x0000000000000000000000000000000000000001",
        reason: "t",
      }),
    });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { code: string }).code).toBe("ERR_GOVERNANCE_REQUIRED");

    // the chain moves until a report applied after the execution used the new fee
    let s = await devnet.summary();
    for (let step = 0; step < 40 && s.fee?.firstReportRefSlot == null; step++) {
      await advance();
      s = await devnet.summary();
    }
    const treasury = options.scenario.oracle.treasury.toLowerCase();
    const executed = await get<Proposal[]>("/v1/governance/proposals?status=executed");
    expect(executed).toHaveLength(1);
    const p = executed[0]!;
    expect(p.kind).toBe("fee");
    expect(p.value).toEqual({ ...NEW_FEE, treasury });
    expect(p.approvals.map((a) => a.memberId)).toEqual(["dao1", "dao2"]);
    // executed once its timelock had passed: not before the approval that reached the quorum + the timelock
    expect(Date.parse(p.executableAt!)).toBe(Date.parse(p.approvedAt!) + TIMELOCK * 1000);
    expect(Date.parse(p.executedAt!)).toBeGreaterThanOrEqual(Date.parse(p.executableAt!));
    const fee = (await get<typeof params>("/v1/governance/parameters")).parameters.find(
      (x) => x.name === "fee",
    );
    expect(fee).toEqual({
      name: "fee",
      value: { ...NEW_FEE, treasury },
      proposalId: p.id,
      setAt: expect.any(String),
    });

    // a report after it used the new fee (its frame, read through the API), an earlier one the genesis fee
    const first = s.fee?.firstReportRefSlot;
    expect(first).toEqual(expect.any(Number));
    expect((await get<Frame>(`/v1/oracle/frames/${first}`)).fees).toEqual({ ...NEW_FEE, treasury });
    expect((await get<{ status: string }>(`/v1/oracle/reports/${first}`)).status).toBe("applied");
    // (the timelock may pass while the devnet starts: then no report came before it)
    for (const r of s.oracle.reports.filter((x) => x.status === "applied" && x.refSlot < first!))
      expect((await get<Frame>(`/v1/oracle/frames/${r.refSlot}`)).fees).toEqual({
        totalFeeBP: options.scenario.oracle.feeBP,
        operatorsFeeBP: options.scenario.oracle.operatorsFeeBP,
        treasury,
      });
    // the summary: the executed proposal and the fee before and after
    expect(s.proposalsExecuted).toEqual([
      {
        id: p.id,
        kind: "fee",
        value: { ...NEW_FEE, treasury },
        approvals: ["dao1", "dao2"],
        approvedAt: p.approvedAt,
        executedAt: p.executedAt,
      },
    ]);
    expect(s.fee).toMatchObject({
      before: { totalFeeBP: options.scenario.oracle.feeBP },
      after: NEW_FEE,
      proposalId: p.id,
    });
    // a line at each state change, and one for the first report with the new fee (polled each second)
    await until(
      "the first report's line",
      () => lines.some((l) => l.startsWith(`governance  the report at ref slot ${first} `)),
      10_000,
    );
    const text = lines.join("\n");
    expect(text).toMatch(new RegExp(`governance  proposal ${p.id} fee .*: pending, 0/2 approvals`));
    expect(text).toMatch(
      new RegExp(`governance  proposal ${p.id} fee .*: approved by dao1, dao2, executable at `),
    );
    expect(text).toMatch(new RegExp(`governance  proposal ${p.id} fee .*: executed at `));
    expect(text).toContain(
      `governance  the report at ref slot ${first} is the first with the fee of proposal ${p.id}`,
    );

    // the DAO's keys and tokens: 0600 files, never in the output or the log
    expect(devnet.dao).toHaveLength(3);
    expectPrivateSecrets(devnet.dao!.flatMap((m) => [m.keyFile, m.tokenFile]));
  }, 300_000);

  it("three guardians (quorum 2) released the deposit batch before it was sent; no guardian key in the logs", async () => {
    // the batch went to the chain only once released: its security record names ≥2 distinct guardians
    interface BatchView {
      id: number;
      security?: { status: string; quorum: number | null; signers: string[] };
    }
    const b = await get<BatchView>(`/v1/deposits/batches/${devnet.batch.id}`);
    expect(b.security?.status).toBe("released");
    expect(b.security?.quorum).toBe(2);
    expect(new Set(b.security?.signers).size).toBeGreaterThanOrEqual(2);
    for (const id of b.security?.signers ?? []) expect(["g1", "g2", "g3"]).toContain(id);
    // the summary carries the signers per batch; the output said so before the deposits were sent
    const s = await devnet.summary();
    expect(s.batches).toEqual([
      { id: devnet.batch.id, keys: devnet.batch.keyCount, status: "released", signers: b.security?.signers },
    ]);
    const text = lines.join("\n");
    expect(text).toMatch(
      new RegExp(`deposit batch ${devnet.batch.id}: released by guardians g[123], g[123]`),
    );
    // the guardians report to the admin API; deposits are not paused
    interface SecurityView {
      enabled: boolean;
      paused: boolean;
      guardians: Array<{ id: string; lastSeenSlot: number | null }>;
    }
    const sec = await get<SecurityView>("/v1/deposits/security");
    expect(sec.enabled).toBe(true);
    expect(sec.paused).toBe(false);
    expect(sec.guardians.map((g) => g.id).sort()).toEqual(["g1", "g2", "g3"]);

    // the guardians' keys and tokens: 0600 files, never in the output or the log
    expect(devnet.guardians).toHaveLength(3);
    expectPrivateSecrets(devnet.guardians.flatMap((g) => [g.keyFile, g.tokenFile]));
  }, 60_000);
});

describe("poolkeeper devnet on PostgreSQL (TEST_DATABASE_URL)", () => {
  it("runs on an empty database and refuses one that already holds operators", async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), "pk-devnet-"));
    const opts: DevnetOptions = {
      operators: 2,
      keysPerOperator: 2,
      dataDir: dir,
      apiPort: 0,
      simPort: 0,
      redisUrl: REDIS_URL,
      databaseUrl: db.url,
      secondsPerSlot: 2,
      duration: undefined,
      summaryEvery: 2,
      scenario: parseDevnetScenario({
        genesisValidators: 16,
        withdrawalAddress: "0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f",
        depositShare: 1,
        offline: null,
      }),
      clock: "manual",
      pollMs: 100,
      out: () => undefined,
    };
    try {
      const a = await startDevnet(opts);
      try {
        expect(a.batch.perOperator.map((p) => p.count)).toEqual([2, 2]);
        a.sim.chain.advanceEpochs(5);
        const fin = a.sim.chain.currentFinality().finalized.epoch;
        await until("the watcher", async () => ((await a.summary()).watcherEpoch ?? -1) >= fin - 2, 20_000);
        const rows = await a.store.query<{ n: bigint }>("SELECT count(*) AS n FROM watcher_network_epochs");
        expect(Number(rows.rows[0]?.n)).toBeGreaterThanOrEqual(fin - 2);
      } finally {
        await a.close();
      }
      await expect(startDevnet(opts)).rejects.toThrow(/already holds operators/);
    } finally {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000); // two operator daemons and three oracle members start as processes
});

describe("poolkeeper devnet (command line)", () => {
  /** Runs the CLI; resolves with its exit code and stderr (several at once: they mostly wait on tsx). */
  const cli = (args: string[]) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "services/cli/src/main.ts", "devnet", ...args],
        {
          cwd: ROOT,
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      child.on("close", (status) => {
        clearTimeout(timer);
        resolve({ status, stderr });
      });
    });

  it("bad flags and an unreachable Redis: one clear line each, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-devnet-"));
    try {
      const [badValue, unknown, noRedis] = await Promise.all([
        cli(["--operators", "many"]),
        cli(["--bogus", "1"]),
        cli(["--redis-url", "redis://127.0.0.1:1", "--data-dir", dir]),
      ]);
      expect(badValue.status).toBe(1);
      expect(badValue.stderr.trim().split("\n")).toEqual([
        `error: --operators: expected a whole number, got "many"`,
      ]);
      expect(unknown.status).toBe(1);
      expect(unknown.stderr.trim().split("\n")).toEqual([
        `error: unknown option "--bogus" (see poolkeeper devnet --help)`,
      ]);
      expect(noRedis.status).toBe(1);
      const lines = noRedis.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^error: --redis-url: cannot reach Redis at redis:\/\/127\.0\.0\.1:1.*redis-server/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
