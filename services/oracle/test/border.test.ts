/**
 * The withdrawal vault at an intraframe sample slot (border.ts sampleVaultReader): read gross and
 * netted as at the ref slot, so a sample from before the vault received what the ledger collected
 * since is no "broken ledger" (the devnet's oracle stopped on it once a validator's balance fell).
 */
import { simExecutionLayer } from "@poolkeeper/beacon";
import type { FrameContext, ReportVaults } from "@poolkeeper/oracle";
import { describe, expect, it } from "vitest";
import { sampleVaultReader } from "../src/border.js";
import type { VaultReader } from "../src/member.js";

const WITHDRAWAL_VAULT = "0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f";
const EL_VAULT = "0x388c818ca8b9251b393131c08a736a67ccb19297";

/** beacon-sim's figures: what the withdrawal vault received by each slot (cumulative). */
function simReceiving(received: (slot: number) => bigint): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const slot = Number(url.searchParams.get("slot"));
    const wei = url.pathname.endsWith(WITHDRAWAL_VAULT) ? received(slot) : 0n;
    return new Response(JSON.stringify({ receivedWei: wei.toString() }), {
      headers: { "content-type": "application/json" },
    });
  }) as typeof fetch;
}

function ctxAt(refSlot: number, collectedWei: bigint): FrameContext {
  return {
    refSlot,
    ledger: { withdrawalsCollectedWei: collectedWei, elRewardsCollectedWei: 0n },
  } as unknown as FrameContext;
}

describe("sampleVaultReader", () => {
  it("beacon-sim: a sample before the vault received what the ledger collected is the inflow's difference, not an error", async () => {
    // 5 wei by slot 100, 12 by slot 127, 30 by slot 159; a report took the 12 at ref slot 127
    const received = (slot: number) => (slot >= 159 ? 30n : slot >= 127 ? 12n : slot >= 100 ? 5n : 0n);
    const el = simExecutionLayer(
      "http://sim.test",
      {
        withdrawalVault: WITHDRAWAL_VAULT,
        elRewardsVault: EL_VAULT,
      },
      { fetch: simReceiving(received) },
    );
    const readVaults: VaultReader = (ctx) =>
      el.vaultBalances(ctx.refSlot, {
        withdrawalsWei: ctx.ledger.withdrawalsCollectedWei,
        elRewardsWei: ctx.ledger.elRewardsCollectedWei,
      });
    const ctx = ctxAt(159, 12n);
    const atRef: ReportVaults = await readVaults(ctx);
    expect(atRef.withdrawalVaultWei).toBe(18n);
    // the plain read of the sample refuses it (collected 12 above received 5)
    await expect(readVaults({ ...ctx, refSlot: 100 })).rejects.toThrow(/collected 12 wei .* received only 5/);
    const at = sampleVaultReader(readVaults, ctx, atRef);
    expect(await at(100)).toBe(-7n); // 5 received, 12 collected since: ref - sample = 25, the inflow
    expect(atRef.withdrawalVaultWei - (await at(100))).toBe(received(159) - received(100));
    expect(await at(140)).toBe(0n);
  });

  it("a chain's balances (nothing netted by the reader): the sample is the balance there", async () => {
    const balance = (slot: number) => (slot >= 159 ? 40n : 9n);
    const readVaults: VaultReader = async (ctx) => ({
      withdrawalVaultWei: balance(ctx.refSlot),
      elRewardsVaultWei: 0n,
    });
    const ctx = ctxAt(159, 12n);
    const at = sampleVaultReader(readVaults, ctx, await readVaults(ctx));
    expect(await at(100)).toBe(9n);
  });
});
