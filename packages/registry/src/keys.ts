import { PoolkeeperError, toHex, toHex0x, ValidationError } from "@poolkeeper/core";
import {
  appendAudit,
  CHAIN_TARGET_STATES,
  type ChainTargetState,
  emptyCounts,
  findKeyByPubkey,
  findKeysByPubkeys,
  findKnownPubkeys,
  findOperator,
  insertKeys,
  isUniqueViolation,
  type KeyRow,
  keyChainDeposit,
  keyCountsByOperator,
  keyHistory,
  keysPage,
  setChangeContext,
  transitionKeys,
  vetOldestSubmitted,
  WATCHER_TRANSITIONS,
} from "@poolkeeper/store";
import type { RegistryContext } from "./context.js";
import { checkUpload, invalidDepositData } from "./deposit-data.js";
import { notFound, REGISTRY_ERRORS } from "./errors.js";
import { countIn } from "./review.js";
import {
  EVER_DEPOSITED_STATES,
  type KeyRecord,
  type KeyState,
  type KeyStateTransition,
  type KeyWithHistory,
  type StreamKeysFilter,
  type UploadResult,
} from "./types.js";
import { checkActor, checkCount, checkId, checkKeyState, checkPubkey, checkReason } from "./validate.js";

/* Keys: upload (checked whole), vetting, removal, the watcher's state changes, reads. */

/** Default and largest page of streamKeys' database reads. */
export const KEYS_PAGE_SIZE = 1000;

function isChainTargetState(s: KeyState): s is ChainTargetState {
  return (CHAIN_TARGET_STATES as readonly string[]).includes(s);
}

function keyOut(k: KeyRow): KeyRecord {
  return {
    id: k.id,
    operatorId: k.operatorId,
    state: k.state,
    depositData: k.depositData,
    depositBatchId: k.depositBatchId,
    createdAt: k.createdAt,
    updatedAt: k.updatedAt,
  };
}

/**
 * Validate a whole deposit_data.json upload and store it, all or nothing. Throws
 * ERR_INVALID_DEPOSIT_DATA with details.failures: {index, field, reason}[] when any entry fails
 * (index -1: the file as a whole). New keys are `submitted`.
 */
export async function uploadKeys(
  ctx: RegistryContext,
  operatorId: number,
  depositDataJson: unknown,
  actor: string,
): Promise<UploadResult> {
  checkId(operatorId, "operatorId");
  checkActor(actor);
  const op = await findOperator(ctx.store, operatorId);
  if (op === undefined) throw notFound("operator", operatorId);

  const started = performance.now();
  const total = Array.isArray(depositDataJson) ? depositDataJson.length : 0;
  // None already known, for any operator: one query for every parseable pubkey of the upload,
  // run while the entries are validated (the signature chunks run on worker threads).
  const pubkeys: { index: number; pubkey: Uint8Array }[] = [];
  if (Array.isArray(depositDataJson)) {
    depositDataJson.forEach((raw, index) => {
      const pk = (raw as { pubkey?: unknown } | null)?.pubkey;
      if (typeof pk === "string" && /^[0-9a-fA-F]{96}$/.test(pk)) {
        pubkeys.push({ index, pubkey: Uint8Array.from(Buffer.from(pk, "hex")) });
      }
    });
  }
  const knownLookup = findKnownPubkeys(
    ctx.store,
    pubkeys.map((p) => p.pubkey),
  );
  knownLookup.catch(() => {}); // awaited below; no unhandled rejection while validation runs
  const { entries, failures } = await checkUpload(depositDataJson, {
    network: ctx.settings.network,
    withdrawalCredentials: ctx.settings.withdrawalCredentials,
    ...(ctx.options.verifyChunkSize === undefined ? {} : { chunkSize: ctx.options.verifyChunkSize }),
  });
  const validationMs = Math.round(performance.now() - started);
  const known = await knownLookup;
  for (const p of pubkeys) {
    const k = known.get(toHex(p.pubkey));
    if (k === undefined) continue;
    failures.push({
      index: p.index,
      field: "pubkey",
      reason:
        k.operatorId === operatorId
          ? `is already registered for this operator (state ${k.state})`
          : "is already registered for another operator",
    });
  }
  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index || a.field.localeCompare(b.field));
    throw invalidDepositData(failures, total);
  }

  try {
    const ids = await ctx.store.transaction(async (tx) => {
      await setChangeContext(tx, actor, "uploaded");
      const r = await insertKeys(tx, operatorId, entries);
      await appendAudit(tx, {
        actor,
        action: "keys.upload",
        target: `operator:${operatorId}`,
        reason: null,
        before: null,
        after: { count: entries.length, firstKeyId: r.firstId, lastKeyId: r.lastId },
      });
      return r;
    });
    ctx.logger?.info(
      { operatorId, count: entries.length, ms: Math.round(performance.now() - started), validationMs },
      "keys uploaded",
    );
    return { operatorId, count: entries.length, firstKeyId: ids.firstId, lastKeyId: ids.lastId };
  } catch (e) {
    if (isUniqueViolation(e)) {
      // Another upload stored one of these keys between the check and the insert.
      throw invalidDepositData(
        [
          {
            index: -1,
            field: "pubkey",
            reason: "a key of this upload was registered at the same time by another upload",
          },
        ],
        total,
      );
    }
    throw e;
  }
}

