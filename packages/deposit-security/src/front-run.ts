/**
 * The front-run check of a deposit batch (issue 13): before the pool's 32 ETH go to a key, nothing
 * on the chain may already decide that key's withdrawal credentials. The chain keeps the
 * credentials of the first deposit for a pubkey whose signature verifies (Electra's
 * apply_pending_deposit: a deposit to a pubkey the state holds is a top-up whatever its signature;
 * one to a new pubkey creates the validator when is_valid_deposit_signature holds and is dropped
 * otherwise). So for every key of the batch, three places are read:
 *
 * - the finalized state and the head state (each the post-state of its block, downloaded as SSZ
 *   from one node together with the block's header, and read in place with BeaconStateReader):
 *   one pass over the registry looking each validator's 48 bytes up in a hash table of the batch's
 *   keys, and one pass over `pending_deposits` (Electra and later) the same way;
 * - the execution layer's deposit log (optional `DepositLogSource`): the deposits carried after
 *   the finalized block that the head state does not hold yet, and those no block carries yet.
 *
 * Each view is played in the chain's order (validator, then the queue, then the log after the head
 * state), so each deposit's `effect` is what the chain makes of it, and the signatures of the
 * deposits found for the batch's keys are checked in batches (depositSignaturesValid). A key is
 * `front_run` when a view gives its validator other credentials than the pool's, `pool_deposited`
 * when one gives it the pool's, `clean` otherwise: deposits with invalid signatures to a new key
 * are evidence but count for nothing, as on the chain.
 */
import {
  type BeaconNodePool,
  type BeaconStateReader,
  invalidResponse,
  NOT_FOUND,
  PubkeyTable,
  readStateSsz,
  valueOrNotFound,
} from "@poolkeeper/beacon";
import { fromHex, LIMITS, toHex0x, ValidationError } from "@poolkeeper/core";
import { depositSignaturesValid } from "@poolkeeper/keys";
import { badLog, type DepositLogSource, depositBytes, type ElDeposit } from "./deposit-log.js";
import { DEPOSIT_SECURITY_ERRORS, DepositSecurityError } from "./errors.js";

/** One key of a deposit batch: the registry's id, and what the pool's deposit would carry. */
export interface BatchKey {
  keyId: number;
  /** 0x + 96 hex. */
  pubkey: string;
  /** 0x + 64 hex: the key's deposit data credentials, which must be the pool's. */
  withdrawalCredentials: string;
}

export interface BatchCheckInput {
  keys: readonly BatchKey[];
  /** The pool's withdrawal credentials, 0x + 64 hex. */
  poolWithdrawalCredentials: string;
  /** The network's GENESIS_FORK_VERSION (the deposit domain), 0x + 8 hex; must be the beacon node's. */
  genesisForkVersion: string;
}

/** Where a finding was read. */
export type CheckedView = "finalized" | "head" | "execution";
export type EvidenceSource = "validator" | "pending_deposit" | "el_deposit";
/**
 * What the chain makes of it, played in order: `validator` (the key is in the registry),
 * `creates_validator` (the first deposit with a valid signature: its credentials win), `top_up`
 * (the key already has a validator: counted whatever the signature), `dropped` (a new key's
 * deposit with an invalid signature: nothing comes of it).
 */
export type EvidenceEffect = "validator" | "creates_validator" | "top_up" | "dropped";
export type KeyVerdict = "clean" | "front_run" | "pool_deposited";

/** One thing the chain holds for a key: what a refused batch and an unvetted key keep as evidence. */
export interface KeyEvidence {
  source: EvidenceSource;
  view: CheckedView;
  /**
   * validator: the slot of the state it was seen in; deposits: the slot of the block that carried
   * it (null: an execution-layer deposit no block carries yet).
   */
  slot: number | null;
  /** The validator's index (source validator), else null. */
  validatorIndex: number | null;
  /** The deposit contract's index (source el_deposit, once carried), else null. */
  depositIndex: number | null;
  /** 0x + 64 hex: the validator's or the deposit's withdrawal credentials. */
  credentials: string;
  /** Whether `credentials` are the pool's. */
  poolCredentials: boolean;
  /** validator: its balance; deposits: the amount (gwei). */
  amountGwei: bigint;
  /** Deposits: whether is_valid_deposit_signature holds; validator: null (the chain accepted it). */
  signatureValid: boolean | null;
  effect: EvidenceEffect;
}

