import { readFileSync } from "node:fs";
import vm from "node:vm";
import { TEST_STORE_KINDS } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { depositEntries, TEST_NETWORK } from "./deposit-fixtures.js";
import { bearer, createHarness, depositKeys, type Harness, operatorBody } from "./harness.js";
import { DASHBOARD_SECTIONS } from "./page-sections.js";
import { seedWatcher } from "./watcher-fixtures.js";

const SCRIPT = readFileSync(new URL("../src/dashboard/app.js", import.meta.url), "utf8");
const PAGE = readFileSync(new URL("../src/dashboard/index.html", import.meta.url), "utf8");
/** The shared helpers (formatting, sortable tables, charts) the page loads before app.js. */
const UI = readFileSync(new URL("../src/web/ui.js", import.meta.url), "utf8");

/** The JSON routes the page reads, with the queries it sends. */
const PAGE_CALLS = [
  "/v1/review",
  "/v1/operators",
  "/v1/deposits/batches?limit=20",
  "/v1/performance/operators?window=7d",
  "/v1/performance/history?window=7d",
  "/v1/pool/share-rate",
  "/v1/oracle/reports?limit=20",
  "/v1/exits?limit=50",
  "/v1/alerts?limit=20",
];

// ---- a minimal DOM: enough for app.js, and no innerHTML at all ----

class FakeNode {}

class FakeElement extends FakeNode {
  children: FakeElement[] = [];
  own = "";
  id = "";
  className = "";
  hidden = false;
  disabled = false;
  type = "";
  scope = "";
  href = "";
  download = "";
  value = "";
  title = "";
  dataset: Record<string, string> = {};
  listeners = new Map<string, ((e: unknown) => unknown)[]>();
  clicks = 0;
  constructor(readonly tagName: string) {
    super();
  }
  get textContent(): string {
    return this.own + this.children.map((c) => c.textContent).join(" ");
  }
  set textContent(v: string) {
    this.children = [];
    this.own = String(v);
  }
  set innerHTML(_v: string) {
    throw new Error("the dashboard must not use innerHTML");
  }
  append(...nodes: FakeElement[]): void {
    for (const n of nodes) {
      if (!(n instanceof FakeElement)) throw new Error(`append of a non-element: ${String(n)}`);
      this.children.push(n);
    }
  }
  replaceChildren(...nodes: FakeElement[]): void {
    this.children = [];
    this.own = "";
    this.append(...nodes);
  }
  remove(): void {}
  addEventListener(type: string, fn: (e: unknown) => unknown): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  async fire(type: string, event: unknown = {}): Promise<void> {
    for (const fn of this.listeners.get(type) ?? []) await fn(event);
  }
  click(): void {
    this.clicks++;
    void this.fire("click");
  }
  *walk(): Generator<FakeElement> {
    yield this;
    for (const c of this.children) yield* c.walk();
  }
}

interface Page {
  el(id: string): FakeElement;
  body: FakeElement;
  storage: Map<string, string>;
  calls: { url: string; headers: Record<string, string> }[];
  blobs: Blob[];
  anchors: FakeElement[];
  /** Resolves when the page says it loaded (or gave up with errors). */
  settled(): Promise<void>;
}

