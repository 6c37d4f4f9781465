/**
 * What the pool routes need, in the contract's shapes: `poolPort(store)` (pool-adapter.ts)
 * implements it over the pool ledger (@poolkeeper/ledger).
 */
import type {
  Account,
  ClaimResult,
  OperatorRewards,
  PoolSummary,
  ShareRatePoint,
  SubmitResult,
  WithdrawalResult,
} from "@poolkeeper/contract";
import type { Static } from "typebox";

export interface PoolPort {
  summary(): Promise<Static<typeof PoolSummary>>;
  shareRateHistory(range: { from?: number; to?: number }): Promise<Static<typeof ShareRatePoint>[]>;
  account(address: string): Promise<Static<typeof Account>>;
  submit(account: string, amount: string): Promise<Static<typeof SubmitResult>>;
  requestWithdrawal(account: string, amount: string): Promise<Static<typeof WithdrawalResult>>;
  claim(account: string, requestId: number): Promise<Static<typeof ClaimResult>>;
  /**
   * An operator's rewards: the applied reports that list it, newest first (at most `limit`, ref
   * slots below `beforeRefSlot`), and its totals. Throws ERR_NOT_FOUND for an unknown operator.
   */
  operatorRewards(
    operatorId: number,
    page: { limit: number; beforeRefSlot?: number },
  ): Promise<Static<typeof OperatorRewards>>;
}
