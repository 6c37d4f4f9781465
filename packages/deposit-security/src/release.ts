/**
 * The registry's release of deposit batches through deposit security (issue 13), after Lido's
 * DepositSecurityModule. Allocation makes a batch 'pending' (paid from the buffer); its deposit
 * data is handed out for sending only once 'released':
 *   - release: guardians post their signatures over (batch id, keys root, block root, slot); each
 *     is checked alone (current guardian, this batch, fresh, valid) and recorded; when a quorum of
 *     distinct guardians signed the same block and slot, the set is checked again as one
 *     (verifyDepositQuorum) and the batch is released, under the batch row's lock, never while
 *     deposits are paused.
 *   - refusal: a guardian that finds a key of a pending batch front-run posts a signed refusal
 *     with the evidence; in one transaction the batch is refused whole (never sent), its
 *     front-run keys become 'front_run' (evidence recorded), its other keys 'cancelled', the
 *     buffer gets the batch's payment back (a 'deposit_refund' ledger entry), each front-running
 *     operator's vetted keys are unvetted and its vetted limit cut to its keys ever deposited
 *     (below its first bad key), with audit entries and alerts.
 *   - pause: any one current guardian's signed pause stops every release (and allocation);
 *     only the DAO unpauses, with a reason; a pause signed at or before the last unpause is a
 *     replay and refused.
 * Without a guardian set (config null) batches are released at allocation ('unguarded').
 */
import { defineErrorCodes, type Logger, PoolkeeperError, toHex0x, ValidationError } from "@poolkeeper/core";
import {
  appendAudit,
  batchGuardianMessages,
  batchKeyEvidence,
  depositBatchKeys,
  findBatchSecurity,
  guardiansSeen,
  insertGuardianMessage,
  insertKeyEvidence,
  insertWatcherAlert,
  keyCountsByOperator,
  markBatchRefused,
  markBatchReleased,
  pendingBatchIds,
  type Queryable,
  readDepositSecurityState,
  type Store,
  setChangeContext,
  setDepositsPaused,
  setDepositsUnpaused,
  touchGuardian,
  transitionKeys,
  unvetNewestVetted,
  VETTED_LIMIT_STATES,
} from "@poolkeeper/store";
import type { EvidenceSource } from "./front-run.js";
import {
  batchKeysRoot,
  type GuardianDepositSignature,
  type GuardianHeartbeat,
  type GuardianPause,
  type GuardianRefusal,
  guardianEvidenceRoot,
  verifyDepositQuorum,
  verifyDepositSignature,
  verifyHeartbeat,
  verifyPause,
  verifyRefusal,
} from "./guardians.js";
import type { DepositSecurityConfig } from "./settings.js";

export const RELEASE_ERRORS = defineErrorCodes({
  /** Deposits are paused by a guardian: nothing is released or allocated until the DAO unpauses. */
  PAUSED: { code: "ERR_DEPOSITS_PAUSED", kind: "conflict" },
  /** The batch is not released (pending or refused): its deposit data is not handed out. */
  NOT_RELEASED: { code: "ERR_BATCH_NOT_RELEASED", kind: "conflict" },
  /** The batch is released or refused already. */
  NOT_PENDING: { code: "ERR_BATCH_NOT_PENDING", kind: "conflict" },
  /** An unpause while deposits are not paused. */
  NOT_PAUSED: { code: "ERR_DEPOSITS_NOT_PAUSED", kind: "conflict" },
  /** No such deposit batch. */
  NOT_FOUND: { code: "ERR_NOT_FOUND", kind: "not_found" },
  /** One guardian's signature given twice. */
  REPEATED: { code: "ERR_GUARDIAN_REPEATED", kind: "unprocessable" },
  /** No guardian set is configured: guardian messages cannot be checked. */
  NO_GUARDIANS: { code: "ERR_NO_GUARDIANS", kind: "conflict" },
});

/** Returns a batch's payment to the pool's buffer (PoolLedger.refundDeposit), in the caller's transaction. */
export interface DepositRefunder {
  refundDeposit(batchId: string, validators: number, wei: bigint, tx: Queryable): Promise<unknown>;
}

