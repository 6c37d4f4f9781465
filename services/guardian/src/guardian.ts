/**
 * One deposit guardian (issue 13, after Lido's council daemon): every round it reads the batches
 * awaiting release from the admin API, checks each batch's keys against the chain through its own
 * beacon nodes and the execution layer's deposit log (checkBatchKeys: finalized and head states,
 * deposits not yet in a state), and
 *   - signs the release message (batch id, keys root, the head's block root and slot) when every
 *     key is clean;
 *   - when a key is front-run: pauses all deposits (a signed pause at the head's slot) and posts a
 *     signed refusal with the evidence, so the batch is refused whole;
 *   - reports its head with a signed heartbeat, so that a silent guardian is noticed.
 * Its signing key never leaves this object: not in a log line, a metric or an error.
 */
import type { BeaconNodePool } from "@poolkeeper/beacon";
import type { ApiClient } from "@poolkeeper/contract";
import { type Logger, pollLoop, toHex0x } from "@poolkeeper/core";
import {
  type BatchCheck,
  checkBatchKeys,
  type DepositLogSource,
  finalizedStateCache,
  guardianEvidenceRoot,
  type RefusedKey,
  signDepositMessage,
  signHeartbeat,
  signPause,
  signRefusal,
} from "@poolkeeper/deposit-security";
import type { GuardianMetrics } from "./metrics.js";

export interface GuardianDeps {
  api: ApiClient;
  beacon: BeaconNodePool;
  el?: DepositLogSource;
  logger: Logger;
  metrics?: GuardianMetrics;
}

export interface GuardianIdentity {
  guardianId: string;
  secretKey: Uint8Array;
}

export type BatchOutcome = "signed" | "refused" | "not_clean" | "paused";

export interface RoundResult {
  batches: Array<{ id: number; outcome: BatchOutcome; slot: number }>;
}

/** The checks a guardian ran, as it posts them with its signature (the batch's status shows them). */
function checksOf(c: BatchCheck, ms: number): Record<string, unknown> {
  return {
    checkedAt: new Date().toISOString(),
    ms,
    head: { slot: c.slot, blockRoot: c.blockRoot },
    finalized: { slot: c.states.finalized.slot, blockRoot: c.states.finalized.blockRoot },
    states: {
      finalized: {
        validators: c.states.finalized.validators,
        pendingDeposits: c.states.finalized.pendingDeposits,
      },
      head: { validators: c.states.head.validators, pendingDeposits: c.states.head.pendingDeposits },
    },
    execution: c.execution,
    counts: c.counts,
  };
}

export class Guardian {
  readonly #secretKey: Uint8Array;
  /** The finalized state, kept while the finalized block stays (read once an epoch, not per batch). */
  readonly #finalized = finalizedStateCache();
  readonly guardianId: string;

  constructor(
    private readonly deps: GuardianDeps,
    identity: GuardianIdentity,
  ) {
    this.guardianId = identity.guardianId;
    this.#secretKey = identity.secretKey;
  }

  /** The head's slot and block root (for a heartbeat when no batch was checked). */
  private async head(): Promise<{ slot: number; blockRoot: string }> {
    const beacon = this.deps.beacon;
    const h = await beacon.request("head header", async (api) => {
      const r = await api.beacon.getBlockHeader({ blockId: "head" });
      const v = r.value();
      return { slot: v.header.message.slot, blockRoot: toHex0x(v.root) };
    });
    if (h === null) throw new Error("no beacon node answers the head header");
    return h;
  }

