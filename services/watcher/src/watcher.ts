/**
 * The watcher process's parts, wired: a finalized-epoch follower schedules one BullMQ job per epoch
 * (job id = the epoch, so several watchers scheduling the same epoch add it once), workers process
 * epochs (stored once per epoch in PostgreSQL whoever runs it), the checkpoint lets a restart
 * resume and back-fill gaps; alerts can go to a webhook through their own queue.
 */
import { type BeaconNodePool, FinalizedFollower, type FollowerOptions } from "@poolkeeper/beacon";
import { type Logger, safeUrl } from "@poolkeeper/core";
import { createWorker, JobQueue, type QueueConnection, type Worker } from "@poolkeeper/queue";
import {
  initWatcherCheckpoint,
  missingWatcherEpochs,
  pendingWebhookAlertIds,
  type Store,
} from "@poolkeeper/store";

import type { WatcherMetrics } from "./metrics.js";
import type { PoolSource } from "./pool-source.js";
import { EpochProcessor, nodeUnreachableAlert, type WatcherSettings } from "./processor.js";
import { deliverAlert, webhookJobError } from "./webhook.js";

export interface WatcherDeps {
  beacon: BeaconNodePool;
  store: Store;
  pool: PoolSource;
  logger?: Logger;
  metrics?: WatcherMetrics;
}

export interface WatcherOptions {
  settings: WatcherSettings;
  redis: QueueConnection;
  /** Epoch jobs processed at once by this process (default 1). */
  concurrency?: number;
  /** First epoch to process when the database has no checkpoint (default: the latest processable). */
  startEpoch?: number;
  /** Most epochs scheduled at once when back-filling (default 1000). */
  maxBackfill?: number;
  webhookUrl?: string;
  follower?: FollowerOptions;
  /** Run the follower and scheduler (default true); false = a worker only. */
  schedule?: boolean;
  /**
   * Lock of an epoch job (default 300 s, renewed while it runs). After a crash, the epoch the dead
   * process was working on is taken up again once its lock has expired.
   */
  jobLockMs?: number;
  /** Job attempts and first backoff (tests shorten them). */
  attempts?: number;
  backoffMs?: number;
}

export class Watcher {
  readonly processor: EpochProcessor;
  readonly epochQueue: JobQueue<"watcher.epoch">;
  private readonly webhookQueue: JobQueue<"watcher.webhook"> | undefined;
  private readonly workers: Worker[] = [];
  private follower: FinalizedFollower | undefined;
  private scheduling: Promise<number[]> = Promise.resolve([]);
  private readonly lastNodeAlert = new Map<string, number>();

  constructor(
    private readonly deps: WatcherDeps,
    private readonly opts: WatcherOptions,
  ) {
    const webhook = opts.webhookUrl !== undefined;
    this.processor = new EpochProcessor(
      {
        ...deps,
        onAlerts: async (ids) => {
          await this.webhookQueue?.enqueueMany(ids.map((alertId) => ({ alertId })));
        },
      },
      { ...opts.settings, webhook },
    );
    const qo = { attempts: opts.attempts, backoffMs: opts.backoffMs };
    this.epochQueue = new JobQueue("watcher.epoch", opts.redis, qo);
    this.webhookQueue = webhook ? new JobQueue("watcher.webhook", opts.redis, qo) : undefined;
  }

  /** Start workers (and, unless disabled, the follower that schedules epochs). */
  start(): void {
    const { logger } = this.deps;
    const network = this.opts.settings.network;
    this.workers.push(
      createWorker(
        "watcher.epoch",
        this.opts.redis,
        async (p) => {
          if (p.network !== network) throw new Error(`job for network ${p.network} on a ${network} watcher`);
          return this.processor.process(p.epoch);
        },
        { concurrency: this.opts.concurrency ?? 1, logger, lockDurationMs: this.opts.jobLockMs ?? 300_000 },
      ),
    );
    const url = this.opts.webhookUrl;
    if (url !== undefined) {
      this.workers.push(
        createWorker(
          "watcher.webhook",
          this.opts.redis,
          async (p, job) =>
            deliverAlert(this.deps.store, url, p.alertId, {
              made: job.attemptsMade,
              max: job.opts.attempts ?? 1,
            }).catch((e) => {
              this.deps.metrics?.webhookFailures.inc();
              throw webhookJobError(e, url);
            }),
          { concurrency: 4, logger },
        ),
      );
    }
    if (this.opts.schedule !== false) {
      this.follower = new FinalizedFollower(
        this.deps.beacon,
        (epoch) => {
          this.deps.metrics?.finalizedEpoch.set(epoch);
          void this.schedule(epoch);
        },
        logger,
        this.opts.follower,
      );
      this.follower.start();
    }
    logger?.info(
      {
        network,
        beaconNodes: this.deps.beacon.urls,
        redis: safeUrl(this.opts.redis.url),
        webhook: url === undefined ? null : safeUrl(url),
      },
      "watcher started",
    );
  }

  /**
   * Enqueue every unprocessed epoch from the checkpoint up to `finalizedEpoch - 2` (the last epoch
   * whose attestations can no longer be included in a non-finalized block). Returns the epochs.
   */
  schedule(finalizedEpoch: number): Promise<number[]> {
    this.scheduling = this.scheduling.then(
      () => this.doSchedule(finalizedEpoch),
      () => this.doSchedule(finalizedEpoch),
    );
    return this.scheduling;
  }

  private async doSchedule(finalizedEpoch: number): Promise<number[]> {
    const last = finalizedEpoch - 2;
    if (last < 0) return [];
    const network = this.opts.settings.network;
    const cp = await initWatcherCheckpoint(this.deps.store, network, this.opts.startEpoch ?? last);
    const missing = (await missingWatcherEpochs(this.deps.store, network, cp + 1, last)).slice(
      0,
      this.opts.maxBackfill ?? 1000,
    );
    // an epoch still missing although its job finished (failed for good, or a database restored
    // from backup) runs again
    if (missing.length > 0) await this.epochQueue.enqueueAgain(missing.map((epoch) => ({ network, epoch })));
    this.deps.metrics?.checkpointEpoch.set(cp);
    // alerts stored but never queued for the webhook (a crash between the two): queue them now
    if (this.webhookQueue !== undefined) {
      const pending = await pendingWebhookAlertIds(this.deps.store, network);
      if (pending.length > 0) await this.webhookQueue.enqueueMany(pending.map((alertId) => ({ alertId })));
    }
    return missing;
  }

  /** For the beacon pool's onNodeError: metrics and a deduplicated alert. */
  async nodeError(url: string, error: string): Promise<void> {
    this.deps.metrics?.beaconNodeUp.set({ url }, 0);
    const now = Date.now();
    if (now - (this.lastNodeAlert.get(url) ?? 0) < 60_000) return;
    this.lastNodeAlert.set(url, now);
    try {
      const id = await nodeUnreachableAlert(
        this.deps.store,
        this.opts.settings.network,
        url,
        error,
        this.webhookQueue !== undefined,
      );
      if (id !== null) {
        this.deps.metrics?.alerts.inc({ kind: "beacon_node_unreachable" });
        await this.webhookQueue?.enqueue({ alertId: id });
      }
    } catch (e) {
      this.deps.logger?.warn(
        { err: e instanceof Error ? e.message : String(e) },
        "could not store node alert",
      );
    }
  }

  async stop(): Promise<void> {
    this.follower?.stop();
    await Promise.allSettled(this.workers.map((w) => w.close()));
    await this.scheduling.catch(() => undefined);
    await this.epochQueue.close();
    await this.webhookQueue?.close();
  }
}
