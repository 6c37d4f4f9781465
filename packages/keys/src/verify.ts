import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import {
  verify as blstVerify,
  PublicKey,
  Signature,
  type SignatureSet,
  verifyMultipleAggregateSignatures,
} from "@chainsafe/blst";
import {
  bytesEqual,
  isPoolkeeperError,
  type Network,
  toChecksumAddress,
  toHex,
  ValidationError,
} from "@poolkeeper/core";
import {
  checkDepositAmount,
  launchpadAcceptsCliVersion,
  MIN_LAUNCHPAD_DEPOSIT_CLI_VERSION,
} from "./deposit.js";
import { computeDepositDomain, computeSigningRoot, isInfinityEncoding } from "./signing.js";
import { DepositData, DepositMessage } from "./ssz.js";
import {
  MAX_EFFECTIVE_BALANCE_ELECTRA_GWEI,
  MIN_ACTIVATION_BALANCE_GWEI,
  type ParsedWithdrawalCredentials,
  parseWithdrawalCredentials,
} from "./withdrawal-credentials.js";

/**
 * Verification of a deposit_data.json as the staking launchpad does it, and stricter: every
 * field present, typed and of the right length; amount in range for the credentials; fork
 * version and network name of the expected network; pubkey a G1 point in the subgroup (not
 * infinity); signature a G2 point in the subgroup that verifies over the deposit signing root;
 * both roots recomputed; no duplicate pubkeys; optionally the expected withdrawal credentials or
 * execution address. One failure per problem, naming the entry, the field and the reason.
 *
 * Signatures are checked in chunks (blst's multi-signature verification with random scalars):
 * cheaper per entry than one by one. Only a chunk that fails is re-checked entry by entry, to
 * name the entries at fault.
 */

export interface VerifiedDeposit {
  /** Position of the entry in the input array. */
  index: number;
  pubkey: Uint8Array;
  withdrawalCredentials: Uint8Array;
  amountGwei: bigint;
  signature: Uint8Array;
  depositMessageRoot: Uint8Array;
  depositDataRoot: Uint8Array;
  forkVersion: Uint8Array;
  networkName: string;
  depositCliVersion: string;
}

/** `index` is the entry's position, or -1 for a problem with the whole file. */
export interface DepositFailure {
  index: number;
  field: string;
  reason: string;
}

export interface VerifyDepositDataResult {
  /** Entries that passed every check, in input order. */
  entries: VerifiedDeposit[];
  failures: DepositFailure[];
  passed: number;
  /** Number of entries with at least one failure. */
  failed: number;
}

export interface VerifyDepositDataOptions {
  network: Network;
  /** Every entry must carry exactly these 32 bytes of withdrawal credentials. */
  expectedWithdrawalCredentials?: Uint8Array;
  /** Every entry must have 0x01 or 0x02 credentials paying this 20-byte execution address. */
  expectedWithdrawalAddress?: Uint8Array;
  /**
   * Entries per signature chunk (default 256; 128 for the async form: the event loop does only a
   * chunk's field checks and roots while the signature workers verify, so it stays short).
   */
  chunkSize?: number;
}

export const DEFAULT_VERIFY_CHUNK_SIZE = 256;
export const DEFAULT_ASYNC_VERIFY_CHUNK_SIZE = 128;

/** "entry 3: signature: does not verify ..." (or "file: ..." for file-level problems). */
export function formatDepositFailure(f: DepositFailure): string {
  return f.index < 0 ? `${f.field}: ${f.reason}` : `entry ${f.index}: ${f.field}: ${f.reason}`;
}

/**
 * Verify synchronously. Blocks the event loop for the whole input (a BLS verification per entry):
 * servers should use verifyDepositDataAsync.
 */
export function verifyDepositData(input: unknown, opts: VerifyDepositDataOptions): VerifyDepositDataResult {
  const run = new Verification(input, opts);
  while (run.step()) {
    // one chunk per step
  }
  return run.result();
}

/**
 * Same checks and the same result. The signature chunks (decompression, subgroup checks, one
 * blst multi-signature verification) run on two worker threads, so the event loop only does the
 * field checks and roots of each chunk, overlapped with the workers verifying earlier ones. A
 * chunk a worker does not pass (or a worker that cannot start or dies) is checked again here,
 * entry by entry, exactly as the sync form does. Only public data (pubkeys, signatures, signing
 * roots) goes to the workers.
 */
