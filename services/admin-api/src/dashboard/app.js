// poolkeeper DAO and operator dashboard: plain DOM, no framework, nothing loaded from elsewhere.
// Helpers (formatting, sortable tables, charts) come from /assets/ui.js and /assets/charts.js.
// Every value from the API goes into the page with textContent (never as HTML).
// The token lives in this tab's sessionStorage only and is sent only in the Authorization header
// of requests to this same origin.

const TOKEN_KEY = "poolkeeper.dashboard.token";
// What the API accepts after "Bearer " (services/admin-api/src/auth.ts).
const TOKEN_RE = /^[A-Za-z0-9._~+/=-]{16,200}$/;

// The API routes this page reads, as OpenAPI path templates (a test checks each one exists).
const API = {
  review: "/v1/review",
  operators: "/v1/operators",
  batches: "/v1/deposits/batches",
  depositData: "/v1/deposits/batches/{id}/deposit_data",
  performance: "/v1/performance/operators",
  history: "/v1/performance/history",
  shareRate: "/v1/pool/share-rate",
  reports: "/v1/oracle/reports",
  exits: "/v1/exits",
  alerts: "/v1/alerts",
};

const SECTIONS = [
  "concentration",
  "operators",
  "keys",
  "performance",
  "sharerate",
  "reports",
  "exits",
  "batches",
  "alerts",
];
const CHARTS = ["allocation-chart", "keys-chart", "performance-chart", "sharerate-chart"];

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const byId = (id) => document.getElementById(id);

function readToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** GET a same-origin API path with the token; throws ApiError for anything but 2xx. */
async function apiFetch(path) {
  const token = readToken();
  if (token === null) throw new ApiError(401, "ERR_UNAUTHORIZED", "no token: paste one above");
  let res;
  try {
    res = await fetch(path, {
      method: "GET",
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    });
  } catch (e) {
    throw new ApiError(0, "ERR_NETWORK", `request failed (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = res.statusText;
    try {
      const body = await res.json();
      if (body !== null && typeof body.code === "string") code = body.code;
      if (body !== null && typeof body.message === "string") message = body.message;
    } catch {
      // not a JSON error body: keep the status line
    }
    throw new ApiError(res.status, code, message);
  }
  return res;
}

async function apiJson(path) {
  const res = await apiFetch(path);
  return res.json();
}

function describeError(e) {
  if (!(e instanceof ApiError)) return `Unexpected error: ${e instanceof Error ? e.message : String(e)}`;
  let hint = "";
  if (e.status === 401) hint = "The token is missing, unknown or revoked. ";
  if (e.status === 403) hint = "This token lacks the role for this (use a dao or admin token). ";
  const status = e.status > 0 ? `${e.status} ` : "";
  return `${hint}${status}${e.code}: ${e.message}`;
}

// ---- formatting and DOM (ui.js: textContent only) ----

const { DASH, int, pct, pp, fixed, when, para, table, chart, clearChart } = globalThis.PoolkeeperUi;

function targetLimit(t) {
  return t === null || t === undefined ? "none" : `${int(t.limit)} (${t.mode})`;
}

function show(section, ...nodes) {
  byId(section).replaceChildren(...nodes);
}

function showError(section, e) {
  const p = byId(`${section}-error`);
  if (e === null) {
    p.textContent = "";
    p.hidden = true;
  } else {
    p.textContent = describeError(e);
    p.hidden = false;
  }
}

function clearAll() {
  for (const s of SECTIONS) {
    show(s);
    showError(s, null);
  }
  for (const c of CHARTS) clearChart(c);
}

// ---- sections ----

function renderReview(review) {
  const c = review.concentration;
  const s = review.stakedConcentration;
  const t = review.totals;
  show(
    "concentration",
    table(
      `Totals at ${when(review.at)}`,
      ["Operators", "Active operators", "Vetted", "Deposited", "Active", "Exited", "Capacity left"],
      [[t.operators, t.activeOperators, t.vetted, t.deposited, t.active, t.exited, t.capacityLeft].map(int)],
    ),
    table(
      "Concentration among operators",
      ["Figure", "Active validators", "Staked keys (MinFirst fill)"],
      [
        ["Top-1 share", pct(c.top1Share), pct(s.top1Share)],
        ["Top-5 share", pct(c.top5Share), pct(s.top5Share)],
        ["HHI (0..10,000)", fixed(c.hhi, 1), fixed(s.hhi, 1)],
        ["Nakamoto coefficient (1/3)", int(c.nakamoto33), int(s.nakamoto33)],
      ],
      [0],
    ),
  );
  const ops = review.operators;
  chart("bar", "allocation-chart", {
    title: "Allocation: validators per operator against its limits",
    labels: ops.map((o) => `#${o.operatorId} ${o.name}`),
    series: [
      { label: "Active validators", data: ops.map((o) => o.keys.active) },
      { label: "Staked keys (MinFirst fill)", data: ops.map((o) => o.keys.staked) },
      { label: "Vetted limit", data: ops.map((o) => o.vettedLimit), line: true },
      {
        label: "Target limit",
        data: ops.map((o) => (o.targetLimit === null ? null : o.targetLimit.limit)),
        line: true,
      },
    ],
    unit: "validators",
  });
  show(
    "operators",
    review.operators.length === 0
      ? para("No operators.", "note")
      : table(
          null,
          [
            "Id",
            "Name",
            "Active",
            "Vetted limit",
            "Target limit",
            "Vetted",
            "Deposited",
            "Active validators",
            "Exited",
            "Slashed",
            "Share of active",
            "Capacity left",
          ],
          review.operators.map((o) => [
            o.operatorId,
            o.name,
            o.active ? "yes" : "no",
            int(o.vettedLimit),
            targetLimit(o.targetLimit),
            int(o.keys.vetted),
            int(o.keys.deposited),
            int(o.keys.active),
            int(o.keys.exited),
            int(o.keys.slashed),
            pct(o.activeShare),
            int(o.capacityLeft),
          ]),
          [1, 2, 4],
        ),
  );
}

