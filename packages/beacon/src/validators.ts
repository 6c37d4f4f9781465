/**
 * Pool validators on the beacon chain: pubkey → index resolution in chunks (POST
 * /eth/v1/beacon/states/{id}/validators), and statuses/balances for a set of indices.
 */
import type { ContainerType, Type } from "@chainsafe/ssz";
import { fromHex, toHex0x } from "@poolkeeper/core";
import { BeaconError, BeaconErrorCode, invalidResponse } from "./errors.js";
import {
  type BeaconNodePool,
  NOT_FOUND,
  NodeCallError,
  type NotFound,
  valueOrNotFound,
} from "./node-pool.js";

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

/** Every validator status of the Beacon API, in lifecycle order (a status's code is its position here). */
export const VALIDATOR_STATUSES: readonly ValidatorStatus[] = [
  "pending_initialized",
  "pending_queued",
  "active_ongoing",
  "active_exiting",
  "active_slashed",
  "exited_unslashed",
  "exited_slashed",
  "withdrawal_possible",
  "withdrawal_done",
];
const STATUSES = new Set<string>(VALIDATOR_STATUSES);

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

const UINT = /^\d{1,20}$/;

/** Validate a validator_balances answer by hand: only asked-for indices, unsigned gwei. */
export function parseBalances(json: unknown, asked: ReadonlySet<string>): Array<[number, bigint]> {
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw invalidResponse("balances", "data is not a list");
  const out: Array<[number, bigint]> = [];
  for (const b of data as Array<{ index?: unknown; balance?: unknown }>) {
    const index = b?.index;
    const balance = b?.balance;
    if (
      typeof index !== "string" ||
      !UINT.test(index) ||
      typeof balance !== "string" ||
      !UINT.test(balance)
    ) {
      throw invalidResponse("balances", "entry is not {index, balance} as unsigned decimal strings");
    }
    if (!asked.has(index)) throw invalidResponse("balances", `validator ${index} was not asked for`);
    out.push([Number(index), BigInt(balance)]);
  }
  return out;
}

/**
 * Where each index of a request sits in it (-1: not asked for), by index: the answer's check and
 * its placement, for hundreds of thousands of entries without a Map.
 */
export function positionsOf(indices: readonly number[]): Int32Array {
  let max = -1;
  for (const i of indices) if (i > max) max = i;
  const pos = new Int32Array(max + 1).fill(-1);
  indices.forEach((i, k) => {
    pos[i] = k;
  });
  return pos;
}

/** A gwei amount as a number: exact below 2^53 gwei (9 million ETH), refused above. */
function safeGwei(hi: number, lo: number): number {
  const v = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(v)) throw invalidResponse("balances", "a balance above 2^53 gwei");
  return v;
}

/**
 * Validate a validator_balances answer in SSZ (a list of {index, balance} records, the layout of
 * @lodestar/api's ValidatorBalanceListType) read in place: out[pos[index]] = balance (gwei); only
 * asked-for indices.
 */
export function parseBalancesSsz(
  bytes: Uint8Array,
  pos: Int32Array,
  // biome-ignore lint/suspicious/noExplicitAny: the record type's fields are read by name
  recordType: ContainerType<Record<string, Type<any>>>,
  out: Float64Array,
): void {
  const size = recordType.fixedSize as number;
  if (bytes.length % size !== 0)
    throw invalidResponse("balances", `${bytes.length} bytes is not a list of ${size}-byte records`);
  const ranges = recordType.getFieldRanges(new DataView(new ArrayBuffer(size)), 0, size);
  const at = (name: string): number =>
    ranges[recordType.fieldsEntries.findIndex((f) => f.fieldName === name)]?.start ?? -1;
  const [iOff, bOff] = [at("index"), at("balance")];
  if (iOff < 0 || bOff < 0) throw invalidResponse("balances", "record type has no index or balance");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let o = 0; o < bytes.length; o += size) {
    const index = dv.getUint32(o + iOff, true) + dv.getUint32(o + iOff + 4, true) * 2 ** 32;
    const k = index < pos.length ? (pos[index] as number) : -1;
    if (k === -1) throw invalidResponse("balances", `validator ${index} was not asked for`);
    out[k] = safeGwei(dv.getUint32(o + bOff + 4, true), dv.getUint32(o + bOff, true));
  }
}

