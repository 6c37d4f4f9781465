import { formatWeiAsEth, gweiToWei, LIMITS, PoolkeeperError, toHex0x } from "@poolkeeper/core";
import {
  appendAudit,
  type DepositIdentity,
  type DepositIdentityMismatch,
  depositBatchKeys,
  findDepositBatch,
  insertDepositBatch,
  keyCountsByOperator,
  listDepositBatchRows,
  listOperatorRows,
  lockAllocation,
  pinPoolIdentity,
  poolIdentityOf,
  type Queryable,
  readDepositSecurityState,
  setChangeContext,
} from "@poolkeeper/store";
import type { DepositPayer, RegistryContext } from "./context.js";
import { mapRuleViolation, notFound, REGISTRY_ERRORS } from "./errors.js";
import { allocateMinFirst } from "./min-first.js";
import { type Bucket, bucketsOf, MAX_ALLOCATION } from "./review.js";
import type { DepositBatch, DepositBatchRefs, DepositBatchSummary } from "./types.js";
import { checkActor, checkCount, checkId } from "./validate.js";

/* Allocation: MinFirst into deposit batches under a pool-wide lock, and reading batches back. */

/** Every operator with its MinFirst inputs; `forUpdate` locks the operator rows. */
export async function readBuckets(db: Queryable, forUpdate: boolean): Promise<Bucket[]> {
  const ops = await listOperatorRows(db, forUpdate);
  const counts = await keyCountsByOperator(db);
  return bucketsOf(ops, counts);
}

/** A key picked for a deposit batch does not carry the pool's identity: the batch is refused whole. */
function identityMismatch(m: DepositIdentityMismatch, pool: DepositIdentity): PoolkeeperError {
  const expected =
    m.field === "withdrawal_credentials"
      ? toHex0x(pool.withdrawalCredentials)
      : m.field === "fork_version"
        ? toHex0x(pool.forkVersion)
        : pool.networkName;
  const pubkey = toHex0x(m.pubkey);
  return new PoolkeeperError(
    REGISTRY_ERRORS.CONFLICT,
    `key ${pubkey}: ${m.field} ${m.value} is not the pool's ${expected}; the deposit batch was refused whole, nothing was deposited (remove the key)`,
    { pubkey, keyId: m.keyId, field: m.field, value: m.value, expected },
  );
}

/**
 * A batch the pool's buffer cannot pay for: refused whole, with the figures (wei as decimal
 * strings) and how many keys the buffer pays at this batch's amount per key. The API's count is
 * what the caller asks for, as with ERR_NO_CAPACITY: the batch is refused, not cut down.
 */
function bufferInsufficient(count: number, neededWei: bigint, depositableWei: bigint): PoolkeeperError {
  const shortfallWei = neededWei - depositableWei;
  const payableKeys = Number((depositableWei * BigInt(count)) / neededWei);
  const keys = (n: number) => `${n} key${n === 1 ? "" : "s"}`;
  return new PoolkeeperError(
    REGISTRY_ERRORS.BUFFER_INSUFFICIENT,
    `the pool's buffer cannot pay for a deposit batch of ${keys(count)}: it needs ${formatWeiAsEth(neededWei)} ETH, ` +
      `${formatWeiAsEth(depositableWei)} ETH is depositable (the buffer less unfinalized withdrawals), ` +
      `${formatWeiAsEth(shortfallWei)} ETH short; it pays for ${keys(payableKeys)} now. Nothing was deposited`,
    {
      requested: count,
      payableKeys,
      neededWei: neededWei.toString(),
      depositableWei: depositableWei.toString(),
      shortfallWei: shortfallWei.toString(),
    },
  );
}

function payerOf(ctx: RegistryContext): DepositPayer {
  if (ctx.payer === undefined)
    throw new Error(
      "this Registry has no payer (the pool ledger): it cannot allocate deposit batches; create it with { payer: new PoolLedger(store) }",
    );
  return ctx.payer;
}

/**
 * Take `count` vetted keys by MinFirst, put them in a new deposit batch and mark them deposited,
 * paid from the pool's buffer, in one transaction under a pool-wide lock (an advisory transaction
 * lock, then every operator row, then the ledger) — allocateDepositBatchRefs — then read the keys'
 * deposit data back, in batch order. Throws ERR_NO_CAPACITY when fewer than `count` keys can be
 * deposited, ERR_BUFFER_INSUFFICIENT when the buffer cannot pay for them (nothing changes).
 */
export async function allocateDepositBatch(
  ctx: RegistryContext,
  count: number,
  actor: string,
): Promise<DepositBatch> {
  const started = performance.now();
  const batch = await allocateDepositBatchRefs(ctx, count, actor);
  // The batch is committed and never changes: its deposit data is read after the lock is gone.
  const keys = await depositBatchKeys(ctx.store, batch.id);
  if (keys.length !== count) throw new Error(`batch ${batch.id}: read ${keys.length} of ${count} keys`);
  ctx.logger?.debug({ batchId: batch.id, ms: Math.round(performance.now() - started) }, "deposit batch read");
  return {
    id: batch.id,
    actor: batch.actor,
    createdAt: batch.createdAt,
    keyCount: batch.keyCount,
    amountWei: batch.amountWei,
    perOperator: batch.perOperator,
    keys,
  };
}

/**
 * The allocation itself, as allocateDepositBatch makes it, without reading the keys' deposit data
 * back: the batch with references to its keys (ids, operators, positions); getDepositBatch reads
 * the deposit data of any batch later. For large batches, where reading the deposit data back
 * costs as much as the allocation (bench/registry/allocate.ts).
 */
