/**
 * Migration 0034 on a ledger stored before the collected totals existed: the state gets the sums
 * of its reports' vault transfers, so that its history replays to it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMigrations, openStore, runMigrations } from "@poolkeeper/store";
import { describe, expect, it } from "vitest";
import { PoolLedger } from "../src/ledger.js";

const ETH = 10n ** 18n;
const FEES = { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: `0x${"ee".repeat(20)}` };

describe("migration 0034 (the ledger's collected totals)", () => {
  it("backfills withdrawalsCollectedWei and elRewardsCollectedWei from the report entries", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-migr-ledger-"));
    const store = await openStore({ inMemory: true, migrate: false });
    try {
      for (const m of loadMigrations().filter((x) => x.version < 34))
        writeFileSync(join(dir, `${String(m.version).padStart(4, "0")}_${m.name}.sql`), m.sql);
      await runMigrations(store, undefined, dir);
      const ledger = new PoolLedger(store, { now: () => 1_000 });
      await ledger.submit(`0x${"aa".repeat(20)}`, 64n * ETH);
      await store.transaction((tx) => ledger.deposit("1", 2, 64n * ETH, tx));
      const report = (refSlot: number, w: bigint, el: bigint) => ({
        refSlot,
        timestamp: 1_000 + refSlot,
        timeElapsed: 384,
        clValidators: 2,
        clDepositedWei: 64n * ETH,
        clBalanceWei: 64n * ETH,
        clPendingWei: 0n,
        withdrawalVaultWei: w,
        elRewardsVaultWei: el,
        finalizationBatches: [],
        simulatedShareRate: 0n,
        operators: [],
      });
      await ledger.applyReport(report(32, 10n ** 15n, 2n * 10n ** 15n), FEES);
      await ledger.applyReport(report(64, 3n * 10n ** 15n, 4n * 10n ** 15n), FEES);
      // the state as the code before these fields stored it
      await store.query(
        "UPDATE ledger_state SET data = data - 'withdrawalsCollectedWei' - 'elRewardsCollectedWei'",
      );
      await expect(ledger.verify()).rejects.toThrow(/the history gives/);
      // 0034 first, then the later ones
      expect(await runMigrations(store)).toEqual(
        loadMigrations()
          .filter((x) => x.version >= 34)
          .map((x) => x.version),
      );
      const s = await ledger.summary();
      expect([s.withdrawalsCollectedWei, s.elRewardsCollectedWei]).toEqual([
        4n * 10n ** 15n,
        6n * 10n ** 15n,
      ]);
      await ledger.verify();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
