/**
 * The pool's view of a beacon state read straight from its SSZ bytes, without decoding the state:
 * a 1,000,000-validator state is ~140 MB of bytes but a full decode builds a million validator
 * objects (and a million balances, participation flags, inactivity scores). Here every field is
 * located with the fork's container type from @lodestar/types (its fixed part, the offset table of
 * its variable fields, the element types' fixed sizes), and a validator's field is read at
 * `index × Validator size + field offset` with the field's own SSZ type when asked for. Small
 * fields (slot, fork, sync committees, the pending lists, the proposer lookahead) are decoded with
 * their types; nothing registry-sized is built except on request (`activeIndices`, the pubkey
 * table).
 */
import type { ByteViews, ContainerType, Type } from "@chainsafe/ssz";
import type { ApiClient } from "@lodestar/api";
import type * as LodestarTypes from "@lodestar/types";
import type { phase0 } from "@lodestar/types";
import { invalidResponse } from "./errors.js";
import { NOT_FOUND, type NotFound, valueOrNotFound } from "./node-pool.js";
import {
  type PendingConsolidation,
  type PendingDeposit,
  type PendingPartialWithdrawal,
  toPendingConsolidations,
  toPendingDeposits,
  toPendingPartialWithdrawals,
} from "./pending.js";
import { positionsOf, VALIDATOR_STATUSES, type ValidatorStatus } from "./validators.js";

// biome-ignore lint/suspicious/noExplicitAny: the fields of a fork's BeaconState, looked up by name
type AnyContainer = ContainerType<Record<string, Type<any>>>;
// biome-ignore lint/suspicious/noExplicitAny: a field's SSZ type, decoding to the type's value
type AnyType = Type<any>;

/** A validator record of the registry as the full decode gives it (epochs: Infinity for FAR_FUTURE_EPOCH). */
export type StateValidator = phase0.Validator;
/** state.fork: the previous and current fork versions and the epoch of the last fork. */
export type StateFork = phase0.Fork;

interface Field {
  type: AnyType;
  start: number;
  end: number;
}

const VALIDATOR_FIELDS = [
  "pubkey",
  "withdrawalCredentials",
  "effectiveBalance",
  "slashed",
  "activationEligibilityEpoch",
  "activationEpoch",
  "exitEpoch",
  "withdrawableEpoch",
] as const;
export type ValidatorField = (typeof VALIDATOR_FIELDS)[number];

/** The registry's place in a state's bytes (see BeaconStateReader.registryLayout). */
export interface RegistryLayout {
  bytes: Uint8Array;
  dataView: DataView;
  count: number;
  validatorsStart: number;
  validatorSize: number;
  /** Offset of each field inside a validator record. */
  offset: Readonly<Record<ValidatorField, number>>;
  balancesStart: number;
}

/** state.pending_deposits' place in a state's bytes (see BeaconStateReader.pendingDepositsLayout). */
export interface PendingDepositsLayout {
  bytes: Uint8Array;
  dataView: DataView;
  count: number;
  /** Deposit `k`'s record starts at `start + k × size`. */
  start: number;
  size: number;
  /** Offset of each field inside a record (pubkey 48, credentials 32, signature 96 bytes; amount and slot uint64). */
  offset: Readonly<Record<"pubkey" | "withdrawalCredentials" | "amount" | "signature" | "slot", number>>;
}

/** Forks whose BeaconState this reader knows (the registry layout of phase0, Electra's queues, Fulu's lookahead). */
export const STATE_READER_FORKS = ["deneb", "electra", "fulu"] as const;
export type StateReaderFork = (typeof STATE_READER_FORKS)[number];

function stateType(types: typeof LodestarTypes, fork: string): AnyContainer {
  if (!(STATE_READER_FORKS as readonly string[]).includes(fork))
    throw invalidResponse("state", `fork "${fork}" is not one of ${STATE_READER_FORKS.join(", ")}`);
  return (types.ssz as unknown as Record<string, { BeaconState: AnyContainer }>)[fork]!.BeaconState;
}

