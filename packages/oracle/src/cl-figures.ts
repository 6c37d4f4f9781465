/**
 * The consensus-layer side of an oracle report: what the pool's validators hold at the ref slot,
 * read from a beacon node in one of two ways that give the same figures.
 *
 * - `ssz`: the state at the ref slot as SSZ (`/eth/v2/debug/beacon/states/{slot}`), read in place
 *   with BeaconStateReader: one pass over the registry's bytes (no validator objects), the pool's
 *   keys found through a hash table of their 48 bytes.
 * - `json`: the state's root at the ref slot (checked against the slot's block header when the
 *   slot has one) pins every later request to that one state; the pool's keys through
 *   `POST .../validators` in chunks, the whole registry (network-wide figures) through
 *   `GET .../validators`, both stream-parsed (a mainnet list is larger than V8's maximum string),
 *   and `GET .../pending_deposits`.
 *
 * A validator is the pool's when its pubkey is a pool key and its withdrawal credentials are the
 * pool's: a pool key under other credentials was front-run and counts for nothing. Pending
 * deposits follow Electra's apply_pending_deposit in queue order: a deposit to a key the state
 * holds is a top-up (counted when that validator is the pool's); a deposit to a new key creates
 * the validator only when its signature verifies (is_valid_deposit_signature), with that
 * deposit's credentials, and later deposits to the key are top-ups of it; a deposit with a bad
 * signature to a new key is dropped. Every request goes through the BeaconNodePool (ranking,
 * failover, retries); an answer about another slot, or one that does not parse, makes it ask the
 * next node. Nothing is kept from a failed attempt.
 */
import {
  type BeaconNodePool,
  BeaconStateReader,
  getPendingDeposits,
  invalidResponse,
  NOT_FOUND,
  NodeCallError,
  type PendingDeposit,
  PubkeyTable,
  type RegistryLayout,
  type RequestNode,
  splitCredentials,
} from "@poolkeeper/beacon";
import { fromHex, toHex0x, ValidationError } from "@poolkeeper/core";
import { depositSignaturesValid } from "@poolkeeper/keys";
import { readJsonArray } from "./json-items.js";

export interface PoolKey {
  /** 0x + 96 hex, lower case. */
  pubkey: string;
  operatorId: number;
  /** What the pool deposited for the key (gwei). */
  depositGwei: bigint;
}

export interface OperatorClFigures {
  operatorId: number;
  /** Its validators active at some point of the frame: activation ≤ frame.lastEpoch and exit > frame.firstEpoch. */
  activeValidators: number;
  /** Its validators with exit_epoch ≤ the ref epoch. */
  exitedValidators: number;
  balanceGwei: bigint;
  /** The active validators' indices, ascending. */
  activeIndices: number[];
}

export interface PoolValidatorFigure {
  index: number;
  operatorId: number;
  balanceGwei: bigint;
  /** Active at the ref epoch, not slashed, no exit epoch: may be asked to exit. */
  exitable: boolean;
  /** An exit epoch is set and a balance is left on the consensus layer: it will come back. */
  exiting: boolean;
}

export interface SlashedValidator {
  index: number;
  effectiveBalanceGwei: bigint;
  withdrawableEpoch: number;
}

export interface ClFigures {
  refSlot: number;
  source: "ssz" | "json";
  /** The state's fork (deneb, electra, fulu). */
  fork: string;
  /** Distinct pool keys the consensus layer knows: pool validators, and new keys whose pending deposit will create a pool validator. */
  clValidators: number;
  /** Sum of PoolKey.depositGwei over those keys. */
  clDepositedGwei: bigint;
  /** Sum of the state balances of the pool's validators. */
  clBalanceGwei: bigint;
  /** pending_deposits amounts that will be the pool's (0 before Electra). */
  clPendingBalanceGwei: bigint;
  /** Pool validators with exit_epoch ≤ the ref epoch. */
  exitedValidators: number;
  /** Effective balance of the pool's validators active at the ref epoch (bunker mode's normal rebase). */
  activeEffectiveBalanceGwei: bigint;
  /** Every operator that has a key in `keys`, by operatorId. */
  operators: OperatorClFigures[];
  /** Pool validators slashed and not yet withdrawable at the ref epoch, by index (for bunker mode). */
  poolSlashed: SlashedValidator[];
  /** The pool validators the ejector rule needs (ejector.ts), by index: those it may ask to exit and those exiting with a balance left. */
  validators: PoolValidatorFigure[];
  /** All validators (Lido's midterm slashing penalty uses these). */
  network: {
    /** Sum of the effective balances of validators active at the ref epoch (at least one increment, as the spec's get_total_active_balance). */
    totalActiveBalanceGwei: bigint;
    /** Validators slashed and not yet withdrawable at the ref epoch, by index. */
    slashedNotWithdrawable: SlashedValidator[];
  };
}

