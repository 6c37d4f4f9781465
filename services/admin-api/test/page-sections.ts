import { readFileSync } from "node:fs";

/** The sections of a page: each has #<name> and #<name>-error, read from its HTML. */
function sectionsOf(page: string): string[] {
  const html = readFileSync(new URL(`../src/${page}`, import.meta.url), "utf8");
  return [...html.matchAll(/\sid="([a-z]+)-error"/g)].map((m) => m[1]!);
}

export const DASHBOARD_SECTIONS = sectionsOf("dashboard/index.html");
export const PUBLIC_SECTIONS = sectionsOf("web/public.html");
