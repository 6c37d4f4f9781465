/**
 * Several beacon nodes behind one interface. Every call goes to the healthiest node first (reachable,
 * not syncing, furthest finalized epoch, then the fastest by recent response times and errors), fails
 * over to the next on an error, a timeout or an invalid answer, and retries the whole list with
 * exponential backoff. A read the first node has not answered within the hedge delay (derived from
 * the recent response times of that kind of request) is sent to the next node too: the first good
 * answer wins and the other request is aborted. Health checks run in the background once every node
 * was asked, so a slow node never holds a request up. URLs are printed only through core's `safeUrl`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { ApiClient } from "@lodestar/api";
import type { ChainForkConfig } from "@lodestar/config";
import { type Logger, safeUrl } from "@poolkeeper/core";
import { z } from "zod";
import { BeaconError, BeaconErrorCode, invalidResponse } from "./errors.js";
import { type Lodestar, loadLodestar, type Preset } from "./lodestar.js";

export interface BeaconPoolOptions {
  urls: string[];
  preset: Preset;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Extra rounds over the whole node list after the first (default 2). */
  retries?: number;
  /** First backoff delay, doubled each round (default 200 ms). */
  retryBaseMs?: number;
  /** How long a health check is trusted (default 12 s). */
  healthTtlMs?: number;
  /**
   * Rank nodes by recent latency and errors and hedge slow reads (default true). false: the order of
   * reachability and finality only, one node at a time, health checks awaited (the behaviour before).
   */
  adaptive?: boolean;
  /** Never hedge sooner than this (default 100 ms). */
  hedgeMinMs?: number;
  /** Hedge after this many times the p90 estimate of the request's usual response time (default 3). */
  hedgeFactor?: number;
}

export interface BeaconPoolDeps {
  logger?: Logger;
  /** Called when a node fails (for metrics and alerts); `url` is already safe to print. */
  onNodeError?: (url: string, error: string) => void;
}

export interface NodeHealth {
  url: string;
  reachable: boolean;
  syncing: boolean;
  headSlot: number;
  finalizedEpoch: number;
  consecutiveFailures: number;
  checkedAt: number;
  /** Recent response time (EWMA, ms; null until the node answered once). */
  latencyMs: number | null;
  /** Recent share of failed requests (EWMA, 0..1). */
  errorRate: number;
}

export interface ChainSpec {
  preset: Preset;
  slotsPerEpoch: number;
  secondsPerSlot: number;
  genesisTime: number;
  genesisValidatorsRoot: string;
  epochsPerSyncCommitteePeriod: number;
}

interface NodeState {
  index: number;
  baseUrl: string;
  url: string;
  api: ApiClient;
  health: NodeHealth;
  /** Latency estimate of this node (all its answers, aborted losers counted at their elapsed time). */
  latency: LatencyEstimate;
  /** EWMA of response time ÷ the usual time of the same kind of request (1: as fast as usual). */
  slowness: LatencyEstimate;
  /** A background health check in flight. */
  checking?: Promise<void>;
}

/** What a request function gets besides the client: the node, and a signal aborted when another node answered first. */
export interface RequestNode {
  url: string;
  baseUrl: string;
  signal: AbortSignal;
}

/** Counters of the pool's requests (for benchmarks, metrics and tests). */
export interface PoolStats {
  /** Requests sent, per node URL (hedges and failovers included, health checks not). */
  sent: Record<string, number>;
  /** Answers used, per node URL. */
  won: Record<string, number>;
  /** Requests also sent to a second node because the first was slow. */
  hedged: number;
  /** Requests aborted because another node answered first. */
  aborted: number;
}

const EWMA_ALPHA = 0.3;

/** EWMA of response times and of their absolute deviation (as TCP's RTT estimate). */
class LatencyEstimate {
  mean: number | null = null;
  dev = 0;
  add(ms: number): void {
    if (this.mean === null) {
      this.mean = ms;
      this.dev = ms / 2;
      return;
    }
    this.dev += EWMA_ALPHA * (Math.abs(ms - this.mean) - this.dev);
    this.mean += EWMA_ALPHA * (ms - this.mean);
  }
  /** About the 90th percentile (mean + 2 deviations), null without a sample. */
  p90(): number | null {
    return this.mean === null ? null : this.mean + 2 * this.dev;
  }
}