export interface KeyCheck {
  keyId: number;
  pubkey: string;
  verdict: KeyVerdict;
  /** The evidence that decides the verdict (the first that gives the key its validator), null when clean. */
  decisive: KeyEvidence | null;
  /** Everything found for the key: finalized, then head, then execution, each in the chain's order. */
  evidence: KeyEvidence[];
}

/** A state the check read: the post-state of a block. */
export interface CheckedState {
  slot: number;
  blockRoot: string;
  stateRoot: string;
  fork: string;
  validators: number;
  /** Length of pending_deposits (0 before Electra). */
  pendingDeposits: number;
}

export interface BatchCheck {
  /** Every key clean: the batch may be released as far as the chain tells. */
  ok: boolean;
  /** The head the check ran at (what guardians sign with depositMessage). */
  slot: number;
  blockRoot: string;
  states: { finalized: CheckedState; head: CheckedState };
  /** The execution layer's deposit log: from which slot it was read and how many deposits it gave; null without a source. */
  execution: { fromSlot: number; deposits: number; beyondHead: number } | null;
  counts: Record<KeyVerdict, number>;
  keys: KeyCheck[];
}

const PUBKEY_RE = /^0x[0-9a-fA-F]{96}$/;
const WC_RE = /^0x[0-9a-fA-F]{64}$/;
const FORK_VERSION_RE = /^0x[0-9a-fA-F]{8}$/;

interface CheckedInput {
  keys: Array<{ keyId: number; pubkey: string }>;
  table: PubkeyTable;
  poolWc: Uint8Array;
  forkVersion: Uint8Array;
}

function checkInput(beacon: BeaconNodePool, input: BatchCheckInput): CheckedInput {
  if (input === null || typeof input !== "object") throw new ValidationError("input", "must be an object");
  const { poolWithdrawalCredentials: pool, genesisForkVersion } = input;
  if (typeof pool !== "string" || !WC_RE.test(pool))
    throw new ValidationError("poolWithdrawalCredentials", "must be 0x followed by 64 hex digits");
  if (typeof genesisForkVersion !== "string" || !FORK_VERSION_RE.test(genesisForkVersion))
    throw new ValidationError("genesisForkVersion", "must be 0x followed by 8 hex digits");
  const nodeVersion = toHex0x(beacon.config.GENESIS_FORK_VERSION);
  if (nodeVersion !== genesisForkVersion.toLowerCase())
    throw new ValidationError(
      "genesisForkVersion",
      `${genesisForkVersion} differs from the beacon node's GENESIS_FORK_VERSION ${nodeVersion}`,
    );
  if (!Array.isArray(input.keys) || input.keys.length === 0)
    throw new ValidationError("keys", "must be a non-empty list");
  if (input.keys.length > LIMITS.allocationCount)
    throw new ValidationError(
      "keys",
      `must hold at most ${LIMITS.allocationCount} keys (a deposit batch's limit)`,
    );
  const poolLower = pool.toLowerCase();
  const ids = new Set<number>();
  const seen = new Set<string>();
  const keys = input.keys.map((k, i) => {
    const f = `keys[${i}]`;
    if (k === null || typeof k !== "object") throw new ValidationError(f, "must be an object");
    if (!Number.isSafeInteger(k.keyId) || k.keyId < 0)
      throw new ValidationError(`${f}.keyId`, "must be a non-negative integer");
    if (ids.has(k.keyId)) throw new ValidationError(`${f}.keyId`, `${k.keyId} appears twice`);
    if (typeof k.pubkey !== "string" || !PUBKEY_RE.test(k.pubkey))
      throw new ValidationError(`${f}.pubkey`, "must be 0x followed by 96 hex digits");
    const pubkey = k.pubkey.toLowerCase();
    if (seen.has(pubkey)) throw new ValidationError(`${f}.pubkey`, "appears twice in the batch");
    if (typeof k.withdrawalCredentials !== "string" || !WC_RE.test(k.withdrawalCredentials))
      throw new ValidationError(`${f}.withdrawalCredentials`, "must be 0x followed by 64 hex digits");
    if (k.withdrawalCredentials.toLowerCase() !== poolLower)
      throw new ValidationError(`${f}.withdrawalCredentials`, "are not the pool's withdrawal credentials");
    ids.add(k.keyId);
    seen.add(pubkey);
    return { keyId: k.keyId, pubkey };
  });
  return {
    keys,
    table: new PubkeyTable(Buffer.from(keys.map((k) => k.pubkey.slice(2)).join(""), "hex")),
    poolWc: fromHex(pool, "poolWithdrawalCredentials", 32),
    forkVersion: fromHex(genesisForkVersion, "genesisForkVersion", 4),
  };
}

