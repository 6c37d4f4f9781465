/**
 * The browser bundle of the charts (src/web/charts.ts with Chart.js), built by esbuild: in memory
 * once per process the first time a page asks (routes/dashboard.ts), or to dist/web/ by
 * `pnpm build:web` (which CI runs). One IIFE, minified, no source map, no external import.
 */

const ENTRY = new URL("./web/charts.ts", import.meta.url).pathname;

/** Where `pnpm build:web` writes it. */
export const WEB_DIST = new URL("../dist/web/", import.meta.url);

export async function buildChartsBundle(): Promise<string> {
  // imported here: a process that never serves a page does not load esbuild
  const { build } = await import("esbuild");
  const r = await build({
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

let memo: Promise<string> | undefined;

/** The bundle's text, built on first use (esbuild's own process: the event loop is not held). */
export function chartsBundle(): Promise<string> {
  if (memo === undefined) {
    const p = buildChartsBundle();
    memo = p;
    p.catch(() => {
      if (memo === p) memo = undefined;
    });
  }
  return memo;
}