/**
 * The signal of the request attempt running in this async context: every lodestar client's fetch
 * joins it, so aborting an attempt aborts the HTTP requests of its request function.
 */
const attemptSignal = new AsyncLocalStorage<AbortSignal>();

/** A request kind for latency statistics: the description without its numbers and roots ("block #"). */
function kindOf(what: string): string {
  return what.replace(/0x[0-9a-fA-F]*/g, "#").replace(/\d+/g, "#");
}

/** Returned by a request function to say "this node does not have it": other nodes are asked. */
export const NOT_FOUND: unique symbol = Symbol("not-found");
export type NotFound = typeof NOT_FOUND;

/** Thrown inside request functions for answers that should make the pool try another node. */
export class NodeCallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "NodeCallError";
  }
}

interface ApiResponseLike {
  ok: boolean;
  status: number;
  error(): Error | null;
}

/** For lodestar responses: 404 → NOT_FOUND, other errors → NodeCallError (fail over), ok → value(). */
export function valueOrNotFound<T>(res: ApiResponseLike & { value(): T }): T | NotFound {
  if (res.ok) return res.value();
  if (res.status === 404) return NOT_FOUND;
  throw new NodeCallError(res.error()?.message ?? `HTTP ${res.status}`, res.status);
}

export function valueOrThrow<T>(res: ApiResponseLike & { value(): T }): T {
  if (res.ok) return res.value();
  throw new NodeCallError(res.error()?.message ?? `HTTP ${res.status}`, res.status);
}

