/**
 * Exit requests (EXITS-CONTRACT.md): the pool's requests for this operator's validators arrive on
 * GET /v1/operators/{id}/exits/stream (server-sent events; reconnecting with Last-Event-ID and
 * backoff). For each: the key's index is found among the indices this daemon derived, the voluntary
 * exit is signed (with the key derived from the mnemonic: packages/keys signVoluntaryExit, the
 * EIP-7044 domain over the Capella fork version; or by the validator client's Keymanager API),
 * submitted to the beacon nodes (POST /eth/v1/beacon/pool/voluntary_exits, every node), reported
 * (signed, submitted; never the exit itself: a signed exit is a secret), then followed until the
 * validator has exited. A key this daemon did not derive is reported failed with the reason.
 */
import type { ApiClient, ExitProgressStage } from "@poolkeeper/contract";
import { type Logger, type Network, PoolkeeperError } from "@poolkeeper/core";
import {
  pubkeyFromSecret,
  type SignedVoluntaryExitJson,
  seedFromCanonical,
  signVoluntaryExit,
  ValidatorKeyDeriver,
} from "@poolkeeper/keys";
import { DAEMON_ERRORS } from "./errors.js";
import type { OperatorDaemonMetrics } from "./metrics.js";
import { errorCode } from "./supply.js";

export type ExitState = "requested" | "signed" | "submitted" | "late" | "triggered" | "exiting" | "exited";

/** The contract's ExitRequest (the fields the daemon reads). */
export interface ExitRequest {
  id: number;
  operatorId: number;
  pubkey: string;
  validatorIndex: number;
  requestedEpoch: number;
  deadlineEpoch: number;
  state: ExitState;
}

export type ExitStage = ExitProgressStage;

/** The pool side the exit handling talks to. */
export interface ExitsApi {
  /** POST /v1/exits/{id}/progress */
  progress(id: number, stage: ExitStage, detail?: string): Promise<void>;
}

/** The beacon side: the head's epoch, a validator's status and exit epoch, the exit's submission. */
export interface ExitChain {
  currentEpoch(): Promise<number>;
  validator(index: number): Promise<{ status: string; exitEpoch: number } | null>;
  /** Resolves when at least one node accepted it; throws (never with the exit) otherwise. */
  submit(exit: SignedVoluntaryExitJson): Promise<void>;
}

/** Who signs an exit. */
export type ExitSigner = (req: ExitRequest, index: number, epoch: number) => Promise<SignedVoluntaryExitJson>;

const FAR_EPOCH = 2 ** 64 - 1;
/** Attempts at one request before its failure is final (one per poll). */
const MAX_ATTEMPTS = 10;
const EXITED = /^(exited_|withdrawal_)/;

export interface ExitHandlerOptions {
  operatorId: number;
  /** Indices below this were derived by the daemon (state.json's nextIndex). */
  derivedCount: () => Promise<number>;
}

export class ExitHandler {
  /** pubkey (lower-case hex, no 0x) → derivation index, filled on demand. */
  private readonly indexOfPubkey = new Map<string, number>();
  private scanned = 0;
  private readonly following = new Map<number, { req: ExitRequest; lateCounted: boolean }>();
  private readonly done = new Set<number>();
  /** Requests whose attempt failed on the way (a node, the API): tried again at each poll. */
  private readonly retry = new Map<number, { req: ExitRequest; attempts: number }>();

  constructor(
    private readonly deps: {
      api: ExitsApi;
      chain: ExitChain | null;
      sign: ExitSigner;
      logger: Logger;
      metrics: OperatorDaemonMetrics;
      /** The signing key of an index (for the pubkey scan); wiped by the caller's deriver. */
      pubkeyOf: (index: number) => string;
    },
    private readonly o: ExitHandlerOptions,
  ) {}

  /** How many requests are followed until their validator has exited. */
  get followingCount(): number {
    return this.following.size;
  }

  private async findIndex(pubkey: string): Promise<number | undefined> {
    const want = pubkey.toLowerCase().replace(/^0x/, "");
    const known = this.indexOfPubkey.get(want);
    if (known !== undefined) return known;
    const n = await this.o.derivedCount();
    for (; this.scanned < n; this.scanned++) {
      const pk = this.deps.pubkeyOf(this.scanned);
      this.indexOfPubkey.set(pk, this.scanned);
      if (pk === want) {
        this.scanned++;
        return this.scanned - 1;
      }
    }
    return undefined;
  }

