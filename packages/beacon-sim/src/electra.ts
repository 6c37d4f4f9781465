/**
 * The Electra part of the state (EIP-6110 deposit requests, EIP-7251 balance churn and
 * consolidations): the pending deposits and consolidations queues and the churn counters, with the
 * spec's functions over them (get_balance_churn_limit, get_activation_exit_churn_limit,
 * get_consolidation_churn_limit, compute_exit_epoch_and_update_churn,
 * compute_consolidation_epoch_and_update_churn, process_pending_deposits,
 * process_pending_consolidations) and the execution-layer requests (process_withdrawal_request,
 * process_consolidation_request). Amounts are gwei as numbers.
 */
import type { ChainForkConfig } from "@lodestar/config";
import {
  COMPOUNDING_WITHDRAWAL_PREFIX,
  EFFECTIVE_BALANCE_INCREMENT,
  MAX_EFFECTIVE_BALANCE_ELECTRA,
  MAX_PENDING_DEPOSITS_PER_EPOCH,
  MAX_SEED_LOOKAHEAD,
  MIN_ACTIVATION_BALANCE,
  PENDING_CONSOLIDATIONS_LIMIT,
  PENDING_PARTIAL_WITHDRAWALS_LIMIT,
} from "@lodestar/params";
import type { electra } from "@lodestar/types";
import {
  type ElectraFields,
  FAR,
  GWEI,
  type PendingConsolidationEntry,
  type PendingDepositEntry,
  type PendingPartialWithdrawalEntry,
} from "./chain-types.js";
import type { Registry } from "./registry.js";

/** get_max_effective_balance: 2048 ETH for 0x02 (compounding) credentials, else 32 ETH. */
export function maxEffectiveBalanceElectra(withdrawalCredentialsPrefix: number): number {
  return withdrawalCredentialsPrefix === COMPOUNDING_WITHDRAWAL_PREFIX
    ? MAX_EFFECTIVE_BALANCE_ELECTRA
    : MIN_ACTIVATION_BALANCE;
}

/** get_balance_churn_limit: max(MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA, total / CHURN_LIMIT_QUOTIENT), whole increments. */
export function balanceChurnLimit(config: ChainForkConfig, totalActiveBalance: number): number {
  const churn = Math.max(
    config.MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA,
    Math.floor(totalActiveBalance / config.CHURN_LIMIT_QUOTIENT),
  );
  return churn - (churn % EFFECTIVE_BALANCE_INCREMENT);
}

/** get_activation_exit_churn_limit. */
export function activationExitChurnLimit(config: ChainForkConfig, totalActiveBalance: number): number {
  return Math.min(
    config.MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT,
    balanceChurnLimit(config, totalActiveBalance),
  );
}

/** get_consolidation_churn_limit. */
export function consolidationChurnLimit(config: ChainForkConfig, totalActiveBalance: number): number {
  return balanceChurnLimit(config, totalActiveBalance) - activationExitChurnLimit(config, totalActiveBalance);
}

/** What process_pending_deposits needs from the registry. */
export interface PendingDepositTarget {
  /** Index of the pubkey in the state, or -1 when the state does not hold it yet. */
  indexInState(pubkey: Uint8Array): number;
  exitEpoch(i: number): number;
  withdrawableEpoch(i: number): number;
  /** add_validator_to_registry with the deposit's credentials and amount. */
  addValidator(deposit: PendingDepositEntry): void;
  increaseBalance(i: number, amount: number): void;
}

export class ElectraLedger {
  /** -1: UNSET_DEPOSIT_REQUESTS_START_INDEX. */
  depositRequestsStartIndex = -1;
  depositBalanceToConsume = 0;
  exitBalanceToConsume = 0;
  earliestExitEpoch = 0;
  consolidationBalanceToConsume = 0;
  earliestConsolidationEpoch = 0;
  pendingDeposits: PendingDepositEntry[] = [];
  pendingPartialWithdrawals: PendingPartialWithdrawalEntry[] = [];
  pendingConsolidations: PendingConsolidationEntry[] = [];
  /** The deposit contract's next deposit index (genesis deposits come first). */
  private nextDepositIndex: number;