/** Run app.js against the app: fetch goes to app.inject, sessionStorage is a Map. */
function runPage(h: Harness, token: string | null): Page {
  const ids = [...PAGE.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
  const elements = new Map(
    ids.map((id) => {
      const e = new FakeElement(id === "token" ? "INPUT" : "DIV");
      e.id = id;
      return [id, e] as const;
    }),
  );
  const body = new FakeElement("BODY");
  const anchors: FakeElement[] = [];
  const storage = new Map<string, string>();
  const calls: Page["calls"] = [];
  const blobs: Blob[] = [];
  const document = {
    body,
    getElementById: (id: string) => elements.get(id) ?? null,
    createElement: (tag: string) => {
      const e = new FakeElement(tag.toUpperCase());
      if (e.tagName === "A") anchors.push(e);
      return e;
    },
  };
  const sessionStorage = {
    getItem: (k: string) => storage.get(k) ?? null,
    setItem: (k: string, v: string) => void storage.set(k, String(v)),
    removeItem: (k: string) => void storage.delete(k),
  };
  const fetch = async (url: string, init: { headers: Record<string, string> }) => {
    calls.push({ url, headers: { ...init.headers } });
    const r = await h.app.inject({ method: "GET", url, headers: init.headers });
    return {
      ok: r.statusCode >= 200 && r.statusCode < 300,
      status: r.statusCode,
      statusText: r.statusMessage,
      json: async () => JSON.parse(r.body),
      blob: async () => new Blob([r.rawPayload]),
    };
  };
  const URLShim = {
    createObjectURL: (b: Blob) => {
      blobs.push(b);
      return `blob:dashboard/${blobs.length}`;
    },
    revokeObjectURL: () => {},
  };
  const context = vm.createContext({
    document,
    sessionStorage,
    fetch,
    URL: URLShim,
    Blob,
    Node: FakeNode,
    setTimeout,
  });
  if (token !== null) storage.set("poolkeeper.dashboard.token", token);
  vm.runInContext(UI, context, { filename: "ui.js" });
  vm.runInContext(SCRIPT, context, { filename: "app.js" });
  const el = (id: string) => {
    const e = elements.get(id);
    if (e === undefined) throw new Error(`no #${id} in index.html`);
    return e;
  };
  return {
    el,
    body,
    storage,
    calls,
    blobs,
    anchors,
    settled: () =>
      vi.waitFor(
        () => {
          expect(el("token-status").textContent).toMatch(/^(Token set|No token)/);
        },
        { timeout: 10_000, interval: 10 },
      ),
  };
}

describe("dashboard sources", () => {
  it("has a section in the script for every section of the page", () => {
    expect(DASHBOARD_SECTIONS.length).toBe(9);
    for (const s of DASHBOARD_SECTIONS) expect(SCRIPT).toContain(`"${s}"`);
  });

  it("use only same-origin resources and no inline script, style or handlers", () => {
    for (const text of [
      PAGE,
      SCRIPT,
      UI,
      readFileSync(new URL("../src/dashboard/app.css", import.meta.url), "utf8"),
      readFileSync(new URL("../src/web/common.css", import.meta.url), "utf8"),
    ]) {
      expect(text).not.toMatch(/https?:\/\//i);
      expect(text).not.toMatch(/[\s:,]url\(/i); // CSS url(...)
      expect(text).not.toMatch(/\bimport\s*\(|\bimport\s+["'{*]/);
    }
    const refs = [...PAGE.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(refs).toEqual([
      "/assets/common.css",
      "/dashboard/app.css",
      "/assets/charts.js",
      "/assets/ui.js",
      "/dashboard/app.js",
      "/",
    ]);
    for (const script of PAGE.match(/<script\b[^>]*>/g) ?? []) expect(script).toMatch(/\ssrc="/);
    expect(PAGE).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
    expect(PAGE).not.toMatch(/<style\b|\sstyle="|\son[a-z]+=/i);
    expect(PAGE).not.toMatch(/<form\b/i);
  });

  it("keeps the token in sessionStorage only, and never builds HTML from data", () => {
    expect(SCRIPT).not.toMatch(/localStorage|document\.cookie|indexedDB/);
    expect(UI).not.toMatch(
      /sessionStorage|localStorage|fetch\(|innerHTML|outerHTML|insertAdjacentHTML|\beval\(/,
    );
    expect(SCRIPT).toMatch(/sessionStorage\.setItem\(TOKEN_KEY/);
    expect(SCRIPT).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
    );
    // The token is read in one place and used once: in the Authorization header.
    expect(SCRIPT.match(/sessionStorage\.getItem\(/g)).toHaveLength(1);
    expect(SCRIPT.match(/\$\{token\}/g)).toHaveLength(1);
    expect(SCRIPT).toMatch(/Authorization: `Bearer \$\{token\}`/);
  });
});

describe.each(TEST_STORE_KINDS)("dashboard on %s", (kind) => {
  let h: Harness;
  let a: number;
  let b: number;
  let nameA: string;
  let batchId: number;
  beforeAll(async () => {
    h = await createHarness(kind);
    const create = async (limit: number) => {
      const body = operatorBody({ vettedLimit: limit });
      const r = await h.app.inject({
        method: "POST",
        url: "/v1/operators",
        headers: bearer(h.admin),
        payload: body,
      });
      expect(r.statusCode, r.body).toBe(201);
      return { id: (r.json() as { data: { id: number } }).data.id, name: body.name as string };
    };
    const opA = await create(4);
    const opB = await create(4);
    a = opA.id;
    b = opB.id;
    nameA = opA.name;
    batchId = await depositKeys(
      h,
      [
        [a, depositEntries(7000, 4)],
        [b, depositEntries(7100, 4)],
      ],
      3,
    );
    await seedWatcher(h.store, TEST_NETWORK.name, a, b);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("serves the page without a token, as HTML with a strict CSP, nosniff and no-store", async () => {
    const r = await h.app.inject({ method: "GET", url: "/dashboard" });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(r.body).toBe(PAGE);
    const csp = String(r.headers["content-security-policy"]);
    const directives = new Map(
      csp.split(";").map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values.join(" ")] as const;
      }),
    );
    expect(directives.get("default-src")).toBe("'self'");
    expect(directives.get("script-src")).toBe("'self'");
    expect(directives.get("frame-ancestors")).toBe("'none'");
    expect(csp).not.toMatch(/unsafe-eval|unsafe-inline|\*|https?:/);
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["cache-control"]).toBe("no-store");
  });

  it("serves the script and stylesheet the page references, public, with their types", async () => {
    const types: Record<string, string> = {
      "/dashboard/app.js": "text/javascript; charset=utf-8",
      "/dashboard/app.css": "text/css; charset=utf-8",
      "/assets/ui.js": "text/javascript; charset=utf-8",
      "/assets/charts.js": "text/javascript; charset=utf-8",
      "/assets/common.css": "text/css; charset=utf-8",
    };
    for (const [url, type] of Object.entries(types)) {
      expect(PAGE).toContain(`"${url}"`);
      const r = await h.app.inject({ method: "GET", url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers["content-type"]).toBe(type);
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["content-security-policy"]).toMatch(/default-src 'self'/);
      expect(r.headers["cache-control"]).toBe("no-store");
    }
    expect((await h.app.inject({ method: "GET", url: "/dashboard/app.js" })).body).toBe(SCRIPT);
  });

  it("calls only API routes that exist, stays out of OpenAPI, and its JSON routes still need a token", async () => {
    const doc = (await h.app.inject({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const used = new Set([...SCRIPT.matchAll(/"(\/v1\/[A-Za-z0-9_{}/.-]*)"/g)].map((m) => m[1]!));
    expect([...used].sort()).toEqual(
      [
        "/v1/alerts",
        "/v1/deposits/batches",
        "/v1/deposits/batches/{id}/deposit_data",
        "/v1/exits",
        "/v1/operators",
        "/v1/oracle/reports",
        "/v1/performance/history",
        "/v1/performance/operators",
        "/v1/pool/share-rate",
        "/v1/review",
      ].sort(),
    );
    for (const path of used) expect(doc.paths[path]?.get, `GET ${path}`).toBeDefined();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/dashboard"))).toEqual([]);

    const urls = [...PAGE_CALLS, `/v1/deposits/batches/${batchId}/deposit_data`];
    for (const url of urls) {
      const none = await h.app.inject({ method: "GET", url });
      expect(none.statusCode, url).toBe(401);
      expect(none.json()).toMatchObject({ code: "ERR_UNAUTHORIZED" });
      const dao = await h.app.inject({ method: "GET", url, headers: bearer(h.dao) });
      expect(dao.statusCode, `${url}: ${dao.body}`).toBe(200);
    }
  });

  it("renders the API's figures for a dao token, sending it only in the Authorization header", async () => {
    const page = runPage(h, h.dao);
    await page.settled();
    expect(page.el("token-status").textContent).toMatch(/^Token set/);
    for (const s of DASHBOARD_SECTIONS) {
      expect(page.el(`${s}-error`).hidden, page.el(`${s}-error`).textContent).toBe(true);
    }
    expect(page.calls.map((c) => c.url).sort()).toEqual([...PAGE_CALLS].sort());
    for (const c of page.calls) {
      expect(c.headers).toEqual({ Authorization: `Bearer ${h.dao}`, Accept: "application/json" });
      expect(c.url).not.toContain(h.dao);
    }
    expect([...page.storage.keys()]).toEqual(["poolkeeper.dashboard.token"]);

    const review = (await h.app.inject({ method: "GET", url: "/v1/review", headers: bearer(h.dao) })).json()
      .data;
    const operators = page.el("operators").textContent;
    const rowA = review.operators.find((o: { operatorId: number }) => o.operatorId === a);
    expect(operators).toContain(nameA);
    expect(operators).toContain(`${(rowA.activeShare * 100).toFixed(2)} %`);
    expect(page.el("concentration").textContent).toContain(
      `Nakamoto coefficient (1/3) ${review.concentration.nakamoto33}`,
    );
    expect(page.el("concentration").textContent).toContain(
      `Top-1 share ${(review.concentration.top1Share * 100).toFixed(2)} %`,
    );
    expect(page.el("batches").textContent).toContain(`Download batch ${batchId}`);
    expect(page.el("performance").textContent).toMatch(/Window 7d: epochs \d+–69/);
    expect(page.el("performance").textContent).toContain(`#${a} ${nameA}`);
    expect(page.el("alerts").textContent).toContain("missed_proposal");

    // The deposit_data download: fetched with the token, handed over as a Blob URL.
    const button = [...page.el("batches").walk()].find(
      (e) => e.tagName === "BUTTON" && e.textContent === `Download batch ${batchId}`,
    );
    expect(button).toBeDefined();
    await button!.fire("click");
    const file = await h.app.inject({
      method: "GET",
      url: `/v1/deposits/batches/${batchId}/deposit_data`,
      headers: bearer(h.dao),
    });
    expect(page.blobs).toHaveLength(1);
    expect(await page.blobs[0]!.text()).toBe(file.body);
    expect(page.anchors.map((x) => [x.href, x.download, x.clicks])).toEqual([
      ["blob:dashboard/1", `deposit_data-batch-${batchId}.json`, 1],
    ]);
    expect(page.el("batches-error").hidden).toBe(true);

    // Forget: the token and the figures go.
    await page.el("forget-token").fire("click");
    expect(page.storage.size).toBe(0);
    expect(page.el("operators").textContent).toBe("");
    expect(page.el("token-status").textContent).toMatch(/forgotten/);
  });

  it("takes a pasted token, and says when it is missing, unknown or lacks the role", async () => {
    const none = runPage(h, null);
    await none.settled();
    expect(none.calls).toEqual([]);
    expect(none.el("token-status").textContent).toMatch(/^No token/);

    none.el("token").value = `  Bearer ${h.dao} `;
    await none.el("use-token").fire("click");
    expect(none.el("token").value).toBe("");
    expect(none.storage.get("poolkeeper.dashboard.token")).toBe(h.dao);
    await none.settled();
    expect(none.el("operators").textContent).toContain(nameA);

    const unknown = runPage(h, `pk_${"Z".repeat(43)}`);
    await unknown.settled();
    expect(unknown.el("operators-error").hidden).toBe(false);
    expect(unknown.el("operators-error").textContent).toMatch(
      /missing, unknown or revoked.*401 ERR_UNAUTHORIZED/,
    );

    // An operator token may read its performance and alerts, not the DAO review or the batches.
    const operator = runPage(h, await h.operatorToken(a, "dashboard operator"));
    await operator.settled();
    expect(operator.el("operators-error").textContent).toMatch(/lacks the role.*403 ERR_FORBIDDEN/);
    expect(operator.el("batches-error").textContent).toMatch(/403 ERR_FORBIDDEN/);
    expect(operator.el("operators").textContent).toBe("");
    expect(operator.el("performance-error").hidden).toBe(true);
  });
});
