/**
 * Bunker mode and the finalization border of a member's report, after Lido's oracle: the three
 * bunker cases on the ref slot's figures (bunker.ts of @poolkeeper/oracle), and only when the
 * rebase is below the normal one, the pool read again at the two intraframe sample slots, which
 * may clear it; then the safe border for withdrawal finalization (the cut-off moves back while
 * bunker mode holds).
 */

import type { FrameContext, ReportVaults } from "@poolkeeper/oracle";
import {
  type BunkerInput,
  decideBunkerMode,
  type FrameConfig,
  finalizationMaxTimestamp,
  type IntraframeSample,
  intraframeSampleSlots,
} from "@poolkeeper/oracle";
import type { BorderReader, ClReader, VaultReader } from "./member.js";

/**
 * The withdrawal vault at a sample slot, net of what the vault reader nets out at the ref slot (the
 * ledger's collected wei for beacon-sim's received figures; nothing for a real chain's balances),
 * so that the ref slot's minus the sample's is the inflow between. Read gross (nothing collected)
 * and netted here: a sample slot from before the vault received what the ledger has collected
 * since is a negative figure, not a broken ledger (the reader refuses collected above received).
 */
export function sampleVaultReader(
  readVaults: VaultReader,
  ctx: FrameContext,
  atRef: ReportVaults,
): (slot: number) => Promise<bigint> {
  const gross = (refSlot: number) =>
    readVaults({
      ...ctx,
      refSlot,
      ledger: { ...ctx.ledger, withdrawalsCollectedWei: 0n, elRewardsCollectedWei: 0n },
    });
  let netted: Promise<bigint> | undefined;
  return async (slot) => {
    netted ??= gross(ctx.refSlot).then((g) => g.withdrawalVaultWei - atRef.withdrawalVaultWei);
    return (await gross(slot)).withdrawalVaultWei - (await netted);
  };
}

/**
 * The border reader of a member: `readCl` and `readVaults` read the pool at a slot (the sample
 * slots are before the ref slot, so finalized too). The vault at a sample slot is read net of
 * what the ledger has collected so far, as at the ref slot: the difference is the inflow between.
 */
export function bunkerBorder(
  frames: () => FrameConfig,
  readCl: ClReader,
  readVaults: VaultReader,
): BorderReader {
  return async (ctx, cl, vaults, read) => {
    const f = frames();
    const limits = ctx.bunkerLimits;
    const input: BunkerInput = {
      refSlot: ctx.refSlot,
      frames: f,
      pool: {
        clBalanceGwei: cl.clBalanceGwei,
        clPendingGwei: cl.clPendingBalanceGwei,
        clDepositedGwei: cl.clDepositedGwei,
        activeEffectiveBalanceGwei: cl.activeEffectiveBalanceGwei,
      },
      withdrawalVaultWei: vaults.withdrawalVaultWei,
      previous: {
        ...ctx.ledger,
        activeEffectiveBalanceGwei: null,
        networkActiveBalanceGwei: null,
      },
      poolSlashed: cl.poolSlashed,
      network: cl.network,
      samples: null,
    };
    let decision = decideBunkerMode(input, limits);
    const onlyUnsampled =
      decision.reasons.length > 0 &&
      decision.reasons.every((r) => r.case === "abnormal_cl_rebase" && r.nearestClRebaseGwei === null);
    if (
      onlyUnsampled &&
      (limits.rebaseCheckNearestEpochDistance > 0 || limits.rebaseCheckDistantEpochDistance > 0)
    ) {
      const slots = intraframeSampleSlots(ctx.refSlot, f.slotsPerEpoch, limits);
      const vaultAt = sampleVaultReader(readVaults, ctx, vaults);
      const sample = async (slot: number): Promise<IntraframeSample> => {
        const at = await readCl({ ...read, refSlot: slot });
        return {
          clBalanceGwei: at.clBalanceGwei,
          clPendingGwei: at.clPendingBalanceGwei,
          clDepositedGwei: at.clDepositedGwei,
          withdrawalVaultWei: await vaultAt(slot),
          withdrawnFromVaultWei: 0n,
        };
      };
      decision = decideBunkerMode(
        { ...input, samples: { nearest: await sample(slots.nearest), distant: await sample(slots.distant) } },
        limits,
      );
    }
    const lastFinalized = ctx.queue.find((q) => q.id === ctx.ledger.lastFinalizedRequestId && q.id > 0);
    const border = finalizationMaxTimestamp(
      {
        refSlot: ctx.refSlot,
        frames: f,
        isBunkerMode: decision.isBunkerMode,
        bunkerSinceTimestamp: ctx.bunkerSince?.timestamp ?? null,
        lastReportRefSlot: ctx.ledger.lastRefSlot,
        poolSlashed: cl.poolSlashed,
        lastFinalizedRequestTimestamp: lastFinalized?.timestamp ?? null,
      },
      limits,
    );
    return {
      isBunkerMode: decision.isBunkerMode,
      finalizationMaxTimestamp: border.maxTimestamp,
      reasons: decision.reasons.map((r) => r.case),
    };
  };
}