/**
 * A beacon state of `fork` read in place. `types` is @lodestar/types of the chain's preset (the
 * pool's `lodestar.types`): the preset sizes the vectors and so the offsets. Throws an invalid-
 * response BeaconError naming the reason for bytes that are not a state of that fork (too short
 * for its fixed part, an offset out of order or out of bounds, a list that is not a whole number
 * of records or longer than its limit, balances not matching the registry).
 */
export class BeaconStateReader {
  readonly fork: StateReaderFork;
  readonly slot: number;
  readonly validatorCount: number;
  private readonly views: ByteViews;
  private readonly fields = new Map<string, Field>();
  private readonly vStart: number;
  private readonly vSize: number;
  private readonly vField: Record<ValidatorField, { type: AnyType; offset: number; size: number }>;
  private readonly balStart: number;
  private readonly balType: AnyType;
  private readonly balSize: number;
  private pkTable: Int32Array | undefined;

  constructor(types: typeof LodestarTypes, fork: string, bytes: Uint8Array) {
    const type = stateType(types, fork);
    this.fork = fork as StateReaderFork;
    const where = `${fork} state`;
    this.views = {
      uint8Array: bytes,
      dataView: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    };
    if (bytes.length < type.fixedEnd)
      throw invalidResponse(
        where,
        `${bytes.length} bytes, shorter than the fixed part of a ${fork} state (${type.fixedEnd})`,
      );
    let ranges: Array<{ start: number; end: number }>;
    try {
      ranges = type.getFieldRanges(this.views.dataView, 0, bytes.length);
    } catch (e) {
      throw invalidResponse(where, `offsets: ${(e as Error).message}`);
    }
    type.fieldsEntries.forEach(({ fieldName, fieldType }, i) => {
      const r = ranges[i] as { start: number; end: number };
      const f = { type: fieldType as AnyType, start: r.start, end: r.end };
      checkFieldSize(where, fieldName, f.type, f.end - f.start);
      this.fields.set(fieldName, f);
    });
    this.slot = this.decode<number>("slot");

    const validators = this.field("validators");
    const vType = (validators.type as unknown as { elementType: AnyContainer }).elementType;
    this.vSize = vType.fixedSize as number;
    this.vStart = validators.start;
    this.validatorCount = (validators.end - validators.start) / this.vSize;
    const vRanges = vType.getFieldRanges(this.views.dataView, 0, this.vSize);
    const vField = {} as Record<ValidatorField, { type: AnyType; offset: number; size: number }>;
    vType.fieldsEntries.forEach(({ fieldName, fieldType }, i) => {
      const r = vRanges[i] as { start: number; end: number };
      vField[fieldName as ValidatorField] = {
        type: fieldType as AnyType,
        offset: r.start,
        size: r.end - r.start,
      };
    });
    for (const name of VALIDATOR_FIELDS)
      if (vField[name] === undefined) throw invalidResponse(where, `Validator has no field ${name}`);
    this.vField = vField;

    const balances = this.field("balances");
    this.balType = (balances.type as unknown as { elementType: AnyType }).elementType;
    this.balSize = this.balType.fixedSize as number;
    this.balStart = balances.start;
    const balanceCount = (balances.end - balances.start) / this.balSize;
    if (balanceCount !== this.validatorCount)
      throw invalidResponse(where, `${balanceCount} balances for ${this.validatorCount} validators`);
  }

  private field(name: string): Field {
    const f = this.fields.get(name);
    if (f === undefined) throw invalidResponse(`${this.fork} state`, `has no field ${name}`);
    return f;
  }

  /** The field decoded with its own SSZ type (small fields only). */
  private decode<T>(name: string): T {
    const f = this.field(name);
    return f.type.value_deserializeFromBytes(this.views, f.start, f.end) as T;
  }