export interface ClFiguresInput {
  refSlot: number;
  frame: { firstEpoch: number; lastEpoch: number };
  keys: readonly PoolKey[];
  /** The pool's withdrawal credentials, 0x + 64 hex. */
  withdrawalCredentials: string;
  path: "ssz" | "json";
  /**
   * The network's GENESIS_FORK_VERSION (0x + 8 hex), the deposit signature domain's fork version:
   * from the pool's configured network, checked against the beacon node's.
   */
  genesisForkVersion: string;
  /** Only nodes that finalized this epoch are asked (default: the first epoch whose start slot is at or after the ref slot). */
  minFinalizedEpoch?: number;
  /** Pool pubkeys per POST .../validators (json path; default 10,000). */
  chunkSize?: number;
  /** POSTs in flight (json path; default 2). */
  concurrency?: number;
  /** Per request (the state or the whole registry: large; default 300 s, Lido's own limit). */
  timeoutMs?: number;
}

const PUBKEY_RE = /^0x[0-9a-f]{96}$/;
const WC_RE = /^0x[0-9a-fA-F]{64}$/;
const FORK_VERSION_RE = /^0x[0-9a-fA-F]{8}$/;
const EFFECTIVE_BALANCE_INCREMENT = 1_000_000_000;
/** Sums of gwei kept in a number while exact, flushed into a bigint. */
const FLUSH_AT = 2 ** 52;

class GweiSum {
  private big = 0n;
  private small = 0;
  add(v: number): void {
    this.small += v;
    if (this.small >= FLUSH_AT) {
      this.big += BigInt(this.small);
      this.small = 0;
    }
  }
  get value(): bigint {
    return this.big + BigInt(this.small);
  }
}

function checkInput(input: ClFiguresInput): void {
  if (input === null || typeof input !== "object") throw new ValidationError("input", "must be an object");
  const { refSlot, frame } = input;
  if (!Number.isSafeInteger(refSlot) || refSlot < 0)
    throw new ValidationError("refSlot", "must be a non-negative integer");
  for (const k of ["firstEpoch", "lastEpoch"] as const)
    if (!Number.isSafeInteger(frame?.[k]) || frame[k] < 0)
      throw new ValidationError(`frame.${k}`, "must be a non-negative integer");
  if (frame.lastEpoch < frame.firstEpoch)
    throw new ValidationError("frame.lastEpoch", "must not be before frame.firstEpoch");
  if (input.path !== "ssz" && input.path !== "json")
    throw new ValidationError("path", 'must be "ssz" or "json"');
  if (typeof input.withdrawalCredentials !== "string" || !WC_RE.test(input.withdrawalCredentials))
    throw new ValidationError("withdrawalCredentials", "must be 0x followed by 64 hex digits");
  if (typeof input.genesisForkVersion !== "string" || !FORK_VERSION_RE.test(input.genesisForkVersion))
    throw new ValidationError("genesisForkVersion", "must be 0x followed by 8 hex digits");
  for (const k of ["chunkSize", "concurrency", "timeoutMs", "minFinalizedEpoch"] as const) {
    const v = input[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < (k === "minFinalizedEpoch" ? 0 : 1)))
      throw new ValidationError(k, "must be a positive integer");
  }
  if (!Array.isArray(input.keys)) throw new ValidationError("keys", "must be a list");
}