const SpecJson = z.object({
  data: z
    .object({
      PRESET_BASE: z.string(),
      SECONDS_PER_SLOT: z.string().regex(/^\d+$/),
      SLOTS_PER_EPOCH: z.string().regex(/^\d+$/),
      EPOCHS_PER_SYNC_COMMITTEE_PERIOD: z.string().regex(/^\d+$/),
    })
    .catchall(z.unknown()),
});
const GenesisJson = z.object({
  data: z.object({
    genesis_time: z.string().regex(/^\d+$/),
    genesis_validators_root: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
    genesis_fork_version: z.string().regex(/^0x[0-9a-fA-F]{8}$/),
  }),
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.name === "Error" ? e.message : `${e.name}: ${e.message}`;
  return String(e);
}

export class BeaconNodePool {
  private constructor(
    readonly lodestar: Lodestar,
    readonly config: ChainForkConfig,
    readonly spec: ChainSpec,
    private readonly nodes: NodeState[],
    private readonly opts: Required<Omit<BeaconPoolOptions, "urls" | "preset">>,
    private readonly deps: BeaconPoolDeps,
    private readonly scrub: (msg: string) => string,
  ) {}

  private readonly counters: PoolStats = { sent: {}, won: {}, hedged: 0, aborted: 0 };
  /** Response times per kind of request (answers only), for the hedge delay and the slowness ratio. */
  private readonly kinds = new Map<string, LatencyEstimate>();

  /** Connects to the nodes, reads spec and genesis from the first that answers, checks the preset. */
  static async init(opts: BeaconPoolOptions, deps: BeaconPoolDeps = {}): Promise<BeaconNodePool> {
    if (opts.urls.length === 0)
      throw new BeaconError(BeaconErrorCode.input, "urls: at least one beacon node URL is required");
    for (const [i, u] of opts.urls.entries()) {
      try {
        const p = new URL(u);
        if (p.protocol !== "http:" && p.protocol !== "https:") throw new Error("protocol");
      } catch {
        throw new BeaconError(BeaconErrorCode.input, `urls[${i}]: not an http(s) URL (${safeUrl(u)})`);
      }
    }
    const o = {
      timeoutMs: opts.timeoutMs ?? 10_000,
      retries: opts.retries ?? 2,
      retryBaseMs: opts.retryBaseMs ?? 200,
      healthTtlMs: opts.healthTtlMs ?? 12_000,
      adaptive: opts.adaptive ?? true,
      hedgeMinMs: opts.hedgeMinMs ?? 100,
      hedgeFactor: opts.hedgeFactor ?? 3,
    };
    for (const k of ["hedgeMinMs", "hedgeFactor", "timeoutMs", "healthTtlMs"] as const) {
      if (!Number.isFinite(o[k]) || o[k] < 0)
        throw new BeaconError(BeaconErrorCode.input, `${k}: must be a non-negative number, got ${o[k]}`);
    }
    const lodestar = await loadLodestar(opts.preset);
    // spec and genesis: raw JSON, validated, from the first node that answers (adaptive: all are
    // asked at once, so a slow first node does not hold the start up)
    const scrub = scrubber(opts.urls);
    const errors: string[] = [];
    const readSpec = async (u: string, signal?: AbortSignal) => {
      const s = SpecJson.parse(await fetchJson(u, "/eth/v1/config/spec", o.timeoutMs, signal));
      const g = GenesisJson.parse(await fetchJson(u, "/eth/v1/beacon/genesis", o.timeoutMs, signal));
      if (s.data.PRESET_BASE !== opts.preset) {
        throw new BeaconError(
          BeaconErrorCode.preset,
          `preset: ${safeUrl(u)} runs preset "${s.data.PRESET_BASE}", configured "${opts.preset}"`,
        );
      }
      const spec: ChainSpec = {
        preset: opts.preset,
        slotsPerEpoch: Number(s.data.SLOTS_PER_EPOCH),
        secondsPerSlot: Number(s.data.SECONDS_PER_SLOT),
        epochsPerSyncCommitteePeriod: Number(s.data.EPOCHS_PER_SYNC_COMMITTEE_PERIOD),
        genesisTime: Number(g.data.genesis_time),
        genesisValidatorsRoot: g.data.genesis_validators_root.toLowerCase(),
      };
      return { spec, specJson: s.data as Record<string, unknown> };
    };
    const failed = (u: string, e: unknown): void => {
      if (e instanceof BeaconError && e.code === BeaconErrorCode.preset) throw e;
      errors.push(`${safeUrl(u)}: ${scrub(describe(e))}`);
      deps.logger?.warn(
        { url: safeUrl(u), err: scrub(describe(e)) },
        "beacon node did not answer spec/genesis",
      );
    };
    let found: Awaited<ReturnType<typeof readSpec>> | undefined;
    for (let round = 0; round <= o.retries && found === undefined; round++) {
      if (round > 0) await sleep(o.retryBaseMs * 2 ** (round - 1));
      if (o.adaptive) {
        found = await firstToAnswer(opts.urls, readSpec, failed);
        continue;
      }
      for (const u of opts.urls) {
        try {
          found = await readSpec(u);
          break;
        } catch (e) {
          failed(u, e);
        }
      }
    }
    const spec = found?.spec;
    const specJson = found?.specJson;
    if (spec === undefined || specJson === undefined) {
      throw new BeaconError(
        BeaconErrorCode.unavailable,
        `no beacon node answered: ${errors.slice(-opts.urls.length).join("; ")}`,
      );
    }
    if (spec.slotsPerEpoch !== lodestar.params.SLOTS_PER_EPOCH) {
      throw invalidResponse(
        "spec",
        `SLOTS_PER_EPOCH ${spec.slotsPerEpoch} differs from preset ${lodestar.params.SLOTS_PER_EPOCH}`,
      );
    }
    const chainConfig = lodestar.config.chainConfigFromJson(specJson);
    const config = lodestar.config.createChainForkConfig(chainConfig);
    const printable = printableUrls(opts.urls);
    const nodes: NodeState[] = opts.urls.map((baseUrl, index) => ({
      index,
      baseUrl,
      url: printable[index]!,
      api: clientWithAttemptSignal(lodestar, baseUrl, o.timeoutMs, config),
      health: {
        url: printable[index]!,
        reachable: true,
        syncing: false,
        headSlot: 0,
        finalizedEpoch: -1,
        consecutiveFailures: 0,
        checkedAt: 0,
        latencyMs: null,
        errorRate: 0,
      },
      latency: new LatencyEstimate(),
      slowness: new LatencyEstimate(),
    }));
    return new BeaconNodePool(lodestar, config, spec, nodes, o, deps, scrub);
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** The lodestar client of one node (by its printable URL), for streams that cannot fail over per call. */
  apiFor(url: string): ApiClient {
    const n = this.nodes.find((x) => x.url === url) ?? this.nodes[0];
    if (n === undefined) throw new BeaconError(BeaconErrorCode.input, "no beacon node configured");
    return n.api;
  }

  health(): NodeHealth[] {
    return this.nodes.map((n) => ({ ...n.health }));
  }

  /** The node URLs in the order the next request would ask them (best first). */
  ranked(): string[] {
    return this.ordered(undefined).map((n) => n.url);
  }

  /**
   * Whether node `a` is clearly better than node `b` (by URL): healthier, or in a faster latency
   * class. Ties broken only by head slot or list position do not count (no flapping).
   */
  prefers(a: string, b: string): boolean {
    const na = this.nodes.find((n) => n.url === a);
    const nb = this.nodes.find((n) => n.url === b);
    if (na === undefined || nb === undefined || na === nb) return false;
    const [ra, rb] = [this.rank(na), this.rank(nb)];
    if (ra !== rb) return ra < rb;
    return this.opts.adaptive && this.slownessBucket(na) < this.slownessBucket(nb);
  }

  /** Request counters since the pool was created. */
  stats(): PoolStats {
    return {
      sent: { ...this.counters.sent },
      won: { ...this.counters.won },
      hedged: this.counters.hedged,
      aborted: this.counters.aborted,
    };
  }

  /** Ask every node for its sync status and finality (in parallel). */
  async refreshHealth(): Promise<NodeHealth[]> {
    await Promise.all(this.nodes.map((n) => this.checkNode(n)));
    return this.health();
  }

  private async checkNode(n: NodeState): Promise<void> {
    const t0 = performance.now();
    try {
      const [syncRes, finRes] = await Promise.all([
        n.api.node.getSyncingStatus(),
        n.api.beacon.getStateFinalityCheckpoints({ stateId: "head" }),
      ]);
      const sync = valueOrThrow(syncRes);
      const fin = valueOrThrow(finRes);
      this.recordAnswer(n, "health check", performance.now() - t0);
      n.health = {
        ...n.health,
        reachable: true,
        syncing: sync.isSyncing,
        headSlot: sync.headSlot,
        finalizedEpoch: fin.finalized.epoch,
        consecutiveFailures: 0,
        checkedAt: Date.now(),
      };
    } catch (e) {
      this.markFailure(n, e);
      n.health.checkedAt = Date.now();
    }
  }

  private markFailure(n: NodeState, e: unknown): void {
    n.health.reachable = false;
    n.health.consecutiveFailures++;
    n.health.errorRate += EWMA_ALPHA * (1 - n.health.errorRate);
    const msg = this.scrub(describe(e));
    this.deps.logger?.warn({ url: n.url, err: msg }, "beacon node request failed");
    this.deps.onNodeError?.(n.url, msg);
  }

  /**
   * An answer (or, with `censored`, an attempt aborted after `ms` because another node answered
   * first: the node would have taken at least that long). The node's slowness is its response time
   * relative to the usual time of the same kind of request, so a mix of cheap and costly requests
   * does not make the node that serves the costly ones look slow.
   */
  private recordAnswer(n: NodeState, kind: string, ms: number, censored = false): void {
    n.latency.add(ms);
    n.health.latencyMs = n.latency.mean;
    let k = this.kinds.get(kind);
    if (k === undefined) {
      k = new LatencyEstimate();
      this.kinds.set(kind, k);
    }
    const usual = k.mean ?? ms;
    if (!censored) {
      k.add(ms);
      n.health.errorRate *= 1 - EWMA_ALPHA;
      n.health.consecutiveFailures = 0;
      n.health.reachable = true;
    }
    n.slowness.add(ms / Math.max(usual, 1));
  }

  /** 0 for a node about as fast as usual, +1 per factor 4 slower (errors count as slowness). */
  private slownessBucket(n: NodeState): number {
    const cost = (n.slowness.mean ?? 1) * (1 + 4 * n.health.errorRate);
    return cost <= 2 ? 0 : Math.floor(Math.log2(cost / 2) / 2) + 1;
  }

  /** Nodes in the order they should be asked. */
  private rank(n: NodeState): number {
    if (!n.health.reachable) return 3;
    if (n.health.syncing) return 2;
    if (n.health.finalizedEpoch < Math.max(...this.nodes.map((x) => x.health.finalizedEpoch))) return 1; // behind
    return 0;
  }

  private ordered(minFinalizedEpoch: number | undefined): NodeState[] {
    const rank = (n: NodeState): number => this.rank(n);
    const adaptive = this.opts.adaptive;
    return this.nodes
      .filter((n) => minFinalizedEpoch === undefined || n.health.finalizedEpoch >= minFinalizedEpoch)
      .sort(
        (a, b) =>
          rank(a) - rank(b) ||
          (adaptive ? this.slownessBucket(a) - this.slownessBucket(b) : 0) ||
          b.health.finalizedEpoch - a.health.finalizedEpoch ||
          b.health.headSlot - a.health.headSlot ||
          a.health.consecutiveFailures - b.health.consecutiveFailures ||
          a.index - b.index,
      );
  }

  /**
   * Health checks older than the TTL. Adaptive: they run in the background (one per node at a
   * time), and a request waits only while no node has answered a check yet, then for the first
   * that does. Otherwise every stale check is awaited.
   */
  private async freshHealth(): Promise<void> {
    const now = Date.now();
    const stale = this.nodes.filter(
      (n) => n.checking === undefined && now - n.health.checkedAt > this.opts.healthTtlMs,
    );
    if (!this.opts.adaptive) {
      if (stale.length > 0) await Promise.all(stale.map((n) => this.checkNode(n)));
      return;
    }
    for (const n of stale) {
      n.checking = this.checkNode(n).finally(() => {
        n.checking = undefined;
      });
    }
    if (this.nodes.some((n) => n.health.checkedAt > 0 && n.health.reachable)) return;
    const pending = this.nodes.flatMap((n) => (n.checking === undefined ? [] : [{ n, p: n.checking }]));
    if (pending.length === 0) return;
    await new Promise<void>((resolve) => {
      let left = pending.length;
      for (const { n, p } of pending) {
        void p.then(() => {
          left--;
          if (n.health.reachable || left === 0) resolve();
        });
      }
    });
  }

  /** How long to wait for a node before sending the same read to `next` as well. */
  private hedgeDelay(kind: string, next: NodeState): number {
    const p90 = this.kinds.get(kind)?.p90() ?? next.latency.p90();
    const d = p90 === null ? 10 * this.opts.hedgeMinMs : this.opts.hedgeFactor * p90;
    return Math.min(Math.max(this.opts.hedgeMinMs, d), this.opts.timeoutMs);
  }

  /**
   * Run `fn` against the best node; on failure fail over, then retry the list with backoff.
   * `fn` returns NOT_FOUND when the node does not have the data: the other nodes are asked, and
   * `request` returns null only when every node that answered said so (none had it). With `minFinalizedEpoch`, only nodes
   * whose finalized epoch is at least that are asked (a lagging node's "not found" is never trusted).
   * `fn` must be an idempotent read unless `hedge: false`: a slow attempt is repeated on the next
   * reachable node, the first answer wins and the other attempt's `signal` is aborted (lodestar
   * calls made inside `fn` are aborted with it).
   */
  async request<T>(
    what: string,
    fn: (api: ApiClient, node: RequestNode) => Promise<T | NotFound>,
    opts: { minFinalizedEpoch?: number; hedge?: boolean } = {},
  ): Promise<T | null> {
    const failures: string[] = [];
    const hedge = this.opts.adaptive && opts.hedge !== false;
    const kind = kindOf(what);
    for (let round = 0; round <= this.opts.retries; round++) {
      if (round > 0) await sleep(this.opts.retryBaseMs * 2 ** (round - 1) * (1 + Math.random() * 0.2));
      await this.freshHealth();
      let candidates = this.ordered(opts.minFinalizedEpoch);
      if (candidates.length === 0 && opts.minFinalizedEpoch !== undefined) {
        await this.refreshHealth();
        candidates = this.ordered(opts.minFinalizedEpoch);
        if (candidates.length === 0) {
          throw new BeaconError(
            BeaconErrorCode.notFinalized,
            `${what}: no beacon node has finalized epoch ${opts.minFinalizedEpoch} yet`,
            { minFinalizedEpoch: opts.minFinalizedEpoch },
          );
        }
      }
      const r = await this.attempt(kind, candidates, fn, failures, hedge);
      if (r.ok) return r.value;
      // every node that answered said "not found" (nodes that failed gave no information)
      if (r.notFound > 0) return null;
    }
    throw new BeaconError(
      BeaconErrorCode.unavailable,
      `${what}: every beacon node failed (${failures.slice(-this.nodes.length).join("; ")})`,
      { what },
    );
  }

  /** One round over the candidates: failover on errors, hedging of slow answers, first answer wins. */
  private attempt<T>(
    kind: string,
    candidates: NodeState[],
    fn: (api: ApiClient, node: RequestNode) => Promise<T | NotFound>,
    failures: string[],
    hedge: boolean,
  ): Promise<{ ok: true; value: T } | { ok: false; notFound: number }> {
    return new Promise((resolve) => {
      let next = 0;
      let notFound = 0;
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const running = new Map<NodeState, { c: AbortController; t0: number }>();
      const finish = (r: { ok: true; value: T } | { ok: false; notFound: number }): void => {
        done = true;
        clearTimeout(timer);
        for (const [n, { c, t0 }] of running) {
          // lost the race: it would have taken at least this long
          this.recordAnswer(n, kind, performance.now() - t0, true);
          this.counters.aborted++;
          c.abort();
        }
        resolve(r);
      };
      const launchNext = (): boolean => {
        while (next < candidates.length) {
          const n = candidates[next++] as NodeState;
          // once a node said "not found", ask only the others known to be reachable
          if (notFound > 0 && !n.health.reachable) continue;
          launch(n);
          return true;
        }
        return false;
      };
      const armHedge = (): void => {
        clearTimeout(timer);
        const n = candidates[next];
        if (!hedge || done || n === undefined || !n.health.reachable || n.health.syncing) return;
        timer = setTimeout(
          () => {
            if (done) return;
            this.counters.hedged++;
            launchNext();
          },
          this.hedgeDelay(kind, n),
        );
      };
      const launch = (n: NodeState): void => {
        const c = new AbortController();
        const t0 = performance.now();
        running.set(n, { c, t0 });
        this.counters.sent[n.url] = (this.counters.sent[n.url] ?? 0) + 1;
        let p: Promise<T | NotFound>;
        try {
          p = attemptSignal.run(c.signal, () =>
            fn(n.api, { url: n.url, baseUrl: n.baseUrl, signal: c.signal }),
          );
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(
          (v) => {
            running.delete(n);
            if (c.signal.aborted) return; // recorded when aborted
            this.recordAnswer(n, kind, performance.now() - t0);
            if (done) return;
            if (v === NOT_FOUND) {
              notFound++;
              if (running.size === 0 && !launchNext()) finish({ ok: false, notFound });
              return;
            }
            this.counters.won[n.url] = (this.counters.won[n.url] ?? 0) + 1;
            finish({ ok: true, value: v });
          },
          (e: unknown) => {
            running.delete(n);
            if (c.signal.aborted) return; // lost the race, recorded when aborted
            failures.push(`${n.url}: ${this.scrub(describe(e))}`);
            this.markFailure(n, e);
            if (done) return;
            if (!launchNext() && running.size === 0) finish({ ok: false, notFound });
          },
        );
        armHedge();
      };
      if (!launchNext()) finish({ ok: false, notFound: 0 });
    });
  }

  /**
   * Raw JSON GET/POST for routes whose lodestar decoding is not usable (signed reward values).
   * GETs are hedged; a POST only with `idempotent: true` (a read that sends its ids in the body).
   */
  async requestJson<T>(
    what: string,
    path: string,
    schema: z.ZodType<T> | ((json: unknown) => T),
    init: {
      method?: "GET" | "POST";
      body?: unknown;
      minFinalizedEpoch?: number;
      idempotent?: boolean;
    } = {},
  ): Promise<T | null> {
    const method = init.method ?? "GET";
    return this.request(
      what,
      async (_api, node) => {
        const res = await this.rawFetch(node, path, {
          method,
          accept: "application/json",
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
        });
        if (res.status === 404) return NOT_FOUND;
        if (!res.ok) throw new NodeCallError(`HTTP ${res.status}`, res.status);
        const json: unknown = await res.json();
        // a parser function validates by hand (large lists: far faster than a schema per element)
        if (typeof schema === "function") return schema(json);
        const parsed = schema.safeParse(json);
        if (!parsed.success) {
          throw invalidResponse(what, parsed.error.issues[0]?.message ?? "bad shape", {
            path: parsed.error.issues[0]?.path.join("."),
          });
        }
        return parsed.data;
      },
      { minFinalizedEpoch: init.minFinalizedEpoch, hedge: method === "GET" || init.idempotent === true },
    );
  }

  /**
   * A raw GET whose answer `read` consumes as it arrives (a state of hundreds of MB read chunk by
   * chunk instead of buffered whole; over node:http, whose chunks reach `read` without the fetch
   * API's stream machinery: a third of the CPU of reading 140 MB). A 4xx answer is "not found" (the
   * node does not have it), any other failure a node failure; `read` sees only 2xx answers and may
   * return NOT_FOUND itself. Hedged like every GET.
   */
  async requestStream<T>(
    what: string,
    path: string,
    accept: string,
    read: (res: StreamedAnswer) => Promise<T | NotFound>,
    opts: { minFinalizedEpoch?: number } = {},
  ): Promise<T | null> {
    return this.request(
      what,
      async (_api, node) => {
        const res = await this.rawGet(node, path, accept);
        if (res.status >= 400 && res.status < 500) {
          res.cancel();
          return NOT_FOUND;
        }
        if (res.status < 200 || res.status >= 300) {
          res.cancel();
          throw new NodeCallError(`HTTP ${res.status}`, res.status);
        }
        return read(res);
      },
      opts,
    );
  }

  /** A GET of `path` on a node over node:http(s), its answer left to be read (see requestStream). */
  private rawGet(node: RequestNode, path: string, accept: string): Promise<StreamedAnswer> {
    const { url, headers } = splitCredentials(node.baseUrl);
    const u = new URL(path.replace(/^\//, ""), withSlash(url));
    const signal = AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs), node.signal]);
    const send = u.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(u, { method: "GET", headers: { accept, ...headers }, signal }, (res) => {
        resolve(streamedAnswer(res));
      });
      req.once("error", reject);
      req.end();
    });
  }

  /** fetch() of `path` on a node (its credentials as a header, the pool's timeout and the attempt's signal). */
  private rawFetch(
    node: RequestNode,
    path: string,
    init: { method: "GET" | "POST"; accept: string; body?: string },
  ): Promise<Response> {
    const { url, headers } = splitCredentials(node.baseUrl);
    return fetch(new URL(path.replace(/^\//, ""), withSlash(url)), {
      method: init.method,
      headers: {
        accept: init.accept,
        ...headers,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: init.body,
      signal: AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs), node.signal]),
    });
  }
}

