import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics of one admin-api instance. Each app has its own prom-client Registry, so that
 * several apps (tests) never share counters. Gauges read the database when scraped.
 */
export interface ApiMetrics {
  registry: Registry;
  requestDuration: Histogram<"method" | "route" | "status_code">;
  allocatedKeys: Counter;
  allocationBatches: Counter;
}

export interface MetricsSources {
  /** Keys by state, read when Prometheus scrapes. */
  keysByState(): Promise<Record<string, number>>;
  /** Operators by active flag. */
  operatorCounts(): Promise<{ active: number; inactive: number }>;
}

/**
 * `onSourceError` is told when a gauge cannot be read (database down): the scrape still answers,
 * with the request metrics and without that gauge, and poolkeeper_api_scrape_errors_total counts it.
 */
export function createMetrics(sources: MetricsSources, onSourceError?: (e: unknown) => void): ApiMetrics {
  const registry = new Registry();
  const scrapeErrors = new Counter({
    name: "poolkeeper_api_scrape_errors_total",
    help: "Gauges that could not be read from the database during a scrape",
    registers: [registry],
  });
  const guarded = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (e) {
      scrapeErrors.inc();
      onSourceError?.(e);
      return undefined;
    }
  };
  const requestDuration = new Histogram({
    name: "poolkeeper_api_request_duration_seconds",
    help: "Admin API request latency by method, route and status code",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const allocatedKeys = new Counter({
    name: "poolkeeper_api_allocated_keys_total",
    help: "Keys handed out in deposit batches by this process",
    registers: [registry],
  });
  const allocationBatches = new Counter({
    name: "poolkeeper_api_allocation_batches_total",
    help: "Deposit batches allocated by this process",
    registers: [registry],
  });
  new Gauge({
    name: "poolkeeper_keys",
    help: "Keys in the registry by state",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const counts = await guarded(() => sources.keysByState());
      this.reset();
      if (counts === undefined) return;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: "poolkeeper_operators",
    help: "Operators in the registry by active flag",
    labelNames: ["active"] as const,
    registers: [registry],
    async collect() {
      const c = await guarded(() => sources.operatorCounts());
      this.reset();
      if (c === undefined) return;
      this.set({ active: "true" }, c.active);
      this.set({ active: "false" }, c.inactive);
    },
  });
  return { registry, requestDuration, allocatedKeys, allocationBatches };
}