/**
 * The pool's keys by their 48 bytes (a PubkeyTable of @poolkeeper/beacon), with each key's
 * operator slot.
 */
class PoolKeyTable {
  readonly n: number;
  readonly bytes: Uint8Array;
  readonly hex: string[];
  readonly deposit: bigint[];
  /** Operator slot (index into `operatorIds`) of each key. */
  readonly opSlot: Uint32Array;
  readonly operatorIds: number[];
  private readonly table: PubkeyTable;
  private readonly scratch = Buffer.alloc(48);

  constructor(keys: readonly PoolKey[]) {
    this.n = keys.length;
    this.bytes = new Uint8Array(this.n * 48);
    this.hex = new Array<string>(this.n);
    this.deposit = new Array<bigint>(this.n);
    this.opSlot = new Uint32Array(this.n);
    const ops = new Map<number, number>();
    keys.forEach((k, i) => {
      const f = `keys[${i}]`;
      if (k === null || typeof k !== "object") throw new ValidationError(f, "must be an object");
      if (typeof k.pubkey !== "string" || !PUBKEY_RE.test(k.pubkey))
        throw new ValidationError(`${f}.pubkey`, "must be 0x followed by 96 lower-case hex digits");
      if (!Number.isSafeInteger(k.operatorId) || k.operatorId < 0)
        throw new ValidationError(`${f}.operatorId`, "must be a non-negative integer");
      if (typeof k.depositGwei !== "bigint" || k.depositGwei < 0n)
        throw new ValidationError(`${f}.depositGwei`, "must be a non-negative bigint of gwei");
      this.bytes.set(Buffer.from(k.pubkey.slice(2), "hex"), i * 48);
      this.hex[i] = k.pubkey;
      this.deposit[i] = k.depositGwei;
      let slot = ops.get(k.operatorId);
      if (slot === undefined) {
        slot = ops.size;
        ops.set(k.operatorId, slot);
      }
      this.opSlot[i] = slot;
    });
    this.operatorIds = [...ops.keys()];
    this.table = new PubkeyTable(this.bytes, (i) => {
      throw new ValidationError(`keys[${i}].pubkey`, "appears twice");
    });
  }

  /** The key whose 48 bytes are at `bytes[o..o+48)`, or -1. */
  find(bytes: Uint8Array, o: number): number {
    return this.table.find(bytes, o);
  }

  /** The key of a 0x-hex pubkey (as the Beacon API writes them: lower case), or -1. */
  findHex(pubkey: string): number {
    if (this.scratch.write(pubkey.slice(2), 0, 48, "hex") !== 48) return -1;
    return this.find(this.scratch, 0);
  }
}

/** What the state holds for each pool key (0: nothing yet). */
const POOL = 1; // a validator with the pool's credentials (in the registry, or created by a pending deposit)
const OTHER = 2; // a validator under other credentials (front-run), or to be created so
const DROPPED = 3; // only pending deposits with invalid signatures so far (nothing comes of them)

/** FAR_FUTURE_EPOCH as both paths read it (a number ≥ 2^53). */
const FAR_FUTURE = 2 ** 53;

/** One validator as both paths read it (epochs: FAR_FUTURE_EPOCH as a number ≥ 2^53). */
interface ValidatorRow {
  index: number;
  /** Pool key index, -1: not a pool key. */
  key: number;
  poolCredentials: boolean;
  effectiveBalance: number;
  slashed: boolean;
  activationEpoch: number;
  exitEpoch: number;
  withdrawableEpoch: number;
  balance: number;
}