  /**
   * @param genesisDeposits the genesis deposits (the state's eth1_deposit_index, which no
   *   eth1-bridge deposit moves later: new deposits are deposit requests).
   */
  constructor(
    private readonly config: ChainForkConfig,
    readonly genesisDeposits: number,
    private readonly farEpoch: number,
    /** is_valid_deposit_signature over the chain's deposit domain. */
    private readonly validDepositSignature: (d: PendingDepositEntry) => boolean,
  ) {
    this.nextDepositIndex = genesisDeposits;
  }

  /** process_deposit_request: the deposit joins the queue with the slot of the block that carries it. */
  addDepositRequest(deposit: PendingDepositEntry): number {
    const index = this.nextDepositIndex++;
    if (this.depositRequestsStartIndex === -1) this.depositRequestsStartIndex = index;
    this.pendingDeposits.push(deposit);
    return index;
  }

  /** get_pending_balance_to_withdraw. */
  pendingBalanceToWithdraw(i: number): number {
    let t = 0;
    for (const w of this.pendingPartialWithdrawals) if (w.validatorIndex === i) t += w.amount;
    return t;
  }

  /** compute_exit_epoch_and_update_churn at `currentEpoch` for an exit of `exitBalance` gwei. */
  computeExitEpochAndUpdateChurn(
    exitBalance: number,
    currentEpoch: number,
    totalActiveBalance: number,
  ): number {
    const r = consumeChurn(
      { earliest: this.earliestExitEpoch, toConsume: this.exitBalanceToConsume },
      exitBalance,
      currentEpoch,
      activationExitChurnLimit(this.config, totalActiveBalance),
    );
    this.exitBalanceToConsume = r.toConsume;
    this.earliestExitEpoch = r.earliest;
    return r.earliest;
  }

  /** compute_consolidation_epoch_and_update_churn at `currentEpoch` for `consolidationBalance` gwei. */
  computeConsolidationEpochAndUpdateChurn(
    consolidationBalance: number,
    currentEpoch: number,
    totalActiveBalance: number,
  ): number {
    const r = consumeChurn(
      { earliest: this.earliestConsolidationEpoch, toConsume: this.consolidationBalanceToConsume },
      consolidationBalance,
      currentEpoch,
      consolidationChurnLimit(this.config, totalActiveBalance),
    );
    this.consolidationBalanceToConsume = r.toConsume;
    this.earliestConsolidationEpoch = r.earliest;
    return r.earliest;
  }

  /**
   * process_pending_deposits at the end of `currentEpoch`: finalized deposits in queue order, under
   * deposit_balance_to_consume + the activation/exit churn, at most MAX_PENDING_DEPOSITS_PER_EPOCH;
   * deposits of exiting validators wait until they are withdrawable.
   */
  processPendingDeposits(
    target: PendingDepositTarget,
    currentEpoch: number,
    finalizedSlot: number,
    totalActiveBalance: number,
  ): void {
    const nextEpoch = currentEpoch + 1;
    const available =
      this.depositBalanceToConsume + activationExitChurnLimit(this.config, totalActiveBalance);
    let processed = 0;
    let next = 0;
    const postponed: PendingDepositEntry[] = [];
    let churnReached = false;
    for (const d of this.pendingDeposits) {
      // Deposit requests wait for the eth1-bridge deposits before them (none after genesis here).
      if (
        d.slot > 0 &&
        this.depositRequestsStartIndex !== -1 &&
        this.genesisDeposits < this.depositRequestsStartIndex
      )
        break;
      if (d.slot > finalizedSlot) break;
      if (next >= MAX_PENDING_DEPOSITS_PER_EPOCH) break;
      const i = target.indexInState(d.pubkey);
      const exited = i >= 0 && target.exitEpoch(i) !== this.farEpoch;
      const withdrawn = i >= 0 && target.withdrawableEpoch(i) < nextEpoch;
      if (withdrawn) this.apply(target, i, d);
      else if (exited) postponed.push(d);
      else {
        churnReached = processed + d.amount > available;
        if (churnReached) break;
        processed += d.amount;
        this.apply(target, i, d);
      }
      next++;
    }
    this.pendingDeposits = [...this.pendingDeposits.slice(next), ...postponed];
    this.depositBalanceToConsume = churnReached ? available - processed : 0;
  }

