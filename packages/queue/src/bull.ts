/**
 * BullMQ presets: the only BullMQ import of the code base. Producers and workers get their
 * connection settings here (workers: `maxRetriesPerRequest: null`, as BullMQ requires), jobs are
 * added only through `enqueue` (payload validated, deterministic job id), and processors only
 * through `createWorker` (payload validated again; a bad payload fails the job for good with
 * UnrecoverableError instead of being retried).
 */
import { hostname } from "node:os";
import { isPoolkeeperError, type Logger, safeUrl } from "@poolkeeper/core";
import { type Job, Queue, QueueEvents, UnrecoverableError, Worker } from "bullmq";
import { JOBS, type JobName, type JobPayload, parsePayload } from "./catalogue.js";

export type { Job, Worker };
export { UnrecoverableError };

export interface QueueConnection {
  /** redis://host:port/db */
  url: string;
  /** Key prefix (default "poolkeeper"); tests use a random one. */
  prefix?: string;
}

export const DEFAULT_PREFIX = "poolkeeper";

/** Retries with exponential backoff; finished jobs kept for a while so a repeated id is a no-op. */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
} as const;

function connectionOptions(c: QueueConnection, worker: boolean) {
  return worker
    ? { url: c.url, maxRetriesPerRequest: null }
    : { url: c.url, maxRetriesPerRequest: 3, enableOfflineQueue: false };
}

export function printableRedisUrl(c: QueueConnection): string {
  return safeUrl(c.url);
}

export interface JobQueueOptions {
  attempts?: number;
  backoffMs?: number;
  /**
   * Connection errors of the queue's Redis client (each operation also rejects with its own error,
   * so the default drops them; without a listener BullMQ prints them raw to stderr).
   */
  onError?: (err: Error) => void;
}

export class JobQueue<N extends JobName> {
  readonly queue: Queue;
  constructor(
    readonly name: N,
    c: QueueConnection,
    opts: JobQueueOptions = {},
  ) {
    this.queue = new Queue(JOBS[name].queue, {
      connection: connectionOptions(c, false),
      prefix: c.prefix ?? DEFAULT_PREFIX,
      defaultJobOptions: {
        ...DEFAULT_JOB_OPTIONS,
        attempts: opts.attempts ?? DEFAULT_JOB_OPTIONS.attempts,
        backoff: { type: "exponential", delay: opts.backoffMs ?? DEFAULT_JOB_OPTIONS.backoff.delay },
      },
    });
    this.queue.on("error", opts.onError ?? (() => undefined));
  }

  /** Throws when Redis does not answer (fails at once while disconnected: no offline queue). */
  async ping(): Promise<void> {
    await (await this.queue.getBackend().client).runCommand("ping", []);
  }

  /** Add a job; the same payload always gets the same id, so adding it twice runs it once. */
  async enqueue(payload: JobPayload<N>): Promise<string> {
    const p = parsePayload(this.name, payload);
    const jobId = (JOBS[this.name].jobId as (x: JobPayload<N>) => string)(p);
    await this.queue.add(this.name, p, { jobId });
    return jobId;
  }

  /**
   * Add jobs, and run again those whose earlier job with the same id is finished (completed or
   * failed) while the caller still needs them (e.g. the database has no trace of the result).
   */
  async enqueueAgain(payloads: readonly JobPayload<N>[]): Promise<string[]> {
    for (const payload of payloads) {
      const p = parsePayload(this.name, payload);
      const jobId = (JOBS[this.name].jobId as (x: JobPayload<N>) => string)(p);
      const old = await this.queue.getJob(jobId);
      if (old === undefined || old === null) continue;
      const state = await old.getState();
      if (state === "completed" || state === "failed") await old.remove().catch(() => undefined);
    }
    return this.enqueueMany(payloads);
  }