/** A deposit found for a batch key, before its signature is known. */
interface FoundDeposit {
  key: number;
  pubkey: Uint8Array;
  credentials: Uint8Array;
  amount: bigint;
  signature: Uint8Array;
  slot: number | null;
  depositIndex: number | null;
}

interface FoundValidator {
  key: number;
  index: number;
  credentials: Uint8Array;
  balance: bigint;
}

interface StateFindings {
  state: CheckedState;
  validators: FoundValidator[];
  /** In queue order. */
  deposits: FoundDeposit[];
}

const u64 = (dv: DataView, o: number): bigint => dv.getBigUint64(o, true);

/** The batch's keys in one state: a pass over the registry, then one over pending_deposits. */
export function scanState(
  st: BeaconStateReader,
  table: PubkeyTable,
  at: { blockRoot: string; stateRoot: string },
): StateFindings {
  const L = st.registryLayout();
  const validators: FoundValidator[] = [];
  const pk = L.offset.pubkey;
  for (let i = 0, o = L.validatorsStart; i < L.count; i++, o += L.validatorSize) {
    const key = table.find(L.bytes, o + pk);
    if (key === -1) continue;
    const w = o + L.offset.withdrawalCredentials;
    validators.push({
      key,
      index: i,
      credentials: L.bytes.slice(w, w + 32),
      balance: u64(L.dataView, L.balancesStart + 8 * i),
    });
  }
  const deposits: FoundDeposit[] = [];
  const P = st.pendingDepositsLayout();
  if (P !== null) {
    const { bytes, offset: off } = P;
    for (let k = 0, o = P.start; k < P.count; k++, o += P.size) {
      const key = table.find(bytes, o + off.pubkey);
      if (key === -1) continue;
      deposits.push({
        key,
        pubkey: bytes.slice(o + off.pubkey, o + off.pubkey + 48),
        credentials: bytes.slice(o + off.withdrawalCredentials, o + off.withdrawalCredentials + 32),
        amount: u64(P.dataView, o + off.amount),
        signature: bytes.slice(o + off.signature, o + off.signature + 96),
        slot: Number(u64(P.dataView, o + off.slot)),
        depositIndex: null,
      });
    }
  }
  return {
    state: {
      slot: st.slot,
      blockRoot: at.blockRoot,
      stateRoot: at.stateRoot,
      fork: st.fork,
      validators: L.count,
      pendingDeposits: P?.count ?? 0,
    },
    validators,
    deposits,
  };
}

/**
 * The post-state of the block `blockId` ("finalized", "head"), header and state from the same
 * node: the header's root is checked to be its hash tree root, the state is asked for by the
 * header's state root and must be at the header's slot.
 */
async function readState(
  beacon: BeaconNodePool,
  blockId: "finalized" | "head",
  table: PubkeyTable,
  cache?: FinalizedStateCache,
): Promise<StateFindings> {
  const what = `${blockId} state`;
  const found = await beacon.request(
    what,
    async (api) => {
      const header = valueOrNotFound(await api.beacon.getBlockHeader({ blockId }));
      if (header === NOT_FOUND) return NOT_FOUND;
      const msg = header.header.message;
      const blockRoot = toHex0x(beacon.lodestar.types.ssz.phase0.BeaconBlockHeader.hashTreeRoot(msg));
      if (blockRoot !== toHex0x(header.root))
        throw invalidResponse(`${blockId} header`, "its root is not the header's hash tree root");
      const stateRoot = toHex0x(msg.stateRoot);
      // the finalized block changes once an epoch: its state is read once for every batch checked meanwhile
      const kept = cache?.blockRoot === blockRoot && cache.stateRoot === stateRoot ? cache.state : undefined;
      const st = kept ?? (await readStateSsz(api, stateRoot, beacon.lodestar.types));
      if (st === NOT_FOUND) return NOT_FOUND;
      if (st.slot !== msg.slot)
        throw invalidResponse(what, `the state of root ${stateRoot} is at slot ${st.slot}, not ${msg.slot}`);
      if (cache !== undefined && kept === undefined) {
        cache.blockRoot = blockRoot;
        cache.stateRoot = stateRoot;
        cache.state = st;
        cache.reads++;
      }
      return scanState(st, table, { blockRoot, stateRoot });
    },
    // a state of 100+ MB is not asked of a second node because the first is slow
    { hedge: false },
  );
  if (found === null) throw invalidResponse(what, "no beacon node has it");
  return found;
}

