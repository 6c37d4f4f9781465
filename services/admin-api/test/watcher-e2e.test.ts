/**
 * The performance routes over what the watcher's own processor stored from beacon-sim over HTTP
 * (no hand-made rows): a scripted chain, epochs 1..6 processed in order, then the API's figures
 * against what the scenario implies.
 *
 * 32 validators; the pool is 0..23 (operator A: 0..11, operator B: 12..23), 24..31 are other
 * stakers. Offline in epochs 2..4: validators 4 and 5 (A) and 28 (not the pool's). Validator 14
 * (B) is late (inclusion delay 3) throughout. The same scenario on a Deneb and a Fulu chain (their
 * proposer schedules differ, so the slots the offline validators miss do too).
 */
import { BeaconNodePool, loadLodestar } from "@poolkeeper/beacon";
import { toHex } from "@poolkeeper/core";
import { TEST_STORE_KINDS } from "@poolkeeper/store/testing";
import { EpochProcessor, type PoolSource } from "@poolkeeper/watcher";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createHarness, type Harness, operatorBody } from "./harness.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const EPOCHS = [1, 2, 3, 4, 5, 6];
const OFFLINE_A = [4, 5];

const FORKS = ["deneb", "fulu"] as const;
const CASES = FORKS.flatMap((fork) => TEST_STORE_KINDS.map((kind) => ({ fork, kind })));