  async enqueueMany(payloads: readonly JobPayload<N>[]): Promise<string[]> {
    const jobs = payloads.map((payload) => {
      const p = parsePayload(this.name, payload);
      const jobId = (JOBS[this.name].jobId as (x: JobPayload<N>) => string)(p);
      return { name: this.name, data: p, opts: { jobId } };
    });
    await this.queue.addBulk(jobs);
    return jobs.map((j) => j.opts.jobId);
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts("waiting", "active", "completed", "failed", "delayed");
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  /** Remove the queue's keys (tests). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }
}

/** Lock of a running job (BullMQ's lockDuration), renewed every quarter of it while the job runs. */
export const DEFAULT_LOCK_MS = 10_000;

export interface WorkerOptions {
  concurrency?: number;
  /** Recorded on each job it takes (`job.processedBy`); default `<hostname>:<pid>`. */
  name?: string;
  logger?: Logger;
  /**
   * Lock of a running job (default DEFAULT_LOCK_MS), renewed every quarter of it while the job
   * runs, so a long job keeps it. A job whose worker died (kill -9, power loss) is taken up again by
   * another worker once its lock has expired and two stalled checks (every half of the lock) have
   * seen it: within about twice the lock.
   */
  lockDurationMs?: number;
  /**
   * A worker error (lost Redis connection, a lock it could not renew). Default: one log line each.
   * Without a listener BullMQ prints them raw to stderr.
   */
  onError?: (err: Error) => void;
  /** A job failed (it will be retried unless attempts are spent). Default: one log line each. */
  onFailed?: (job: Job | undefined, err: Error) => void;
}

/**
 * A worker for one job name. `processor` receives the validated payload. Errors that are our own
 * validation errors become UnrecoverableError (not retried); other errors are retried per the
 * job's attempts and backoff.
 */
export function createWorker<N extends JobName, R>(
  name: N,
  c: QueueConnection,
  processor: (payload: JobPayload<N>, job: Job) => Promise<R>,
  opts: WorkerOptions = {},
): Worker {
  const lock = opts.lockDurationMs ?? DEFAULT_LOCK_MS;
  const worker = new Worker(
    JOBS[name].queue,
    async (job: Job) => {
      if (job.name !== name)
        throw new UnrecoverableError(`unexpected job "${job.name}" on queue ${JOBS[name].queue}`);
      let payload: JobPayload<N>;
      try {
        payload = parsePayload(name, job.data);
      } catch (e) {
        throw new UnrecoverableError(e instanceof Error ? e.message : String(e));
      }
      try {
        return await processor(payload, job);
      } catch (e) {
        if (isPoolkeeperError(e) && e.code === "ERR_VALIDATION") throw new UnrecoverableError(e.message);
        throw e;
      }
    },
    {
      connection: connectionOptions(c, true),
      prefix: c.prefix ?? DEFAULT_PREFIX,
      concurrency: opts.concurrency ?? 1,
      name: opts.name ?? `${hostname()}:${process.pid}`,
      lockDuration: lock,
      lockRenewTime: Math.max(250, Math.floor(lock / 4)),
      stalledInterval: Math.max(500, Math.floor(lock / 2)),
      // a job can stall a few times (a blocked event loop, a Redis restart) before it fails for good
      maxStalledCount: 3,
      // after a lost connection, fetch again soon once Redis is back (BullMQ's default: 15 s)
      runRetryDelay: 1000,
    },
  );
  worker.on(
    "error",
    opts.onError ??
      ((err) => opts.logger?.error({ err: err.message, queue: JOBS[name].queue }, "worker error")),
  );
  worker.on(
    "failed",
    opts.onFailed ??
      ((job, err) =>
        opts.logger?.warn({ jobId: job?.id, queue: JOBS[name].queue, err: err.message }, "job failed")),
  );
  return worker;
}

/** Events of a queue (tests and tools waiting for completion). */
export function queueEvents(
  name: JobName,
  c: QueueConnection,
  onError: (err: Error) => void = () => undefined,
): QueueEvents {
  const events = new QueueEvents(JOBS[name].queue, {
    connection: connectionOptions(c, true),
    prefix: c.prefix ?? DEFAULT_PREFIX,
  });
  events.on("error", onError);
  return events;
}