const identity = (d: {
  pubkey: Uint8Array;
  credentials: Uint8Array;
  amount: bigint;
  signature: Uint8Array;
}) => `${toHex0x(d.pubkey)}${toHex0x(d.credentials)}:${d.amount}:${toHex0x(d.signature)}`;

/** is_valid_deposit_signature of every distinct deposit found, checked in batches. */
function signatureChecker(
  deposits: readonly FoundDeposit[],
  forkVersion: Uint8Array,
): (d: FoundDeposit) => boolean {
  const distinct = new Map<string, FoundDeposit>();
  for (const d of deposits) distinct.set(identity(d), d);
  const list = [...distinct.values()];
  const valid = depositSignaturesValid(
    list.map((d) => ({
      pubkey: d.pubkey,
      withdrawalCredentials: d.credentials,
      amount: d.amount,
      signature: d.signature,
    })),
    forkVersion,
  );
  const byId = new Map(list.map((d, i) => [identity(d), valid[i] as boolean]));
  return (d) => byId.get(identity(d)) ?? false;
}

/** One key's evidence in one view, played in the chain's order from `owned` (the key has a validator). */
class KeyPlay {
  owned = false;
  readonly evidence: KeyEvidence[] = [];
  constructor(
    private readonly view: CheckedView,
    private readonly poolWc: Uint8Array,
  ) {}

  private isPool(wc: Uint8Array): boolean {
    for (let b = 0; b < 32; b++) if (wc[b] !== this.poolWc[b]) return false;
    return true;
  }

  validator(v: FoundValidator, slot: number): void {
    this.owned = true;
    this.evidence.push({
      source: "validator",
      view: this.view,
      slot,
      validatorIndex: v.index,
      depositIndex: null,
      credentials: toHex0x(v.credentials),
      poolCredentials: this.isPool(v.credentials),
      amountGwei: v.balance,
      signatureValid: null,
      effect: "validator",
    });
  }

  deposit(d: FoundDeposit, signatureValid: boolean, source: EvidenceSource): void {
    let effect: EvidenceEffect;
    if (this.owned) effect = "top_up";
    else if (signatureValid) {
      effect = "creates_validator";
      this.owned = true;
    } else effect = "dropped";
    this.evidence.push({
      source,
      view: this.view,
      slot: d.slot,
      validatorIndex: null,
      depositIndex: d.depositIndex,
      credentials: toHex0x(d.credentials),
      poolCredentials: this.isPool(d.credentials),
      amountGwei: d.amount,
      signatureValid,
      effect,
    });
  }
}

function groupByKey<T extends { key: number }>(items: readonly T[], n: number): T[][] {
  const out = Array.from({ length: n }, () => [] as T[]);
  for (const it of items) (out[it.key] as T[]).push(it);
  return out;
}

/** The execution-layer deposits for the batch's keys that the head state does not hold. */
function beyondHead(log: readonly ElDeposit[], table: PubkeyTable, head: StateFindings): FoundDeposit[] {
  // the head's pending deposits, counted by identity and slot: an equal log entry is one of them
  const inHead = new Map<string, number>();
  for (const d of head.deposits) {
    const id = `${identity(d)}@${d.slot}`;
    inHead.set(id, (inHead.get(id) ?? 0) + 1);
  }
  const out: FoundDeposit[] = [];
  if (!Array.isArray(log)) throw badLog("deposits", "must be a list");
  for (const [i, e] of log.entries()) {
    const b = depositBytes(e, `deposits[${i}]`);
    const key = table.find(b.pubkey, 0);
    if (key === -1) continue;
    const d: FoundDeposit = {
      key,
      pubkey: b.pubkey,
      credentials: b.credentials,
      amount: e.amountGwei,
      signature: b.signature,
      slot: e.slot,
      depositIndex: e.index,
    };
    const id = `${identity(d)}@${d.slot}`;
    const left = inHead.get(id) ?? 0;
    if (e.slot !== null && left > 0) {
      inHead.set(id, left - 1);
      continue;
    }
    out.push(d);
  }
  return out;
}

/**
 * Check a deposit batch's keys against the finalized state, the head state and (with `el`) the
 * execution layer's deposit log. Throws a ValidationError naming the field for bad input, a
 * BeaconError when no beacon node gives both states, ERR_DEPOSIT_LOG_UNAVAILABLE when the log
 * cannot be read: never a result that was not fully checked.
 */