/** The network-wide figures over every validator. */
class NetworkFigures {
  readonly active = new GweiSum();
  readonly slashed: SlashedValidator[] = [];
  constructor(private readonly refEpoch: number) {}
  add(index: number, eb: number, slashed: boolean, act: number, exit: number, wd: number): void {
    if (act <= this.refEpoch && this.refEpoch < exit) this.active.add(eb);
    if (slashed && wd > this.refEpoch)
      this.slashed.push({ index, effectiveBalanceGwei: BigInt(eb), withdrawableEpoch: wd });
  }
  result(): ClFigures["network"] {
    const total = this.active.value;
    const min = BigInt(EFFECTIVE_BALANCE_INCREMENT);
    return {
      totalActiveBalanceGwei: total < min ? min : total,
      slashedNotWithdrawable: this.slashed.sort((a, b) => a.index - b.index),
    };
  }
}

/** The pool's figures, fed validator by validator (any order), then pending deposits in queue order. */
class PoolFigures {
  readonly state: Uint8Array;
  private readonly seenAt: Int32Array;
  private readonly balance: GweiSum[];
  private readonly active: number[][];
  private readonly exited: Uint32Array;
  private readonly pending = new GweiSum();
  private readonly activeEffective = new GweiSum();
  private readonly slashed: SlashedValidator[] = [];
  private readonly validators: PoolValidatorFigure[] = [];
  private exitedTotal = 0;

  constructor(
    private readonly keys: PoolKeyTable,
    private readonly refEpoch: number,
    private readonly frame: { firstEpoch: number; lastEpoch: number },
  ) {
    this.state = new Uint8Array(keys.n);
    this.seenAt = new Int32Array(keys.n).fill(-1);
    const ops = keys.operatorIds.length;
    this.balance = Array.from({ length: ops }, () => new GweiSum());
    this.active = Array.from({ length: ops }, () => []);
    this.exited = new Uint32Array(ops);
  }

  validator(v: ValidatorRow, where: string): void {
    const k = v.key;
    if (k < 0) return;
    if (this.seenAt[k] !== -1)
      throw invalidResponse(
        where,
        `pubkey ${this.keys.hex[k]} at validators ${this.seenAt[k]} and ${v.index}`,
      );
    this.seenAt[k] = v.index;
    if (!v.poolCredentials) {
      this.state[k] = OTHER;
      return;
    }
    this.state[k] = POOL;
    const op = this.keys.opSlot[k] as number;
    (this.balance[op] as GweiSum).add(v.balance);
    if (v.activationEpoch <= this.frame.lastEpoch && v.exitEpoch > this.frame.firstEpoch)
      (this.active[op] as number[]).push(v.index);
    if (v.activationEpoch <= this.refEpoch && this.refEpoch < v.exitEpoch)
      this.activeEffective.add(v.effectiveBalance);
    if (v.exitEpoch <= this.refEpoch) {
      this.exited[op] = (this.exited[op] as number) + 1;
      this.exitedTotal++;
    }
    if (v.slashed && v.withdrawableEpoch > this.refEpoch)
      this.slashed.push({
        index: v.index,
        effectiveBalanceGwei: BigInt(v.effectiveBalance),
        withdrawableEpoch: v.withdrawableEpoch,
      });
    const noExit = v.exitEpoch >= FAR_FUTURE;
    const exitable = noExit && !v.slashed && v.activationEpoch <= this.refEpoch;
    const exiting = !noExit && v.balance > 0;
    if (exitable || exiting)
      this.validators.push({
        index: v.index,
        operatorId: this.keys.operatorIds[op] as number,
        balanceGwei: BigInt(v.balance),
        exitable,
        exiting,
      });
  }