  private has(name: string): boolean {
    return this.fields.has(name);
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.validatorCount)
      throw new RangeError(`validator index ${i} outside the registry of ${this.validatorCount}`);
  }

  /** One field of validator `i` (no bounds check: internal loops). */
  private vRead<T>(i: number, name: ValidatorField): T {
    const f = this.vField[name];
    const o = this.vStart + i * this.vSize + f.offset;
    return f.type.value_deserializeFromBytes(this.views, o, o + f.size) as T;
  }

  /** state.fork: the previous and current fork versions and the epoch of the last fork. */
  forkVersions(): StateFork {
    return this.decode<StateFork>("fork");
  }

  validator(i: number): StateValidator {
    this.checkIndex(i);
    const out = {} as Record<ValidatorField, unknown>;
    for (const name of VALIDATOR_FIELDS) out[name] = this.vRead(i, name);
    return out as unknown as StateValidator;
  }

  /** The validator's pubkey: a view into the state's bytes (not a copy). */
  pubkey(i: number): Uint8Array {
    this.checkIndex(i);
    const f = this.vField.pubkey;
    const o = this.vStart + i * this.vSize + f.offset;
    return this.views.uint8Array.subarray(o, o + f.size);
  }

  effectiveBalance(i: number): number {
    this.checkIndex(i);
    return this.vRead<number>(i, "effectiveBalance");
  }

  balance(i: number): number {
    this.checkIndex(i);
    const o = this.balStart + i * this.balSize;
    return this.balType.value_deserializeFromBytes(this.views, o, o + this.balSize) as number;
  }

  /** Indices of the validators active at `epoch` (activation ≤ epoch < exit), ascending. */
  activeIndices(epoch: number): Uint32Array {
    const out = new Uint32Array(this.validatorCount);
    let k = 0;
    for (let i = 0; i < this.validatorCount; i++) {
      if (this.vRead<number>(i, "activationEpoch") <= epoch && epoch < this.vRead<number>(i, "exitEpoch"))
        out[k++] = i;
    }
    return out.slice(0, k);
  }

  /**
   * Where the registry sits in the state's bytes, for scans over every validator without a call per
   * field: validator `i`'s record starts at `validatorsStart + i × validatorSize`, its fields at the
   * offsets given (uint64 little-endian, `slashed` one byte, pubkey 48 and credentials 32 bytes),
   * and its balance (uint64) at `balancesStart + 8 × i`.
   */
  registryLayout(): RegistryLayout {
    const offset = {} as Record<ValidatorField, number>;
    for (const name of VALIDATOR_FIELDS) offset[name] = this.vField[name].offset;
    return {
      bytes: this.views.uint8Array,
      dataView: this.views.dataView,
      count: this.validatorCount,
      validatorsStart: this.vStart,
      validatorSize: this.vSize,
      offset,
      balancesStart: this.balStart,
    };
  }

  /** The index of the validator with `pubkey` (48 bytes), or undefined. A hash table is built on first use. */
  indexOfPubkey(pubkey: Uint8Array): number | undefined {
    const f = this.vField.pubkey;
    if (pubkey.length !== f.size) return undefined;
    const table = this.pubkeyTable();
    const mask = table.length - 1;
    const bytes = this.views.uint8Array;
    for (let h = pubkeyHash(pubkey, 0) & mask; ; h = (h + 1) & mask) {
      const i = table[h] as number;
      if (i === -1) return undefined;
      const o = this.vStart + i * this.vSize + f.offset;
      let same = true;
      for (let b = 0; b < f.size; b++) {
        if (bytes[o + b] !== pubkey[b]) {
          same = false;
          break;
        }
      }
      if (same) return i;
    }
  }

  private pubkeyTable(): Int32Array {
    if (this.pkTable !== undefined) return this.pkTable;
    let size = 16;
    while (size < this.validatorCount * 2) size *= 2;
    const table = new Int32Array(size).fill(-1);
    const mask = size - 1;
    const bytes = this.views.uint8Array;
    const off = this.vField.pubkey.offset;
    for (let i = 0; i < this.validatorCount; i++) {
      let h = pubkeyHash(bytes, this.vStart + i * this.vSize + off) & mask;
      while (table[h] !== -1) h = (h + 1) & mask;
      table[h] = i;
    }
    this.pkTable = table;
    return table;
  }

  /** randao_mixes: views into the state's bytes, one per entry of EPOCHS_PER_HISTORICAL_VECTOR. */
  randaoMixes(): Uint8Array[] {
    const f = this.field("randaoMixes");
    const el = (f.type as unknown as { elementType: AnyType }).elementType.fixedSize as number;
    const out: Uint8Array[] = [];
    for (let o = f.start; o < f.end; o += el) out.push(this.views.uint8Array.subarray(o, o + el));
    return out;
  }

  /** current_sync_committee.pubkeys (altair and later). */
  currentSyncCommittee(): Uint8Array[] {
    return this.decode<{ pubkeys: Uint8Array[] }>("currentSyncCommittee").pubkeys;
  }

  nextSyncCommittee(): Uint8Array[] {
    return this.decode<{ pubkeys: Uint8Array[] }>("nextSyncCommittee").pubkeys;
  }

  /** state.pending_deposits (Electra and later; null before). */
  pendingDeposits(): PendingDeposit[] | null {
    if (!this.has("pendingDeposits")) return null;
    return toPendingDeposits(this.decode("pendingDeposits"), `${this.fork} state pending_deposits`);
  }

  /**
   * Where state.pending_deposits sits in the state's bytes (Electra and later; null before), for
   * scans of a long queue without decoding it: deposit `k` at `start + k × size`, its fields at
   * the offsets given.
   */
  pendingDepositsLayout(): PendingDepositsLayout | null {
    if (!this.has("pendingDeposits")) return null;
    const f = this.field("pendingDeposits");
    const el = (f.type as unknown as { elementType: AnyContainer }).elementType;
    const size = el.fixedSize as number;
    const ranges = el.getFieldRanges(this.views.dataView, 0, size);
    const offset = {} as Record<string, number>;
    el.fieldsEntries.forEach(({ fieldName }, i) => {
      offset[fieldName] = (ranges[i] as { start: number }).start;
    });
    for (const name of ["pubkey", "withdrawalCredentials", "amount", "signature", "slot"])
      if (offset[name] === undefined)
        throw invalidResponse(`${this.fork} state`, `PendingDeposit has no field ${name}`);
    return {
      bytes: this.views.uint8Array,
      dataView: this.views.dataView,
      count: (f.end - f.start) / size,
      start: f.start,
      size,
      offset: offset as PendingDepositsLayout["offset"],
    };
  }

  pendingPartialWithdrawals(): PendingPartialWithdrawal[] | null {
    if (!this.has("pendingPartialWithdrawals")) return null;
    return toPendingPartialWithdrawals(
      this.decode("pendingPartialWithdrawals"),
      `${this.fork} state pending_partial_withdrawals`,
    );
  }

  pendingConsolidations(): PendingConsolidation[] | null {
    if (!this.has("pendingConsolidations")) return null;
    return toPendingConsolidations(
      this.decode("pendingConsolidations"),
      `${this.fork} state pending_consolidations`,
    );
  }

  /** Fulu: the proposers of the state's epoch and the next MIN_SEED_LOOKAHEAD epochs; null before. */
  proposerLookahead(): number[] | null {
    if (!this.has("proposerLookahead")) return null;
    return this.decode<number[]>("proposerLookahead");
  }
}

