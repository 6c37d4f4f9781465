/**
 * Keys deposited after genesis, through the watcher on each fork (beacon-sim over HTTP, real
 * PostgreSQL + Redis): Deneb deposits enter the registry the next epoch; from Electra deposit
 * requests wait in pending_deposits first. The watcher catches up on old epochs while the
 * finalized state already knows the new validators: a key is moved to active at the first epoch
 * whose end state has it active, never while it is not yet in the registry or still pending.
 */
import { BeaconNodePool, getPendingDeposits, loadLodestar } from "@poolkeeper/beacon";
import { toHex } from "@poolkeeper/core";
import { createTestStore, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Watcher } from "../src/index.js";
import { capturedLogger, closeSimWatcher, StaticPool, simWatcher, until } from "./helpers.js";

type Sim = Awaited<ReturnType<typeof import("@poolkeeper/beacon-sim")["startBeaconSim"]>>;

const N = 64;
const S = 8;
const NETWORK = "minimal";
const POOL_WC = Uint8Array.from([1, ...new Array<number>(11).fill(0), ...new Array<number>(20).fill(0xb9)]);

describe.each(["deneb", "electra", "fulu"] as const)("watcher: keys deposited after genesis (%s)", (fork) => {
  let sim: Sim;
  let store: TestStore;
  let pool: StaticPool;
  let watcher: Watcher | undefined;
  let added: number[] = [];
  const { logger, logs } = capturedLogger("info");

  beforeAll(async () => {
    await loadLodestar("minimal");
    const { startBeaconSim } = await import("@poolkeeper/beacon-sim");
    sim = await startBeaconSim({ validators: N, seed: "h3-deposits", fork });
    sim.chain.advanceTo(2 * S + 3);
    added = sim.chain.addValidators(2, POOL_WC);
    // the watcher starts late: old epochs are processed while the finalized state knows the new keys
    sim.chain.advanceEpochs(16);
    store = await createTestStore("postgres");
    pool = new StaticPool(
      [...Array.from({ length: N }, (_, i) => i), ...added].map((i) => ({
        pubkey: toHex(sim.chain.pubkeyOf(i)),
        operatorId: 1,
      })),
    );
    watcher = await simWatcher({ simUrl: sim.url, store, pool, logger });
    watcher.start();
    const last = sim.chain.currentFinality().finalized.epoch - 2;
    await until(`epochs 1..${last} stored`, async () => {
      const r = await store.query<{ n: bigint }>(
        "SELECT count(*) AS n FROM watcher_network_epochs WHERE network = $1",
        [NETWORK],
      );
      return Number(r.rows[0]?.n) >= last;
    }).catch((e) => {
      console.log(logs.join("").slice(-4000));
      throw e;
    });
  });
  afterAll(() => closeSimWatcher({ watcher, sim, store }));

  it("the new keys become active at the epoch their validators activate, once", () => {
    expect(added).toEqual([N, N + 1]);
    for (const v of added) {
      const pk = toHex(sim.chain.pubkeyOf(v));
      const changes = pool.changes.filter((c) => c.pubkey === pk);
      expect(changes.map((c) => c.to)).toEqual(["active"]);
      // "beacon status active_ongoing at the end of epoch E": the state at the start of E + 1
      const e = Number(/end of epoch (\d+)/.exec(changes[0]?.reason ?? "")?.[1]);
      expect(sim.chain.statusAt(v, e + 1)).toBe("active_ongoing");
      expect(sim.chain.statusAt(v, e)).not.toBe("active_ongoing");
    }
    expect(pool.changes.filter((c) => c.to === "active")).toHaveLength(N + added.length);
  });

  it("before activation the new validators have no duties and no balances stored", async () => {
    const activation = sim.chain.validatorAt(N, 16).activationEpoch;
    const r = await store.query<{ epoch: bigint; n: bigint }>(
      `SELECT e.epoch, count(*) AS n FROM watcher_validator_epochs e
        WHERE e.network = $1 AND e.validator_index >= $2 AND e.epoch < $3 AND e.att_slot IS NOT NULL
        GROUP BY e.epoch`,
      [NETWORK, N, activation],
    );
    expect(r.rows).toEqual([]);
  });

  it("the deposits were pending deposits first on electra and fulu (pending_deposits of the state after the request)", async () => {
    const beacon = await BeaconNodePool.init({ urls: [sim.url], preset: "minimal" });
    const read = getPendingDeposits(beacon, { stateId: 3 * S });
    if (fork === "deneb") {
      // no such queue before Electra: the node refuses, the validators are in the registry at once
      await expect(read).rejects.toMatchObject({ code: "ERR_BEACON_UNAVAILABLE" });
      expect(sim.chain.countAt(3)).toBe(N + added.length);
      return;
    }
    expect((await read)?.items.map((d) => [d.pubkey, d.withdrawalCredentials, d.amount])).toEqual(
      added.map((v) => [`0x${toHex(sim.chain.pubkeyOf(v))}`, `0x${toHex(POOL_WC)}`, 32_000_000_000n]),
    );
    expect(sim.chain.countAt(3)).toBe(N);
  });
});
