/**
 * The watcher's dependencies (Redis, PostgreSQL) as it sees them: anything that fails as if one were
 * down (a job, the scheduler, a worker's connection, an idle database connection) asks for a check;
 * a check probes each one (PING, SELECT 1). An outage is logged as ONE line when it begins and one
 * when it ends, whatever the number of errors in between, and re-checked with backoff until it ends;
 * then `onRecovered` runs (the scheduler fills the epochs missed meanwhile).
 */
import type { Logger } from "@poolkeeper/core";

export type Dependency = "redis" | "postgres";

export interface DependencyWatchOptions {
  /** First re-check delay during an outage (doubles up to maxRecheckMs). */
  recheckMs?: number;
  maxRecheckMs?: number;
  /** A probe that does not answer within this long counts as failed. */
  probeTimeoutMs?: number;
  /** Called when a dependency goes down (false) or comes back (true): metrics. */
  onChange?: (dep: Dependency, up: boolean) => void;
}

/** The message of an error on one line (driver errors can span several). */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message || e.name : String(e);
  return msg.replace(/\s+/g, " ").trim().slice(0, 300);
}

export class DependencyWatch {
  private readonly down = new Map<Dependency, { since: number; err: string }>();
  private readonly recoveredAt = new Map<Dependency, number>();
  private checking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private stopped = false;
  private readonly o: Required<Omit<DependencyWatchOptions, "onChange">>;
  private readonly onChange: DependencyWatchOptions["onChange"];

  constructor(
    private readonly probes: Record<Dependency, () => Promise<unknown>>,
    private readonly logger: Logger | undefined,
    private readonly onRecovered: () => void,
    opts: DependencyWatchOptions = {},
  ) {
    this.o = {
      recheckMs: opts.recheckMs ?? 500,
      maxRecheckMs: opts.maxRecheckMs ?? 5000,
      probeTimeoutMs: opts.probeTimeoutMs ?? 5000,
    };
    this.onChange = opts.onChange;
    this.delay = this.o.recheckMs;
  }

  get anyDown(): boolean {
    return this.down.size > 0;
  }

  /**
   * True while a dependency is down, or came back less than `withinMs` ago (errors that surface
   * just after an outage belong to it).
   */
  troubled(withinMs = 10_000): boolean {
    if (this.down.size > 0) return true;
    const now = Date.now();
    for (const t of this.recoveredAt.values()) if (now - t < withinMs) return true;
    return false;
  }

  /** Something failed as if a dependency were down: check now (once at a time; not during an outage, re-checked on its own). */
  suspect(): Promise<void> {
    if (this.stopped || this.timer !== undefined) return Promise.resolve();
    this.checking ??= this.check().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    let recovered = false;
    for (const dep of Object.keys(this.probes) as Dependency[]) {
      const probe = this.probes[dep];
      let timeout: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          probe(),
          new Promise((_, reject) => {
            timeout = setTimeout(() => reject(new Error("no answer")), this.o.probeTimeoutMs);
          }),
        ]);
        const was = this.down.get(dep);
        if (was !== undefined) {
          this.down.delete(dep);
          this.recoveredAt.set(dep, Date.now());
          recovered = true;
          this.onChange?.(dep, true);
          this.logger?.info(
            { dependency: dep, downSeconds: Math.round((Date.now() - was.since) / 100) / 10 },
            `${dep} available again`,
          );
        }
      } catch (e) {
        if (!this.down.has(dep)) {
          const err = oneLine(e);
          this.down.set(dep, { since: Date.now(), err });
          this.onChange?.(dep, false);
          this.logger?.error({ dependency: dep, err }, `${dep} unavailable`);
        }
      } finally {
        clearTimeout(timeout);
      }
    }
    if (this.stopped) return;
    if (this.down.size > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.suspect();
      }, this.delay);
      this.timer.unref?.();
      this.delay = Math.min(this.delay * 2, this.o.maxRecheckMs);
    } else {
      this.delay = this.o.recheckMs;
    }
    if (recovered && this.down.size === 0) this.onRecovered();
  }
}