/**
 * A field of `size` bytes must be its type's fixed size, or for a list of fixed-size records a whole
 * number of them within the list's limit.
 */
function checkFieldSize(where: string, name: string, type: AnyType, size: number): void {
  const list = type as unknown as { elementType?: AnyType; limit?: number; isList?: boolean };
  if (type.fixedSize !== null) {
    if (size !== type.fixedSize) throw invalidResponse(where, `${name}: ${size} bytes`);
  } else if (list.isList && list.elementType?.fixedSize != null) {
    const el = list.elementType.fixedSize;
    if (size < 0 || size % el !== 0 || size / el > (list.limit ?? Number.POSITIVE_INFINITY))
      throw invalidResponse(
        where,
        `${name}: ${size} bytes is not a list of at most ${list.limit} ${el}-byte records`,
      );
  }
}

/** The effective balances of a state's registry, as `EffectiveBalanceScanner` keeps them. */
export interface EffectiveBalanceScan {
  fork: StateReaderFork;
  slot: number;
  validatorCount: number;
  /** Effective balance of each validator in whole ETH (effective balances are whole ETH, at most 2048). */
  eth: Uint16Array;
}

/** What a `StateScanner` keeps of the state streamed through it. */
export interface StateScanOptions {
  /** Every validator's effective balance, in whole ETH (2 bytes a validator). */
  effectiveBalances?: boolean;
  /**
   * These validators' balance, status, slashed flag and exit epoch (a few bytes each, by position
   * in `indices`); the status is the Beacon API's at the state's epoch (`slotsPerEpoch` of the chain).
   */
  validators?: { indices: readonly number[]; slotsPerEpoch: number };
}

