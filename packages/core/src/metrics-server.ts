/**
 * The Prometheus endpoint of a service that has no HTTP server of its own: `GET /metrics` answers
 * what `scrape` returns (a prom-client registry's `contentType` and `metrics()`: core does not
 * depend on prom-client, the service passes its registry in), `GET /health` answers "ok", anything
 * else 404. A service with an HTTP server (the admin API) serves /metrics there instead.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "./errors.js";

export interface MetricsScrape {
  contentType: string;
  body: string;
}

export interface MetricsServerOptions {
  port: number;
  host: string;
  /** The setting that chose the port, named when it cannot be bound (default METRICS_PORT). */
  field?: string;
  /** Called on every GET /metrics. */
  scrape(): Promise<MetricsScrape>;
}

export interface MetricsServer {
  /** http://host:port (the port actually bound, also when 0 was asked for) */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" });
      res.end("method not allowed\n");
      return;
    }
    if (path === "/metrics") {
      opts.scrape().then(
        (m) => {
          res.writeHead(200, { "content-type": m.contentType });
          res.end(m.body);
        },
        () => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end("metrics unavailable\n");
        },
      );
      return;
    }
    res.writeHead(path === "/health" ? 200 : 404, { "content-type": "text/plain" });
    res.end(path === "/health" ? "ok\n" : "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          `${opts.field ?? "METRICS_PORT"}: cannot listen on ${opts.host}:${opts.port} (${e.code ?? e.message})`,
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The scrape of a prom-client registry (its text and content type), for startMetricsServer. */
export function registryScrape(registry: {
  contentType: string;
  metrics(): Promise<string>;
}): MetricsServerOptions["scrape"] {
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() });
}
