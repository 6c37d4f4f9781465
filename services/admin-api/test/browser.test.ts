/**
 * The public page and the dashboard in a real browser: Debian's Chromium driven by
 * playwright-core, against a real admin API listening on a socket over a seeded store
 * (public-fixtures.ts). The public page renders every section from GET /v1/public/... alone, with
 * no token anywhere in the browser; the dashboard takes a token, shows the API's figures and its
 * charts; nothing is loaded from another origin and the CSP reports no violation. Screenshots go
 * to test-artifacts/ (ignored by git).
 */
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createHarness, type Harness, testOracleConfig } from "./harness.js";
import { DASHBOARD_SECTIONS, PUBLIC_SECTIONS } from "./page-sections.js";
import { ORACLE_KEYS, type SeededPool, seedPublicPool } from "./public-fixtures.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../../../test-artifacts/", import.meta.url);

interface Watch {
  requests: string[];
  authorization: string[];
  problems: string[];
}

/** Every request the page makes, any Authorization header it sends, console errors and CSP reports. */
function watch(page: Page): Watch {
  const w: Watch = { requests: [], authorization: [], problems: [] };
  page.on("request", (r) => {
    w.requests.push(r.url());
    const auth = r.headers().authorization;
    if (auth !== undefined) w.authorization.push(auth);
  });
  page.on("console", (m) => {
    if (m.type() === "error" || /Content Security Policy/i.test(m.text())) w.problems.push(m.text());
  });
  page.on("pageerror", (e) => w.problems.push(e.message));
  page.on("response", (r) => {
    if (r.status() >= 400) w.problems.push(`${r.status()} ${r.url()}`);
  });
  return w;
}

/** A canvas's drawn points (data-points) and how many of its pixels are not blank. */
async function canvasInk(page: Page, id: string): Promise<{ points: number; inked: number }> {
  return page.$eval(`#${id}`, (c) => {
    const canvas = c as unknown as {
      dataset: Record<string, string>;
      width: number;
      height: number;
      getContext(k: "2d"): {
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      };
    };
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) inked++;
    return { points: Number(canvas.dataset.points ?? "0"), inked };
  });
}