/** An answer of `BeaconNodePool.requestStream`, its body read chunk by chunk. */
export interface StreamedAnswer {
  status: number;
  /** A header's value (name case-insensitive), undefined when absent. */
  header(name: string): string | undefined;
  /**
   * Hands every chunk of the body to `onChunk` as it arrives; resolves at its end, rejects when the
   * connection fails or closes early, or when `onChunk` throws (the answer is then dropped).
   */
  forEachChunk(onChunk: (chunk: Uint8Array) => void): Promise<void>;
  /** Drops the answer unread. */
  cancel(): void;
}

function streamedAnswer(res: IncomingMessage): StreamedAnswer {
  return {
    status: res.statusCode ?? 0,
    header: (name) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(", ") : v;
    },
    cancel: () => {
      res.destroy();
    },
    forEachChunk: (onChunk) =>
      new Promise<void>((resolve, reject) => {
        let failed = false;
        const fail = (e: unknown): void => {
          if (failed) return;
          failed = true;
          res.destroy();
          reject(e);
        };
        res.on("data", (chunk: Buffer) => {
          if (failed) return;
          try {
            onChunk(chunk);
          } catch (e) {
            fail(e);
          }
        });
        res.once("error", fail);
        res.once("close", () => {
          if (!res.complete) fail(new Error("the connection closed before the end of the answer"));
        });
        res.once("end", () => {
          if (!failed) resolve();
        });
      }),
  };
}