  /**
   * apply_pending_deposit: a deposit for a pubkey the state does not hold adds the validator only
   * when its signature is valid (is_valid_deposit_signature; otherwise it is dropped, its amount
   * credited to no one, having consumed churn all the same); a deposit to a validator in the state
   * is a top-up, with no signature check. The sim's own deposits (`unchecked`) skip the check.
   */
  private apply(target: PendingDepositTarget, i: number, d: PendingDepositEntry): void {
    if (i >= 0) target.increaseBalance(i, d.amount);
    else if (d.unchecked === true || this.validDepositSignature(d)) target.addValidator(d);
  }

  /**
   * process_pending_consolidations at the end of `currentEpoch`: in queue order, a slashed source
   * is skipped; the queue stops at the first source not yet withdrawable at the next epoch;
   * otherwise min(balance, effective balance) of the source moves to the target (the rest stays
   * with the source, for the sweep).
   */
  processPendingConsolidations(reg: Registry, currentEpoch: number): void {
    const nextEpoch = currentEpoch + 1;
    let next = 0;
    for (const c of this.pendingConsolidations) {
      const src = c.sourceIndex;
      if ((reg.slashedAt[src] ?? FAR) !== FAR) {
        next++;
        continue;
      }
      if ((reg.withdrawableEpoch[src] ?? FAR) > nextEpoch) break;
      const moved = Math.min(reg.balances[src] ?? 0, (reg.effective[src] ?? 0) * GWEI);
      reg.balances[src] = (reg.balances[src] ?? 0) - moved;
      reg.balances[c.targetIndex] = (reg.balances[c.targetIndex] ?? 0) + moved;
      next++;
    }
    this.pendingConsolidations = this.pendingConsolidations.slice(next);
  }

  /**
   * queue_excess_active_balance: a balance above MIN_ACTIVATION_BALANCE goes back through the
   * deposit queue (a pending deposit of the excess with the G2 point at infinity as signature and
   * GENESIS_SLOT, applied under the churn as a top-up).
   */
  queueExcessActiveBalance(reg: Registry, i: number): void {
    const balance = reg.balances[i] ?? 0;
    if (balance <= MIN_ACTIVATION_BALANCE) return;
    reg.balances[i] = MIN_ACTIVATION_BALANCE;
    this.pendingDeposits.push({
      pubkey: reg.pubkeyOf(i).slice(),
      withdrawalCredentials: reg.withdrawalCredentialsOf(i).slice(),
      amount: balance - MIN_ACTIVATION_BALANCE,
      signature: G2_POINT_AT_INFINITY,
      slot: 0,
    });
  }

  /** A copy of the Electra fields for a state snapshot. */
  fields(): ElectraFields {
    return {
      depositRequestsStartIndex: this.depositRequestsStartIndex,
      depositBalanceToConsume: this.depositBalanceToConsume,
      exitBalanceToConsume: this.exitBalanceToConsume,
      earliestExitEpoch: this.earliestExitEpoch,
      consolidationBalanceToConsume: this.consolidationBalanceToConsume,
      earliestConsolidationEpoch: this.earliestConsolidationEpoch,
      pendingDeposits: this.pendingDeposits.slice(),
      pendingPartialWithdrawals: this.pendingPartialWithdrawals.map((w) => ({ ...w })),
      pendingConsolidations: this.pendingConsolidations.map((c) => ({ ...c })),
    };
  }
}