  /** One round: check every batch awaiting release, then report the head. */
  async round(): Promise<RoundResult> {
    const { api, logger, metrics } = this.deps;
    const pending = (await api.listPendingBatches()).data;
    const out: RoundResult = { batches: [] };
    let head: { slot: number; blockRoot: string } | undefined;
    for (const b of pending.batches) {
      if (b.keys.length === 0) continue;
      const started = performance.now();
      const check = await checkBatchKeys(
        this.deps.beacon,
        {
          keys: b.keys.map((k) => ({
            keyId: k.keyId,
            pubkey: k.pubkey,
            withdrawalCredentials: k.withdrawalCredentials,
          })),
          poolWithdrawalCredentials: pending.withdrawalCredentials,
          genesisForkVersion: pending.genesisForkVersion,
        },
        this.deps.el,
        { finalizedCache: this.#finalized },
      );
      const ms = Math.round(performance.now() - started);
      metrics?.checkSeconds.observe(ms / 1000);
      head = { slot: check.slot, blockRoot: check.blockRoot };
      const outcome = await this.act(b.id, b.keysRoot, check, ms);
      metrics?.batches.inc({ outcome });
      out.batches.push({ id: b.id, outcome, slot: check.slot });
      logger.info({ batchId: b.id, outcome, slot: check.slot, counts: check.counts, ms }, "batch checked");
    }
    head ??= await this.head();
    metrics?.headSlot.set(head.slot);
    await api.guardianHeartbeat({
      body: signHeartbeat(this.#secretKey, this.guardianId, head.slot, head.blockRoot),
    });
    return out;
  }

  private async act(batchId: number, keysRoot: string, check: BatchCheck, ms: number): Promise<BatchOutcome> {
    const { api, logger } = this.deps;
    const frontRun = check.keys.filter((k) => k.verdict === "front_run");
    if (frontRun.length > 0) {
      // stop every deposit first, then refuse the batch with the evidence
      const pause = signPause(this.#secretKey, this.guardianId, check.slot);
      await api.pauseDeposits({ body: pause }).catch((e: unknown) => {
        logger.warn({ err: (e as Error).message, batchId }, "pause refused");
      });
      const keys: RefusedKey[] = frontRun.map((k) => {
        const d = k.decisive!;
        return {
          keyId: k.keyId,
          pubkey: k.pubkey.toLowerCase(),
          evidence: {
            source: d.source,
            view: d.view,
            slot: d.slot,
            credentials: d.credentials.toLowerCase(),
            amountGwei: d.amountGwei.toString(),
            validatorIndex: d.validatorIndex,
            depositIndex: d.depositIndex,
          },
        };
      });
      const refusal = signRefusal(this.#secretKey, this.guardianId, {
        batchId,
        keysRoot,
        evidenceRoot: guardianEvidenceRoot(keys),
        slot: check.slot,
      });
      await api.refuseDepositBatch({ params: { id: batchId }, body: { refusal, keys } });
      logger.warn(
        { batchId, frontRun: keys.map((k) => k.keyId) },
        "front-run keys found: deposits paused, batch refused",
      );
      return "refused";
    }
    if (!check.ok) {
      // keys the pool deposited already: nothing to sign, nothing front-run (an operator's mistake to look at)
      logger.warn({ batchId, counts: check.counts }, "batch not clean: not signed");
      return "not_clean";
    }
    const sig = signDepositMessage(this.#secretKey, this.guardianId, {
      batchId,
      keysRoot,
      blockRoot: check.blockRoot,
      slot: check.slot,
    });
    try {
      await api.releaseDepositBatch({
        params: { id: batchId },
        body: { signatures: [sig], checks: checksOf(check, ms) },
      });
    } catch (e) {
      if ((e as { code?: string }).code === "ERR_DEPOSITS_PAUSED") return "paused";
      throw e;
    }
    return "signed";
  }

  /**
   * Rounds every `pollMs` until stopped; a failed round (a node down, the admin API away) is
   * logged and counted, and the next round tries again. `stop()` waits for a running round.
   */
  start(pollMs: number): { stop(): Promise<void> } {
    return pollLoop(
      () => this.round(),
      pollMs,
      (e: unknown) => {
        const code = (e as { code?: unknown }).code;
        this.deps.metrics?.errors.inc({ code: typeof code === "string" ? code : "error" });
        this.deps.logger.warn({ err: e instanceof Error ? e.message : String(e) }, "guardian round failed");
      },
    );
  }
}
