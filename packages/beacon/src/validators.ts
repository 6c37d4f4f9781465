/**
 * Pool validators on the beacon chain: pubkey → index resolution in chunks (POST
 * /eth/v1/beacon/states/{id}/validators), and statuses/balances for a set of indices.
 */
import { fromHex, toHex0x } from "@poolkeeper/core";
import { BeaconError, BeaconErrorCode, invalidResponse } from "./errors.js";
import { type BeaconNodePool, NOT_FOUND, NodeCallError, valueOrNotFound } from "./node-pool.js";

export type ValidatorStatus =
  | "pending_initialized"
  | "pending_queued"
  | "active_ongoing"
  | "active_exiting"
  | "active_slashed"
  | "exited_unslashed"
  | "exited_slashed"
  | "withdrawal_possible"
  | "withdrawal_done";

export interface ValidatorInfo {
  index: number;
  pubkey: string;
  status: ValidatorStatus;
  slashed: boolean;
  balance: bigint;
  effectiveBalance: bigint;
  activationEpoch: number | null;
  exitEpoch: number | null;
}

export interface ChunkOptions {
  stateId?: string | number;
  chunkSize?: number;
  concurrency?: number;
  minFinalizedEpoch?: number;
}

const STATUSES = new Set<string>([
  "pending_initialized",
  "pending_queued",
  "active_ongoing",
  "active_exiting",
  "active_slashed",
  "exited_unslashed",
  "exited_slashed",
  "withdrawal_possible",
  "withdrawal_done",
]);

function epochOrNull(e: number): number | null {
  return Number.isFinite(e) && e < 2 ** 53 ? e : null;
}

async function runChunks<T>(chunks: T[], concurrency: number, fn: (c: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, chunks.length) }, async () => {
    while (next < chunks.length) {
      const c = chunks[next++] as T;
      await fn(c);
    }
  });
  await Promise.all(workers);
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Validators by pubkey or index at `stateId` (default "finalized"). Unknown ids are simply absent
 * from the result (a pubkey not yet seen by the chain). Each answer is checked: only asked-for ids,
 * no duplicates, a known status.
 */
export async function getValidators(
  pool: BeaconNodePool,
  ids: readonly (string | number)[],
  opts: ChunkOptions = {},
): Promise<ValidatorInfo[]> {
  const stateId = String(opts.stateId ?? "finalized");
  const normalized = ids.map((id, i) => {
    if (typeof id === "number") {
      if (!Number.isSafeInteger(id) || id < 0)
        throw new BeaconError(BeaconErrorCode.input, `ids[${i}]: not a validator index`);
      return String(id);
    }
    return toHex0x(fromHex(id, `ids[${i}]`, 48));
  });
  const out: ValidatorInfo[] = [];
  const seen = new Set<number>();
  await runChunks(chunk(normalized, opts.chunkSize ?? 1000), opts.concurrency ?? 4, async (c) => {
    const asked = new Set(c);
    const list = await pool.request(
      `validators at ${stateId}`,
      async (api) => {
        const v = valueOrNotFound(await api.beacon.postStateValidators({ stateId, validatorIds: c }));
        if (v === NOT_FOUND) return NOT_FOUND;
        for (const r of v) {
          const pk = toHex0x(r.validator.pubkey);
          if (!asked.has(pk) && !asked.has(String(r.index)))
            throw invalidResponse("validators", `validator ${r.index} was not asked for`);
          if (!STATUSES.has(r.status))
            throw invalidResponse("validators", `unknown status "${r.status}" of ${r.index}`);
        }
        return v;
      },
      { minFinalizedEpoch: opts.minFinalizedEpoch },
    );
    if (list === null)
      throw new BeaconError(BeaconErrorCode.unavailable, `validators: no node has state ${stateId}`, {
        stateId,
      });
    for (const r of list) {
      if (seen.has(r.index)) throw invalidResponse("validators", `validator ${r.index} answered twice`);
      seen.add(r.index);
      out.push({
        index: r.index,
        pubkey: toHex0x(r.validator.pubkey),
        status: r.status as ValidatorStatus,
        slashed: r.validator.slashed,
        balance: BigInt(r.balance),
        effectiveBalance: BigInt(r.validator.effectiveBalance),
        activationEpoch: epochOrNull(r.validator.activationEpoch),
        exitEpoch: epochOrNull(r.validator.exitEpoch),
      });
    }
  });
  out.sort((a, b) => a.index - b.index);
  return out;
}

/** pubkey (0x-hex, lowercase) → validator index, for the pubkeys the chain knows. */
export async function resolvePubkeys(
  pool: BeaconNodePool,
  pubkeys: readonly string[],
  opts: ChunkOptions = {},
): Promise<Map<string, number>> {
  const infos = await getValidators(pool, pubkeys, opts);
  return new Map(infos.map((v) => [v.pubkey, v.index]));
}

/** Balances (gwei) of `indices` at `stateId`; null when no node has that state. */
export async function getBalances(
  pool: BeaconNodePool,
  indices: readonly number[],
  opts: ChunkOptions = {},
): Promise<Map<number, bigint> | null> {
  const stateId = String(opts.stateId ?? "finalized");
  const out = new Map<number, bigint>();
  let missing = false;
  await runChunks(chunk(indices.map(String), opts.chunkSize ?? 10_000), opts.concurrency ?? 4, async (c) => {
    const asked = new Set(c);
    const list = await pool.request(
      `balances at ${stateId}`,
      async (api) => {
        const res = await api.beacon.postStateValidatorBalances({ stateId, validatorIds: c });
        if (!res.ok && res.status >= 400 && res.status < 500) return NOT_FOUND;
        const v = valueOrNotFound(res);
        if (v === NOT_FOUND) return NOT_FOUND;
        for (const b of v) {
          if (!asked.has(String(b.index)))
            throw invalidResponse("balances", `validator ${b.index} was not asked for`);
        }
        return v;
      },
      { minFinalizedEpoch: opts.minFinalizedEpoch },
    );
    if (list === null) {
      missing = true;
      return;
    }
    for (const b of list) out.set(b.index, BigInt(b.balance));
  });
  return missing ? null : out;
}

export { NodeCallError };