/** `StateScan.status` of a validator the state does not have (an index past its registry). */
export const NO_STATUS = 255;

/** The validators a `StateScanner` was asked for, by position in the indices asked for. */
export interface ValidatorsScan {
  /** Balance in gwei; NaN for a validator not in the state. */
  balance: Float64Array;
  /** The status's position in VALIDATOR_STATUSES; NO_STATUS for a validator not in the state. */
  status: Uint8Array;
  /** 1 when slashed. */
  slashed: Uint8Array;
  /** Exit epoch; Infinity for FAR_FUTURE_EPOCH (not exiting) and for a validator not in the state. */
  exitEpoch: Float64Array;
}

export interface StateScan {
  fork: StateReaderFork;
  slot: number;
  validatorCount: number;
  /** Effective balance of each validator in whole ETH, when asked for. */
  eth: Uint16Array | null;
  validators: ValidatorsScan | null;
}

const GWEI_PER_ETH = 1_000_000_000;
const TWO_32 = 2 ** 32;
const STATUS = Object.fromEntries(VALIDATOR_STATUSES.map((s, k) => [s, k])) as Record<
  ValidatorStatus,
  number
>;
/** A validator past its withdrawable epoch: withdrawal_possible or withdrawal_done by its balance, read later. */
const WITHDRAWAL = 254;

/** A uint64 little-endian as a number (FAR_FUTURE_EPOCH: Infinity; beyond 2^53 rounded). */
function u64(dv: DataView, o: number): number {
  const lo = dv.getUint32(o, true);
  const hi = dv.getUint32(o + 4, true);
  return hi === 0xffffffff && lo === 0xffffffff ? Number.POSITIVE_INFINITY : hi * TWO_32 + lo;
}

/**
 * Fixed-size records of one list of a state arriving in chunks: each whole record handed to `read`
 * where it lies in its chunk, a record split between chunks first assembled in a scratch copy.
 */
class RecordStream {
  /** The next record to read. */
  next = 0;
  private readonly scratch: Uint8Array;
  private readonly scratchView: DataView;

  constructor(
    readonly start: number,
    readonly size: number,
    readonly count: number,
    private readonly read: (dv: DataView, o: number, i: number) => void,
  ) {
    this.scratch = new Uint8Array(size);
    this.scratchView = new DataView(this.scratch.buffer);
  }