async function downloadDepositData(id, button) {
  const path = API.depositData.replace("{id}", encodeURIComponent(String(id)));
  button.disabled = true;
  showError("batches", null);
  try {
    const res = await apiFetch(path);
    const blob = await res.blob();
    const url = URL.createObjectURL(new Blob([blob], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `deposit_data-batch-${id}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    showError("batches", e);
  } finally {
    button.disabled = false;
  }
}

function renderBatches(batches) {
  if (batches.length === 0) {
    show("batches", para("No deposit batches yet.", "note"));
    return;
  }
  show(
    "batches",
    table(
      null,
      ["Batch", "Created", "Actor", "Keys", "deposit_data.json"],
      batches.map((b) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = `Download batch ${b.id}`;
        button.addEventListener("click", () => downloadDepositData(b.id, button));
        return [b.id, when(b.createdAt), b.actor, int(b.keyCount), button];
      }),
      [1, 2],
    ),
  );
}

function perfCells(scores, duties) {
  const a = duties.attestations;
  const p = duties.proposals;
  const s = duties.sync;
  return [
    pct(scores.effectiveness),
    pct(scores.attester),
    pct(scores.proposer),
    pct(scores.csmPerformance),
    `${int(a.included)} / ${int(a.assigned)} (${int(a.missed)} missed)`,
    `${int(p.proposed)} / ${int(p.assigned)} (${int(p.missed)} missed)`,
    `${int(s.participated)} / ${int(s.assigned)} (${int(s.missed)} missed)`,
  ];
}

function renderPerformance(perf, names) {
  const r = perf.range;
  const range =
    r === null
      ? para("No epoch processed by the watcher yet.", "note")
      : para(
          `Window ${perf.window}: epochs ${r.fromEpoch}–${r.toEpoch}, ${int(r.processedEpochs)} of ${int(
            perf.windowEpochs,
          )} processed.`,
          "note",
        );
  const rows = [
    ["network", DASH, ...perfCells(perf.network.scores, perf.network.duties), DASH, DASH, DASH],
    ...perf.operators.map((o) => {
      const name = names.get(o.operatorId);
      return [
        name === undefined ? `#${o.operatorId}` : `#${o.operatorId} ${name}`,
        int(o.validators),
        ...perfCells(o.scores, o.duties),
        o.balanceChangeGwei,
        pp(o.vsNetwork.effectiveness),
        pp(o.vsNetwork.csmPerformance),
      ];
    }),
  ];
  show(
    "performance",
    range,
    table(
      null,
      [
        "Operator",
        "Validators",
        "Effectiveness",
        "Attester",
        "Proposer",
        "CSM performance",
        "Attestations included",
        "Proposals made",
        "Sync participated",
        "Balance change (gwei)",
        "Effectiveness vs network",
        "CSM vs network",
      ],
      rows,
      [0],
    ),
  );
}