export async function verifyDepositDataAsync(
  input: unknown,
  opts: VerifyDepositDataOptions,
): Promise<VerifyDepositDataResult> {
  const chunkSize = opts.chunkSize ?? DEFAULT_ASYNC_VERIFY_CHUNK_SIZE;
  const workers = signatureWorkers();
  if (workers.length === 0) {
    const run = new Verification(input, { ...opts, chunkSize });
    while (run.step()) await yieldToEventLoop();
    return run.result();
  }
  const run = new Verification(input, { ...opts, chunkSize }, true);
  const inFlight: Promise<void>[] = [];
  for (;;) {
    const candidates = run.prepare();
    if (candidates === undefined) break;
    // The least busy worker; two chunks queued per worker, so none waits for the event loop.
    const worker = workers.reduce((a, b) => (b.pending < a.pending ? b : a));
    inFlight.push(run.verifyWith(worker, candidates));
    if (inFlight.length >= 2 * workers.length) await inFlight.shift();
    else await yieldToEventLoop();
  }
  await Promise.all(inFlight);
  return run.result();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** Bytes per entry sent to the signature worker: pubkey, signature, signing root. */
const WORKER_ENTRY_BYTES = 48 + 96 + 32;

/**
 * The worker's whole program (plain CommonJS, so that it starts the same way under tsx, vitest
 * or a bundle): decompress, then one verifyMultipleAggregateSignatures with the public-key and
 * signature subgroup checks; it answers true only if the whole chunk verifies.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const blst = require(workerData.blstPath);
parentPort.on("message", (m) => {
  let ok = false;
  try {
    const b = new Uint8Array(m.buf);
    const sets = new Array(m.count);
    for (let i = 0; i < m.count; i++) {
      const o = i * ${WORKER_ENTRY_BYTES};
      sets[i] = {
        pk: blst.PublicKey.fromBytes(b.slice(o, o + 48), false),
        sig: blst.Signature.fromBytes(b.slice(o + 48, o + 144), false),
        msg: b.slice(o + 144, o + 176),
      };
    }
    ok = blst.verifyMultipleAggregateSignatures(sets, true, true) === true;
  } catch {
    ok = false;
  }
  parentPort.postMessage({ id: m.id, ok });
});
`;

/**
 * Long-lived workers shared by every async verification of the process (unref'd: they never keep
 * it alive). Two of them on a machine with two cores or more: while one decompresses its chunk
 * (one thread), the other's chunk runs on blst's thread pool.
 */
class SignatureWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, (ok: boolean) => void>();
  private nextId = 0;
  broken = false;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // plain CommonJS: no need for the parent's loader flags (--import tsx) in the worker
      execArgv: [],
      workerData: { blstPath: createRequire(import.meta.url).resolve("@chainsafe/blst") },
    });
    this.worker.on("message", (m: { id: number; ok: boolean }) => {
      const resolve = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      resolve?.(m.ok === true);
    });
    const fail = () => {
      this.broken = true;
      // Every chunk still waiting is re-checked on the calling thread.
      for (const resolve of this.waiting.values()) resolve(false);
      this.waiting.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", fail);
    // after the listeners: adding a "message" listener refs the worker's port again
    this.worker.unref();
  }

  get pending(): number {
    return this.waiting.size;
  }

  /** true when every (pubkey, signature, signing root) of `buf` verifies. */
  verify(buf: Uint8Array<ArrayBuffer>, count: number): Promise<boolean> {
    if (this.broken) return Promise.resolve(false);
    const id = this.nextId++;
    return new Promise<boolean>((resolve) => {
      this.waiting.set(id, resolve);
      if (this.waiting.size === 1) this.worker.ref();
      try {
        this.worker.postMessage({ id, count, buf: buf.buffer }, [buf.buffer]);
      } catch {
        this.waiting.delete(id);
        resolve(false);
      }
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
  }
}

const sharedWorkers: SignatureWorker[] = [];

/** The shared workers (started on first use, replaced when broken); none if they cannot start. */
function signatureWorkers(): SignatureWorker[] {
  const count = Math.min(2, availableParallelism());
  for (let i = 0; i < count; i++) {
    const w = sharedWorkers[i];
    if (w !== undefined && !w.broken) continue;
    try {
      sharedWorkers[i] = new SignatureWorker();
    } catch {
      return [];
    }
  }
  return sharedWorkers.slice(0, count);
}

const HEX_FIELDS = {
  pubkey: 48,
  withdrawal_credentials: 32,
  signature: 96,
  deposit_message_root: 32,
  deposit_data_root: 32,
  fork_version: 4,
} as const;
type HexField = keyof typeof HEX_FIELDS;

const HEX_RE = /^[0-9a-fA-F]*$/;
const INFINITY_PK = "is the point at infinity, which is not a valid public key";

/**
 * An entry whose signature still has to be checked. pk and sig are undefined while their
 * decompression is left to the signature worker (entries with no failure so far).
 */
interface Candidate {
  deposit: VerifiedDeposit;
  pk: PublicKey | undefined;
  sig: Signature | undefined;
  signingRoot: Uint8Array;
}

function quote(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}

class Verification {
  private readonly entries: VerifiedDeposit[] = [];
  private readonly failures: DepositFailure[] = [];
  private readonly failedIndices = new Set<number>();
  private readonly seen = new Map<string, number>();
  private readonly items: readonly unknown[];
  private readonly chunkSize: number;
  private readonly domain: Uint8Array;
  private readonly forkHex: string;
  private next = 0;

  constructor(
    input: unknown,
    private readonly opts: VerifyDepositDataOptions,
    /** Leave pubkey and signature decompression of clean entries to the signature worker. */
    private readonly deferDecompression = false,
  ) {
    this.chunkSize = Math.max(1, Math.floor(opts.chunkSize ?? DEFAULT_VERIFY_CHUNK_SIZE));
    const { expectedWithdrawalCredentials: wc, expectedWithdrawalAddress: address } = opts;
    if (wc !== undefined && (!(wc instanceof Uint8Array) || wc.length !== 32)) {
      throw new ValidationError("expectedWithdrawalCredentials", "must be 32 bytes");
    }
    if (address !== undefined && (!(address instanceof Uint8Array) || address.length !== 20)) {
      throw new ValidationError("expectedWithdrawalAddress", "must be a 20-byte execution address");
    }
    this.domain = computeDepositDomain(opts.network.genesisForkVersion);
    this.forkHex = toHex(opts.network.genesisForkVersion);
    if (!Array.isArray(input)) {
      this.fileFailure("must be a JSON array of deposit data entries");
      this.items = [];
    } else if (input.length === 0) {
      this.fileFailure("contains no deposit data entries");
      this.items = [];
    } else {
      this.items = input;
    }
  }

  /** Check the next chunk; false when there is nothing left. */
  step(): boolean {
    const candidates = this.prepare();
    if (candidates === undefined) return false;
    this.verifySignatures(candidates);
    return this.next < this.items.length;
  }

  /** Every check but the signatures for the next chunk; undefined when there is nothing left. */
  prepare(): Candidate[] | undefined {
    if (this.next >= this.items.length) return undefined;
    const end = Math.min(this.items.length, this.next + this.chunkSize);
    const candidates: Candidate[] = [];
    for (let i = this.next; i < end; i++) {
      const c = this.checkEntry(this.items[i], i);
      if (c !== undefined) candidates.push(c);
    }
    this.next = end;
    return candidates;
  }

  /**
   * Signatures of a prepared chunk: entries that already failed a check one by one here, the
   * others as one chunk on the worker; if the worker does not pass it, entry by entry here.
   */
  async verifyWith(worker: SignatureWorker, all: Candidate[]): Promise<void> {
    const clean: Candidate[] = [];
    for (const c of all) {
      if (this.failedIndices.has(c.deposit.index)) this.verifyOne(c);
      else clean.push(c);
    }
    if (clean.length === 0) return;
    const buf = new Uint8Array(clean.length * WORKER_ENTRY_BYTES);
    clean.forEach((c, k) => {
      const o = k * WORKER_ENTRY_BYTES;
      buf.set(c.deposit.pubkey, o);
      buf.set(c.deposit.signature, o + 48);
      buf.set(c.signingRoot, o + 144);
    });
    if (await worker.verify(buf, clean.length)) {
      for (const c of clean) this.accept(c);
      return;
    }
    for (const c of clean) {
      if (this.verifyOne(c)) this.accept(c);
    }
  }

  result(): VerifyDepositDataResult {
    this.entries.sort((a, b) => a.index - b.index);
    // Signature failures are found after the field checks of their chunk: list by entry (stable).
    this.failures.sort((a, b) => a.index - b.index);
    return {
      entries: this.entries,
      failures: this.failures,
      passed: this.entries.length,
      failed: this.failedIndices.size,
    };
  }

  private fileFailure(reason: string): void {
    this.failures.push({ index: -1, field: "file", reason });
  }

  /** `at`: position in the failure list (a deferred check's place among the entry's failures). */
  private fail(index: number, field: string, reason: string, at = -1): void {
    if (at >= 0) this.failures.splice(at, 0, { index, field, reason });
    else this.failures.push({ index, field, reason });
    this.failedIndices.add(index);
  }

  private hex(entry: Record<string, unknown>, field: HexField, index: number): Uint8Array | undefined {
    const v = entry[field];
    const bytes = HEX_FIELDS[field];
    if (v === undefined || v === null) return void this.fail(index, field, "is missing");
    if (typeof v !== "string") return void this.fail(index, field, `must be a hex string of ${bytes} bytes`);
    if (v.startsWith("0x") || v.startsWith("0X")) {
      return void this.fail(index, field, "must be hex without the 0x prefix");
    }
    if (!HEX_RE.test(v)) return void this.fail(index, field, "is not hexadecimal");
    if (v.length !== bytes * 2) {
      return void this.fail(
        index,
        field,
        `must be ${bytes} bytes (${bytes * 2} hex digits), got ${v.length}`,
      );
    }
    return Uint8Array.from(Buffer.from(v, "hex"));
  }

  private string(entry: Record<string, unknown>, field: string, index: number): string | undefined {
    const v = entry[field];
    if (v === undefined || v === null) return void this.fail(index, field, "is missing");
    if (typeof v !== "string") return void this.fail(index, field, "must be a string");
    return v;
  }

  private checkEntry(raw: unknown, index: number): Candidate | undefined {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      this.fail(index, "entry", "must be a JSON object");
      return undefined;
    }
    const e = raw as Record<string, unknown>;
    const { network } = this.opts;

    const pubkey = this.hex(e, "pubkey", index);
    const wc = this.hex(e, "withdrawal_credentials", index);
    const signature = this.hex(e, "signature", index);
    const messageRoot = this.hex(e, "deposit_message_root", index);
    const dataRoot = this.hex(e, "deposit_data_root", index);
    const forkVersion = this.hex(e, "fork_version", index);
    const networkName = this.string(e, "network_name", index);
    const cliVersion = this.string(e, "deposit_cli_version", index);

    let amount: bigint | undefined;
    const rawAmount = e.amount;
    if (rawAmount === undefined || rawAmount === null) this.fail(index, "amount", "is missing");
    else if (typeof rawAmount !== "number" || !Number.isSafeInteger(rawAmount) || rawAmount < 0) {
      this.fail(index, "amount", "must be a whole number of gwei (a JSON number)");
    } else amount = BigInt(rawAmount);

    if (forkVersion !== undefined && toHex(forkVersion) !== this.forkHex) {
      this.fail(
        index,
        "fork_version",
        `${toHex(forkVersion)} is not the genesis fork version of ${network.name} (${this.forkHex})`,
      );
    }
    if (networkName !== undefined && networkName !== network.name) {
      this.fail(index, "network_name", `${quote(networkName)} does not match the network ${network.name}`);
    }
    if (cliVersion !== undefined && !launchpadAcceptsCliVersion(cliVersion)) {
      this.fail(
        index,
        "deposit_cli_version",
        `${quote(cliVersion)} is not a version of at least ${MIN_LAUNCHPAD_DEPOSIT_CLI_VERSION} (the staking launchpad rejects it)`,
      );
    }

    let credentials: ParsedWithdrawalCredentials | undefined;
    if (wc !== undefined) {
      try {
        credentials = parseWithdrawalCredentials(wc);
      } catch (err) {
        this.fail(index, "withdrawal_credentials", reasonOf(err));
      }
      this.checkExpectedCredentials(wc, credentials, index);
    }

    if (amount !== undefined) {
      if (credentials !== undefined) {
        try {
          checkDepositAmount(amount, credentials.type);
        } catch (err) {
          this.fail(index, "amount", reasonOf(err));
        }
      } else if (amount < MIN_ACTIVATION_BALANCE_GWEI || amount > MAX_EFFECTIVE_BALANCE_ELECTRA_GWEI) {
        this.fail(index, "amount", `${amount} gwei is out of range (32 to 2048 ETH)`);
      }
    }

    let pk: PublicKey | undefined;
    // Where a deferred decompression's failure belongs in this entry's list, if it comes to that.
    let pkAt = -1;
    let sigAt = -1;
    if (pubkey !== undefined) {
      const key = toHex(pubkey);
      const first = this.seen.get(key);
      if (first !== undefined) this.fail(index, "pubkey", `duplicate of entry ${first}`);
      else this.seen.set(key, index);
      if (isInfinityEncoding(pubkey)) this.fail(index, "pubkey", INFINITY_PK);
      else if (this.deferDecompression && !this.failedIndices.has(index)) pkAt = this.failures.length;
      else pk = this.decompressPubkey(pubkey, index);
    }

    let sig: Signature | undefined;
    if (signature !== undefined) {
      if (isInfinityEncoding(signature)) {
        this.fail(index, "signature", "is the point at infinity, which is not a valid signature");
      } else if (this.deferDecompression && !this.failedIndices.has(index)) sigAt = this.failures.length;
      else sig = this.decompressSignature(signature, index);
    }

    let computedMessageRoot: Uint8Array | undefined;
    let computedDataRoot: Uint8Array | undefined;
    if (pubkey !== undefined && wc !== undefined && amount !== undefined) {
      computedMessageRoot = DepositMessage.hashTreeRoot({ pubkey, withdrawalCredentials: wc, amount });
      if (messageRoot !== undefined && !bytesEqual(messageRoot, computedMessageRoot)) {
        this.fail(
          index,
          "deposit_message_root",
          `does not match the entry's pubkey, withdrawal_credentials and amount (recomputed ${toHex(computedMessageRoot)})`,
        );
      }
      if (signature !== undefined) {
        computedDataRoot = DepositData.hashTreeRoot({ pubkey, withdrawalCredentials: wc, amount, signature });
        if (dataRoot !== undefined && !bytesEqual(dataRoot, computedDataRoot)) {
          this.fail(
            index,
            "deposit_data_root",
            `does not match the entry's deposit data (recomputed ${toHex(computedDataRoot)})`,
          );
        }
      }
    }

    if (this.failedIndices.has(index)) {
      // A later check failed: decompress now (the entry is verified alone), failures in the order
      // the sync form gives them (signature's slot first: it comes after the pubkey's).
      if (sigAt >= 0 && signature !== undefined) sig = this.decompressSignature(signature, index, sigAt);
      if (pkAt >= 0 && pubkey !== undefined) pk = this.decompressPubkey(pubkey, index, pkAt);
      sigAt = -1;
      pkAt = -1;
    }
    if (
      (pk === undefined && pkAt < 0) ||
      (sig === undefined && sigAt < 0) ||
      computedMessageRoot === undefined ||
      computedDataRoot === undefined ||
      pubkey === undefined ||
      wc === undefined ||
      amount === undefined ||
      signature === undefined
    ) {
      return undefined;
    }
    return {
      deposit: {
        index,
        pubkey,
        withdrawalCredentials: wc,
        amountGwei: amount,
        signature,
        depositMessageRoot: computedMessageRoot,
        depositDataRoot: computedDataRoot,
        forkVersion: forkVersion ?? this.opts.network.genesisForkVersion,
        networkName: networkName ?? "",
        depositCliVersion: cliVersion ?? "",
      },
      pk,
      sig,
      // Signed over the network's deposit domain, whatever fork_version the entry claims.
      signingRoot: computeSigningRoot(computedMessageRoot, this.domain),
    };
  }

  /** Decompression checks the point is on the curve; the subgroup check comes with the signature. */
  private decompressPubkey(bytes: Uint8Array, index: number, at = -1): PublicKey | undefined {
    try {
      return PublicKey.fromBytes(bytes, false);
    } catch {
      this.fail(index, "pubkey", "is not a valid BLS public key (not a compressed point of G1)", at);
      return undefined;
    }
  }

  private decompressSignature(bytes: Uint8Array, index: number, at = -1): Signature | undefined {
    try {
      return Signature.fromBytes(bytes, false);
    } catch {
      this.fail(index, "signature", "is not a valid BLS signature (not a compressed point of G2)", at);
      return undefined;
    }
  }

  private checkExpectedCredentials(
    wc: Uint8Array,
    credentials: ParsedWithdrawalCredentials | undefined,
    index: number,
  ): void {
    const { expectedWithdrawalCredentials: expected, expectedWithdrawalAddress: address } = this.opts;
    if (expected !== undefined && !bytesEqual(wc, expected)) {
      this.fail(index, "withdrawal_credentials", `${toHex(wc)} is not the expected ${toHex(expected)}`);
    }
    if (address !== undefined) {
      const pays =
        credentials !== undefined && credentials.type !== 0 && bytesEqual(credentials.address, address);
      if (!pays) {
        this.fail(
          index,
          "withdrawal_credentials",
          `do not pay the expected withdrawal address ${toChecksumAddress(address)} (0x01 or 0x02 credentials)`,
        );
      }
    }
  }

  private verifySignatures(all: Candidate[]): void {
    // Entries that already failed a check are verified alone: a likely-bad signature must not
    // send a whole chunk down the one-by-one path.
    const candidates: Candidate[] = [];
    const sets: SignatureSet[] = [];
    for (const c of all) {
      if (this.failedIndices.has(c.deposit.index) || c.pk === undefined || c.sig === undefined) {
        if (this.verifyOne(c) && !this.failedIndices.has(c.deposit.index)) this.accept(c);
      } else {
        candidates.push(c);
        sets.push({ msg: c.signingRoot, pk: c.pk, sig: c.sig });
      }
    }
    if (candidates.length === 0) return;
    let chunkOk = false;
    try {
      // pksValidate and sigsGroupcheck: infinity and subgroup checks inside the chunk.
      chunkOk = verifyMultipleAggregateSignatures(sets, true, true);
    } catch {
      chunkOk = false;
    }
    if (chunkOk) {
      for (const c of candidates) this.accept(c);
      return;
    }
    for (const c of candidates) {
      if (this.verifyOne(c)) this.accept(c);
    }
  }

  private verifyOne(c: Candidate): boolean {
    const i = c.deposit.index;
    // Deferred decompression (worker path): done here, in the sync form's order.
    if (c.pk === undefined) c.pk = this.decompressPubkey(c.deposit.pubkey, i);
    if (c.sig === undefined) c.sig = this.decompressSignature(c.deposit.signature, i);
    if (c.pk === undefined || c.sig === undefined) return false;
    try {
      c.pk.keyValidate();
    } catch {
      this.fail(i, "pubkey", "is not a valid BLS public key (not in the G1 subgroup)");
      return false;
    }
    try {
      c.sig.sigValidate(true);
    } catch {
      this.fail(i, "signature", "is not a valid BLS signature (not in the G2 subgroup)");
      return false;
    }
    let ok = false;
    try {
      ok = blstVerify(c.signingRoot, c.pk, c.sig, false, false);
    } catch {
      ok = false;
    }
    if (!ok) this.fail(i, "signature", "does not verify for this pubkey and deposit message");
    return ok;
  }

  private accept(c: Candidate): void {
    if (!this.failedIndices.has(c.deposit.index)) this.entries.push(c.deposit);
  }
}

function reasonOf(err: unknown): string {
  if (isPoolkeeperError(err) && typeof err.details?.reason === "string") return err.details.reason;
  return err instanceof Error ? err.message : String(err);
}