/**
 * A lodestar client whose HTTP requests also stop when the request attempt they run in is aborted
 * (see `attemptSignal`): lodestar's own fetch wrapper (its error types, its timeout) is kept and
 * only given the joined signal.
 */
function clientWithAttemptSignal(
  lodestar: Lodestar,
  baseUrl: string,
  timeoutMs: number,
  config: ChainForkConfig,
): ApiClient {
  const httpClient = new lodestar.api.HttpClient({ baseUrl, globalInit: { timeoutMs, retries: 0 } });
  const holder = httpClient as unknown as { fetch: typeof fetch };
  const inner = holder.fetch;
  holder.fetch = (input, init) => {
    const attempt = attemptSignal.getStore();
    if (attempt === undefined) return inner(input, init);
    const signal = init?.signal ? AbortSignal.any([init.signal, attempt]) : attempt;
    return inner(input, { ...init, signal });
  };
  return lodestar.api.getClient({ baseUrl }, { config, httpClient });
}

/** A URL without its user:password, and the Authorization header that carries them instead. */
export function splitCredentials(url: string): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  if (u.username === "" && u.password === "") return { url, headers: {} };
  const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString(
    "base64",
  );
  u.username = "";
  u.password = "";
  return { url: u.toString(), headers: { authorization: `Basic ${basic}` } };
}