  /** One request from the stream. Errors are reported (failed) and logged, never thrown. */
  async handle(req: ExitRequest): Promise<void> {
    if (this.done.has(req.id) || this.following.has(req.id)) return;
    const { metrics, logger } = this.deps;
    if (!this.retry.has(req.id)) {
      metrics.exits.inc({ stage: "requested" });
      if (req.state === "late") metrics.exits.inc({ stage: "late" });
    }
    const log = { exit: req.id, validator: req.validatorIndex };
    if (req.operatorId !== this.o.operatorId) {
      await this.fail(
        req,
        `request for operator ${req.operatorId}, this daemon is operator ${this.o.operatorId}`,
      );
      return;
    }
    const index = await this.findIndex(req.pubkey);
    if (index === undefined) {
      await this.fail(req, "key not derived by this daemon's mnemonic (not among the indices it made)");
      return;
    }
    const chain = this.deps.chain;
    if (chain === null) {
      await this.fail(req, "no beacon node configured (BEACON_URLS)");
      return;
    }
    try {
      const v = await chain.validator(req.validatorIndex);
      if (v !== null && v.exitEpoch !== FAR_EPOCH && Number.isFinite(v.exitEpoch)) {
        logger.info({ ...log, exitEpoch: v.exitEpoch }, "validator already exiting; following it");
        this.follow(req);
        return;
      }
      const epoch = await chain.currentEpoch();
      const signed = await this.deps.sign(req, index, epoch);
      metrics.exits.inc({ stage: "signed" });
      await this.deps.api.progress(req.id, "signed", `signed for epoch ${epoch}`);
      await chain.submit(signed);
      metrics.exits.inc({ stage: "submitted" });
      await this.deps.api.progress(req.id, "submitted", "accepted by a beacon node");
      logger.info({ ...log, epoch }, "voluntary exit signed and submitted");
      this.follow(req);
    } catch (e) {
      metrics.errors.inc({ part: "exit", code: errorCode(e) });
      const attempts = (this.retry.get(req.id)?.attempts ?? 0) + 1;
      const final = attempts >= MAX_ATTEMPTS;
      if (!final) this.retry.set(req.id, { req, attempts });
      await this.fail(req, `${errorCode(e)}: ${safeMessage(e)}${final ? "" : " (will retry)"}`, final);
    }
  }

  private follow(req: ExitRequest): void {
    this.following.set(req.id, { req, lateCounted: req.state === "late" });
  }

  private async fail(req: ExitRequest, detail: string, final = true): Promise<void> {
    if (final) this.done.add(req.id);
    this.deps.metrics.exits.inc({ stage: "failed" });
    this.deps.logger.warn({ exit: req.id, validator: req.validatorIndex, detail }, "exit request failed");
    try {
      await this.deps.api.progress(req.id, "failed", detail.slice(0, 200));
    } catch (e) {
      this.deps.logger.warn({ exit: req.id, code: errorCode(e) }, "could not report the failure");
    }
  }

  /** Look at the validators being followed: exited ones are done; past the deadline counts late once. */
  async poll(): Promise<void> {
    for (const { req } of [...this.retry.values()]) {
      await this.handle(req); // reads the attempts made so far from this.retry
      if (this.following.has(req.id) || this.done.has(req.id)) this.retry.delete(req.id);
    }
    const chain = this.deps.chain;
    if (chain === null || this.following.size === 0) return;
    const epoch = await chain.currentEpoch();
    for (const [id, f] of this.following) {
      const v = await chain.validator(f.req.validatorIndex);
      if (v !== null && EXITED.test(v.status)) {
        this.following.delete(id);
        this.done.add(id);
        this.deps.metrics.exits.inc({ stage: "completed" });
        this.deps.logger.info(
          { exit: id, validator: f.req.validatorIndex, status: v.status },
          "validator exited",
        );
      } else if (!f.lateCounted && epoch > f.req.deadlineEpoch && (v === null || v.exitEpoch === FAR_EPOCH)) {
        f.lateCounted = true;
        this.deps.metrics.exits.inc({ stage: "late" });
      }
    }
  }
}

/** An error's message for a progress report: the signed exit is never in it (no module puts it there). */
function safeMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/0x[0-9a-fA-F]{100,}/g, "0x…").slice(0, 150);
}

// ---- signers ----

