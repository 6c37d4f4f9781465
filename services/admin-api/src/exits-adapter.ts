import { EventEmitter } from "node:events";
import { ConfigError, fromHex, PoolkeeperError } from "@poolkeeper/core";
import {
  appendAudit,
  EXIT_ERRORS,
  type ExitEventRow,
  type ExitRequestRow,
  exitRequestHistory,
  findExitRequest,
  findOperator,
  findPoolValidator,
  insertExitRequest,
  lastWatcherEpoch,
  listExitRequests,
  moveExitRequest,
  noteExitRequest,
  operatorOpenExitsAfter,
  type Store,
} from "@poolkeeper/store";
import { ForbiddenError, NotFoundError } from "./errors.js";
import type { ExitRequestView, ExitsPort } from "./exits-port.js";

export interface ExitsSettings {
  /** The watcher's network name (its validator table gives the validator indices and epochs). */
  network: string;
  /** requestedEpoch + this = the deadline (EXIT_DEADLINE_EPOCHS). */
  deadlineEpochs: number;
}

/** An exit request as the contract shows it. */
export function exitRequestView(r: ExitRequestRow, history?: readonly ExitEventRow[]): ExitRequestView {
  return {
    id: r.id,
    operatorId: r.operatorId,
    keyId: r.keyId,
    pubkey: `0x${r.pubkey}`,
    validatorIndex: r.validatorIndex,
    reason: r.reason,
    note: r.note,
    requestedAt: r.requestedAt.toISOString(),
    refSlot: r.refSlot,
    requestedEpoch: r.requestedEpoch,
    deadlineEpoch: r.deadlineEpoch,
    state: r.state,
    exitedBy: r.exitedBy,
    exitEpoch: r.exitEpoch,
    ...(history !== undefined
      ? {
          history: history.map((e) => ({
            state: e.state,
            at: e.at.toISOString(),
            actor: e.actor,
            detail: e.detail,
          })),
        }
      : {}),
  };
}

/** The exit routes over the store. */
export function exitsPort(store: Store, settings: ExitsSettings): ExitsPort {
  if (!Number.isSafeInteger(settings.deadlineEpochs) || settings.deadlineEpochs < 1) {
    throw new ConfigError("EXIT_DEADLINE_EPOCHS must be a whole number of epochs, at least 1");
  }
  const requested = new EventEmitter();
  requested.setMaxListeners(0);
  const withHistory = async (id: number) => {
    const r = await findExitRequest(store, id);
    if (r === undefined) throw new NotFoundError("exit", String(id));
    return exitRequestView(r, await exitRequestHistory(store, id));
  };
  return {
    async list(q) {
      return (await listExitRequests(store, q)).map((r) => exitRequestView(r));
    },
    get: withHistory,
    async create(by, who) {
      const made = await store.transaction(async (tx) => {
        const v = await findPoolValidator(
          tx,
          settings.network,
          "pubkey" in by ? { pubkey: Buffer.from(fromHex(by.pubkey, "pubkey", 48)).toString("hex") } : by,
        );
        const what = "pubkey" in by ? by.pubkey : `validator index ${by.validatorIndex}`;
        if (v === undefined) throw new NotFoundError("key", what);
        if (v.validatorIndex === null) {
          throw new PoolkeeperError(
            EXIT_ERRORS.NOT_ON_CHAIN,
            `key 0x${v.pubkey} is no validator on the chain yet (state ${v.keyState})`,
            { pubkey: `0x${v.pubkey}`, state: v.keyState },
          );
        }
        if (v.exitEpoch !== null || ["exiting", "exited", "slashed"].includes(v.keyState)) {
          throw new PoolkeeperError(
            EXIT_ERRORS.EXIT_REQUESTED,
            `validator ${v.validatorIndex} is already ${v.keyState === "active" ? "exiting" : v.keyState}`,
            { validatorIndex: v.validatorIndex, state: v.keyState },
          );
        }
        const epoch = (await lastWatcherEpoch(tx, settings.network)) ?? 0;
        const row = await insertExitRequest(tx, {
          operatorId: v.operatorId,
          keyId: v.keyId,
          validatorIndex: v.validatorIndex,
          reason: who.role,
          note: who.reason,
          refSlot: null,
          requestedEpoch: epoch,
          deadlineEpoch: epoch + settings.deadlineEpochs,
          actor: who.actor,
        });
        const view = exitRequestView(row);
        await appendAudit(tx, {
          actor: who.actor,
          action: "exit.request",
          target: `exit:${row.id}`,
          reason: who.reason,
          before: null,
          after: view,
        });
        return view;
      });
      requested.emit("requested", made.operatorId);
      return made;
    },
    async progress(id, p, who) {
      const r = await findExitRequest(store, id);
      if (r === undefined) throw new NotFoundError("exit", String(id));
      if (r.operatorId !== who.operatorId) {
        throw new ForbiddenError(`exit request ${id} is not operator ${who.operatorId}'s`);
      }
      const detail = p.detail ?? null;
      // signed and submitted move the request forward; a repeated or late report is kept in the history only.
      const forward =
        p.stage === "signed" && r.state === "requested"
          ? (["requested"] as const)
          : p.stage === "submitted" && (r.state === "requested" || r.state === "signed")
            ? (["requested", "signed"] as const)
            : null;
      await store.transaction(async (tx) => {
        if (forward !== null) {
          const to = p.stage as "signed" | "submitted";
          await moveExitRequest(tx, id, { to, from: forward, actor: who.actor, detail });
        } else {
          await noteExitRequest(tx, id, p.stage, who.actor, detail);
        }
      });
      return withHistory(id);
    },
    async openAfter(operatorId, afterId) {
      return (await operatorOpenExitsAfter(store, operatorId, afterId)).map((r) => exitRequestView(r));
    },
    async operatorExists(operatorId) {
      return (await findOperator(store, operatorId)) !== undefined;
    },
    onRequested(wake) {
      requested.on("requested", wake);
      return () => requested.off("requested", wake);
    },
  };
}