  /**
   * Electra's apply_pending_deposit, for the pool's keys, in queue order. The signatures that may
   * matter (deposits to keys the registry does not hold) are checked first, in batches.
   */
  pendingDeposits(
    list: readonly PendingDeposit[],
    poolCredentials: string,
    genesisForkVersion: Uint8Array,
  ): void {
    const keyOf = list.map((d) => this.keys.findHex(d.pubkey.toLowerCase()));
    const unknown = keyOf.flatMap((k, i) => (k >= 0 && this.state[k] === 0 ? [i] : []));
    const checked = depositSignaturesValid(
      unknown.map((i) => {
        const d = list[i] as PendingDeposit;
        return {
          pubkey: fromHex(d.pubkey, "pending_deposits.pubkey", 48),
          withdrawalCredentials: fromHex(
            d.withdrawalCredentials,
            "pending_deposits.withdrawal_credentials",
            32,
          ),
          amount: d.amount,
          signature: fromHex(d.signature, "pending_deposits.signature", 96),
        };
      }),
      genesisForkVersion,
    );
    const valid = new Map(unknown.map((i, j) => [i, checked[j] as boolean]));
    list.forEach((d, i) => {
      const k = keyOf[i] as number;
      if (k < 0) return;
      const s = this.state[k];
      if (s === POOL) this.pending.add(Number(d.amount));
      if (s === POOL || s === OTHER) return;
      if (valid.get(i) !== true) {
        this.state[k] = DROPPED;
        return;
      }
      const ours = d.withdrawalCredentials.toLowerCase() === poolCredentials;
      this.state[k] = ours ? POOL : OTHER;
      if (ours) this.pending.add(Number(d.amount));
    });
  }

  result(): Omit<ClFigures, "refSlot" | "source" | "fork" | "network"> {
    let clValidators = 0;
    let deposited = 0n;
    for (let k = 0; k < this.keys.n; k++) {
      if (this.state[k] !== POOL) continue;
      clValidators++;
      deposited += this.keys.deposit[k] as bigint;
    }
    let total = 0n;
    const operators = this.keys.operatorIds
      .map((operatorId, op) => {
        const balanceGwei = (this.balance[op] as GweiSum).value;
        total += balanceGwei;
        const activeIndices = (this.active[op] as number[]).sort((a, b) => a - b);
        return {
          operatorId,
          activeValidators: activeIndices.length,
          exitedValidators: this.exited[op] as number,
          balanceGwei,
          activeIndices,
        };
      })
      .sort((a, b) => a.operatorId - b.operatorId);
    return {
      clValidators,
      clDepositedGwei: deposited,
      activeEffectiveBalanceGwei: this.activeEffective.value,
      clBalanceGwei: total,
      clPendingBalanceGwei: this.pending.value,
      exitedValidators: this.exitedTotal,
      operators,
      poolSlashed: this.slashed.sort((a, b) => a.index - b.index),
      validators: this.validators.sort((a, b) => a.index - b.index),
    };
  }
}

interface Context {
  beacon: BeaconNodePool;
  input: ClFiguresInput;
  keys: PoolKeyTable;
  refEpoch: number;
  minFinalizedEpoch: number;
  timeoutMs: number;
  poolCredentials: string;
  genesisForkVersion: Uint8Array;
}

/**
 * The consensus-layer figures of the pool at `input.refSlot`, by the path asked for. Throws a
 * ValidationError naming the field for bad input, a BeaconError when no node gives a usable
 * answer (unavailable, not finalized).
 */
export async function readClFigures(beacon: BeaconNodePool, input: ClFiguresInput): Promise<ClFigures> {
  checkInput(input);
  const nodeVersion = toHex0x(beacon.config.GENESIS_FORK_VERSION);
  if (nodeVersion !== input.genesisForkVersion.toLowerCase())
    throw new ValidationError(
      "genesisForkVersion",
      `${input.genesisForkVersion} differs from the beacon node's GENESIS_FORK_VERSION ${nodeVersion}`,
    );
  const S = beacon.spec.slotsPerEpoch;
  const ctx: Context = {
    beacon,
    input,
    keys: new PoolKeyTable(input.keys),
    refEpoch: Math.floor(input.refSlot / S),
    minFinalizedEpoch: input.minFinalizedEpoch ?? Math.ceil(input.refSlot / S),
    timeoutMs: input.timeoutMs ?? 300_000,
    poolCredentials: input.withdrawalCredentials.toLowerCase(),
    genesisForkVersion: fromHex(input.genesisForkVersion, "genesisForkVersion", 4),
  };
  return input.path === "ssz" ? readSsz(ctx) : readJson(ctx);
}