/** Signs with the key the mnemonic gives the index (the node is derived once and kept). */
export function mnemonicSigner(
  mnemonic: string,
  network: Network,
): { sign: ExitSigner; pubkeyOf: (i: number) => string } {
  const seed = seedFromCanonical(mnemonic);
  const deriver = ValidatorKeyDeriver.fromSeed(seed);
  seed.fill(0);
  return {
    async sign(_req, index, epoch) {
      const { signingKey, withdrawalKey } = deriver.keys(index);
      withdrawalKey.fill(0);
      try {
        return signVoluntaryExit({
          secretKey: signingKey,
          validatorIndex: _req.validatorIndex,
          epoch,
          network,
        });
      } finally {
        signingKey.fill(0);
      }
    },
    pubkeyOf(index) {
      const { signingKey, withdrawalKey } = deriver.keys(index);
      withdrawalKey.fill(0);
      const pk = Buffer.from(pubkeyFromSecret(signingKey)).toString("hex");
      signingKey.fill(0);
      return pk;
    },
  };
}

/** Asks the validator client: POST /eth/v1/validator/{pubkey}/voluntary_exit?epoch= (Keymanager API). */
export function keymanagerSigner(url: string, token: string, doFetch: typeof fetch = fetch): ExitSigner {
  return async (req, _index, epoch) => {
    const pubkey = req.pubkey.startsWith("0x") ? req.pubkey : `0x${req.pubkey}`;
    const res = await doFetch(
      `${url.replace(/\/+$/, "")}/eth/v1/validator/${pubkey}/voluntary_exit?epoch=${epoch}`,
      { method: "POST", headers: { authorization: `Bearer ${token}` } },
    );
    if (!res.ok) {
      await res.body?.cancel();
      throw new PoolkeeperError(
        DAEMON_ERRORS.KEYMANAGER,
        `Keymanager API: voluntary_exit answered ${res.status}`,
      );
    }
    const json = (await res.json()) as { data?: SignedVoluntaryExitJson };
    if (json.data?.message === undefined || typeof json.data.signature !== "string")
      throw new PoolkeeperError(
        DAEMON_ERRORS.KEYMANAGER,
        "Keymanager API: voluntary_exit answer has no signed exit",
      );
    return json.data;
  };
}

// ---- the pool side through the typed client ----

/** POST /v1/exits/{id}/progress with the operator's token (the contract's reportExitProgress). */
export function clientExitsApi(api: Pick<ApiClient, "reportExitProgress">): ExitsApi {
  return {
    async progress(id, stage, detail) {
      await api.reportExitProgress({
        params: { id },
        body: detail === undefined ? { stage } : { stage, detail },
      });
    },
  };
}

export interface ExitStreamOptions {
  api: Pick<ApiClient, "streamOperatorExits">;
  operatorId: number;
  onRequest: (req: ExitRequest) => Promise<void>;
  logger: Logger;
  signal: AbortSignal;
  /** First reconnect delay (doubled up to maxBackoffMs, with jitter). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Follow GET /v1/operators/{id}/exits/stream until `signal` aborts: each `exit_requested` event is
 * handed to onRequest (in order) and its id becomes the Last-Event-ID of the next connection.
 */
export async function followExitStream(o: ExitStreamOptions): Promise<void> {
  let lastEventId: string | undefined;
  let backoff = o.backoffMs ?? 250;
  while (!o.signal.aborted) {
    try {
      const events = await o.api.streamOperatorExits({
        params: { id: o.operatorId },
        signal: o.signal,
        ...(lastEventId === undefined ? {} : { lastEventId }),
      });
      o.logger.info({ lastEventId: lastEventId ?? null }, "exit stream connected");
      backoff = o.backoffMs ?? 250;
      for await (const ev of events) {
        if (ev.event !== "exit_requested") continue;
        let req: ExitRequest;
        try {
          req = JSON.parse(ev.data) as ExitRequest;
        } catch {
          o.logger.warn({ id: ev.id }, "exit stream: an event that is not JSON; skipped");
          continue;
        }
        await o.onRequest(req);
        if (ev.id !== null) lastEventId = ev.id;
      }
      o.logger.info("exit stream ended; reconnecting");
    } catch (e) {
      if (o.signal.aborted) return;
      o.logger.warn({ code: errorCode(e), retryMs: backoff }, "exit stream lost; reconnecting");
    }
    await abortableSleep(backoff * (1 + Math.random() * 0.2), o.signal);
    backoff = Math.min(backoff * 2, o.maxBackoffMs ?? 30_000);
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
