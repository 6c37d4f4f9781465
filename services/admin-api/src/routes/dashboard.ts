import { readFileSync } from "node:fs";
import type { App } from "../app.js";
import { chartsBundle } from "../web-bundle.js";

/**
 * The DAO dashboard: one static page and its own script and stylesheet, read once at start-up.
 * The page itself is public; everything it shows comes from the JSON routes, which it calls with
 * the bearer token the user pastes (kept in sessionStorage only).
 */

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

/** Same-origin only: no inline script or style, no eval, no framing, no form posts. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const HEADERS = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/**
 * The DAO/operator dashboard (/dashboard), the public page (/, no token: it reads only
 * GET /v1/public/...) and the charts bundle both use (/assets/charts.js, Chart.js bundled by
 * esbuild at its first request: web-bundle.ts).
 */
export function dashboardRoutes(app: App): void {
  const files: [url: string, body: () => string | Promise<string>, type: string][] = [
    ["/dashboard", () => read("dashboard/index.html"), HTML],
    ["/dashboard/app.js", () => read("dashboard/app.js"), JS],
    ["/dashboard/app.css", () => read("dashboard/app.css"), CSS],
    ["/", () => read("web/public.html"), HTML],
    ["/assets/public.js", () => read("web/public.js"), JS],
    ["/assets/public.css", () => read("web/public.css"), CSS],
    ["/assets/ui.js", () => read("web/ui.js"), JS],
    ["/assets/common.css", () => read("web/common.css"), CSS],
    ["/assets/charts.js", chartsBundle, JS],
  ];
  // browsers ask for it on every page: no icon, and no 404 in their console
  app.get(
    "/favicon.ico",
    { schema: { hide: true }, config: { access: { roles: "public" } } },
    async (_r, reply) => reply.headers(HEADERS).code(204).send(),
  );
  for (const [url, load, type] of files) {
    // the pages are read at start-up; the chart bundle is built at its first request (chartsBundle
    // keeps it for the process), so a start that never serves a page pays nothing for it
    const body = url === "/assets/charts.js" ? undefined : (load() as string);
    app.get(
      url,
      { schema: { hide: true }, config: { access: { roles: "public" } } },
      async (_request, reply) =>
        reply
          .headers(HEADERS)
          .type(type)
          .send(body ?? (await load())),
    );
  }
}