/** Remove a key that was never deposited (ERR_INVALID_STATE_TRANSITION otherwise). */
export async function removeKey(
  ctx: RegistryContext,
  operatorId: number,
  pubkey: string | Uint8Array,
  actor: string,
  reason?: string,
): Promise<KeyRecord> {
  checkId(operatorId, "operatorId");
  const pk = checkPubkey(pubkey);
  checkActor(actor);
  const why = checkReason(reason);
  const removed = await ctx.store.transaction(async (tx) => {
    // The operator's row lock orders this against allocation, which locks every operator.
    const op = await findOperator(tx, operatorId, true);
    if (op === undefined) throw notFound("operator", operatorId);
    const key = await findKeyByPubkey(tx, pk, true);
    if (key === undefined || key.operatorId !== operatorId) {
      throw new PoolkeeperError(
        REGISTRY_ERRORS.NOT_FOUND,
        `key ${toHex0x(pk)} does not exist for operator ${operatorId}`,
        {
          pubkey: toHex0x(pk),
          operatorId,
        },
      );
    }
    if (key.state !== "submitted" && key.state !== "vetted") {
      throw new PoolkeeperError(
        REGISTRY_ERRORS.INVALID_STATE_TRANSITION,
        key.state === "removed"
          ? `key ${toHex0x(pk)} is already removed`
          : `key ${toHex0x(pk)} is ${key.state}: only keys never deposited can be removed`,
        { pubkey: toHex0x(pk), state: key.state },
      );
    }
    await setChangeContext(tx, actor, why ?? "removed");
    await transitionKeys(tx, [key.id], [key.state], "removed");
    await appendAudit(tx, {
      actor,
      action: "key.remove",
      target: `key:${toHex0x(pk)}`,
      reason: why,
      before: { state: key.state, operatorId },
      after: { state: "removed", operatorId },
    });
    return (await findKeyByPubkey(tx, pk))!;
  });
  return keyOut(removed);
}

/**
 * For the watcher: deposited → active → exiting → exited, or slashed. All or nothing: an unknown
 * key or a transition the lifecycle does not allow refuses the whole call. A key already in the
 * target state is left alone (reports may repeat).
 */
export async function setKeyStates(
  ctx: RegistryContext,
  transitions: readonly KeyStateTransition[],
  actor: string,
): Promise<{ changed: number; unchanged: number }> {
  checkActor(actor);
  if (!Array.isArray(transitions)) throw new ValidationError("transitions", "must be an array");
  const wanted = new Map<
    string,
    { pubkey: Uint8Array; to: ChainTargetState; reason: string | null; index: number }
  >();
  transitions.forEach((t, i) => {
    const pubkey = checkPubkey(t?.pubkey, `transitions[${i}].pubkey`);
    const to = checkKeyState(t?.to, `transitions[${i}].to`);
    if (!isChainTargetState(to)) {
      throw new ValidationError(`transitions[${i}].to`, `must be one of ${CHAIN_TARGET_STATES.join(", ")}`);
    }
    const h = toHex(pubkey);
    if (wanted.has(h))
      throw new ValidationError(
        `transitions[${i}].pubkey`,
        `duplicate of transitions[${wanted.get(h)!.index}]`,
      );
    wanted.set(h, { pubkey, to, reason: checkReason(t?.reason, `transitions[${i}].reason`), index: i });
  });
  if (wanted.size === 0) return { changed: 0, unchanged: 0 };

  return ctx.store.transaction(async (tx) => {
    const rows = await findKeysByPubkeys(
      tx,
      [...wanted.values()].map((w) => w.pubkey),
      true,
    );
    const found = new Map(rows.map((r) => [r.pubkey, r]));
    const missing = [...wanted.keys()].filter((h) => !found.has(h)).map((h) => `0x${h}`);
    if (missing.length > 0) {
      throw new PoolkeeperError(REGISTRY_ERRORS.NOT_FOUND, `${missing.length} keys are not in the registry`, {
        pubkeys: missing.slice(0, 100),
      });
    }
    const groups = new Map<string, { to: ChainTargetState; reason: string | null; ids: number[] }>();
    const refused: string[] = [];
    let unchanged = 0;
    for (const [h, w] of wanted) {
      const row = found.get(h)!;
      if (row.state === w.to) {
        unchanged++;
        continue;
      }
      if (!WATCHER_TRANSITIONS[w.to].includes(row.state)) {
        refused.push(`0x${h}: ${row.state} → ${w.to}`);
        continue;
      }
      const g = `${w.to}\u0000${w.reason ?? ""}`;
      let group = groups.get(g);
      if (group === undefined) {
        group = { to: w.to, reason: w.reason, ids: [] };
        groups.set(g, group);
      }
      group.ids.push(row.id);
    }
    if (refused.length > 0) {
      throw new PoolkeeperError(
        REGISTRY_ERRORS.INVALID_STATE_TRANSITION,
        `${refused.length} transitions are not allowed (first: ${refused[0]}); nothing was changed`,
        { refused: refused.slice(0, 100) },
      );
    }
    let changed = 0;
    for (const g of groups.values()) {
      await setChangeContext(tx, actor, g.reason);
      changed += (await transitionKeys(tx, g.ids, WATCHER_TRANSITIONS[g.to], g.to)).length;
    }
    return { changed, unchanged };
  });
}