  /** The chunk of the state's bytes [cs, cs + chunk.length). */
  push(chunk: Uint8Array, dv: DataView, cs: number): void {
    const ce = cs + chunk.length;
    const { start, size, count, read } = this;
    let i = this.next;
    for (; i < count; i++) {
      const rs = start + i * size;
      if (rs >= ce) break;
      const re = rs + size;
      if (rs >= cs && re <= ce) read(dv, rs - cs, i);
      else {
        const from = Math.max(rs, cs);
        const to = Math.min(re, ce);
        this.scratch.set(chunk.subarray(from - cs, to - cs), from - rs);
        if (re > ce) break;
        read(this.scratchView, 0, i);
      }
    }
    this.next = i;
  }
}

/**
 * A state read from its SSZ bytes as they arrive (an HTTP body, chunk by chunk): only the state's
 * fixed part (a few MB: its roots and mixes vectors) and what was asked for are kept, never the
 * state itself (~140 MB at 1,000,000 validators, which `BeaconStateReader` needs whole): every
 * validator's effective balance (2 bytes a validator), and the balance, status, slashed flag and
 * exit epoch of the validators asked for. The offsets are checked as the reader checks them: the
 * first one at the end of the fixed part, none backwards, none past the end, each list a whole
 * number of records within its limit, as many balances as validators.
 */
export class StateScanner {
  readonly fork: StateReaderFork;
  private readonly type: AnyContainer;
  private readonly where: string;
  private readonly fixed: Uint8Array;
  private pos = 0;
  private layout:
    | { slot: number; count: number; registry: RecordStream; balances: RecordStream | null }
    | undefined;
  /** Variable fields in order: name, type and offset (the last one ends at the end of the bytes). */
  private variable: Array<{ name: string; type: AnyType; offset: number }> = [];
  private eth: Uint16Array | null = null;
  private validators: (ValidatorsScan & { at: Int32Array }) | null = null;

  constructor(
    types: typeof LodestarTypes,
    fork: string,
    private readonly opts: StateScanOptions = { effectiveBalances: true },
  ) {
    this.type = stateType(types, fork);
    this.fork = fork as StateReaderFork;
    this.where = `${fork} state`;
    this.fixed = new Uint8Array(this.type.fixedEnd);
  }

  /** The next bytes of the state. */
  push(chunk: Uint8Array): void {
    const cs = this.pos;
    const ce = cs + chunk.length;
    this.pos = ce;
    if (cs < this.fixed.length) {
      this.fixed.set(chunk.subarray(0, Math.min(chunk.length, this.fixed.length - cs)), cs);
      if (ce >= this.fixed.length) this.readFixedPart();
    }
    const l = this.layout;
    if (l === undefined) return;
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    l.registry.push(chunk, dv, cs);
    l.balances?.push(chunk, dv, cs);
  }

