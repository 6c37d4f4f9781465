/**
 * Several beacon nodes behind one interface. Every call goes to the healthiest node first (reachable,
 * not syncing, furthest finalized epoch, highest head), fails over to the next on an error, a timeout
 * or an invalid answer, and retries the whole list with exponential backoff. URLs are printed only
 * through core's `safeUrl`.
 */
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
    };
    const lodestar = await loadLodestar(opts.preset);
    // spec and genesis: raw JSON, validated, from the first node that answers
    const scrub = scrubber(opts.urls);
    let spec: ChainSpec | undefined;
    let specJson: Record<string, unknown> | undefined;
    const errors: string[] = [];
    for (let round = 0; round <= o.retries && spec === undefined; round++) {
      if (round > 0) await sleep(o.retryBaseMs * 2 ** (round - 1));
      for (const u of opts.urls) {
        try {
          const s = SpecJson.parse(await fetchJson(u, "/eth/v1/config/spec", o.timeoutMs));
          const g = GenesisJson.parse(await fetchJson(u, "/eth/v1/beacon/genesis", o.timeoutMs));
          if (s.data.PRESET_BASE !== opts.preset) {
            throw new BeaconError(
              BeaconErrorCode.preset,
              `preset: ${safeUrl(u)} runs preset "${s.data.PRESET_BASE}", configured "${opts.preset}"`,
            );
          }
          specJson = s.data;
          spec = {
            preset: opts.preset,
            slotsPerEpoch: Number(s.data.SLOTS_PER_EPOCH),
            secondsPerSlot: Number(s.data.SECONDS_PER_SLOT),
            epochsPerSyncCommitteePeriod: Number(s.data.EPOCHS_PER_SYNC_COMMITTEE_PERIOD),
            genesisTime: Number(g.data.genesis_time),
            genesisValidatorsRoot: g.data.genesis_validators_root.toLowerCase(),
          };
          break;
        } catch (e) {
          if (e instanceof BeaconError && e.code === BeaconErrorCode.preset) throw e;
          errors.push(`${safeUrl(u)}: ${scrub(describe(e))}`);
          deps.logger?.warn(
            { url: safeUrl(u), err: scrub(describe(e)) },
            "beacon node did not answer spec/genesis",
          );
        }
      }
    }
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
    const nodes: NodeState[] = opts.urls.map((baseUrl, index) => ({
      index,
      baseUrl,
      url: safeUrl(baseUrl),
      api: lodestar.api.getClient(
        { baseUrl, globalInit: { timeoutMs: o.timeoutMs, retries: 0 } },
        { config },
      ),
      health: {
        url: safeUrl(baseUrl),
        reachable: true,
        syncing: false,
        headSlot: 0,
        finalizedEpoch: -1,
        consecutiveFailures: 0,
        checkedAt: 0,
      },
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

  /** Ask every node for its sync status and finality (in parallel). */
  async refreshHealth(): Promise<NodeHealth[]> {
    await Promise.all(this.nodes.map((n) => this.checkNode(n)));
    return this.health();
  }

  private async checkNode(n: NodeState): Promise<void> {
    try {
      const [syncRes, finRes] = await Promise.all([
        n.api.node.getSyncingStatus(),
        n.api.beacon.getStateFinalityCheckpoints({ stateId: "head" }),
      ]);
      const sync = valueOrThrow(syncRes);
      const fin = valueOrThrow(finRes);
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
    const msg = this.scrub(describe(e));
    this.deps.logger?.warn({ url: n.url, err: msg }, "beacon node request failed");
    this.deps.onNodeError?.(n.url, msg);
  }

  /** Nodes in the order they should be asked. */
  private ordered(minFinalizedEpoch: number | undefined): NodeState[] {
    const maxFinalized = Math.max(...this.nodes.map((n) => n.health.finalizedEpoch));
    const rank = (n: NodeState): number => {
      if (!n.health.reachable) return 3;
      if (n.health.syncing) return 2;
      if (n.health.finalizedEpoch < maxFinalized) return 1; // behind
      return 0;
    };
    return this.nodes
      .filter((n) => minFinalizedEpoch === undefined || n.health.finalizedEpoch >= minFinalizedEpoch)
      .sort(
        (a, b) =>
          rank(a) - rank(b) ||
          b.health.finalizedEpoch - a.health.finalizedEpoch ||
          b.health.headSlot - a.health.headSlot ||
          a.health.consecutiveFailures - b.health.consecutiveFailures ||
          a.index - b.index,
      );
  }

  private async freshHealth(): Promise<void> {
    const stale = this.nodes.filter((n) => Date.now() - n.health.checkedAt > this.opts.healthTtlMs);
    if (stale.length > 0) await Promise.all(stale.map((n) => this.checkNode(n)));
  }

  /**
   * Run `fn` against the best node; on failure fail over, then retry the list with backoff.
   * `fn` returns NOT_FOUND when the node does not have the data: the other nodes are asked, and
   * `request` returns null only when every node that answered said so (none had it). With `minFinalizedEpoch`, only nodes
   * whose finalized epoch is at least that are asked (a lagging node's "not found" is never trusted).
   */
  async request<T>(
    what: string,
    fn: (api: ApiClient, node: { url: string; baseUrl: string }) => Promise<T | NotFound>,
    opts: { minFinalizedEpoch?: number } = {},
  ): Promise<T | null> {
    const failures: string[] = [];
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
      let notFound = 0;
      for (const n of candidates) {
        // once a node said "not found", ask only the others known to be reachable
        if (notFound > 0 && !n.health.reachable) continue;
        try {
          const v = await fn(n.api, { url: n.url, baseUrl: n.baseUrl });
          n.health.consecutiveFailures = 0;
          n.health.reachable = true;
          if (v === NOT_FOUND) {
            notFound++;
            continue;
          }
          return v;
        } catch (e) {
          failures.push(`${n.url}: ${this.scrub(describe(e))}`);
          this.markFailure(n, e);
        }
      }
      // every node that answered said "not found" (nodes that failed gave no information)
      if (notFound > 0) return null;
    }
    throw new BeaconError(
      BeaconErrorCode.unavailable,
      `${what}: every beacon node failed (${failures.slice(-this.nodes.length).join("; ")})`,
      { what },
    );
  }

  /** Raw JSON GET/POST for routes whose lodestar decoding is not usable (signed reward values). */
  async requestJson<T>(
    what: string,
    path: string,
    schema: z.ZodType<T> | ((json: unknown) => T),
    init: { method?: "GET" | "POST"; body?: unknown; minFinalizedEpoch?: number } = {},
  ): Promise<T | null> {
    return this.request(
      what,
      async (_api, node) => {
        const { url, headers } = splitCredentials(node.baseUrl);
        const res = await fetch(new URL(path.replace(/^\//, ""), withSlash(url)), {
          method: init.method ?? "GET",
          headers: {
            accept: "application/json",
            ...headers,
            ...(init.body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
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
      { minFinalizedEpoch: init.minFinalizedEpoch },
    );
  }
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

async function fetchJson(baseUrl: string, path: string, timeoutMs: number): Promise<unknown> {
  const { url, headers } = splitCredentials(baseUrl);
  const res = await fetch(new URL(path.replace(/^\//, ""), withSlash(url)), {
    headers: { accept: "application/json", ...headers },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new NodeCallError(`HTTP ${res.status}`, res.status);
  return res.json();
}
