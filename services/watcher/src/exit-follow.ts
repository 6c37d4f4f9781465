/**
 * Exit requests as the chain answers them (issue 12), each processed epoch: a requested validator
 * whose state shows an exit epoch is exiting (exited once the epoch reaches it), by its operator
 * (voluntary) unless the pool triggered it; a request past its deadline without an exit epoch is
 * late, and the pool sends an EIP-7002 full-exit withdrawal request for the validator through the
 * execution-layer adapter (late → triggered, with who and when). The state changes are the store's
 * conditional updates: two workers on two epochs never move a request twice, and the trigger is
 * sent inside the transaction that claims it (a failed send leaves the request late, retried on
 * the next epoch).
 */
import type { EpochDuties, ExecutionLayerAdapter } from "@poolkeeper/beacon";
import { isPoolkeeperError, type Logger } from "@poolkeeper/core";
import {
  EXIT_ERRORS,
  type ExitRequestRow,
  moveExitRequest,
  type Store,
  unfinishedExitRequests,
} from "@poolkeeper/store";
import { WATCHER_ACTOR } from "./pool-source.js";

export interface ExitFollowDeps {
  store: Store;
  /** Sends the pool's EIP-7002 requests; without it late requests stay late (logged). */
  execution?: Pick<ExecutionLayerAdapter, "submitWithdrawalRequest"> | undefined;
  logger?: Logger | undefined;
}

export interface ExitFollowOutcome {
  exiting: number;
  exited: number;
  late: number;
  triggered: number;
}

/** A conditional move that lost to another worker (the request moved meanwhile) is no error. */
async function tryMove(f: () => Promise<unknown>): Promise<boolean> {
  try {
    await f();
    return true;
  } catch (e) {
    if (isPoolkeeperError(e) && e.code === EXIT_ERRORS.EXIT_STATE) return false;
    throw e;
  }
}

const WAITING = ["requested", "signed", "submitted"] as const;

/** Follow every unfinished exit request with the validator states of `d`. */
export async function followExitRequests(
  deps: ExitFollowDeps,
  d: Pick<EpochDuties, "epoch" | "validators">,
): Promise<ExitFollowOutcome> {
  const out: ExitFollowOutcome = { exiting: 0, exited: 0, late: 0, triggered: 0 };
  const requests = await unfinishedExitRequests(deps.store);
  if (requests.length === 0) return out;
  const states = new Map(d.validators.map((v) => [v.validatorIndex, v]));
  const epoch = d.epoch;
  for (const r of requests) {
    // an exited validator has no state in the epoch's duties any more: its exit epoch is the request's
    const v = states.get(r.validatorIndex);
    if (v === undefined && r.state !== "exiting") continue;
    try {
      await followOne(deps, r, epoch, v?.exitEpoch ?? r.exitEpoch, out);
    } catch (e) {
      deps.logger?.warn(
        { epoch, exitRequest: r.id, err: e instanceof Error ? e.message : String(e) },
        "exit request not followed; the next epoch retries",
      );
    }
  }
  return out;
}

async function followOne(
  deps: ExitFollowDeps,
  r: ExitRequestRow,
  epoch: number,
  exitEpoch: number | null,
  out: ExitFollowOutcome,
): Promise<void> {
  const { store } = deps;
  let state = r.state;
  if (exitEpoch !== null && state !== "exiting") {
    const exitedBy = state === "triggered" ? "triggered" : "voluntary";
    if (
      await tryMove(() =>
        moveExitRequest(store, r.id, {
          to: "exiting",
          from: [...WAITING, "late", "triggered"],
          actor: WATCHER_ACTOR,
          detail: `exit epoch ${exitEpoch} seen at epoch ${epoch}`,
          exitEpoch,
          exitedBy,
        }),
      )
    ) {
      out.exiting++;
      state = "exiting";
    }
  }
  if (state === "exiting") {
    const at = exitEpoch ?? r.exitEpoch;
    if (at !== null && epoch >= at) {
      const moved = await tryMove(() =>
        moveExitRequest(store, r.id, {
          to: "exited",
          from: ["exiting"],
          actor: WATCHER_ACTOR,
          detail: `exited at epoch ${at}`,
        }),
      );
      if (moved) out.exited++;
    }
    return;
  }
  if (exitEpoch !== null || epoch <= r.deadlineEpoch) return;
  if ((WAITING as readonly string[]).includes(state)) {
    const moved = await tryMove(() =>
      moveExitRequest(store, r.id, {
        to: "late",
        from: WAITING,
        actor: WATCHER_ACTOR,
        detail: `no exit epoch by epoch ${epoch} (deadline ${r.deadlineEpoch})`,
      }),
    );
    if (moved) out.late++;
    state = "late";
  }
  if (state !== "late") return;
  const el = deps.execution;
  if (el === undefined) {
    deps.logger?.warn(
      { exitRequest: r.id, validatorIndex: r.validatorIndex },
      "exit request late and no execution-layer adapter to trigger it (set ORACLE_EL_SIM_URL or ORACLE_EL_RPC_URL)",
    );
    return;
  }
  const sent = await tryMove(() =>
    store.transaction(async (tx) => {
      await moveExitRequest(tx, r.id, {
        to: "triggered",
        from: ["late"],
        actor: WATCHER_ACTOR,
        detail: `EIP-7002 full-exit withdrawal request for validator ${r.validatorIndex} from the withdrawal vault`,
        triggered: true,
      });
      await el.submitWithdrawalRequest(`0x${r.pubkey}`, 0n);
    }),
  );
  if (sent) {
    out.triggered++;
    deps.logger?.info(
      { exitRequest: r.id, validatorIndex: r.validatorIndex, operatorId: r.operatorId },
      "late exit triggered by an EIP-7002 withdrawal request",
    );
  }
}
