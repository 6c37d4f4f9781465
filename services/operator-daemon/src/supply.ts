/**
 * The key supply: keeps the operator's uploaded, not-yet-deposited keys (submitted + vetted) at or
 * above the low-water mark.
 *
 * Never an index twice, none skipped, across a crash at any point:
 * 1. the batch (from, count) and the next index from+count go to state.json (fsynced, atomic)
 *    BEFORE any key is derived or written;
 * 2. the batch's keystores are made in D/staging/batch-<from> (generateKeys: an interrupted run
 *    keeps the keystores it wrote and makes only the missing ones), with one random password
 *    stored there first;
 * 3. the keystores reach the validator client (files or Keymanager API; both idempotent);
 * 4. the deposit data is uploaded. Before an upload that may have been made already (its answer
 *    lost, or a crash after sending), each pubkey is looked up (GET /v1/keys/{pubkey}) and only
 *    the keys the registry does not hold are sent: a lost answer never becomes a duplicate;
 * 5. state.json drops the batch; the staging directory is removed.
 * A restart finds the batch in state.json and resumes it at step 2 with the same indices.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { type ApiClient, ApiError } from "@poolkeeper/contract";
import { isPoolkeeperError, type Logger, type Network, PoolkeeperError } from "@poolkeeper/core";
import {
  type DepositDataJson,
  ensurePrivateDir,
  generateKeys,
  type KdfSettings,
  writeFileAtomic,
} from "@poolkeeper/keys";
import { DAEMON_FILES, type DaemonState, readState, writeState } from "./dir.js";
import { DAEMON_ERRORS } from "./errors.js";
import type { KeystoreSink } from "./keystores.js";
import type { OperatorDaemonMetrics } from "./metrics.js";

export type SupplyApi = Pick<ApiClient, "getOperator" | "getKey" | "uploadKeys">;

export interface KeySupplyOptions {
  dir: string;
  operatorId: number;
  network: Network;
  withdrawalCredentials: string;
  mnemonic: string;
  lowWater: number;
  batchSize: number;
  kdf: KdfSettings;
}

export interface KeySupplyDeps {
  api: SupplyApi;
  sink: KeystoreSink;
  logger: Logger;
  metrics: OperatorDaemonMetrics;
}

const LOOKUP_CONCURRENCY = 16;
const UPLOAD_CHUNK = 1000;

export class KeySupply {
  private readonly address: Uint8Array;
  private readonly compounding: boolean;

  constructor(
    private readonly deps: KeySupplyDeps,
    private readonly o: KeySupplyOptions,
  ) {
    const wc = o.withdrawalCredentials.toLowerCase();
    this.compounding = wc.startsWith("0x02");
    this.address = Uint8Array.from(Buffer.from(wc.slice(-40), "hex"));
  }

  /** Submitted + vetted keys of the operator, as the admin API counts them. */
  async supply(): Promise<number> {
    const op = (await this.deps.api.getOperator({ params: { id: this.o.operatorId } })).data;
    const n = (op.keys.submitted ?? 0) + (op.keys.vetted ?? 0);
    this.deps.metrics.supply.set(n);
    return n;
  }

  /** One round: finish a batch left by a crash, then top up while the supply is below the mark. Returns the keys added. */
  async round(): Promise<number> {
    let state = await readState(this.o.dir);
    this.deps.metrics.nextIndex.set(state.nextIndex);
    await this.removeFinishedStaging(state);
    let added = 0;
    if (state.pending !== null) {
      this.deps.logger.info(
        { from: state.pending.from, count: state.pending.count },
        "resuming the batch a restart interrupted",
      );
      added += await this.finish(state, true);
      state = { version: 1, nextIndex: state.nextIndex, pending: null };
    }
    for (;;) {
      const supply = await this.supply();
      if (supply >= this.o.lowWater) return added;
      const from = state.nextIndex;
      state = { version: 1, nextIndex: from + this.o.batchSize, pending: { from, count: this.o.batchSize } };
      await writeState(this.o.dir, state); // durable before any key exists
      this.deps.metrics.nextIndex.set(state.nextIndex);
      this.deps.logger.info(
        { supply, lowWater: this.o.lowWater, from, count: this.o.batchSize },
        "topping up",
      );
      added += await this.finish(state, false);
      state = { version: 1, nextIndex: state.nextIndex, pending: null };
    }
  }

  /**
   * A batch's staging directory outlives it when the daemon stops between recording the batch done
   * and removing it: every staging directory but the pending batch's is such a leftover.
   */
  private async removeFinishedStaging(state: DaemonState): Promise<void> {
    const root = join(this.o.dir, DAEMON_FILES.staging);
    const keep = state.pending === null ? null : `batch-${state.pending.from}`;
    let names: string[];
    try {
      names = await fs.readdir(root);
    } catch {
      return; // none yet
    }
    for (const n of names)
      if (n.startsWith("batch-") && n !== keep) await fs.rm(join(root, n), { recursive: true, force: true });
  }

  private async finish(state: DaemonState, resumed: boolean): Promise<number> {
    const { from, count } = state.pending!;
    const staging = join(this.o.dir, DAEMON_FILES.staging, `batch-${from}`);
    await ensurePrivateDir(staging);
    const password = await batchPassword(staging);
    const t0 = performance.now();
    const r = await generateKeys({
      mnemonic: this.o.mnemonic,
      network: this.o.network,
      startIndex: from,
      count,
      withdrawalAddress: this.address,
      compounding: this.compounding,
      kdf: this.o.kdf,
      keystorePassword: password,
      outDir: staging,
    });
    const t1 = performance.now();
    await this.deps.sink.deliver(
      r.deposits.map((d, k) => ({
        index: from + k,
        pubkey: d.pubkey,
        file: r.keystoreFiles[k]!,
        password,
        passwordFile: join(staging, "password"),
      })),
    );
    const t2 = performance.now();
    // A resumed batch may have been sent before the crash: look its keys up first.
    const uploaded = await this.upload(r.deposits, resumed);
    const t3 = performance.now();
    await writeState(this.o.dir, { version: 1, nextIndex: state.nextIndex, pending: null });
    await fs.rm(staging, { recursive: true, force: true });
    const ms = (a: number, b: number) => Math.round(b - a);
    this.deps.logger.info(
      {
        from,
        count,
        uploaded,
        ms: { keys: ms(t0, t1), deliver: ms(t1, t2), upload: ms(t2, t3), done: ms(t3, performance.now()) },
      },
      "batch done: keystores delivered, deposit data uploaded",
    );
    return count;
  }

  /** Upload what the registry does not hold yet; returns how many were sent. */
  private async upload(deposits: readonly DepositDataJson[], mayBeThere: boolean): Promise<number> {
    let sent = 0;
    for (let i = 0; i < deposits.length; i += UPLOAD_CHUNK) {
      let chunk = deposits.slice(i, i + UPLOAD_CHUNK);
      let check = mayBeThere;
      for (let attempt = 0; ; attempt++) {
        if (check) chunk = await this.notUploaded(chunk);
        if (chunk.length === 0) break;
        try {
          await this.deps.api.uploadKeys({
            params: { id: this.o.operatorId },
            body: chunk.map((d) => ({ ...d, amount: Number(d.amount) })),
          });
          this.deps.metrics.keysUploaded.inc(chunk.length);
          sent += chunk.length;
          break;
        } catch (e) {
          // No answer, a server error or a conflict (a duplicate: the keys may be there): look
          // them up and send the rest. Anything else (422: the deposit data is refused) is final.
          const retriable =
            e instanceof ApiError &&
            (e.status === 0 || e.status >= 500 || e.status === 409 || e.status === 429);
          if (!retriable || attempt >= 5) throw e;
          this.deps.metrics.errors.inc({ part: "upload", code: errorCode(e) });
          this.deps.logger.warn(
            { code: errorCode(e), status: (e as ApiError).status, attempt },
            "upload failed; looking the keys up before retrying",
          );
          await sleep(200 * 2 ** attempt);
          check = true;
        }
      }
    }
    return sent;
  }

  /** The deposits whose pubkey the registry does not hold; a key held for another operator is an error. */
  private async notUploaded(deposits: readonly DepositDataJson[]): Promise<DepositDataJson[]> {
    const missing: boolean[] = new Array(deposits.length).fill(false);
    let next = 0;
    const lane = async () => {
      while (next < deposits.length) {
        const k = next++;
        const d = deposits[k]!;
        try {
          const key = (await this.deps.api.getKey({ params: { pubkey: `0x${d.pubkey}` } })).data;
          if (key.operatorId !== this.o.operatorId)
            throw new PoolkeeperError(
              DAEMON_ERRORS.FOREIGN_KEY,
              `key 0x${d.pubkey} is registered for operator ${key.operatorId}, not ${this.o.operatorId}`,
            );
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) missing[k] = true;
          else throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: LOOKUP_CONCURRENCY }, lane));
    const out = deposits.filter((_, k) => missing[k]);
    const found = deposits.length - out.length;
    if (found > 0) {
      this.deps.metrics.keysUploaded.inc(found);
      this.deps.logger.info(
        { found },
        "keys already in the registry (an earlier upload whose answer was lost)",
      );
    }
    return out;
  }
}

/** The batch's keystore password: made once, stored in the staging directory before any keystore. */
async function batchPassword(staging: string): Promise<string> {
  const file = join(staging, "password");
  try {
    return await fs.readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const pw = randomBytes(24).toString("base64url");
  try {
    await writeFileAtomic(file, pw, { noOverwrite: true });
    return pw;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return fs.readFile(file, "utf8");
    throw e;
  }
}

export function errorCode(e: unknown): string {
  return isPoolkeeperError(e) ? e.code : "ERR_INTERNAL";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