  private readFixedPart(): void {
    const dv = new DataView(this.fixed.buffer);
    let at = 0;
    let slot: number | undefined;
    for (const { fieldName, fieldType } of this.type.fieldsEntries) {
      const t = fieldType as AnyType;
      if (t.fixedSize === null) {
        const offset = dv.getUint32(at, true);
        const prev = this.variable[this.variable.length - 1];
        if (prev === undefined ? offset !== this.fixed.length : offset < prev.offset)
          throw invalidResponse(this.where, `offsets: ${fieldName} at ${offset} is out of order`);
        this.variable.push({ name: fieldName, type: t, offset });
        at += 4;
      } else {
        if (fieldName === "slot")
          slot = t.value_deserializeFromBytes(
            { uint8Array: this.fixed, dataView: dv },
            at,
            at + t.fixedSize,
          ) as number;
        at += t.fixedSize;
      }
    }
    const v = this.variable.findIndex((f) => f.name === "validators");
    const vf = this.variable[v];
    const bf = this.variable[v + 1];
    const after = this.variable[v + 2];
    if (slot === undefined || vf === undefined || bf?.name !== "balances" || after === undefined)
      throw invalidResponse(this.where, "has no slot, validators and balances");
    const vSize = (vf.type as unknown as { elementType: AnyType }).elementType.fixedSize as number;
    checkFieldSize(this.where, "validators", vf.type, bf.offset - vf.offset);
    checkFieldSize(this.where, "balances", bf.type, after.offset - bf.offset);
    const count = (bf.offset - vf.offset) / vSize;
    const balanceCount = (after.offset - bf.offset) / 8;
    if (balanceCount !== count)
      throw invalidResponse(this.where, `${balanceCount} balances for ${count} validators`);
    const vType = (vf.type as unknown as { elementType: AnyContainer }).elementType;
    const ranges = vType.getFieldRanges(new DataView(new ArrayBuffer(vSize)), 0, vSize);
    const offsetOf = (name: ValidatorField): number => {
      const o = ranges[vType.fieldsEntries.findIndex((f) => f.fieldName === name)]?.start;
      if (o === undefined) throw invalidResponse(this.where, `Validator has no field ${name}`);
      return o;
    };
    const eb = offsetOf("effectiveBalance");
    const eth = this.opts.effectiveBalances === true ? new Uint16Array(count) : null;
    this.eth = eth;
    const want = this.opts.validators;
    if (eth === null && want === undefined) throw new TypeError("StateScanner: nothing asked for");
    const epoch = want === undefined ? 0 : Math.floor(slot / want.slotsPerEpoch);
    const n = want?.indices.length ?? 0;
    const posOf = positionsOf(want?.indices ?? []);
    const scan = {
      at: posOf,
      balance: new Float64Array(n).fill(Number.NaN),
      status: new Uint8Array(n).fill(NO_STATUS),
      slashed: new Uint8Array(n),
      exitEpoch: new Float64Array(n).fill(Number.POSITIVE_INFINITY),
    };
    if (want !== undefined) this.validators = scan;
    const [sl, elig, act, exit, wd] = (
      ["slashed", "activationEligibilityEpoch", "activationEpoch", "exitEpoch", "withdrawableEpoch"] as const
    ).map(offsetOf) as [number, number, number, number, number];
    const known = Math.min(count, posOf.length);
    const registry = new RecordStream(vf.offset, vSize, count, (d, o, i) => {
      if (eth !== null)
        eth[i] = Math.floor(
          (d.getUint32(o + eb, true) + d.getUint32(o + eb + 4, true) * TWO_32) / GWEI_PER_ETH,
        );
      const k = i < known ? (posOf[i] as number) : -1;
      if (k === -1) return;
      const slashed = d.getUint8(o + sl) === 1;
      const exitEpoch = u64(d, o + exit);
      scan.slashed[k] = slashed ? 1 : 0;
      scan.exitEpoch[k] = exitEpoch;
      // the Beacon API's statuses (as Lodestar derives them from the record, withdrawal by balance)
      scan.status[k] =
        u64(d, o + act) > epoch
          ? u64(d, o + elig) === Number.POSITIVE_INFINITY
            ? STATUS.pending_initialized
            : STATUS.pending_queued
          : epoch < exitEpoch
            ? exitEpoch === Number.POSITIVE_INFINITY
              ? STATUS.active_ongoing
              : slashed
                ? STATUS.active_slashed
                : STATUS.active_exiting
            : epoch < u64(d, o + wd)
              ? slashed
                ? STATUS.exited_slashed
                : STATUS.exited_unslashed
              : WITHDRAWAL;
    });
    const balances =
      want === undefined
        ? null
        : new RecordStream(bf.offset, 8, count, (d, o, i) => {
            const k = i < known ? (posOf[i] as number) : -1;
            if (k === -1) return;
            const hi = d.getUint32(o + 4, true);
            if (hi >= 2 ** 21) throw invalidResponse(this.where, `balance of ${i} above 2^53 gwei`);
            const gwei = hi * TWO_32 + d.getUint32(o, true);
            scan.balance[k] = gwei;
            if (scan.status[k] === WITHDRAWAL)
              scan.status[k] = gwei > 0 ? STATUS.withdrawal_possible : STATUS.withdrawal_done;
          });
    this.layout = { slot, count, registry, balances };
  }

