/**
 * Test helpers for packages that create deposit batches: every batch is paid from the pool's
 * buffer, so a test stakes ether first.
 *
 *   const ledger = await fundPool(store, keysWei(8));
 *   const registry = new Registry({ store, payer: ledger }, SETTINGS);
 */
import { WEI_PER_ETH } from "@poolkeeper/core";
import type { Store } from "@poolkeeper/store";
import { PoolLedger } from "./ledger.js";

/** The account that `fundPool` stakes from unless told otherwise. */
export const TEST_STAKER = "0x5afe000000000000000000000000000000005afe";

/** What `n` keys cost at 32 ETH each. */
export function keysWei(n: number): bigint {
  return BigInt(n) * 32n * WEI_PER_ETH;
}

/** Stake `wei` into the pool (`PoolLedger.submit`), growing its buffer; returns the ledger. */
export async function fundPool(
  store: Store,
  wei: bigint,
  account: string = TEST_STAKER,
): Promise<PoolLedger> {
  const ledger = new PoolLedger(store);
  if (wei > 0n) await ledger.submit(account, wei);
  return ledger;
}
