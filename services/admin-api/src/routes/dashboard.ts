import { readFileSync } from "node:fs";
import type { App } from "../app.js";

/**
 * The DAO dashboard: one static page and its own script and stylesheet, read once at start-up.
 * The page itself is public; everything it shows comes from the JSON routes, which it calls with
 * the bearer token the user pastes (kept in sessionStorage only).
 */

const read = (name: string): string => readFileSync(new URL(`../dashboard/${name}`, import.meta.url), "utf8");

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

export function dashboardRoutes(app: App): void {
  const files: [url: string, file: string, type: string][] = [
    ["/dashboard", "index.html", "text/html; charset=utf-8"],
    ["/dashboard/app.js", "app.js", "text/javascript; charset=utf-8"],
    ["/dashboard/app.css", "app.css", "text/css; charset=utf-8"],
  ];
  for (const [url, file, type] of files) {
    const body = read(file);
    app.get(
      url,
      { schema: { hide: true }, config: { access: { roles: "public" } } },
      async (_request, reply) => reply.headers(HEADERS).type(type).send(body),
    );
  }
}