  /** After the last chunk: what was asked for, once every offset is checked against the length. */
  finish(): StateScan {
    const l = this.layout;
    if (l === undefined)
      throw invalidResponse(
        this.where,
        `${this.pos} bytes, shorter than the fixed part of a ${this.fork} state (${this.fixed.length})`,
      );
    this.variable.forEach((f, k) => {
      const end = this.variable[k + 1]?.offset ?? this.pos;
      if (end > this.pos)
        throw invalidResponse(this.where, `offsets: ${f.name} ends past the end (${this.pos} bytes)`);
      checkFieldSize(this.where, f.name, f.type, end - f.offset);
    });
    if (l.registry.next !== l.count) throw invalidResponse(this.where, "validators: truncated");
    if (l.balances !== null && l.balances.next !== l.count)
      throw invalidResponse(this.where, "balances: truncated");
    let validators: ValidatorsScan | null = null;
    const v = this.validators;
    if (v !== null) {
      // an index asked for twice: each position gets what the last one read
      const indices = this.opts.validators?.indices ?? [];
      indices.forEach((i, k) => {
        const p = i < v.at.length ? (v.at[i] as number) : k;
        if (p === k) return;
        v.balance[k] = v.balance[p] as number;
        v.status[k] = v.status[p] as number;
        v.slashed[k] = v.slashed[p] as number;
        v.exitEpoch[k] = v.exitEpoch[p] as number;
      });
      validators = { balance: v.balance, status: v.status, slashed: v.slashed, exitEpoch: v.exitEpoch };
    }
    return { fork: this.fork, slot: l.slot, validatorCount: l.count, eth: this.eth, validators };
  }
}

/**
 * The effective balance of every validator of a state read from its SSZ bytes as they arrive: a
 * `StateScanner` asked for effective balances only.
 */
export class EffectiveBalanceScanner {
  private readonly scanner: StateScanner;

  constructor(types: typeof LodestarTypes, fork: string) {
    this.scanner = new StateScanner(types, fork, { effectiveBalances: true });
  }

  get fork(): StateReaderFork {
    return this.scanner.fork;
  }

  /** The next bytes of the state. */
  push(chunk: Uint8Array): void {
    this.scanner.push(chunk);
  }

  /** After the last chunk: the effective balances, once every offset is checked against the length. */
  finish(): EffectiveBalanceScan {
    const s = this.scanner.finish();
    return { fork: s.fork, slot: s.slot, validatorCount: s.validatorCount, eth: s.eth as Uint16Array };
  }
}

/**
 * The state `stateId` of one node as SSZ (GET /eth/v2/debug/beacon/states/{id}), read in place
 * with a BeaconStateReader of the fork the node names; NOT_FOUND when the node answers 4xx (it
 * does not have the state), a failed call otherwise. For BeaconNodePool.request functions.
 */
export async function readStateSsz(
  api: ApiClient,
  stateId: string,
  types: ConstructorParameters<typeof BeaconStateReader>[0],
): Promise<BeaconStateReader | NotFound> {
  const res = await api.debug.getStateV2({ stateId }, { responseWireFormat: "ssz" });
  if (!res.ok && res.status >= 400 && res.status < 500) return NOT_FOUND;
  const bytes = valueOrNotFound({
    ok: res.ok,
    status: res.status,
    error: () => res.error(),
    value: () => res.ssz(),
  });
  if (bytes === NOT_FOUND) return NOT_FOUND;
  return new BeaconStateReader(types, res.meta().version, bytes);
}

/** 32 bits of a pubkey past its flag byte (a compressed G1 point: the rest is an x coordinate). */
export function pubkeyHash(bytes: Uint8Array, o: number): number {
  return (
    ((bytes[o + 1] as number) |
      ((bytes[o + 2] as number) << 8) |
      ((bytes[o + 3] as number) << 16) |
      ((bytes[o + 4] as number) << 24)) >>>
    0
  );
}