/**
 * process_withdrawal_request (EIP-7002) at `epoch`: authorised by the validator's execution
 * withdrawal address (source_address = credentials[12:]), for an active validator that is not
 * exiting; amount 0 (FULL_EXIT_REQUEST_AMOUNT) exits it under the balance churn when nothing is
 * pending for it, otherwise a 0x02 validator queues a partial withdrawal of its excess above
 * MIN_ACTIVATION_BALANCE. Requests that fail a check are dropped, as the chain drops them. Not
 * checked: SHARD_COMMITTEE_PERIOD (as for the sim's pool exits).
 */
export function processWithdrawalRequest(
  ledger: ElectraLedger,
  reg: Registry,
  req: electra.WithdrawalRequest,
  epoch: number,
  config: ChainForkConfig,
  totalActiveBalance: number,
): void {
  const amount = Number(req.amount);
  const fullExit = amount === 0;
  if (ledger.pendingPartialWithdrawals.length >= PENDING_PARTIAL_WITHDRAWALS_LIMIT && !fullExit) return;
  const i = indexInState(reg, req.validatorPubkey, epoch);
  if (i < 0 || !authorises(reg, i, req.sourceAddress)) return;
  const wc = reg.withdrawalCredentialsOf(i);
  if (!reg.isActiveAt(i, epoch) || (reg.exitEpoch[i] ?? FAR) !== FAR) return;
  const pending = ledger.pendingBalanceToWithdraw(i);
  if (fullExit) {
    if (pending === 0) reg.initiateExit(i, epoch);
    return;
  }
  const balance = reg.balances[i] ?? 0;
  const compounding = (wc[0] ?? 0) === COMPOUNDING_WITHDRAWAL_PREFIX;
  const sufficient = (reg.effective[i] ?? 0) * GWEI >= MIN_ACTIVATION_BALANCE;
  if (compounding && sufficient && balance > MIN_ACTIVATION_BALANCE + pending) {
    const toWithdraw = Math.min(balance - MIN_ACTIVATION_BALANCE - pending, amount);
    const exitQueueEpoch = ledger.computeExitEpochAndUpdateChurn(toWithdraw, epoch, totalActiveBalance);
    ledger.pendingPartialWithdrawals.push({
      validatorIndex: i,
      amount: toWithdraw,
      withdrawableEpoch: exitQueueEpoch + config.MIN_VALIDATOR_WITHDRAWABILITY_DELAY,
    });
  }
}

/** bls.G2_POINT_AT_INFINITY: the signature placeholder of queue_excess_active_balance's deposits. */
const G2_POINT_AT_INFINITY = Uint8Array.from({ length: 96 }, (_, k) => (k === 0 ? 0xc0 : 0));

/**
 * The shared body of compute_exit_epoch_and_update_churn and
 * compute_consolidation_epoch_and_update_churn: the earliest epoch at or after
 * compute_activation_exit_epoch(currentEpoch) with `balance` of churn left, consuming it.
 */
function consumeChurn(
  state: { earliest: number; toConsume: number },
  balance: number,
  currentEpoch: number,
  perEpochChurn: number,
): { earliest: number; toConsume: number } {
  let earliest = Math.max(state.earliest, currentEpoch + 1 + MAX_SEED_LOOKAHEAD);
  let toConsume = state.earliest < earliest ? perEpochChurn : state.toConsume;
  if (balance > toConsume) {
    const additionalEpochs = Math.floor((balance - toConsume - 1) / perEpochChurn) + 1;
    earliest += additionalEpochs;
    toConsume += additionalEpochs * perEpochChurn;
  }
  return { earliest, toConsume: toConsume - balance };
}

/** The index of `pubkey` among the validators of the state at `epoch`, or -1. */
function indexInState(reg: Registry, pubkey: Uint8Array, epoch: number): number {
  const i = reg.indexOfPubkey(pubkey);
  return i < 0 || (reg.addedEpoch[i] ?? FAR) > epoch ? -1 : i;
}