describe.each(CASES)(
  "performance routes over the watcher's processor and a $fork beacon-sim on $kind",
  ({ fork, kind }) => {
    let sim: Sim;
    let h: Harness;
    let a: number;
    let b: number;
    let opA: string;
    let opB: string;
    const network = `e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      await loadLodestar("minimal");
      const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
      sim = await startBeaconSim({
        fork,
        validators: 32,
        seed: "h6-admin-api-e2e",
        scenario: {
          behaviours: [
            { validators: ["4-5", 28], behaviour: "offline", from: 2, to: 5 },
            { validators: 14, behaviour: "late", delay: 3 },
          ],
        },
      });
      const beacon = await BeaconNodePool.init({
        urls: [sim.url],
        preset: "minimal",
        retries: 1,
        retryBaseMs: 20,
      });
      h = await createHarness(
        kind,
        {},
        {
          performanceNetwork: {
            name: network,
            secondsPerSlot: beacon.spec.secondsPerSlot,
            slotsPerEpoch: beacon.spec.slotsPerEpoch,
          },
        },
      );
      const create = async () => {
        const r = await h.app.inject({
          method: "POST",
          url: "/v1/operators",
          headers: bearer(h.admin),
          payload: operatorBody(),
        });
        return (r.json() as { data: { id: number } }).data.id;
      };
      a = await create();
      b = await create();
      opA = await h.operatorToken(a);
      opB = await h.operatorToken(b);
      const pool: PoolSource = {
        keys: async () =>
          Array.from({ length: 24 }, (_, i) => ({
            pubkey: toHex(sim.chain.pubkeyOf(i)),
            operatorId: i < 12 ? a : b,
            keyState: "active",
          })),
        setKeyStates: async () => undefined,
      };
      const processor = new EpochProcessor(
        { beacon, store: h.store, pool },
        { network, offlineEpochs: 3, underperformanceMargin: 0.05, webhook: false },
      );
      sim.chain.advanceEpochs(10);
      for (const e of EPOCHS) expect((await processor.process(e)).saved).toBe(true);
    }, 120_000);
    afterAll(async () => {
      await sim?.close();
      await h?.close();
    });

    const data = async (url: string, token: string) => {
      const r = await h.app.inject({ method: "GET", url, headers: bearer(token) });
      expect(r.statusCode, r.body).toBe(200);
      return r.json().data;
    };
    type Op = {
      operatorId: number;
      duties: { attestations: { assigned: number; included: number; missed: number } };
      scores: Record<string, number | null>;
    };

    it("duty counts per operator and for the network follow the scenario", async () => {
      const d = await data("/v1/performance/operators?window=1d", h.dao);
      expect(d.range).toEqual({ fromEpoch: 0, toEpoch: 6, processedEpochs: 6 });
      // the network: 32 validators × 6 epochs, 3 offline for 3 epochs
      expect(d.network.duties.attestations).toEqual({ assigned: 192, included: 183, missed: 9 });
      expect(d.network.duties.proposals.assigned).toBe(48);
      const byId = new Map<number, Op>((d.operators as Op[]).map((o) => [o.operatorId, o]));
      expect([...byId.keys()].sort()).toEqual([a, b].sort());
      expect(byId.get(a)?.duties.attestations).toEqual({ assigned: 72, included: 66, missed: 6 });
      expect(byId.get(b)?.duties.attestations).toEqual({ assigned: 72, included: 72, missed: 0 });
      // B: everything included and correct, one validator of 12 late → delay score below 1
      expect(byId.get(b)?.scores.participation).toBe(1);
      expect(byId.get(b)?.scores.inclusionDelayScore).toBeLessThan(1);
      expect(byId.get(a)?.scores.participation).toBeCloseTo(66 / 72, 12);
      // an operator token: its own only
      const mine = await data("/v1/performance/operators?window=1d", opB);
      expect((mine.operators as Op[]).map((o) => o.operatorId)).toEqual([b]);
    });

    it("missed proposals: the operator's count equals its alerts and its validators' histories", async () => {
      const d = await data(`/v1/performance/operators?operator=${a}`, h.admin);
      const missed = d.operators[0].duties.proposals.missed as number;
      // the seeded chain gives A's offline validators proposals in epochs 2..4
      expect(missed).toBeGreaterThan(0);
      const alerts = (await data("/v1/alerts?kind=missed_proposal", opA)) as { validatorIndex: number }[];
      expect(alerts).toHaveLength(missed);
      for (const x of alerts) expect(OFFLINE_A).toContain(x.validatorIndex);
      let fromHistory = 0;
      for (const v of OFFLINE_A) {
        const hist = await data(
          `/v1/performance/validators/0x${toHex(sim.chain.pubkeyOf(v))}?from=1&to=6`,
          opA,
        );
        fromHistory += hist.totals.duties.proposals.missed as number;
      }
      expect(fromHistory).toBe(missed);
    });

    it("a validator's history: offline epochs missed, late attestations with their delay", async () => {
      const v4 = await data(`/v1/performance/validators/0x${toHex(sim.chain.pubkeyOf(4))}?from=1&to=6`, opA);
      const missedEpochs = (v4.epochs as { epoch: number; attestation: { missed: boolean } }[])
        .filter((e) => e.attestation.missed)
        .map((e) => e.epoch);
      expect(missedEpochs.sort()).toEqual([2, 3, 4]);
      expect(v4.totals.duties.attestations).toEqual({ assigned: 6, included: 3, missed: 3 });

      const v14 = await data(
        `/v1/performance/validators/0x${toHex(sim.chain.pubkeyOf(14))}?from=1&to=6`,
        opB,
      );
      expect(v14.epochs).toHaveLength(6);
      for (const e of v14.epochs as { attestation: { included: boolean; inclusionDelay: number } }[]) {
        expect(e.attestation.included).toBe(true);
        expect(e.attestation.inclusionDelay).toBeGreaterThanOrEqual(3);
      }
      // not the pool's: unknown to the watcher → 404; B's validator for A's token → 403
      const other = await h.app.inject({
        method: "GET",
        url: `/v1/performance/validators/0x${toHex(sim.chain.pubkeyOf(28))}`,
        headers: bearer(h.admin),
      });
      expect(other.statusCode).toBe(404);
      const bs = await h.app.inject({
        method: "GET",
        url: `/v1/performance/validators/0x${toHex(sim.chain.pubkeyOf(14))}`,
        headers: bearer(opA),
      });
      expect(bs.statusCode).toBe(403);
    });

    it("offline alerts for A's validators, seen by A and not by B", async () => {
      const forA = (await data("/v1/alerts?kind=validator_offline", opA)) as {
        validatorIndex: number;
        validatorPubkey: string;
        epoch: number;
      }[];
      expect(forA.map((x) => x.validatorIndex).sort()).toEqual(OFFLINE_A);
      for (const x of forA) {
        expect(x.epoch).toBe(4);
        expect(x.validatorPubkey).toBe(`0x${toHex(sim.chain.pubkeyOf(x.validatorIndex))}`);
      }
      expect(await data("/v1/alerts?kind=validator_offline", opB)).toEqual([]);
    });
  },
);