/** Remove every configured URL's credentials from a message (library errors echo whole URLs). */
function scrubber(urls: readonly string[]): (msg: string) => string {
  const secrets: string[] = [];
  for (const raw of urls) {
    try {
      const u = new URL(raw);
      if (u.password !== "") secrets.push(u.password, decodeURIComponent(u.password));
      if (u.username !== "") secrets.push(`${u.username}:`, `${u.username}@`);
    } catch {
      /* validated earlier */
    }
  }
  return (msg) => {
    let out = msg;
    for (const s of secrets) if (s.length > 0) out = out.split(s).join("[redacted]");
    return out;
  };
}

function withSlash(u: string): string {
  return u.endsWith("/") ? u : `${u}/`;
}

async function fetchJson(
  baseUrl: string,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<unknown> {
  const { url, headers } = splitCredentials(baseUrl);
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await fetch(new URL(path.replace(/^\//, ""), withSlash(url)), {
    headers: { accept: "application/json", ...headers },
    signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
  });
  if (!res.ok) throw new NodeCallError(`HTTP ${res.status}`, res.status);
  return res.json();
}

/**
 * Ask every URL at once; the first answer wins and the other requests are aborted. `failed` is
 * called for each failure (it may throw to fail the whole call); undefined when every URL failed.
 */
function firstToAnswer<T>(
  urls: readonly string[],
  ask: (url: string, signal: AbortSignal) => Promise<T>,
  failed: (url: string, e: unknown) => void,
): Promise<T | undefined> {
  const ac = new AbortController();
  return new Promise<T | undefined>((resolve, reject) => {
    let left = urls.length;
    for (const u of urls) {
      ask(u, ac.signal).then(
        (v) => {
          ac.abort();
          resolve(v);
        },
        (e: unknown) => {
          if (ac.signal.aborted) return;
          try {
            failed(u, e);
          } catch (fatal) {
            ac.abort();
            reject(fatal);
            return;
          }
          if (--left === 0) resolve(undefined);
        },
      );
    }
    if (urls.length === 0) resolve(undefined);
  });
}

/**
 * Each node's printable URL (scheme, host and port only: a provider's key in the path never
 * shows). Two nodes that print the same (one provider, two keys) get `#1`, `#2`... by position, so
 * health reports and apiFor still tell them apart.
 */
export function printableUrls(urls: readonly string[]): string[] {
  const plain = urls.map((u) => safeUrl(u));
  return plain.map((p, i) => (plain.filter((q) => q === p).length > 1 ? `${p}#${i + 1}` : p));
}
