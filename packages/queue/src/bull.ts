/**
 * BullMQ presets: the only BullMQ import of the code base. Producers and workers get their
 * connection settings here (workers: `maxRetriesPerRequest: null`, as BullMQ requires), jobs are
 * added only through `enqueue` (payload validated, deterministic job id), and processors only
 * through `createWorker` (payload validated again; a bad payload fails the job for good with
 * UnrecoverableError instead of being retried).
 */
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

export class JobQueue<N extends JobName> {
  readonly queue: Queue;
  constructor(
    readonly name: N,
    c: QueueConnection,
    opts: { attempts?: number; backoffMs?: number } = {},
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

export interface WorkerOptions {
  concurrency?: number;
  logger?: Logger;
  /**
   * Lock duration for long jobs (default 60 s; renewed every half of it while the job runs). A job
   * whose worker died (kill -9, power loss) is taken up again once its lock has expired: within
   * lockDurationMs plus two stalled checks (every min(30 s, lockDurationMs)).
   */
  lockDurationMs?: number;
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
      lockDuration: opts.lockDurationMs ?? 60_000,
      stalledInterval: Math.min(30_000, opts.lockDurationMs ?? 60_000),
    },
  );
  worker.on("error", (err) =>
    opts.logger?.error({ err: err.message, queue: JOBS[name].queue }, "worker error"),
  );
  worker.on("failed", (job, err) =>
    opts.logger?.warn({ jobId: job?.id, queue: JOBS[name].queue, err: err.message }, "job failed"),
  );
  return worker;
}

/** Events of a queue (tests and tools waiting for completion). */
export function queueEvents(name: JobName, c: QueueConnection): QueueEvents {
  return new QueueEvents(JOBS[name].queue, {
    connection: connectionOptions(c, true),
    prefix: c.prefix ?? DEFAULT_PREFIX,
  });
}