/** A front-run key as a guardian reports it (its decisive evidence). */
export interface RefusedKey {
  keyId: number;
  pubkey: string;
  evidence: {
    source: EvidenceSource;
    view: string;
    slot: number | null;
    credentials: string;
    amountGwei: string;
    validatorIndex: number | null;
    depositIndex: number | null;
  };
}

export interface PendingBatch {
  id: number;
  keysRoot: string;
  keys: Array<{ keyId: number; operatorId: number; pubkey: string; withdrawalCredentials: string }>;
}

export interface BatchSecurityView {
  status: "pending" | "released" | "refused";
  mode: string | null;
  quorum: number | null;
  releasedAt: string | null;
  releaseSlot: number | null;
  releaseBlockRoot: string | null;
  signers: string[];
  refusedAt: string | null;
  refusedBy: string | null;
  refusedReason: string | null;
  messages: Array<{
    kind: string;
    guardianId: string;
    slot: number;
    blockRoot: string | null;
    receivedAt: string;
    checks: Record<string, unknown>;
  }>;
  evidence: Array<{
    keyId: number;
    guardianId: string;
    source: string;
    view: string;
    slot: number;
    credentials: string;
    amountGwei: string;
  }>;
}

export interface SecurityStatus {
  enabled: boolean;
  paused: boolean;
  pausedBy: string | null;
  pauseSlot: number | null;
  pauseReason: string | null;
  pausedAt: string | null;
  lastUnpauseSlot: number | null;
  unpausedBy: string | null;
  unpauseReason: string | null;
  unpausedAt: string | null;
  currentSlot: number;
  quorum: number | null;
  maxAgeSlots: number | null;
  pauseExpirySlots: number | null;
  guardians: Array<{
    id: string;
    publicKey: string;
    lastSeenSlot: number | null;
    lastSeenAt: string | null;
    silent: boolean;
  }>;
  pendingBatches: number[];
}

export interface DepositSecurityDeps {
  store: Store;
  config: DepositSecurityConfig | null;
  refunder: DepositRefunder;
  /** The current slot (from the network's genesis time and the clock). */
  currentSlot: () => number;
  /** Network name under which alerts are stored (the watcher's). */
  network: string;
  logger?: Logger;
  /**
   * With governance: the guardian set as the governance store holds it now, read at each use (so
   * that every admin-api replica follows an executed `guardians` proposal at once); `config` is
   * then only the genesis value.
   */
  configNow?: () => Promise<DepositSecurityConfig | null>;
  /**
   * With governance: unpausing is a proposal (`deposits.unpause`, executed through `unpauseIn`);
   * `unpause` refuses with this error.
   */
  unpauseRefusal?: () => Error;
}

