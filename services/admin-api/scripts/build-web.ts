/**
 * `pnpm build:web`: bundle the charts (Chart.js) with esbuild into services/admin-api/dist/web/
 * and check the bundle loads nothing from another origin. The admin API builds the same bundle in
 * memory when it starts serving pages; this is the build CI and the devnet run first.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { buildChartsBundle, WEB_DIST } from "../src/web-bundle.js";

const text = await buildChartsBundle();
// Only license comments may name a URL; no import(), no fetch of another origin.
if (/\bimport\s*\(|\bfetch\s*\(/.test(text)) throw new Error("charts bundle: a dynamic import or fetch");
mkdirSync(WEB_DIST, { recursive: true });
const out = new URL("charts.js", WEB_DIST);
writeFileSync(out, text);
process.stdout.write(`charts bundle: ${text.length} bytes -> ${out.pathname}\n`);