async function get(
  ctx: Context,
  node: RequestNode,
  path: string,
  accept: string,
  body?: unknown,
): Promise<Response | typeof NOT_FOUND> {
  const { url, headers } = splitCredentials(node.baseUrl);
  const res = await fetch(new URL(path.replace(/^\//, ""), url.endsWith("/") ? url : `${url}/`), {
    method: body === undefined ? "GET" : "POST",
    headers: {
      accept,
      ...headers,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.any([AbortSignal.timeout(ctx.timeoutMs), node.signal]),
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return NOT_FOUND;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new NodeCallError(`HTTP ${res.status}`, res.status);
  }
  return res;
}

/** A response body whole, into one buffer sized by Content-Length when given (no second copy). */
async function readBytes(res: Response, where: string): Promise<Uint8Array> {
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  if (Number.isSafeInteger(length) && length > 0) {
    const out = new Uint8Array(length);
    let o = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (o + value.length > length)
        throw invalidResponse(where, `more bytes than its Content-Length ${length}`);
      out.set(value, o);
      o += value.length;
    }
    if (o !== length) throw invalidResponse(where, `${o} bytes of ${length}`);
    return out;
  }
  const parts: Uint8Array[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return Buffer.concat(parts);
}

function notFound(what: string): never {
  throw invalidResponse(what, "no beacon node has this state");
}

// ---------------------------------------------------------------- SSZ

async function readSsz(ctx: Context): Promise<ClFigures> {
  const { refSlot } = ctx.input;
  const what = `state ${refSlot}`;
  const figures = await ctx.beacon.request(
    what,
    async (_api, node) => {
      const res = await get(ctx, node, `/eth/v2/debug/beacon/states/${refSlot}`, "application/octet-stream");
      if (res === NOT_FOUND) return NOT_FOUND;
      const type = res.headers.get("content-type") ?? "";
      if (!type.startsWith("application/octet-stream")) {
        await res.body?.cancel();
        throw invalidResponse(what, `answered ${type || "no content type"}, not SSZ`);
      }
      const fork = res.headers.get("eth-consensus-version") ?? ctx.beacon.config.getForkName(refSlot);
      const bytes = await readBytes(res, what);
      const st = new BeaconStateReader(ctx.beacon.lodestar.types, fork, bytes);
      if (st.slot !== refSlot) throw invalidResponse(what, `the state answered is at slot ${st.slot}`);
      return fromState(ctx, st);
    },
    // a 100+ MB download is not sent to a second node because the first is slow
    { minFinalizedEpoch: ctx.minFinalizedEpoch, hedge: false },
  );
  return figures ?? notFound(what);
}

function u64(dv: DataView, o: number): number {
  return dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 2 ** 32;
}

function fromState(ctx: Context, st: BeaconStateReader): ClFigures {
  const L: RegistryLayout = st.registryLayout();
  const { bytes, dataView: dv } = L;
  const wc = fromHex(ctx.poolCredentials, "withdrawalCredentials", 32);
  const pool = new PoolFigures(ctx.keys, ctx.refEpoch, ctx.input.frame);
  const network = new NetworkFigures(ctx.refEpoch);
  const off = L.offset;
  const row: ValidatorRow = {
    index: 0,
    key: -1,
    poolCredentials: false,
    effectiveBalance: 0,
    slashed: false,
    activationEpoch: 0,
    exitEpoch: 0,
    withdrawableEpoch: 0,
    balance: 0,
  };
  const where = `${st.fork} state ${st.slot}`;
  for (let i = 0; i < L.count; i++) {
    const o = L.validatorsStart + i * L.validatorSize;
    const eb = u64(dv, o + off.effectiveBalance);
    const slashed = bytes[o + off.slashed] === 1;
    const act = u64(dv, o + off.activationEpoch);
    const exit = u64(dv, o + off.exitEpoch);
    const wd = u64(dv, o + off.withdrawableEpoch);
    network.add(i, eb, slashed, act, exit, wd);
    const key = ctx.keys.find(bytes, o + off.pubkey);
    if (key === -1) continue;
    const w = o + off.withdrawalCredentials;
    let b = 0;
    while (b < 32 && bytes[w + b] === wc[b]) b++;
    row.index = i;
    row.key = key;
    row.poolCredentials = b === 32;
    row.effectiveBalance = eb;
    row.slashed = slashed;
    row.activationEpoch = act;
    row.exitEpoch = exit;
    row.withdrawableEpoch = wd;
    row.balance = u64(dv, L.balancesStart + 8 * i);
    pool.validator(row, where);
  }
  pool.pendingDeposits(st.pendingDeposits() ?? [], ctx.poolCredentials, ctx.genesisForkVersion);
  return {
    refSlot: st.slot,
    source: "ssz",
    fork: st.fork,
    ...pool.result(),
    network: network.result(),
  };
}

// ---------------------------------------------------------------- JSON

const UINT_RE = /^\d{1,20}$/;
const HEX32_RE = /^0x[0-9a-fA-F]{64}$/;

function uint(v: unknown, where: string, field: string): number {
  if (typeof v !== "string" || !UINT_RE.test(v))
    throw invalidResponse(where, `${field} is not an unsigned decimal string`);
  return Number(v);
}

/** One entry of a validators answer, checked by hand (a schema per entry is slow at a million). */
function toRow(item: unknown, keys: PoolKeyTable, poolCredentials: string, where: string): ValidatorRow {
  const e = item as { index?: unknown; balance?: unknown; validator?: Record<string, unknown> } | null;
  const v = e?.validator;
  if (v === null || typeof v !== "object") throw invalidResponse(where, "an entry without a validator");
  const pubkey = v.pubkey;
  const wc = v.withdrawal_credentials;
  if (typeof pubkey !== "string" || !PUBKEY_RE.test(pubkey))
    throw invalidResponse(where, "a pubkey that is not 0x + 96 lower-case hex");
  if (typeof wc !== "string" || !HEX32_RE.test(wc))
    throw invalidResponse(where, "withdrawal credentials that are not 0x + 64 hex");
  if (typeof v.slashed !== "boolean") throw invalidResponse(where, "slashed is not a boolean");
  return {
    index: uint(e?.index, where, "index"),
    key: keys.findHex(pubkey),
    poolCredentials: wc.toLowerCase() === poolCredentials,
    effectiveBalance: uint(v.effective_balance, where, "effective_balance"),
    slashed: v.slashed,
    activationEpoch: uint(v.activation_epoch, where, "activation_epoch"),
    exitEpoch: uint(v.exit_epoch, where, "exit_epoch"),
    withdrawableEpoch: uint(v.withdrawable_epoch, where, "withdrawable_epoch"),
    balance: uint(e?.balance, where, "balance"),
  };
}

/** The state root at the ref slot, checked against the slot's block header when there is a block. */
async function stateRootAt(ctx: Context): Promise<string> {
  const { refSlot } = ctx.input;
  const opts = { minFinalizedEpoch: ctx.minFinalizedEpoch };
  const what = `state root at ${refSlot}`;
  const root = await ctx.beacon.requestJson(
    what,
    `/eth/v1/beacon/states/${refSlot}/root`,
    (json) => {
      const r = (json as { data?: { root?: unknown } } | null)?.data?.root;
      if (typeof r !== "string" || !HEX32_RE.test(r))
        throw invalidResponse(what, "data.root is not 0x + 64 hex");
      return r.toLowerCase();
    },
    opts,
  );
  if (root === null) return notFound(what);
  const header = await ctx.beacon.requestJson(
    `header ${refSlot}`,
    `/eth/v1/beacon/headers/${refSlot}`,
    (json) => {
      const m = (
        json as { data?: { header?: { message?: { slot?: unknown; state_root?: unknown } } } } | null
      )?.data?.header?.message;
      if (typeof m?.state_root !== "string" || typeof m.slot !== "string")
        throw invalidResponse(`header ${refSlot}`, "no slot and state_root");
      return { slot: Number(m.slot), stateRoot: m.state_root.toLowerCase() };
    },
    opts,
  );
  // a slot without a block (404 everywhere) has a state all the same: the one after empty slots
  if (header !== null && header.slot === refSlot && header.stateRoot !== root)
    throw invalidResponse(
      what,
      `${root} is not the state root ${header.stateRoot} of the block at slot ${refSlot}`,
    );
  return root;
}

async function readJson(ctx: Context): Promise<ClFigures> {
  const { refSlot } = ctx.input;
  const fork = ctx.beacon.config.getForkName(refSlot);
  const root = await stateRootAt(ctx);
  const pool = new PoolFigures(ctx.keys, ctx.refEpoch, ctx.input.frame);

  // the pool's keys, in chunks: each answer parsed whole before any of it is kept
  const chunkSize = ctx.input.chunkSize ?? 10_000;
  const starts = Array.from({ length: Math.ceil(ctx.keys.n / chunkSize) }, (_, c) => c * chunkSize);
  const where = `validators at ${refSlot} (${root})`;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < starts.length) {
      const first = starts[next++] as number;
      const ids = ctx.keys.hex.slice(first, first + chunkSize);
      const rows = await ctx.beacon.request(
        where,
        async (_api, node) => {
          const res = await get(ctx, node, `/eth/v1/beacon/states/${root}/validators`, "application/json", {
            ids,
          });
          if (res === NOT_FOUND) return NOT_FOUND;
          const got: ValidatorRow[] = [];
          await readJsonArray(res.body as ReadableStream<Uint8Array>, "data", (items) => {
            for (const item of items) {
              const r = toRow(item, ctx.keys, ctx.poolCredentials, where);
              if (r.key < first || r.key >= first + ids.length)
                throw invalidResponse(where, `validator ${r.index} was not asked for`);
              got.push(r);
            }
          });
          return got;
        },
        { minFinalizedEpoch: ctx.minFinalizedEpoch, hedge: true },
      );
      if (rows === null) notFound(where);
      for (const r of rows) pool.validator(r, where);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.input.concurrency ?? 2, starts.length) }, worker));

  // the whole registry for the network-wide figures, streamed
  const network = await ctx.beacon.request(
    `all ${where}`,
    async (_api, node) => {
      const res = await get(ctx, node, `/eth/v1/beacon/states/${root}/validators`, "application/json");
      if (res === NOT_FOUND) return NOT_FOUND;
      const n = new NetworkFigures(ctx.refEpoch);
      let expected = 0;
      await readJsonArray(res.body as ReadableStream<Uint8Array>, "data", (items) => {
        for (const item of items) {
          const e = item as { index?: unknown; validator?: Record<string, unknown> } | null;
          const v = e?.validator;
          const index = uint(e?.index, where, "index");
          if (index !== expected++) throw invalidResponse(where, `validator ${index} out of order`);
          if (v === null || typeof v !== "object" || typeof v.slashed !== "boolean")
            throw invalidResponse(where, `validator ${index} has no slashed flag`);
          n.add(
            index,
            uint(v.effective_balance, where, "effective_balance"),
            v.slashed,
            uint(v.activation_epoch, where, "activation_epoch"),
            uint(v.exit_epoch, where, "exit_epoch"),
            uint(v.withdrawable_epoch, where, "withdrawable_epoch"),
          );
        }
      });
      return n;
    },
    { minFinalizedEpoch: ctx.minFinalizedEpoch, hedge: false },
  );
  if (network === null) notFound(`all ${where}`);

  if (ctx.beacon.lodestar.params.isForkPostElectra(fork)) {
    const pending = await getPendingDeposits(ctx.beacon, {
      stateId: root,
      minFinalizedEpoch: ctx.minFinalizedEpoch,
    });
    if (pending === null) notFound(`pending deposits at ${refSlot}`);
    if (pending.version !== fork)
      throw invalidResponse(`pending deposits at ${refSlot}`, `a ${pending.version} state, not ${fork}`);
    pool.pendingDeposits(pending.items, ctx.poolCredentials, ctx.genesisForkVersion);
  }
  return { refSlot, source: "json", fork, ...pool.result(), network: network.result() };
}