const KEY_STATES = [
  "submitted",
  "vetted",
  "deposited",
  "active",
  "exited",
  "withdrawn",
  "slashed",
  "removed",
];

/** Keys by state of the operators this token sees (an operator token: its own). */
function renderKeys(operators) {
  // every state any of them has keys in ("total" is their sum, not a state)
  const states = [...new Set([...KEY_STATES, ...operators.flatMap((o) => Object.keys(o.keys))])].filter(
    (k) => k !== "total" && operators.some((o) => (o.keys[k] ?? 0) > 0),
  );
  chart("bar", "keys-chart", {
    title:
      operators.length === 1 ? `Keys of #${operators[0].id} ${operators[0].name} by state` : "Keys by state",
    labels: states,
    series: operators.map((o) => ({ label: `#${o.id} ${o.name}`, data: states.map((k) => o.keys[k] ?? 0) })),
    unit: "keys",
  });
  show(
    "keys",
    operators.length === 0
      ? para("No operators.", "note")
      : table(
          null,
          ["Operator", ...states],
          operators.map((o) => [`#${o.id} ${o.name}`, ...states.map((k) => int(o.keys[k] ?? 0))]),
          [0],
        ),
  );
}

function renderHistory(history, names) {
  const labels = history.points.map((p) => `${p.fromEpoch}–${p.toEpoch}`);
  const ids = [...new Set(history.points.flatMap((p) => p.operators.map((o) => o.operatorId)))].sort(
    (a, b) => a - b,
  );
  chart("line", "performance-chart", {
    title: `Effectiveness per ${history.bucketEpochs} epochs over ${history.window}, against the network`,
    labels,
    series: [
      { label: "Network", data: history.points.map((p) => p.network.effectiveness) },
      ...ids.map((id) => ({
        label: names.has(id) ? `#${id} ${names.get(id)}` : `#${id}`,
        data: history.points.map((p) => p.operators.find((o) => o.operatorId === id)?.effectiveness ?? null),
      })),
    ],
    percent: true,
  });
}

/** Share rate "1.000…" (27 decimals) with 9 decimals. */
function rate(r) {
  if (typeof r !== "string") return DASH;
  const [w, f = ""] = r.split(".");
  return `${w}.${f.slice(0, 9)}`;
}

function renderShareRate(points) {
  chart("line", "sharerate-chart", {
    title: "Share rate after each applied report (ether per share)",
    labels: points.map((p) => String(p.refSlot)),
    series: [{ label: "Share rate", data: points.map((p) => Number(p.after)) }],
    unit: "ETH per share",
  });
  show(
    "sharerate",
    points.length === 0
      ? para("No report applied yet.", "note")
      : table(
          null,
          ["Ref slot", "Time", "Before", "After"],
          [...points]
            .reverse()
            .map((p) => [
              p.refSlot,
              when(new Date(p.timestamp * 1000).toISOString()),
              rate(p.before),
              rate(p.after),
            ]),
          [1],
        ),
  );
}

function renderReports(reports) {
  show(
    "reports",
    reports.length === 0
      ? para("No report decided yet.", "note")
      : table(
          null,
          ["Ref slot", "Status", "Decided", "Votes", "Sanity checks", "Failed checks", "Bunker"],
          reports.map((r) => [
            r.refSlot,
            r.status,
            when(r.decidedAt),
            r.votes.map((v) => `${v.memberId}${v.agrees ? "" : " (disagrees)"}`).join(", "),
            `${r.sanity.filter((c) => c.ok).length} / ${r.sanity.length} passed`,
            r.sanity
              .filter((c) => !c.ok)
              .map((c) => `${c.check}: ${c.value} > ${c.limit} ${c.unit}`)
              .join("; ") || DASH,
            r.report === null ? DASH : r.report.isBunkerMode ? "on" : "off",
          ]),
          [1, 2, 3, 5],
        ),
  );
}

