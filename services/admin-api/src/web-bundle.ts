import { buildSync } from "esbuild";

/**
 * The browser bundle of the charts (src/web/charts.ts with Chart.js), built by esbuild: in memory
 * once per process the first time a page asks (routes/web.ts), or to dist/web/ by
 * `pnpm build:web` (which CI runs). One IIFE, minified, no source map, no external import.
 */

const ENTRY = new URL("./web/charts.ts", import.meta.url).pathname;

/** Where `pnpm build:web` writes it. */
export const WEB_DIST = new URL("../dist/web/", import.meta.url);

export function buildChartsBundle(): string {
  const r = buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    legalComments: "eof",
    write: false,
    logLevel: "silent",
  });
  const out = r.outputFiles[0];
  if (out === undefined) throw new Error("esbuild produced no output for the charts bundle");
  return out.text;
}

let memo: string | undefined;

/** The bundle's text, built on first use. */
export function chartsBundle(): string {
  memo ??= buildChartsBundle();
  return memo;
}
