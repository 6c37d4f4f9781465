/**
 * Follows the chain's finalized epoch. The `finalized_checkpoint` event stream gives low latency;
 * polling the finality checkpoints (every `pollIntervalMs`, faster while the stream is down) is the
 * fallback. Either way the epoch reported is one read back from a node's finality checkpoints, so a
 * non-finalized epoch is never reported as final, and the reported epoch never goes backwards.
 */
import type { Logger } from "@poolkeeper/core";
import { type BeaconNodePool, valueOrThrow } from "./node-pool.js";

export interface FollowerOptions {
  /** Poll interval while the event stream is up (default: one epoch). */
  pollIntervalMs?: number;
  /** Poll interval while the event stream is down (default: one slot). */
  fallbackPollIntervalMs?: number;
  /** Delay before reopening a closed event stream (default 1 s). */
  reconnectMs?: number;
  /** Use the event stream at all (default true). */
  events?: boolean;
}

export class FinalizedFollower {
  private finalized = -1;
  private stopped = true;
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private streamUp = false;
  private streamUrl: string | undefined;
  /** Incremented per stream opened: callbacks of a replaced stream are ignored. */
  private streamGen = 0;
  private polling: Promise<void> | undefined;
  private readonly o: Required<FollowerOptions>;

  constructor(
    private readonly pool: BeaconNodePool,
    private readonly onFinalized: (epoch: number) => void | Promise<void>,
    private readonly logger?: Logger,
    opts: FollowerOptions = {},
  ) {
    const slotMs = pool.spec.secondsPerSlot * 1000;
    this.o = {
      pollIntervalMs: opts.pollIntervalMs ?? slotMs * pool.spec.slotsPerEpoch,
      fallbackPollIntervalMs: opts.fallbackPollIntervalMs ?? slotMs,
      reconnectMs: opts.reconnectMs ?? 1000,
      events: opts.events ?? true,
    };
  }

  get finalizedEpoch(): number {
    return this.finalized;
  }

  get eventStreamUp(): boolean {
    return this.streamUp;
  }

  /** The node the event stream is open on (printable URL). */
  get eventStreamUrl(): string | undefined {
    return this.streamUrl;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.o.events) this.openStream();
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** Poll now (also used when an event arrives). */
  async poll(): Promise<void> {
    this.polling ??= this.doPoll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async doPoll(): Promise<void> {
    try {
      const fin = await this.pool.request("finality checkpoints", async (api) =>
        valueOrThrow(await api.beacon.getStateFinalityCheckpoints({ stateId: "head" })),
      );
      this.moveStreamToBest();
      if (fin === null) return;
      const epoch = fin.finalized.epoch;
      if (epoch > this.finalized) {
        this.finalized = epoch;
        await this.onFinalized(epoch);
      }
    } catch (e) {
      this.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, "finality poll failed");
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      await this.poll();
      this.schedule(this.streamUp ? this.o.pollIntervalMs : this.o.fallbackPollIntervalMs);
    }, ms);
    this.timer.unref?.();
  }

  /** A stream on a node the pool now ranks clearly worse than its best (slow, behind, failing) moves to the best. */
  private moveStreamToBest(): void {
    const best = this.pool.ranked()[0];
    if (this.stopped || this.streamUrl === undefined || best === undefined) return;
    if (!this.pool.prefers(best, this.streamUrl)) return;
    this.logger?.info({ from: this.streamUrl, to: best }, "event stream moves to a better beacon node");
    this.abort?.abort();
    this.streamUp = false;
    this.openStream();
  }

  private openStream(): void {
    if (this.stopped) return;
    // the best-ranked node (reachable, not syncing, furthest finalized, fastest)
    const url = this.pool.ranked()[0];
    if (url === undefined) return;
    const best = { url };
    const api = this.pool.apiFor(url);
    const gen = ++this.streamGen;
    this.streamUrl = url;
    this.abort = new AbortController();
    const reopen = (): void => {
      if (gen !== this.streamGen) return; // replaced by a stream on a better node
      this.streamUp = false;
      if (this.stopped) return;
      setTimeout(() => {
        if (gen === this.streamGen) this.openStream();
      }, this.o.reconnectMs).unref?.();
    };
    api.events
      .eventstream({
        topics: ["finalized_checkpoint" as never],
        signal: this.abort.signal,
        onEvent: () => {
          if (gen !== this.streamGen) return;
          this.streamUp = true;
          void this.poll();
        },
        onError: (err) => {
          if (gen !== this.streamGen) return;
          this.logger?.warn({ url: best.url, err: err.message }, "event stream error");
          this.abort?.abort();
          reopen();
        },
        onClose: () => reopen(),
      })
      .then(
        () => {
          if (gen === this.streamGen) this.streamUp = true;
        },
        (err: unknown) => {
          if (gen !== this.streamGen) return;
          this.logger?.warn(
            { url: best.url, err: err instanceof Error ? err.message : String(err) },
            "event stream failed",
          );
          reopen();
        },
      );
  }
}