/**
 * The finalized state kept between checks (a guardian checking several batches an epoch): read
 * again only when the finalized block changes (its root and state root are compared with the
 * node's finalized header at every check). `reads` counts the downloads.
 */
export interface FinalizedStateCache {
  blockRoot?: string;
  stateRoot?: string;
  state?: BeaconStateReader;
  reads: number;
}

export function finalizedStateCache(): FinalizedStateCache {
  return { reads: 0 };
}

export async function checkBatchKeys(
  beacon: BeaconNodePool,
  input: BatchCheckInput,
  el?: DepositLogSource,
  opts: { finalizedCache?: FinalizedStateCache } = {},
): Promise<BatchCheck> {
  const c = checkInput(beacon, input);
  const [finalized, head] = await Promise.all([
    readState(beacon, "finalized", c.table, opts.finalizedCache),
    readState(beacon, "head", c.table),
  ]);
  // deposits carried after the finalized block: the head state holds them or will
  const fromSlot = finalized.state.slot + 1;
  const log = el === undefined ? null : await el.depositsFrom(fromSlot);
  const later = log === null ? [] : beyondHead(log, c.table, head);
  const valid = signatureChecker([...finalized.deposits, ...head.deposits, ...later], c.forkVersion);

  const n = c.keys.length;
  const plays = (f: StateFindings, view: CheckedView): KeyPlay[] => {
    const vs = groupByKey(f.validators, n);
    const ds = groupByKey(f.deposits, n);
    return c.keys.map((_, k) => {
      const p = new KeyPlay(view, c.poolWc);
      const v = vs[k] as FoundValidator[];
      if (v.length > 1)
        throw invalidResponse(
          `${view} state ${f.state.slot}`,
          `pubkey ${c.keys[k]?.pubkey} at ${v.length} validators`,
        );
      if (v[0] !== undefined) p.validator(v[0], f.state.slot);
      for (const d of ds[k] as FoundDeposit[]) p.deposit(d, valid(d), "pending_deposit");
      return p;
    });
  };
  const fin = plays(finalized, "finalized");
  const hd = plays(head, "head");
  const laterByKey = groupByKey(later, n);

  const counts: Record<KeyVerdict, number> = { clean: 0, front_run: 0, pool_deposited: 0 };
  const keys = c.keys.map((key, k): KeyCheck => {
    // the execution layer's deposits come after everything the head state holds
    const ex = new KeyPlay("execution", c.poolWc);
    ex.owned = (hd[k] as KeyPlay).owned;
    for (const d of laterByKey[k] as FoundDeposit[]) ex.deposit(d, valid(d), "el_deposit");
    const evidence = [...(fin[k] as KeyPlay).evidence, ...(hd[k] as KeyPlay).evidence, ...ex.evidence];
    const owners = evidence.filter((e) => e.effect === "validator" || e.effect === "creates_validator");
    const foreign = owners.find((e) => !e.poolCredentials);
    const decisive = foreign ?? owners[0] ?? null;
    const verdict: KeyVerdict =
      decisive === null ? "clean" : decisive.poolCredentials ? "pool_deposited" : "front_run";
    counts[verdict]++;
    return { keyId: key.keyId, pubkey: key.pubkey, verdict, decisive, evidence };
  });
  return {
    ok: counts.clean === n,
    slot: head.state.slot,
    blockRoot: head.state.blockRoot,
    states: { finalized: finalized.state, head: head.state },
    execution: log === null ? null : { fromSlot, deposits: log.length, beyondHead: later.length },
    counts,
    keys,
  };
}

/**
 * Throws ERR_DEPOSIT_KEYS_NOT_CLEAN (conflict) unless every key of the check is clean; `details`
 * lists each other key with its verdict and decisive evidence (amounts as decimal strings).
 */
export function assertBatchClean(check: BatchCheck): void {
  if (check.ok) return;
  const bad = check.keys.filter((k) => k.verdict !== "clean");
  throw new DepositSecurityError(
    DEPOSIT_SECURITY_ERRORS.KEYS_NOT_CLEAN,
    `${bad.length} of ${check.keys.length} keys of the batch are not clean at slot ${check.slot} (${check.counts.front_run} front-run, ${check.counts.pool_deposited} already deposited)`,
    {
      slot: check.slot,
      blockRoot: check.blockRoot,
      keys: bad.map((k) => ({
        keyId: k.keyId,
        pubkey: k.pubkey,
        verdict: k.verdict,
        evidence: k.decisive === null ? null : { ...k.decisive, amountGwei: String(k.decisive.amountGwei) },
      })),
    },
  );
}
