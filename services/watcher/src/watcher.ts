/**
 * The watcher process's parts, wired: a finalized-epoch follower schedules one BullMQ job per epoch
 * (job id = the epoch, so several watchers scheduling the same epoch add it once), workers process
 * epochs (stored once per epoch in PostgreSQL whoever runs it), the checkpoint lets a restart
 * resume and back-fill gaps; alerts can go to a webhook through their own queue.
 *
 * An outage of Redis or PostgreSQL never stops the process: whatever fails asks `DependencyWatch`
 * for a check (one log line per outage), scheduling waits for the end of the outage and then fills
 * every epoch missed meanwhile (from the checkpoint, each once: the job id is the epoch).
 */
import {
  type BeaconNodePool,
  type ExecutionLayerAdapter,
  FinalizedFollower,
  type FollowerOptions,
} from "@poolkeeper/beacon";
import { type Logger, safeUrl } from "@poolkeeper/core";
import { createWorker, type Job, JobQueue, type QueueConnection, type Worker } from "@poolkeeper/queue";
import {
  initWatcherCheckpoint,
  missingWatcherEpochs,
  pendingWebhookAlertIds,
  type Store,
} from "@poolkeeper/store";

import { DependencyWatch, oneLine } from "./dependencies.js";
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
  /** Sends the pool's EIP-7002 withdrawal requests for late exits. */
  execution?: Pick<ExecutionLayerAdapter, "submitWithdrawalRequest">;
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
   * Lock of an epoch job (default DEFAULT_LOCK_MS of @poolkeeper/queue, renewed while it runs).
   * After a crash, another worker takes up the dead process's epoch within about twice this.
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
  /** Redis and PostgreSQL as this process sees them (one log line per outage). */
  readonly dependencies: DependencyWatch;
  /** The latest finalized epoch seen, and whether the schedule loop must run (again). */
  private wanted = -1;
  private again = false;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wakeLoop: (() => void) | undefined;

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
    this.dependencies = new DependencyWatch(
      {
        redis: () => this.epochQueue.ping(),
        postgres: () => this.deps.store.query("SELECT 1"),
      },
      deps.logger,
      () => this.requestSchedule(),
      { onChange: (dependency, up) => deps.metrics?.dependencyUp.set({ dependency }, up ? 1 : 0) },
    );
    for (const dependency of ["redis", "postgres"]) deps.metrics?.dependencyUp.set({ dependency }, 1);
    const qo = {
      attempts: opts.attempts,
      backoffMs: opts.backoffMs,
      onError: () => void this.dependencies.suspect(),
    };
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
        {
          concurrency: this.opts.concurrency ?? 1,
          lockDurationMs: this.opts.jobLockMs,
          onError: (err) => this.troubleLog("worker error", { queue: "watcher.epoch" }, err),
          onFailed: (job, err) => this.jobFailed("watcher.epoch", job, err),
        },
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
          {
            concurrency: 4,
            onError: (err) => this.troubleLog("worker error", { queue: "watcher.webhook" }, err),
            onFailed: (job, err) => this.jobFailed("watcher.webhook", job, err),
          },
        ),
      );
    }
    if (this.opts.schedule !== false) {
      this.follower = new FinalizedFollower(
        this.deps.beacon,
        (epoch) => {
          this.deps.metrics?.finalizedEpoch.set(epoch);
          this.requestSchedule(epoch);
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
   * Schedule up to `finalizedEpoch` (default: the latest seen) in the background; never rejects.
   * During an outage it waits for the dependency to come back (DependencyWatch calls it again); any
   * other failure is logged and retried with backoff.
   */
  requestSchedule(finalizedEpoch?: number): void {
    if (finalizedEpoch !== undefined && finalizedEpoch > this.wanted) this.wanted = finalizedEpoch;
    if (this.wanted < 0 || this.stopping) return;
    this.again = true;
    this.loop ??= this.scheduleLoop().finally(() => {
      this.loop = undefined;
    });
  }

  private async scheduleLoop(): Promise<void> {
    let delay = 1000;
    while (this.again && !this.stopping) {
      this.again = false;
      try {
        await this.schedule(this.wanted);
        delay = 1000;
        continue;
      } catch (e) {
        await this.dependencies.suspect();
        if (this.dependencies.anyDown) return; // called again when the outage ends
        if (!this.dependencies.troubled())
          this.deps.logger?.error(
            { err: oneLine(e), finalizedEpoch: this.wanted },
            "scheduling failed; retrying",
          );
      }
      this.again = true;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wakeLoop = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeLoop = undefined;
      delay = Math.min(delay * 2, 60_000);
    }
  }

  /** A failed job: part of an outage (one line for all), or one line of its own. */
  private jobFailed(queue: string, job: Job | undefined, err: Error): void {
    this.troubleLog("job failed", { queue, jobId: job?.id, attemptsMade: job?.attemptsMade }, err, "warn");
  }

  /**
   * Log an error unless it belongs to an outage of Redis or PostgreSQL (checked first; the outage has
   * its own line, and the error goes to debug).
   */
  private troubleLog(
    msg: string,
    fields: Record<string, unknown>,
    err: Error,
    level: "warn" | "error" = "error",
  ): void {
    void this.dependencies.suspect().then(() => {
      const line = { ...fields, err: oneLine(err) };
      if (this.dependencies.troubled()) this.deps.logger?.debug(line, msg);
      else this.deps.logger?.[level](line, msg);
    });
  }

  /** For the store's idle-connection errors (the database went away). */
  databaseConnectionError(err: Error): void {
    this.troubleLog("database connection lost", {}, err, "warn");
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
    await this.epochQueue.ping();
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
    this.stopping = true;
    this.wakeLoop?.();
    this.dependencies.stop();
    this.follower?.stop();
    await Promise.allSettled(this.workers.map((w) => w.close()));
    await this.scheduling.catch(() => undefined);
    await this.epochQueue.close();
    await this.webhookQueue?.close();
  }
}