/**
 * Balances (gwei) of `indices` at `stateId` (POST validator_balances), by position in `indices`
 * (NaN: not in that state); null when no node has the state. Asked for as SSZ (16 bytes a
 * validator, read in place); a node that answers JSON is read from the raw JSON by hand (hundreds
 * of thousands of entries: a schema per entry is slow).
 */
export async function getBalanceArray(
  pool: BeaconNodePool,
  indices: readonly number[],
  opts: ChunkOptions = {},
): Promise<Float64Array | null> {
  const stateId = String(opts.stateId ?? "finalized");
  const out = new Float64Array(indices.length).fill(Number.NaN);
  const recordType = pool.lodestar.api.routes.beacon.state.ValidatorBalanceListType
    .elementType as unknown as Parameters<typeof parseBalancesSsz>[2];
  const size = opts.chunkSize ?? 100_000;
  const starts = Array.from({ length: Math.ceil(indices.length / size) }, (_, k) => k * size);
  let missing = false;
  await runChunks(starts, opts.concurrency ?? 2, async (first) => {
    const c = indices.slice(first, first + size);
    const found = await pool.request(
      `balances at ${stateId}`,
      async (api) => {
        const res = await api.beacon.postStateValidatorBalances(
          { stateId, validatorIds: c },
          { responseWireFormat: "ssz" },
        );
        if (!res.ok) return valueOrNotFound(res) as NotFound;
        // parsed whole before anything is kept: a bad answer leaves nothing behind for the next node
        const got = new Float64Array(c.length).fill(Number.NaN);
        const pos = positionsOf(c);
        if ((res.wireFormat() as string | null) === "ssz") parseBalancesSsz(res.ssz(), pos, recordType, got);
        else {
          for (const [i, b] of parseBalances(res.json(), new Set(c.map(String))))
            got[pos[i] as number] = safeGwei(Number(b >> 32n), Number(b & 0xffffffffn));
        }
        return got;
      },
      { minFinalizedEpoch: opts.minFinalizedEpoch },
    );
    if (found === null) missing = true;
    else out.set(found, first);
  });
  return missing ? null : out;
}

/** Balances (gwei) of `indices` at `stateId` as a Map (see getBalanceArray); null when no node has that state. */
export async function getBalances(
  pool: BeaconNodePool,
  indices: readonly number[],
  opts: ChunkOptions = {},
): Promise<Map<number, bigint> | null> {
  const a = await getBalanceArray(pool, indices, opts);
  if (a === null) return null;
  const out = new Map<number, bigint>();
  indices.forEach((v, k) => {
    const b = a[k] as number;
    if (!Number.isNaN(b)) out.set(v, BigInt(b));
  });
  return out;
}

const NOT_ACTIVE_ONGOING = [...STATUSES].filter((s) => s !== "active_ongoing") as ValidatorStatus[];

/**
 * The validators among `indices` whose status at `stateId` is anything but active_ongoing (the
 * node filters: the answer is small when the pool is healthy). Absent = active_ongoing.
 */
export async function getStatusExceptions(
  pool: BeaconNodePool,
  indices: readonly number[],
  opts: ChunkOptions = {},
): Promise<ValidatorInfo[] | null> {
  const stateId = String(opts.stateId ?? "finalized");
  const out: ValidatorInfo[] = [];
  let missing = false;
  await runChunks(chunk(indices, opts.chunkSize ?? 100_000), opts.concurrency ?? 2, async (c) => {
    const list = await pool.request(
      `validator statuses at ${stateId}`,
      async (api) => {
        const res = await api.beacon.postStateValidators({
          stateId,
          validatorIds: c,
          statuses: NOT_ACTIVE_ONGOING,
        });
        const v = valueOrNotFound(res);
        if (v === NOT_FOUND) return NOT_FOUND;
        const asked = positionsOf(c);
        for (const r of v) {
          if ((asked[r.index] ?? -1) === -1)
            throw invalidResponse("validators", `validator ${r.index} was not asked for`);
          if (r.status === "active_ongoing" || !STATUSES.has(r.status)) {
            throw invalidResponse(
              "validators",
              `status "${r.status}" of ${r.index} does not match the filter`,
            );
          }
        }
        return v;
      },
      { minFinalizedEpoch: opts.minFinalizedEpoch },
    );
    if (list === null) {
      missing = true;
      return;
    }
    for (const r of list) {
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
  return missing ? null : out.sort((a, b) => a.index - b.index);
}

export { NodeCallError };