describe("the pages in Chromium", () => {
  let h: Harness;
  let seeded: SeededPool;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    h = await createHarness("pglite", { publicCacheTtlMs: 0 }, { oracle: testOracleConfig(ORACLE_KEYS) });
    seeded = await seedPublicPool(h);
    base = await h.app.listen({ host: "127.0.0.1", port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const json = async (url: string, token?: string) =>
    (
      await h.app.inject({ method: "GET", url, ...(token !== undefined ? { headers: bearer(token) } : {}) })
    ).json().data;

  it("the public page renders every section from the public routes, with no token", async () => {
    const page = await context.newPage();
    const w = watch(page);
    await page.goto(`${base}/`);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 60_000 });
    for (const s of PUBLIC_SECTIONS) {
      expect(await page.getAttribute(`#${s}-section`, "data-loaded"), s).toBe("true");
      expect(await page.isHidden(`#${s}-error`), s).toBe(true);
    }
    expect(await page.textContent("#status")).toMatch(/^Loaded at/);

    // the figures against the JSON they link to
    const conc = await json("/v1/public/concentration");
    const figure = (route: string, field: string) =>
      page.textContent(`a.figure[href="${route}"][data-field="${field}"]`);
    expect(await figure("/v1/public/concentration", "validators")).toBe(String(conc.validators));
    expect(await figure("/v1/public/concentration", "concentration.top1Share")).toBe(
      `${(conc.concentration.top1Share * 100).toFixed(2)} %`,
    );
    expect(await figure("/v1/public/concentration", "concentration.nakamoto33")).toBe(
      String(conc.concentration.nakamoto33),
    );
    const token = await json("/v1/public/token");
    const [whole, frac] = (token.shareRate as string).split(".");
    expect(await figure("/v1/public/token", "shareRate")).toBe(`${whole}.${frac!.slice(0, 9)}`);
    expect(await figure("/v1/public/fees", "fee.totalFeeBP")).toBe("10.00 %");
    const wd = await json("/v1/public/withdrawals");
    expect(await figure("/v1/public/withdrawals", "queue.requests")).toBe(String(wd.queue.requests));
    const risk = await json("/v1/public/risk");
    expect(await figure("/v1/public/risk", "alerts30d.total")).toBe(String(risk.alerts30d.total));
    expect(await page.textContent("#operators")).toContain(seeded.names[seeded.a]);
    // every figure links to a public route, and its field is in that route's JSON
    const links = await page.$$eval("a.figure", (as) =>
      as.map((a) => [a.getAttribute("href"), (a as unknown as { dataset: { field: string } }).dataset.field]),
    );
    expect(links.length).toBeGreaterThan(30);
    const answers = new Map<string, unknown>();
    for (const [href, field] of links) {
      expect(href).toMatch(/^\/v1\/public\/[a-z]+$/);
      if (!answers.has(href!)) answers.set(href!, await json(href!));
      let v: unknown = answers.get(href!);
      for (const k of field!.split(".")) v = (v as Record<string, unknown>)[k];
      expect(v, `${href} ${field}`).toBeDefined();
    }
    // deposit security's figures, and one placeholder: this pool has no DAO
    expect(await figure("/v1/public/risk", "frontRunKeys.count")).toBe(String(risk.frontRunKeys.count));
    expect(await figure("/v1/public/control", "deposits.paused")).toBe("no");
    expect(await page.locator("[data-placeholder=true]").count()).toBe(1);
    expect(await page.textContent("#control")).toContain("no DAO is configured");

    for (const id of ["operators-chart", "concentration-chart", "token-chart", "fees-chart"]) {
      const ink = await canvasInk(page, id);
      expect(ink.points, id).toBeGreaterThan(0);
      expect(ink.inked, id).toBeGreaterThan(100);
    }

    // no token in the browser, nothing from another origin, no CSP violation
    expect(w.authorization).toEqual([]);
    expect(await page.evaluate("sessionStorage.length + localStorage.length")).toBe(0);
    for (const u of w.requests) expect(u.startsWith(`${base}/`), u).toBe(true);
    const api = w.requests.filter((u) => new URL(u).pathname.startsWith("/v1/"));
    expect(api.length).toBe(7);
    for (const u of api) expect(new URL(u).pathname).toMatch(/^\/v1\/public\//);
    expect(w.problems).toEqual([]);
    await page.screenshot({ path: new URL("public.png", ARTIFACTS).pathname, fullPage: true });
    await page.close();
  }, 120_000);

  it("the dashboard: a dao token shows the API's figures, charts and sortable tables", async () => {
    const page = await context.newPage();
    const w = watch(page);
    await page.goto(`${base}/dashboard`);
    await page.fill("#token", h.dao);
    await page.click("#use-token");
    await page.locator("#token-status", { hasText: /^Token set/ }).waitFor({ timeout: 60_000 });
    for (const s of DASHBOARD_SECTIONS) {
      expect(await page.isHidden(`#${s}-error`), `${s}: ${await page.textContent(`#${s}-error`)}`).toBe(true);
    }
    const review = await json("/v1/review", h.dao);
    const rowA = review.operators.find((o: { operatorId: number }) => o.operatorId === seeded.a);
    const operators = await page.textContent("#operators");
    expect(operators).toContain(seeded.names[seeded.a]);
    expect(operators).toContain(`${(rowA.activeShare * 100).toFixed(2)} %`);
    expect(await page.textContent("#concentration")).toContain(
      `Nakamoto coefficient (1/3)${review.concentration.nakamoto33}`,
    );
    const reports = await json("/v1/oracle/reports?limit=20", h.dao);
    const reportsText = await page.textContent("#reports");
    for (const r of reports as { refSlot: number }[]) expect(reportsText).toContain(String(r.refSlot));
    expect(reportsText).toContain("m1, m2");
    for (const id of ["allocation-chart", "keys-chart", "performance-chart", "sharerate-chart"]) {
      const ink = await canvasInk(page, id);
      expect(ink.points, id).toBeGreaterThan(0);
      expect(ink.inked, id).toBeGreaterThan(100);
    }
    // sort the operators by id, descending: the larger id first
    const idHeader = page.locator("#operators th", { hasText: /^Id$/ });
    await idHeader.click();
    await idHeader.click();
    const firstId = await page.textContent("#operators tbody tr:first-child td:first-child");
    expect(Number(firstId)).toBe(Math.max(seeded.a, seeded.b));

    for (const u of w.requests) expect(u.startsWith(`${base}/`), u).toBe(true);
    expect(new Set(w.authorization)).toEqual(new Set([`Bearer ${h.dao}`]));
    expect(w.problems).toEqual([]);
    await page.screenshot({ path: new URL("dashboard.png", ARTIFACTS).pathname, fullPage: true });
    await page.close();
  }, 120_000);

  it("the dashboard with an operator token: its own keys by state and performance; DAO sections refused", async () => {
    const token = await h.operatorToken(seeded.a, "browser operator");
    const page = await context.newPage();
    await page.goto(`${base}/dashboard`);
    await page.fill("#token", token);
    await page.click("#use-token");
    await page.locator("#token-status", { hasText: /^Token set/ }).waitFor({ timeout: 60_000 });
    const op = await json(`/v1/operators/${seeded.a}`, token);
    const keys = await page.textContent("#keys");
    expect(keys).toContain(`#${seeded.a} ${seeded.names[seeded.a]}`);
    expect(keys).not.toContain(seeded.names[seeded.b]!);
    expect(keys).toContain(String(op.keys.deposited ?? op.keys.active));
    expect((await canvasInk(page, "keys-chart")).points).toBeGreaterThan(0);
    expect(await page.isHidden("#performance-error")).toBe(true);
    expect(await page.textContent("#operators-error")).toMatch(/403 ERR_FORBIDDEN/);
    await page.screenshot({ path: new URL("dashboard-operator.png", ARTIFACTS).pathname, fullPage: true });
    await page.close();
  }, 120_000);
});