/** Execution credentials (0x01/0x02) whose address is `sourceAddress`: the request is authorised. */
function authorises(reg: Registry, i: number, sourceAddress: Uint8Array): boolean {
  const wc = reg.withdrawalCredentialsOf(i);
  return reg.hasExecutionCredentials(i) && Buffer.compare(wc.subarray(12), sourceAddress) === 0;
}

/** is_valid_switch_to_compounding_request: source = target, a 0x01 validator of that address, active, not exiting. */
function switchToCompoundingIndex(reg: Registry, req: electra.ConsolidationRequest, epoch: number): number {
  if (Buffer.compare(req.sourcePubkey, req.targetPubkey) !== 0) return -1;
  const i = indexInState(reg, req.sourcePubkey, epoch);
  if (i < 0) return -1;
  if (Buffer.compare(reg.withdrawalCredentialsOf(i).subarray(12), req.sourceAddress) !== 0) return -1;
  if ((reg.withdrawalCredentials[i * 32] ?? 0) !== 1) return -1;
  if (!reg.isActiveAt(i, epoch) || (reg.exitEpoch[i] ?? FAR) !== FAR) return -1;
  return i;
}

/**
 * process_consolidation_request (EIP-7251) at `epoch`. source = target: a switch to compounding
 * (0x01 → 0x02, the balance above 32 ETH queued as a pending deposit). Otherwise a consolidation
 * of an active, not exiting source authorised by its execution withdrawal address, with no pending
 * partial withdrawal, into an active, not exiting 0x02 target, while the consolidation churn
 * exceeds MIN_ACTIVATION_BALANCE and the queue has room: the source exits at
 * compute_consolidation_epoch_and_update_churn(its effective balance), withdrawable
 * MIN_VALIDATOR_WITHDRAWABILITY_DELAY later, and the pair joins pending_consolidations. Requests
 * that fail a check are dropped. Not checked: SHARD_COMMITTEE_PERIOD (as for withdrawal requests).
 */
export function processConsolidationRequest(
  ledger: ElectraLedger,
  reg: Registry,
  req: electra.ConsolidationRequest,
  epoch: number,
  config: ChainForkConfig,
  totalActiveBalance: number,
): void {
  const switching = switchToCompoundingIndex(reg, req, epoch);
  if (switching >= 0) {
    reg.withdrawalCredentials[switching * 32] = COMPOUNDING_WITHDRAWAL_PREFIX;
    ledger.queueExcessActiveBalance(reg, switching);
    return;
  }
  if (Buffer.compare(req.sourcePubkey, req.targetPubkey) === 0) return;
  if (ledger.pendingConsolidations.length >= PENDING_CONSOLIDATIONS_LIMIT) return;
  if (consolidationChurnLimit(config, totalActiveBalance) <= MIN_ACTIVATION_BALANCE) return;
  const source = indexInState(reg, req.sourcePubkey, epoch);
  const target = indexInState(reg, req.targetPubkey, epoch);
  if (source < 0 || target < 0 || !authorises(reg, source, req.sourceAddress)) return;
  if ((reg.withdrawalCredentials[target * 32] ?? 0) !== COMPOUNDING_WITHDRAWAL_PREFIX) return;
  if (!reg.isActiveAt(source, epoch) || !reg.isActiveAt(target, epoch)) return;
  if ((reg.exitEpoch[source] ?? FAR) !== FAR || (reg.exitEpoch[target] ?? FAR) !== FAR) return;
  if (ledger.pendingBalanceToWithdraw(source) > 0) return;
  const exitEpoch = ledger.computeConsolidationEpochAndUpdateChurn(
    (reg.effective[source] ?? 0) * GWEI,
    epoch,
    totalActiveBalance,
  );
  reg.setExit(source, exitEpoch, epoch);
  ledger.pendingConsolidations.push({ sourceIndex: source, targetIndex: target });
}
