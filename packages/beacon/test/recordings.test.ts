import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeaconNodePool,
  EpochDutiesReader,
  getValidators,
  loadLodestar,
  resolvePubkeys,
} from "../src/index.js";
import { RECORDINGS, type RecordingServer, startRecordingServer } from "./recording-server.js";

const ALL = Array.from({ length: 64 }, (_, i) => i);
const ONLINE = ALL.filter((i) => i < 48);
const OFFLINE = ALL.filter((i) => i >= 48);

describe("duties from a real Lodestar node's recordings (validators 48..63 offline)", () => {
  let srv: RecordingServer;
  let pool: BeaconNodePool;

  beforeAll(async () => {
    await loadLodestar("minimal");
    srv = await startRecordingServer();
    pool = await BeaconNodePool.init({ urls: [srv.url], preset: "minimal", retries: 0 });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("reads spec and genesis", () => {
    expect(pool.spec.slotsPerEpoch).toBe(8);
    expect(pool.spec.secondsPerSlot).toBe(2);
    expect(pool.spec.genesisValidatorsRoot).toBe(
      "0x83431ec7fcf92cfc44947fc0418e831c25e1d0806590231c439830db7ad54fda",
    );
  });

  it("epoch 5: exactly validators 48..63 missed their attestations and slots 45, 46 their proposals", async () => {
    // the recordings were taken before epoch 6 was finalized: only this replay relaxes finality
    const reader = new EpochDutiesReader(pool);
    const d = await reader.epochDuties(5, { validators: ALL, requireFinalized: false });
    expect(d.sources).toEqual({ committees: "state", proposers: "state" });
    expect(d.attestations).toHaveLength(64);
    const missed = d.attestations.filter((a) => !a.included).map((a) => a.validatorIndex);
    expect(missed.sort((a, b) => a - b)).toEqual(OFFLINE);
    for (const a of d.attestations.filter((x) => x.included)) {
      expect(a.slot).toBeGreaterThanOrEqual(40);
      expect(a.slot).toBeLessThan(48);
      expect(a.inclusionDelay).toBeGreaterThanOrEqual(1);
      expect(a.optimalDelay).toBeGreaterThanOrEqual(1);
      expect(a.sourceCorrect).toBe(true);
      expect(a.targetCorrect).toBe(true);
    }
    // rewards endpoint, signed: the offline lose on source and target, the online gain
    for (const v of OFFLINE) {
      const r = d.attestations.find((a) => a.validatorIndex === v)?.rewards;
      expect(r?.source).toBeLessThan(0n);
      expect(r?.target).toBeLessThan(0n);
    }
    // the online validators all gain on target; source pays only when timely (delay ≤ √8 = 2) and
    // head only at delay 1 with the right head: the node's rewards agree with the delays read from blocks
    let late = 0;
    for (const v of ONLINE) {
      const a = d.attestations.find((x) => x.validatorIndex === v);
      expect(a?.rewards?.target).toBeGreaterThan(0n);
      const delay = a?.inclusionDelay ?? 99;
      expect(a?.rewards?.source).toSatisfy((x: bigint) => (delay <= 2 ? x > 0n : x < 0n));
      expect(a?.rewards?.head).toSatisfy((x: bigint) => (delay === 1 && a?.headCorrect ? x > 0n : x === 0n));
      if (delay > 2) late++;
    }
    expect(late).toBeGreaterThan(0); // slots 45/46 had no block: their attesters were included late
    // proposals: every slot of the epoch, misses only at 45 and 46, by offline validators
    expect(d.proposals.map((p) => p.slot)).toEqual([40, 41, 42, 43, 44, 45, 46, 47]);
    const missedProposals = d.proposals.filter((p) => p.status !== "proposed");
    expect(missedProposals.map((p) => p.slot)).toEqual([45, 46]);
    for (const p of missedProposals) expect(p.validatorIndex).toBeGreaterThanOrEqual(48);
    for (const p of d.proposals.filter((x) => x.status === "proposed"))
      expect(p.validatorIndex).toBeLessThan(48);
    // the same proposer indices the recorded blocks carry
    const block44 = JSON.parse(readFileSync(join(RECORDINGS, "block_44.json"), "utf8"));
    expect(d.proposals.find((p) => p.slot === 44)?.validatorIndex).toBe(
      Number(block44.data.message.proposer_index),
    );
    // sync committee: offline members never sign, online members do
    for (const s of d.sync) {
      if (s.validatorIndex >= 48) expect(s.included).toBe(0);
      else expect(s.included).toBeGreaterThan(0);
    }
    expect(d.sync.length).toBeGreaterThan(0);
    // network figure: 64 duties, 48 included
    expect(d.network.attAssigned).toBe(64);
    expect(d.network.attIncluded).toBe(48);
    expect(d.network.proposalsAssigned).toBe(8);
    expect(d.network.proposalsMade).toBe(6);
  });

  it("epoch 6: the proposals at 50 and 52 are missed, by offline validators", async () => {
    const reader = new EpochDutiesReader(pool);
    const p = await reader.proposalDuties(6, ALL, { requireFinalized: false });
    expect(p.map((x) => x.slot)).toEqual([48, 49, 50, 51, 52, 53, 54, 55]);
    const missed = p.filter((x) => x.status !== "proposed");
    expect(missed.map((x) => x.slot)).toEqual([50, 52]);
    for (const x of missed) expect(x.validatorIndex).toBeGreaterThanOrEqual(48);
    for (const x of p.filter((y) => y.status === "proposed")) expect(x.validatorIndex).toBeLessThan(48);
  });

  it("with finality required, refuses epoch 5 (the node's finalized epoch is 3)", async () => {
    const reader = new EpochDutiesReader(pool);
    await expect(reader.epochDuties(5, { validators: ALL })).rejects.toMatchObject({
      code: "ERR_BEACON_NOT_FINALIZED",
    });
  });

  it("resolves pubkeys to indices with POST validators; unknown keys are absent", async () => {
    const vals = JSON.parse(readFileSync(join(RECORDINGS, "validators_finalized.json"), "utf8")) as {
      data: Array<{ index: string; validator: { pubkey: string } }>;
    };
    const pubkeys = vals.data.map((v) => v.validator.pubkey);
    const unknown = `0x${"ab".repeat(48)}`;
    const m = await resolvePubkeys(pool, [...pubkeys, unknown], { chunkSize: 10 });
    expect(m.size).toBe(64);
    expect(m.get(pubkeys[0] as string)).toBe(0);
    expect(m.get(pubkeys[63] as string)).toBe(63);
    expect(m.has(unknown)).toBe(false);
    const infos = await getValidators(pool, [0, 48]);
    expect(infos.map((v) => v.status)).toEqual(["active_ongoing", "active_ongoing"]);
    expect(infos[1]?.balance).toBeLessThan(32_000_000_000n);
    expect(infos[0]?.balance).toBeGreaterThan(32_000_000_000n);
  });

  it("rejects a malformed pubkey with the field named", async () => {
    await expect(resolvePubkeys(pool, ["0x1234"])).rejects.toThrow(/ids\[0\]/);
  });
});
