import { API_ROUTES } from "@poolkeeper/contract";
import type { App, AppContext } from "../app.js";
import { routeOptions } from "../contract-routes.js";
import type { PublicPort } from "../public-adapter.js";

/**
 * `GET /v1/public/...`: no token, rate-limited per client address (publicRateLimitMax per
 * window), and cached in memory for publicCacheTtlMs: one computation per route per TTL, however
 * many clients ask (concurrent misses share it), with `Cache-Control: public, max-age` so that a
 * proxy or the browser may keep it as long.
 */

export class TtlCache<T> {
  private entry: { until: number; value: Promise<T> } | null = null;
  constructor(
    private readonly ttlMs: number,
    private readonly load: () => Promise<T>,
    private readonly clock: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.ttlMs <= 0) return this.load();
    const t = this.clock();
    if (this.entry !== null && this.entry.until > t) return this.entry.value;
    const value = this.load();
    const entry = { until: t + this.ttlMs, value };
    this.entry = entry;
    // a failure is not kept: the next request tries again
    value.catch(() => {
      if (this.entry === entry) this.entry = null;
    });
    return value;
  }
}

const SECTIONS = [
  ["publicOperators", "operators"],
  ["publicConcentration", "concentration"],
  ["publicToken", "token"],
  ["publicFees", "fees"],
  ["publicWithdrawals", "withdrawals"],
  ["publicRisk", "risk"],
  ["publicControl", "control"],
] as const;

export function publicRoutes(app: App, port: PublicPort, ctx: AppContext): void {
  const { publicCacheTtlMs: ttl, publicRateLimitMax, rateLimitWindowMs } = ctx.config;
  const cacheControl = ttl > 0 ? `public, max-age=${Math.floor(ttl / 1000)}` : "no-store";
  for (const [name, section] of SECTIONS) {
    const spec = API_ROUTES[name];
    const cache = new TtlCache<unknown>(ttl, () => port[section]());
    const opts = routeOptions(spec);
    app.route({
      ...opts,
      config: { ...opts.config, rateLimit: { max: publicRateLimitMax, timeWindow: rateLimitWindowMs } },
      handler: async (_request, reply) => {
        const data = await cache.get();
        reply.header("cache-control", cacheControl);
        return { data, meta: {} } as never;
      },
    });
  }
}
