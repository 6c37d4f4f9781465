/**
 * The watcher end to end on real PostgreSQL and Redis against beacon-sim over HTTP: two watcher
 * processes share the queue without double-counting, a restart back-fills gaps, a failing beacon
 * node mid-epoch loses nothing and repeats nothing, alerts and key states follow the scenario.
 */
import { BeaconNodePool, loadLodestar, scoreSet, windowEpochs } from "@poolkeeper/beacon";
import { toHex } from "@poolkeeper/core";
import {
  listWatcherAlerts,
  operatorPerformance,
  validatorEpochHistory,
  validatorWindowCounts,
} from "@poolkeeper/store";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Watcher, WatcherMetrics } from "../src/index.js";
import { capturedLogger, redisConn, StaticPool, until, webhookReceiver } from "./helpers.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const N = 64;
const OFFLINE = [48, 49, 50, 51, 52, 53, 54, 55]; // epochs 2..5
const LATE = [56, 57]; // inclusion delay 3 from epoch 2
const SLASHED = 10; // epoch 3
const EXITING = 12; // initiated in epoch 3: exit epoch 3 + 1 + MAX_SEED_LOOKAHEAD = 8
const NETWORK = "minimal";

describe.each(["deneb", "electra", "fulu"] as const)(
  "watcher on PostgreSQL + Redis + beacon-sim (%s)",
  (fork) => {
    let sim: Sim;
    let store: TestStore;
    let pool: StaticPool;
    const redis = redisConn();
    const { logger, logs } = capturedLogger("info");
    const watchers: Watcher[] = [];
    let hook: Awaited<ReturnType<typeof webhookReceiver>>;

    beforeAll(async () => {
      await loadLodestar("minimal");
      const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
      sim = await startBeaconSim({
        validators: N,
        seed: "h5-watcher-e2e",
        fork,
        scenario: {
          behaviours: [
            { validators: "48-55", behaviour: "offline", from: 2, to: 6 },
            { validators: "56-57", behaviour: "late", delay: 3, from: 2 },
          ],
          slashings: [{ validator: SLASHED, epoch: 3 }],
          // the exit: a voluntary exit on deneb; from Electra an EIP-7002 withdrawal request from
          // the validators' execution withdrawal address (0x01 credentials)
          ...(fork === "deneb"
            ? { exits: [{ validator: EXITING, epoch: 3 }] }
            : {
                withdrawalCredentials: `0x01${"00".repeat(11)}${"b9".repeat(20)}`,
                withdrawalRequests: [{ validator: EXITING, epoch: 3 }],
              }),
        },
      });
      store = await createTestStore("postgres");
      pool = new StaticPool(
        Array.from({ length: N }, (_, i) => ({
          pubkey: toHex(sim.chain.pubkeyOf(i)),
          operatorId: i < 32 ? 1 : 2,
        })),
      );
      hook = await webhookReceiver(2);
    });
    afterAll(async () => {
      for (const w of watchers) await w.stop().catch(() => undefined);
      await watchers[0]?.epochQueue.obliterate().catch(() => undefined);
      await sim?.close();
      await store?.dispose();
      await hook?.close();
    });

    async function newWatcher(opts: { schedule?: boolean } = {}): Promise<Watcher> {
      const beacon = await BeaconNodePool.init(
        { urls: [sim.url], preset: "minimal", retries: 1, retryBaseMs: 20 },
        { logger },
      );
      const w = new Watcher(
        { beacon, store, pool, logger, metrics: new WatcherMetrics() },
        {
          settings: { network: NETWORK, offlineEpochs: 3, underperformanceMargin: 0.05, webhook: true },
          redis,
          startEpoch: 1,
          webhookUrl: hook.url,
          follower: { events: false, fallbackPollIntervalMs: 50, pollIntervalMs: 50 },
          schedule: opts.schedule,
          attempts: 6,
          backoffMs: 50,
        },
      );
      watchers.push(w);
      return w;
    }

    async function processedEpochs(): Promise<number[]> {
      const r = await store.query<{ epoch: bigint }>(
        "SELECT epoch FROM watcher_network_epochs WHERE network = $1 ORDER BY epoch",
        [NETWORK],
      );
      return r.rows.map((x) => Number(x.epoch));
    }

    it("two watchers process each finalized epoch exactly once", async () => {
      const a = await newWatcher();
      const b = await newWatcher();
      a.start();
      b.start();
      sim.chain.advanceEpochs(9);
      const fin = () => sim.chain.currentFinality().finalized.epoch;
      await until(
        "epochs 1..fin-2 processed",
        async () => (await processedEpochs()).length >= fin() - 2,
      ).catch((e) => {
        console.log(logs.join("").slice(-4000));
        throw e;
      });
      const epochs = await processedEpochs();
      expect(epochs).toEqual(Array.from({ length: fin() - 2 }, (_, i) => i + 1));
      // each epoch counted once: 64 attestation duties per epoch over both operators
      const r = await store.query<{ epoch: bigint; n: bigint }>(
        "SELECT epoch, sum(att_assigned) AS n FROM watcher_operator_epochs WHERE network = $1 GROUP BY epoch ORDER BY epoch",
        [NETWORK],
      );
      for (const row of r.rows) expect(Number(row.n)).toBe(N);
      const cp = await store.query<{ last_epoch: bigint }>(
        "SELECT last_epoch FROM watcher_checkpoint WHERE network = $1",
        [NETWORK],
      );
      expect(Number(cp.rows[0]?.last_epoch)).toBe(epochs.at(-1));
    });

    it("a restart back-fills the epochs finalized while it was down; a failing node mid-epoch loses nothing", async () => {
      for (const w of watchers.splice(0)) await w.stop();
      const before = await processedEpochs();
      sim.chain.advanceEpochs(4);
      const target = sim.chain.currentFinality().finalized.epoch - 2;
      // the node fails block requests for a while: the epoch job fails, is retried, and stored once
      sim.node.addFault({ kind: "error", status: 503, pathContains: "/blocks/" });
      const c = await newWatcher();
      c.start();
      await new Promise((r) => setTimeout(r, 300));
      expect((await processedEpochs()).length).toBe(before.length);
      sim.node.clearFaults();
      await until("back-fill", async () => (await processedEpochs()).length === target);
      expect(await processedEpochs()).toEqual(Array.from({ length: target }, (_, i) => i + 1));
      const r = await store.query<{ n: bigint }>(
        "SELECT count(*) AS n FROM watcher_operator_epochs WHERE network = $1",
        [NETWORK],
      );
      expect(Number(r.rows[0]?.n)).toBe(target * 2); // two operators, once per epoch
    });

    it("stores the offline, missed-proposal and slashing alerts once, and delivers them to the webhook with retries", async () => {
      const offline = await listWatcherAlerts(store, NETWORK, { kind: "validator_offline" });
      // the offline ones at their third missed epoch in a row (2, 3, 4); the slashed one stops attesting too
      const offlineOnes = offline.filter((a) => a.validatorIndex !== SLASHED);
      expect(offlineOnes.map((a) => a.validatorIndex).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(OFFLINE);
      for (const a of offlineOnes) expect(a.epoch).toBe(4);
      expect(offline.filter((a) => a.validatorIndex === SLASHED)).toHaveLength(1);
      const slashed = await listWatcherAlerts(store, NETWORK, { kind: "slashed" });
      expect(slashed.map((a) => a.validatorIndex)).toEqual([SLASHED]);
      const missed = await listWatcherAlerts(store, NETWORK, { kind: "missed_proposal" });
      expect(missed.length).toBeGreaterThan(0);
      // exactly the sim's empty slots of the processed epochs, each its proposer's (offline, or
      // slashed: a slashed validator stays in the proposer sampling until it exits)
      const emptySlots: Array<[number, number]> = [];
      for (const e of await processedEpochs())
        for (let s = e * 8; s < (e + 1) * 8; s++)
          if (sim.chain.blockAt(s) === undefined) emptySlots.push([s, sim.chain.proposerAt(s)]);
      expect(
        missed
          .map((a) => [(a.details as { slot: number }).slot, a.validatorIndex])
          .sort((x, y) => (x[0] as number) - (y[0] as number)),
      ).toEqual(emptySlots);
      for (const a of missed) expect([...OFFLINE, SLASHED]).toContain(a.validatorIndex);
      const op2 = await listWatcherAlerts(store, NETWORK, {
        operatorId: 2,
        kind: "operator_underperforming",
      });
      expect(op2.length).toBeGreaterThan(0);
      expect(
        await listWatcherAlerts(store, NETWORK, { operatorId: 1, kind: "operator_underperforming" }),
      ).toEqual([]);
      const all = await listWatcherAlerts(store, NETWORK, { limit: 1000 });
      await until("webhook deliveries", async () =>
        (await listWatcherAlerts(store, NETWORK, { limit: 1000 })).every(
          (a) => a.webhookState === "delivered",
        ),
      );
      expect(hook.received.length).toBe(all.length);
      expect(hook.hits()).toBe(all.length + 2); // the first two attempts were refused
      expect(logs.join("")).not.toContain("hooksecret123");
    });

    it("moves key states from beacon statuses: deposited → active, exiting → exited, and slashed", () => {
      const slashedKey = toHex(sim.chain.pubkeyOf(SLASHED));
      const exitingKey = toHex(sim.chain.pubkeyOf(EXITING));
      expect(sim.chain.validatorAt(EXITING, 8).exitEpoch).toBe(8);
      expect(pool.states.get(toHex(sim.chain.pubkeyOf(0)))).toBe("active");
      // every change once: 64 activations, then the slashed one: slashed, and exited after its exit epoch
      expect(pool.changes.filter((c) => c.to === "active")).toHaveLength(N);
      expect(pool.changes.filter((c) => c.pubkey === slashedKey).map((c) => c.to)).toEqual([
        "active",
        "slashed",
        "exited",
      ]);
      expect(pool.changes.filter((c) => c.pubkey === exitingKey).map((c) => c.to)).toEqual([
        "active",
        "exiting",
        "exited",
      ]);
      expect(
        pool.changes.filter((c) => c.pubkey !== slashedKey && c.pubkey !== exitingKey && c.to !== "active"),
      ).toEqual([]);
    });

    it("answers the performance queries: operator windows against the network, a validator's history", async () => {
      const w = windowEpochs("1d", 6, 8);
      const perf = await operatorPerformance(store, NETWORK, w);
      expect(perf.range?.processedEpochs).toBe((await processedEpochs()).length);
      const [o1, o2] = perf.operators;
      expect(o1?.operatorId).toBe(1);
      // the whole network is the pool here: the operators' duties add up to the network's
      expect((o1?.counts.attAssigned ?? 0) + (o2?.counts.attAssigned ?? 0)).toBe(perf.network.attAssigned);
      expect((o1?.counts.attIncluded ?? 0) + (o2?.counts.attIncluded ?? 0)).toBe(perf.network.attIncluded);
      const s1 = scoreSet(o1!.counts);
      const s2 = scoreSet(o2!.counts);
      const net = scoreSet(perf.network);
      expect(s2.csm!).toBeLessThan(net.csm!);
      expect(s1.csm!).toBeGreaterThan(s2.csm!);
      // validator 48: missed epochs 2..5 exactly
      const h = await validatorEpochHistory(
        store,
        NETWORK,
        { pubkey: toHex(sim.chain.pubkeyOf(48)) },
        { limit: 1000 },
      );
      const missedEpochs = h!.epochs
        .filter((e) => e.attestation !== null && !e.attestation.included)
        .map((e) => e.epoch);
      expect(missedEpochs.sort((a, b) => a - b)).toEqual([2, 3, 4, 5]);
      // the late ones: every epoch from 2 included, 3 slots or more after the duty (stored even
      // where the slots after the duty were missed and the optimal delay is 1)
      for (const v of LATE) {
        const hl = await validatorEpochHistory(store, NETWORK, { pubkey: toHex(sim.chain.pubkeyOf(v)) });
        const late = hl!.epochs.filter((e) => e.epoch >= 2);
        expect(late.length).toBeGreaterThan(4);
        for (const e of late) {
          expect(e.attestation?.included, `validator ${v} epoch ${e.epoch}`).toBe(true);
          expect(e.attestation?.inclusionDelay, `validator ${v} epoch ${e.epoch}`).toBeGreaterThanOrEqual(3);
        }
      }
      // the exit's cause is stored in its epoch: a signed voluntary exit, or from Electra the
      // withdrawal address's request (no slashing alert for it: see the alerts test)
      const hx = await validatorEpochHistory(store, NETWORK, { pubkey: toHex(sim.chain.pubkeyOf(EXITING)) });
      expect(hx!.epochs.filter((e) => e.events.length > 0).map((e) => [e.epoch, e.events])).toEqual([
        [3, [fork === "deneb" ? "voluntary_exit" : "withdrawal_request"]],
      ]);
      const c48 = await validatorWindowCounts(store, NETWORK, { validatorIndex: 48 }, w);
      expect(c48!.counts.attAssigned - c48!.counts.attIncluded).toBe(4);
      const c0 = await validatorWindowCounts(store, NETWORK, { validatorIndex: 0 }, w);
      expect(c0!.counts.attIncluded).toBe(c0!.counts.attAssigned);
    });
  },
);