function renderExits(exits) {
  show(
    "exits",
    exits.length === 0
      ? para("No exit requests.", "note")
      : table(
          null,
          [
            "Id",
            "Operator",
            "Validator",
            "Reason",
            "State",
            "Requested",
            "Requested epoch",
            "Deadline epoch",
            "Exit epoch",
            "Exited by",
          ],
          exits.map((x) => [
            x.id,
            x.operatorId,
            x.validatorIndex,
            x.reason,
            x.state,
            when(x.requestedAt),
            x.requestedEpoch,
            x.deadlineEpoch,
            x.exitEpoch,
            x.exitedBy,
          ]),
          [3, 4, 5, 9],
        ),
  );
}

function renderAlerts(alerts) {
  if (alerts.length === 0) {
    show("alerts", para("No alerts.", "note"));
    return;
  }
  show(
    "alerts",
    table(
      null,
      ["Created", "Kind", "Operator", "Validator", "Epoch", "Message", "Webhook"],
      alerts.map((a) => [
        when(a.createdAt),
        a.kind,
        a.operatorId,
        a.validatorIndex,
        a.epoch,
        a.message,
        `${a.webhook.state} (${a.webhook.attempts})`,
      ]),
      [0, 1, 5, 6],
    ),
  );
}

// ---- loading ----

let generation = 0;

async function section(name, gen, load) {
  try {
    await load((fn) => {
      if (gen === generation) fn();
    });
    if (gen === generation) showError(name, null);
    return true;
  } catch (e) {
    if (gen === generation) {
      show(name);
      showError(name, e);
    }
    return false;
  }
}

async function loadAll() {
  const gen = ++generation;
  const status = byId("token-status");
  if (readToken() === null) {
    clearAll();
    status.textContent = "No token: paste a dao or admin token above.";
    return;
  }
  status.textContent = "Loading…";
  const review = apiJson(API.review);
  review.catch(() => {});
  const operators = apiJson(API.operators);
  operators.catch(() => {});
  const ok = await Promise.all([
    section("concentration", gen, async (now) => {
      const r = (await review).data;
      now(() => renderReview(r));
    }),
    section("operators", gen, async () => {
      // rendered with the review; only its error is shown here
      await review;
    }),
    section("batches", gen, async (now) => {
      const b = (await apiJson(`${API.batches}?limit=20`)).data;
      now(() => renderBatches(b));
    }),
    section("performance", gen, async (now) => {
      const [p, h] = await Promise.all([
        apiJson(`${API.performance}?window=7d`),
        apiJson(`${API.history}?window=7d`),
      ]);
      const names = new Map();
      try {
        for (const o of (await operators).data) names.set(o.id, o.name);
      } catch {
        // names are optional here; the operators' error shows in their own section
      }
      now(() => {
        renderPerformance(p.data, names);
        renderHistory(h.data, names);
      });
    }),
    section("keys", gen, async (now) => {
      const o = (await operators).data;
      now(() => renderKeys(o));
    }),
    section("sharerate", gen, async (now) => {
      const p = (await apiJson(API.shareRate)).data;
      now(() => renderShareRate(p));
    }),
    section("reports", gen, async (now) => {
      const r = (await apiJson(`${API.reports}?limit=20`)).data;
      now(() => renderReports(r));
    }),
    section("exits", gen, async (now) => {
      const x = (await apiJson(`${API.exits}?limit=50`)).data;
      now(() => renderExits(x));
    }),
    section("alerts", gen, async (now) => {
      const a = (await apiJson(`${API.alerts}?limit=20`)).data;
      now(() => renderAlerts(a));
    }),
  ]);
  if (gen !== generation) return;
  const loaded = `Token set (this tab only). Loaded at ${when(new Date().toISOString())}`;
  status.textContent = ok.every(Boolean) ? `${loaded}.` : `${loaded}, with errors: see the sections below.`;
}

function useToken() {
  const input = byId("token");
  const value = input.value.trim().replace(/^Bearer\s+/i, "");
  input.value = "";
  if (!TOKEN_RE.test(value)) {
    byId("token-status").textContent =
      "That does not look like a token (16 to 200 characters: letters, digits and . _ ~ + / = -).";
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, value);
  void loadAll();
}

function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  byId("token").value = "";
  generation++;
  clearAll();
  byId("token-status").textContent = "Token forgotten. No token.";
}

byId("use-token").addEventListener("click", useToken);
byId("token").addEventListener("keydown", (e) => {
  if (e.key === "Enter") useToken();
});
byId("reload").addEventListener("click", () => void loadAll());
byId("forget-token").addEventListener("click", forgetToken);
void loadAll();