export async function allocateDepositBatchRefs(
  ctx: RegistryContext,
  count: number,
  actor: string,
): Promise<DepositBatchRefs> {
  checkCount(count, "count", 1, MAX_ALLOCATION);
  checkActor(actor);
  const payer = payerOf(ctx);
  const started = performance.now();
  try {
    const batch = await ctx.store.transaction(async (tx) => {
      await lockAllocation(tx);
      // Deposit security: a guardian's pause stops deposits (Lido refuses deposits while paused).
      const security = await readDepositSecurityState(tx);
      if (security.paused)
        throw new PoolkeeperError(
          REGISTRY_ERRORS.DEPOSITS_PAUSED,
          `deposits are paused by guardian ${security.pausedBy} (slot ${security.pauseSlot}): no deposit batch is allocated until the DAO unpauses; nothing was deposited`,
          { pausedBy: security.pausedBy, pauseSlot: security.pauseSlot },
        );
      const buckets = await readBuckets(tx, true);
      const r = allocateMinFirst(
        buckets.map((b) => b.fill),
        buckets.map((b) => b.capacity),
        count,
      );
      if (r.allocated < count) {
        throw new PoolkeeperError(
          REGISTRY_ERRORS.NO_CAPACITY,
          `only ${r.allocated} keys can be deposited now, ${count} were asked for (vet more keys or raise limits)`,
          { requested: count, available: r.allocated },
        );
      }
      const opIds: number[] = [];
      const counts: number[] = [];
      buckets.forEach((b, i) => {
        if (r.added[i]! > 0) {
          opIds.push(b.op.id);
          counts.push(r.added[i]!);
        }
      });
      await setChangeContext(tx, actor, "deposit batch");
      // Every key must carry the pool's identity, recorded in the database (or now, on a new one).
      const pool = await pinPoolIdentity(
        tx,
        poolIdentityOf(ctx.settings.network, ctx.settings.withdrawalCredentials),
      );
      const identity = {
        withdrawalCredentials: pool.withdrawalCredentials,
        forkVersion: pool.genesisForkVersion,
        networkName: pool.networkName,
      };
      // The buffer pays (Lido's depositable ether): the ledger is locked from here to the commit,
      // so the figure holds for the payment below; the insert refuses keys costing more.
      const depositableWei = await payer.depositable(tx);
      let batchRow = await insertDepositBatch(tx, actor, opIds, counts, false, identity, depositableWei);
      if (batchRow === undefined) {
        // The cursors are a shortcut (each operator's next vetted keys come after its last
        // deposited one): should one ever skip a vetted key, search every key once.
        batchRow = await insertDepositBatch(tx, actor, opIds, counts, true, identity, depositableWei);
        if (batchRow?.keys !== undefined) {
          ctx.logger?.warn(
            { batchId: batchRow.id },
            "deposit cursors skipped vetted keys; searched all keys",
          );
        }
      }
      if (batchRow === undefined) {
        throw new PoolkeeperError(
          REGISTRY_ERRORS.CONFLICT,
          `allocation found fewer than ${count} keys still vetted: a concurrent change; nothing was deposited, try again`,
        );
      }
      if (batchRow.mismatch !== undefined) throw identityMismatch(batchRow.mismatch, identity);
      if (batchRow.unpaid !== undefined)
        throw bufferInsufficient(count, gweiToWei(batchRow.unpaid.amountGwei), depositableWei);
      const refs = batchRow.keys;
      // each key's own deposit amount (32 ETH for a 0x01 key), the ledger's deposit entry names the batch
      const amountWei = gweiToWei(batchRow.amountGwei);
      await payer.deposit(String(batchRow.id), count, amountWei, tx);
      const perOperator = opIds.map((operatorId, i) => ({ operatorId, count: counts[i]! }));
      await appendAudit(tx, {
        actor,
        action: "deposits.allocate",
        target: `batch:${batchRow.id}`,
        reason: null,
        before: null,
        after: { count, amountWei: amountWei.toString(), perOperator },
      });
      return {
        id: batchRow.id,
        actor: batchRow.actor,
        createdAt: batchRow.createdAt,
        keyCount: count,
        amountWei,
        perOperator,
        keys: refs,
      } satisfies DepositBatchRefs;
    });
    ctx.logger?.info(
      {
        batchId: batch.id,
        count,
        amountWei: batch.amountWei.toString(),
        operators: batch.perOperator.length,
        ms: Math.round(performance.now() - started),
      },
      "deposit batch allocated",
    );
    return batch;
  } catch (e) {
    throw mapRuleViolation(e);
  }
}

/** Newest first; `cursor` is a batch id (exclusive). */
export async function listDepositBatches(
  ctx: RegistryContext,
  opts: { cursor?: number; limit?: number } = {},
): Promise<DepositBatchSummary[]> {
  const cursor = opts.cursor === undefined ? undefined : checkId(opts.cursor, "cursor");
  const limit =
    opts.limit === undefined ? LIMITS.listPageDefault : checkCount(opts.limit, "limit", 1, LIMITS.listPage);
  return listDepositBatchRows(ctx.store, cursor, limit);
}

export async function getDepositBatch(ctx: RegistryContext, id: number): Promise<DepositBatch> {
  checkId(id, "batchId");
  const b = await findDepositBatch(ctx.store, id);
  if (b === undefined) throw notFound("batch", id);
  const keys = await depositBatchKeys(ctx.store, id);
  const per = new Map<number, number>();
  let amountGwei = 0n;
  for (const k of keys) {
    per.set(k.operatorId, (per.get(k.operatorId) ?? 0) + 1);
    amountGwei += k.depositData.amountGwei;
  }
  return {
    id: b.id,
    actor: b.actor,
    createdAt: b.createdAt,
    keyCount: b.keyCount,
    amountWei: gweiToWei(amountGwei),
    perOperator: [...per].map(([operatorId, count]) => ({ operatorId, count })),
    keys,
  };
}
