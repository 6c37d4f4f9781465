/**
 * What the exit routes need, in the contract's shapes: `exitsPort(store, settings)`
 * (exits-adapter.ts) implements it over the store's exit requests (@poolkeeper/store exits/).
 */
import type { ExitProgressStage, ExitRequest, ExitState } from "@poolkeeper/contract";
import type { Static } from "typebox";

export type ExitRequestView = Static<typeof ExitRequest>;

export interface ExitsPort {
  list(q: {
    operatorId?: number;
    state?: ExitState;
    limit: number;
    beforeId?: number;
  }): Promise<ExitRequestView[]>;
  /** With its history; ERR_NOT_FOUND when there is none. */
  get(id: number): Promise<ExitRequestView>;
  /**
   * A DAO or admin request for one pool validator, with its audit entry, in one transaction.
   * 404 unknown key, 409 ERR_EXIT_REQUESTED (open request, or exiting/exited), 409 ERR_NOT_ON_CHAIN.
   */
  create(
    by: { pubkey: string } | { validatorIndex: number },
    who: { role: "admin" | "dao"; actor: string; reason: string },
  ): Promise<ExitRequestView>;
  /** The operator's report; the request must be `operatorId`'s (ERR_FORBIDDEN otherwise). */
  progress(
    id: number,
    p: { stage: ExitProgressStage; detail?: string },
    who: { operatorId: number; actor: string },
  ): Promise<ExitRequestView>;
  /** The operator's open requests above `afterId`, oldest first (the exits stream). */
  openAfter(operatorId: number, afterId: number): Promise<ExitRequestView[]>;
  operatorExists(operatorId: number): Promise<boolean>;
  /**
   * Calls `wake` when this process made a request (a prompt push to its streams; other
   * replicas' requests are found by each stream's poll). Returns the unsubscribe.
   */
  onRequested(wake: () => void): () => void;
}