/** Lock a batch's release row; refuse unless it exists and is pending. */
async function lockPendingBatch(tx: Queryable, batchId: number): Promise<void> {
  const sec = await findBatchSecurity(tx, batchId, true);
  if (sec === undefined)
    throw new PoolkeeperError(RELEASE_ERRORS.NOT_FOUND, `no deposit batch ${batchId}`, { batchId });
  if (sec.status !== "pending")
    throw new PoolkeeperError(
      RELEASE_ERRORS.NOT_PENDING,
      `deposit batch ${batchId} is ${sec.status} already`,
      {
        batchId,
        status: sec.status,
      },
    );
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export class DepositSecurity {
  constructor(private readonly deps: DepositSecurityDeps) {}

  /** The guardian set and limits in force now (the governance store's when governed). */
  current(): Promise<DepositSecurityConfig | null> {
    return this.deps.configNow?.() ?? Promise.resolve(this.deps.config);
  }

  private async guarded(): Promise<DepositSecurityConfig> {
    const c = await this.current();
    if (c === null)
      throw new PoolkeeperError(
        RELEASE_ERRORS.NO_GUARDIANS,
        "no deposit guardians are configured (DEPOSIT_GUARDIANS): batches are released at allocation",
      );
    return c;
  }

  /** Right after allocation: without guardians the batch is released at once ('unguarded'). */
  async afterAllocation(batchId: number): Promise<void> {
    if ((await this.current()) !== null) return;
    await markBatchReleased(this.deps.store, batchId, {
      mode: "unguarded",
      blockRoot: null,
      slot: null,
      signers: [],
    });
  }

  /** Refuse allocation while paused (Lido refuses deposits while paused). */
  async assertNotPaused(db: Queryable = this.deps.store): Promise<void> {
    const s = await readDepositSecurityState(db);
    if (s.paused)
      throw new PoolkeeperError(
        RELEASE_ERRORS.PAUSED,
        `deposits are paused by guardian ${s.pausedBy} (slot ${s.pauseSlot}): nothing is allocated or released until the DAO unpauses`,
        { pausedBy: s.pausedBy, pauseSlot: s.pauseSlot },
      );
  }

  /** The batch's keys root and keys; throws ERR_NOT_FOUND when there is no such batch. */
  private async batchKeys(db: Queryable, batchId: number): Promise<PendingBatch> {
    const keys = await depositBatchKeys(db, batchId);
    if (keys.length === 0)
      throw new PoolkeeperError(RELEASE_ERRORS.NOT_FOUND, `no deposit batch ${batchId}`, { batchId });
    const list = keys.map((k) => ({
      keyId: k.keyId,
      operatorId: k.operatorId,
      pubkey: toHex0x(k.depositData.pubkey),
      withdrawalCredentials: toHex0x(k.depositData.withdrawalCredentials),
      amountGwei: k.depositData.amountGwei,
    }));
    return {
      id: batchId,
      keysRoot: batchKeysRoot(list.map((k) => k.pubkey)),
      keys: list.map(({ amountGwei: _a, ...k }) => k),
    };
  }

  /** Batches awaiting release with their keys (what guardians check), oldest first. */
  async pendingBatches(limit = 20): Promise<PendingBatch[]> {
    const ids = await pendingBatchIds(this.deps.store, limit);
    const out: PendingBatch[] = [];
    for (const id of ids) out.push(await this.batchKeys(this.deps.store, id));
    return out;
  }

  /** Is the batch released (its deposit data may be handed out)? Throws ERR_BATCH_NOT_RELEASED otherwise. */
  async assertReleased(batchId: number): Promise<void> {
    const s = await findBatchSecurity(this.deps.store, batchId);
    if (s === undefined) return; // no such batch: the caller answers 404
    if (s.status !== "released")
      throw new PoolkeeperError(
        RELEASE_ERRORS.NOT_RELEASED,
        `deposit batch ${batchId} is ${s.status}: its deposit data is handed out only once guardians released it`,
        { batchId, status: s.status },
      );
  }

  async batchSecurity(batchId: number): Promise<BatchSecurityView | undefined> {
    const db = this.deps.store;
    const s = await findBatchSecurity(db, batchId);
    if (s === undefined) return undefined;
    const messages = await batchGuardianMessages(db, batchId);
    const evidence = await batchKeyEvidence(db, batchId);
    return {
      status: s.status,
      mode: s.releaseMode,
      quorum: (await this.current())?.quorum ?? null,
      releasedAt: iso(s.releasedAt),
      releaseSlot: s.releaseSlot,
      releaseBlockRoot: s.releaseBlockRoot,
      signers: s.releaseSigners,
      refusedAt: iso(s.refusedAt),
      refusedBy: s.refusedBy,
      refusedReason: s.refusedReason,
      messages: messages.map((m) => ({
        kind: m.kind,
        guardianId: m.guardianId,
        slot: m.slot,
        blockRoot: m.blockRoot,
        receivedAt: m.receivedAt.toISOString(),
        checks: m.checks,
      })),
      evidence: evidence.map((e) => ({
        keyId: e.keyId,
        guardianId: e.guardianId,
        source: e.source,
        view: e.view,
        slot: e.slot,
        credentials: e.credentials,
        amountGwei: e.amountGwei.toString(),
      })),
    };
  }

  /**
   * Guardians' release signatures for a batch (usually one: the poster's own), with the checks
   * the poster ran. Each is checked alone and recorded; the batch is released once a quorum of
   * distinct guardians signed the same block and slot (checked again as one set).
   */
  async submitSignatures(
    batchId: number,
    sigs: readonly GuardianDepositSignature[],
    checks: Record<string, unknown> = {},
  ): Promise<BatchSecurityView> {
    const c = await this.guarded();
    if (!Array.isArray(sigs) || sigs.length === 0)
      throw new ValidationError("signatures", "must list at least one guardian signature");
    const currentSlot = this.deps.currentSlot();
    await this.deps.store.transaction(async (tx) => {
      const state = await readDepositSecurityState(tx, true);
      await lockPendingBatch(tx, batchId);
      if (state.paused)
        throw new PoolkeeperError(
          RELEASE_ERRORS.PAUSED,
          `deposits are paused by guardian ${state.pausedBy}: batch ${batchId} cannot be released`,
          { pausedBy: state.pausedBy },
        );
      const { keysRoot } = await this.batchKeys(tx, batchId);
      const opts = { currentSlot, maxAgeSlots: c.maxAgeSlots, batchId, keysRoot };
      const seen = new Set<string>();
      const checked = sigs.map((s, i) => {
        const v = verifyDepositSignature(s, c.guardians, opts, `signatures[${i}]`);
        if (seen.has(v.guardianId))
          throw new PoolkeeperError(
            RELEASE_ERRORS.REPEATED,
            `signatures[${i}].guardianId: ${v.guardianId} signed twice`,
            {
              field: `signatures[${i}].guardianId`,
              guardianId: v.guardianId,
            },
          );
        seen.add(v.guardianId);
        return v;
      });
      for (const v of checked) {
        await insertGuardianMessage(tx, {
          kind: "release",
          guardianId: v.guardianId,
          batchId,
          slot: v.slot,
          blockRoot: v.blockRoot,
          signature: v.signature,
          checks,
        });
        await touchGuardian(tx, v.guardianId, v.slot);
      }
      // a quorum over one block and slot, fresh, each guardian once
      const stored = (await batchGuardianMessages(tx, batchId)).filter(
        (m) => m.kind === "release" && currentSlot - m.slot <= c.maxAgeSlots && m.slot <= currentSlot,
      );
      const groups = new Map<string, GuardianDepositSignature[]>();
      for (const m of stored) {
        const k = `${m.blockRoot}:${m.slot}`;
        const g = groups.get(k) ?? [];
        if (!g.some((x) => x.guardianId === m.guardianId))
          g.push({
            guardianId: m.guardianId,
            batchId,
            keysRoot,
            blockRoot: m.blockRoot!,
            slot: m.slot,
            signature: m.signature,
          });
        groups.set(k, g);
      }
      const full = [...groups.values()].find((g) => g.length >= c.quorum);
      if (full === undefined) return;
      const q = verifyDepositQuorum(full, c.guardians, c.quorum, opts);
      await markBatchReleased(tx, batchId, {
        mode: "guardians",
        blockRoot: q.blockRoot,
        slot: q.slot,
        signers: q.signers,
      });
      await appendAudit(tx, {
        actor: `guardians:${q.signers.join(",")}`,
        action: "deposits.release",
        target: `batch:${batchId}`,
        reason: null,
        before: { status: "pending" },
        after: { status: "released", slot: q.slot, blockRoot: q.blockRoot, signers: q.signers },
      });
      this.deps.logger?.info(
        { batchId, slot: q.slot, signers: q.signers },
        "deposit batch released by guardians",
      );
    });
    return (await this.batchSecurity(batchId))!;
  }

  /**
   * A guardian's signed refusal of a pending batch with the keys it found front-run: the batch is
   * refused whole (see the module's comment). Returns the batch's status.
   */
  async refuseBatch(
    batchId: number,
    refusal: GuardianRefusal,
    keys: readonly RefusedKey[],
  ): Promise<BatchSecurityView> {
    const c = await this.guarded();
    if (!Array.isArray(keys) || keys.length === 0)
      throw new ValidationError("keys", "must list the front-run keys with their evidence");
    const currentSlot = this.deps.currentSlot();
    const evidenceRoot = guardianEvidenceRoot(keys);
    if (refusal?.evidenceRoot !== evidenceRoot)
      throw new ValidationError("refusal.evidenceRoot", "is not the root of the keys and evidence posted");
    await this.deps.store.transaction(async (tx) => {
      await lockPendingBatch(tx, batchId);
      const batch = await this.batchKeys(tx, batchId);
      const v = verifyRefusal(refusal, c.guardians, {
        currentSlot,
        maxAgeSlots: c.maxAgeSlots,
        batchId,
        keysRoot: batch.keysRoot,
      });
      const byId = new Map(batch.keys.map((k) => [k.keyId, k]));
      const bad = keys.map((k, i) => {
        const key = byId.get(k.keyId);
        if (key === undefined || key.pubkey !== k.pubkey?.toLowerCase())
          throw new ValidationError(`keys[${i}].keyId`, `is not a key of batch ${batchId} with that pubkey`);
        if (k.evidence?.credentials === key.withdrawalCredentials)
          throw new ValidationError(
            `keys[${i}].evidence.credentials`,
            "are the pool's: that is no front-run",
          );
        return { ...k, operatorId: key.operatorId };
      });
      const reason = `guardian ${v.guardianId}: ${bad.length} key(s) front-run at slot ${v.slot}`;
      await markBatchRefused(tx, batchId, v.guardianId, reason);
      await insertGuardianMessage(tx, {
        kind: "refuse",
        guardianId: v.guardianId,
        batchId,
        slot: v.slot,
        blockRoot: null,
        signature: v.signature,
        checks: { evidenceRoot, keys: bad.map(({ operatorId: _o, ...k }) => k) },
      });
      await touchGuardian(tx, v.guardianId, v.slot);
      await setChangeContext(
        tx,
        `guardian:${v.guardianId}`,
        `deposit batch ${batchId} refused by deposit security`,
      );
      const badIds = new Set(bad.map((k) => k.keyId));
      const fr = await transitionKeys(tx, [...badIds], ["deposited"], "front_run");
      const others = batch.keys.filter((k) => !badIds.has(k.keyId)).map((k) => k.keyId);
      const cancelled = await transitionKeys(tx, others, ["deposited"], "cancelled");
      if (fr.length + cancelled.length !== batch.keys.length)
        throw new Error(
          `batch ${batchId}: only ${fr.length + cancelled.length} of ${batch.keys.length} keys were deposited`,
        );
      await insertKeyEvidence(
        tx,
        bad.map((k) => ({
          keyId: k.keyId,
          batchId,
          guardianId: v.guardianId,
          source: k.evidence.source,
          view: String(k.evidence.view).slice(0, 32),
          slot: k.evidence.slot ?? v.slot,
          credentials: k.evidence.credentials.toLowerCase(),
          amountGwei: BigInt(k.evidence.amountGwei),
          validatorIndex: k.evidence.validatorIndex,
          depositIndex: k.evidence.depositIndex,
        })),
      );
      // the payment back to the buffer: 32 ETH per key, as the deposit entry took
      const wei = BigInt(batch.keys.length) * 32n * 10n ** 18n;
      await this.deps.refunder.refundDeposit(String(batchId), batch.keys.length, wei, tx);
      await appendAudit(tx, {
        actor: `guardian:${v.guardianId}`,
        action: "deposits.refuse",
        target: `batch:${batchId}`,
        reason,
        before: { status: "pending" },
        after: { status: "refused", frontRun: [...badIds], cancelled: others, refundWei: wei.toString() },
      });
      const ops = [...new Set(bad.map((k) => k.operatorId))];
      for (const op of ops)
        await this.unvetOperator(tx, op, `front-run key in deposit batch ${batchId}`, v.guardianId);
      for (const k of bad)
        await insertWatcherAlert(tx, this.deps.network, {
          kind: "deposit_front_run",
          dedupKey: `deposit_front_run:${k.keyId}`,
          operatorId: k.operatorId,
          validatorIndex: k.evidence.validatorIndex,
          epoch: null,
          message: `key ${k.pubkey} of operator ${k.operatorId} was front-run (${k.evidence.source}, credentials ${k.evidence.credentials}, ${k.evidence.amountGwei} gwei, slot ${k.evidence.slot}): deposit batch ${batchId} refused whole, its payment returned to the buffer, the operator's vetted keys unvetted`,
          details: { batchId, keyId: k.keyId, evidence: k.evidence, guardianId: v.guardianId },
          webhook: true,
        });
      this.deps.logger?.warn(
        { batchId, frontRun: [...badIds], guardianId: v.guardianId },
        "deposit batch refused: front-run keys",
      );
    });
    return (await this.batchSecurity(batchId))!;
  }

  /**
   * Unvet an operator below its first bad key (Lido's council daemon): every vetted key back to
   * submitted and the vetted limit cut to its keys ever deposited, with an audit entry and an alert.
   */
  async unvetOperator(tx: Queryable, operatorId: number, why: string, by: string): Promise<void> {
    const before = await tx.query<{ vetted_limit: number }>(
      "SELECT vetted_limit FROM operators WHERE id = $1 FOR UPDATE",
      [operatorId],
    );
    const limitBefore = before.rows[0]?.vetted_limit ?? 0;
    const counts = (await keyCountsByOperator(tx, [operatorId])).get(operatorId);
    const vetted = counts?.vetted ?? 0;
    const unvetted = await unvetNewestVetted(tx, operatorId, vetted);
    const kept = VETTED_LIMIT_STATES.filter((s) => s !== "vetted").reduce(
      (n, s) => n + (counts?.[s] ?? 0),
      0,
    );
    const limit = Math.min(limitBefore, kept);
    await tx.query("UPDATE operators SET vetted_limit = $2 WHERE id = $1", [operatorId, limit]);
    await appendAudit(tx, {
      actor: `guardian:${by}`,
      action: "keys.unvet",
      target: `operator:${operatorId}`,
      reason: why,
      before: { vettedLimit: limitBefore, vetted },
      after: { vettedLimit: limit, unvetted },
    });
    await insertWatcherAlert(tx, this.deps.network, {
      kind: "keys_unvetted",
      dedupKey: `keys_unvetted:${operatorId}:${Date.now()}`,
      operatorId,
      validatorIndex: null,
      epoch: null,
      message: `operator ${operatorId}: ${unvetted} vetted key(s) unvetted and the vetted limit cut from ${limitBefore} to ${limit} (${why})`,
      details: { vettedLimitBefore: limitBefore, vettedLimit: limit, unvetted, reason: why },
      webhook: true,
    });
  }

  /** A guardian's signed pause: every release and allocation stops until the DAO unpauses. */
  async pause(p: GuardianPause): Promise<SecurityStatus> {
    const c = await this.guarded();
    const currentSlot = this.deps.currentSlot();
    await this.deps.store.transaction(async (tx) => {
      const state = await readDepositSecurityState(tx, true);
      const v = verifyPause(p, c.guardians, {
        currentSlot,
        pauseExpirySlots: c.pauseExpirySlots,
        lastUnpauseSlot: state.lastUnpauseSlot,
      });
      await insertGuardianMessage(tx, {
        kind: "pause",
        guardianId: v.guardianId,
        batchId: null,
        slot: v.slot,
        blockRoot: null,
        signature: p.signature,
        checks: { expiresAtSlot: v.expiresAtSlot },
      });
      await touchGuardian(tx, v.guardianId, v.slot);
      if (state.paused) return; // paused already: the first pause stays on record
      const reason = `guardian ${v.guardianId} paused deposits at slot ${v.slot}`;
      await setDepositsPaused(tx, v.guardianId, v.slot, reason);
      await appendAudit(tx, {
        actor: `guardian:${v.guardianId}`,
        action: "deposits.pause",
        target: "deposits",
        reason,
        before: { paused: false },
        after: { paused: true, slot: v.slot },
      });
      await insertWatcherAlert(tx, this.deps.network, {
        kind: "deposits_paused",
        dedupKey: `deposits_paused:${v.guardianId}:${v.slot}`,
        operatorId: null,
        validatorIndex: null,
        epoch: null,
        message: `${reason}: no deposit batch is allocated or released until the DAO unpauses`,
        details: { guardianId: v.guardianId, slot: v.slot },
        webhook: true,
      });
      this.deps.logger?.warn({ guardianId: v.guardianId, slot: v.slot }, "deposits paused by a guardian");
    });
    return this.status();
  }

  /** The DAO unpauses, with a reason; pauses signed at or before this slot can never apply again. */
  async unpause(actor: string, reason: string): Promise<SecurityStatus> {
    if (this.deps.unpauseRefusal !== undefined) throw this.deps.unpauseRefusal();
    await this.deps.store.transaction((tx) => this.unpauseIn(tx, actor, reason));
    return this.status();
  }

  /**
   * Resume deposits in the caller's transaction (the DAO's route, or an executed
   * `deposits.unpause` proposal): the unpause slot is recorded, so that a pause message made
   * before it can never pause again (the replay).
   */
  async unpauseIn(tx: Queryable, actor: string, reason: string): Promise<void> {
    if (typeof reason !== "string" || reason.trim().length === 0 || reason.length > 1000)
      throw new ValidationError("reason", "must be 1-1000 characters: why deposits may resume");
    const currentSlot = this.deps.currentSlot();
    const state = await readDepositSecurityState(tx, true);
    if (!state.paused)
      throw new PoolkeeperError(RELEASE_ERRORS.NOT_PAUSED, "deposits are not paused", { paused: false });
    await setDepositsUnpaused(tx, actor, currentSlot, reason);
    await appendAudit(tx, {
      actor,
      action: "deposits.unpause",
      target: "deposits",
      reason,
      before: { paused: true, pausedBy: state.pausedBy, pauseSlot: state.pauseSlot },
      after: { paused: false, slot: currentSlot },
    });
  }

  /** A guardian's signed heartbeat: its last-seen slot. */
  async heartbeat(h: GuardianHeartbeat): Promise<SecurityStatus> {
    const c = await this.guarded();
    const v = verifyHeartbeat(h, c.guardians, {
      currentSlot: this.deps.currentSlot(),
      maxAgeSlots: c.maxAgeSlots,
    });
    await touchGuardian(this.deps.store, v.guardianId, v.slot);
    return this.status();
  }

  /** Paused or not, by whom and why, each guardian's last-seen slot; raises guardian_silent alerts. */
  async status(): Promise<SecurityStatus> {
    const db = this.deps.store;
    const c = await this.current();
    const currentSlot = this.deps.currentSlot();
    const s = await readDepositSecurityState(db);
    const seen = await guardiansSeen(db);
    const guardians = (c?.guardians ?? []).map((g) => {
      const x = seen.get(g.id);
      const silent = c !== null && (x === undefined || currentSlot - x.lastSlot > c.silentSlots);
      return {
        id: g.id,
        publicKey: g.publicKey,
        lastSeenSlot: x?.lastSlot ?? null,
        lastSeenAt: iso(x?.lastSeenAt ?? null),
        silent,
      };
    });
    for (const g of guardians)
      if (g.silent && c !== null) {
        // one alert per guardian and window of silentSlots
        const window = Math.floor(currentSlot / c.silentSlots);
        await insertWatcherAlert(db, this.deps.network, {
          kind: "guardian_silent",
          dedupKey: `guardian_silent:${g.id}:${window}`,
          operatorId: null,
          validatorIndex: null,
          epoch: null,
          message: `deposit guardian ${g.id} has not reported for more than ${c.silentSlots} slots (last seen: ${g.lastSeenSlot ?? "never"})`,
          details: { guardianId: g.id, lastSeenSlot: g.lastSeenSlot, currentSlot },
          webhook: true,
        });
      }
    return {
      enabled: c !== null,
      paused: s.paused,
      pausedBy: s.pausedBy,
      pauseSlot: s.pauseSlot,
      pauseReason: s.pauseReason,
      pausedAt: iso(s.pausedAt),
      lastUnpauseSlot: s.lastUnpauseSlot,
      unpausedBy: s.unpausedBy,
      unpauseReason: s.unpauseReason,
      unpausedAt: iso(s.unpausedAt),
      currentSlot,
      quorum: c?.quorum ?? null,
      maxAgeSlots: c?.maxAgeSlots ?? null,
      pauseExpirySlots: c?.pauseExpirySlots ?? null,
      guardians,
      pendingBatches: await pendingBatchIds(db, 1000),
    };
  }
}