/** A key with its full history (ERR_NOT_FOUND). */
export async function getKey(ctx: RegistryContext, pubkey: string | Uint8Array): Promise<KeyWithHistory> {
  const pk = checkPubkey(pubkey);
  const key = await findKeyByPubkey(ctx.store, pk);
  if (key === undefined) throw notFound("key", toHex0x(pk));
  const history = await keyHistory(ctx.store, key.id);
  return {
    ...keyOut(key),
    chainDeposit: await keyChainDeposit(ctx.store, key.id),
    history: history.map((e) => ({
      id: e.id.toString(),
      fromState: e.fromState,
      toState: e.toState,
      actor: e.actor,
      reason: e.reason,
      at: e.at,
    })),
  };
}

/**
 * Keys in id (upload) order, read page by page by keyset pagination (id > last id), so any
 * number of keys streams in flat memory. Validates the filter before the first read.
 */
export function streamKeys(ctx: RegistryContext, filter: StreamKeysFilter = {}): AsyncGenerator<KeyRecord> {
  const operatorId = filter.operatorId === undefined ? undefined : checkId(filter.operatorId, "operator");
  const state = filter.state === undefined ? undefined : checkKeyState(filter.state);
  const cursor = filter.cursor === undefined ? 0 : checkCount(filter.cursor, "cursor");
  const limit = filter.limit === undefined ? Number.POSITIVE_INFINITY : checkCount(filter.limit, "limit", 1);
  const pageSize =
    filter.pageSize === undefined ? KEYS_PAGE_SIZE : checkCount(filter.pageSize, "pageSize", 1, 10_000);
  const store = ctx.store;
  return (async function* () {
    let after = cursor;
    let left = limit;
    while (left > 0) {
      const page = await keysPage(store, {
        afterId: after,
        limit: Math.min(pageSize, left),
        ...(operatorId === undefined ? {} : { operatorId }),
        ...(state === undefined ? {} : { state }),
      });
      for (const k of page) yield keyOut(k);
      if (page.length < Math.min(pageSize, left)) return;
      after = page[page.length - 1]!.id;
      left -= page.length;
    }
  })();
}

/**
 * The DAO's vetting decision for keys uploaded after the limit was set: vet submitted keys in
 * upload order up to the operator's vetted limit. Audit-logged even when nothing was left to vet.
 */
export async function vetKeys(
  ctx: RegistryContext,
  operatorId: number,
  actor: string,
  reason?: string,
): Promise<{ vetted: number }> {
  checkId(operatorId, "operatorId");
  checkActor(actor);
  const why = checkReason(reason);
  return ctx.store.transaction(async (tx) => {
    const op = await findOperator(tx, operatorId, true);
    if (op === undefined) throw notFound("operator", operatorId);
    const counts = (await keyCountsByOperator(tx, [operatorId])).get(operatorId) ?? emptyCounts();
    const room = op.vettedLimit - counts.vetted - countIn(counts, EVER_DEPOSITED_STATES);
    await setChangeContext(tx, actor, why ?? `vetted within vetted limit ${op.vettedLimit}`);
    const vetted = await vetOldestSubmitted(tx, operatorId, room);
    await appendAudit(tx, {
      actor,
      action: "keys.vet",
      target: `operator:${operatorId}`,
      reason: why,
      before: { vetted: counts.vetted, submitted: counts.submitted, vettedLimit: op.vettedLimit },
      after: {
        vetted: counts.vetted + vetted,
        submitted: counts.submitted - vetted,
        vettedLimit: op.vettedLimit,
      },
    });
    return { vetted };
  });
}
