/**
 * Orphaned proposals through the watcher (beacon-sim `orphanedSlots` and the `orphaned-proposals`
 * behaviour, real PostgreSQL + Redis): each is stored as a failed proposal with status "orphaned"
 * (a missed_proposal alert saying the block was orphaned, not that it was missed), not counted as
 * made, and a slot with no block at all stays "missed". The same scenario on a Deneb and a Fulu chain.
 */
import { loadLodestar } from "@poolkeeper/beacon";
import { toHex } from "@poolkeeper/core";
import { failedProposalSlots, listWatcherAlerts } from "@poolkeeper/store";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Watcher } from "../src/index.js";
import { capturedLogger, closeSimWatcher, StaticPool, simWatcher, until } from "./helpers.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const N = 64;
const S = 8;
const NETWORK = "minimal";
const ORPHANED_SLOTS = [17, 20]; // epoch 2
const MISSED_SLOTS = [18]; // epoch 2
const ORPHANING = (v: number) => v < 32; // epoch 3

describe.each(["deneb", "fulu"] as const)("watcher: orphaned proposals (%s)", (fork) => {
  let sim: Sim;
  let store: TestStore;
  let watcher: Watcher | undefined;
  const { logger, logs } = capturedLogger("info");

  beforeAll(async () => {
    await loadLodestar("minimal");
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    sim = await startBeaconSim({
      validators: N,
      seed: "h5-orphans",
      fork,
      scenario: {
        orphanedSlots: ORPHANED_SLOTS,
        missedSlots: MISSED_SLOTS,
        behaviours: [{ validators: "0-31", behaviour: "orphaned-proposals", from: 3, to: 4 }],
      },
    });
    store = await createTestStore("postgres");
    const pool = new StaticPool(
      Array.from({ length: N }, (_, i) => ({
        pubkey: toHex(sim.chain.pubkeyOf(i)),
        operatorId: i < 32 ? 1 : 2,
      })),
    );
    watcher = await simWatcher({ simUrl: sim.url, store, pool, logger });
    watcher.start();
    sim.chain.advanceEpochs(8);
    await until("epochs 1..4 stored", async () => {
      const r = await store.query<{ n: bigint }>(
        "SELECT count(*) AS n FROM watcher_network_epochs WHERE network = $1 AND epoch BETWEEN 1 AND 4",
        [NETWORK],
      );
      return Number(r.rows[0]?.n) === 4;
    }).catch((e) => {
      console.log(logs.join("").slice(-4000));
      throw e;
    });
  });
  afterAll(() => closeSimWatcher({ watcher, sim, store }));

  /** Expected failed proposals in epochs 2..3 from the scenario and the sim's proposers. */
  function expected(): Map<number, { validator: number; status: string }> {
    const out = new Map<number, { validator: number; status: string }>();
    for (let slot = 2 * S; slot < 4 * S; slot++) {
      const v = sim.chain.proposerAt(slot);
      if (ORPHANED_SLOTS.includes(slot) || (slot >= 3 * S && ORPHANING(v)))
        out.set(slot, { validator: v, status: "orphaned" });
      else if (MISSED_SLOTS.includes(slot)) out.set(slot, { validator: v, status: "missed" });
    }
    return out;
  }

  it("alerts each orphaned proposal once as orphaned, and the missed slot as missed", async () => {
    const want = expected();
    expect([...want.values()].filter((x) => x.status === "orphaned").length).toBeGreaterThan(2);
    const alerts = await listWatcherAlerts(store, NETWORK, { kind: "missed_proposal", limit: 1000 });
    const got = new Map(
      alerts.map((a) => [
        Number(a.details.slot),
        { validator: a.validatorIndex, status: String(a.details.status), message: a.message },
      ]),
    );
    expect(alerts).toHaveLength(want.size); // once each, nothing else (epochs 1 and 4 clean)
    for (const [slot, w] of want) {
      const g = got.get(slot);
      expect(g?.validator).toBe(w.validator);
      expect(g?.status).toBe(w.status);
      expect(g?.message).toContain(
        w.status === "orphaned" ? "had its block orphaned" : "missed its proposal",
      );
    }
  });

  it("the stored counts do not count orphaned blocks as made; the admin API's slot results say orphaned", async () => {
    const r = await store.query<{ epoch: bigint; a: number; m: number }>(
      "SELECT epoch, proposals_assigned AS a, proposals_made AS m FROM watcher_network_epochs WHERE network = $1 AND epoch BETWEEN 1 AND 4 ORDER BY epoch",
      [NETWORK],
    );
    const want = expected();
    const failedIn = (e: number) => [...want.keys()].filter((s) => Math.floor(s / S) === e).length;
    expect(r.rows.map((x) => [Number(x.epoch), Number(x.a), Number(x.m)])).toEqual(
      [1, 2, 3, 4].map((e) => [e, S, S - failedIn(e)]),
    );
    const v = sim.chain.proposerAt(ORPHANED_SLOTS[0] as number);
    const slots = await failedProposalSlots(store, NETWORK, v, 2, 2);
    expect(slots.get(ORPHANED_SLOTS[0] as number)).toBe("orphaned");
    const vm = sim.chain.proposerAt(MISSED_SLOTS[0] as number);
    expect((await failedProposalSlots(store, NETWORK, vm, 2, 2)).get(MISSED_SLOTS[0] as number)).toBe(
      "missed",
    );
  });
});
