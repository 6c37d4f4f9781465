// poolkeeper public page: plain DOM, no framework, nothing loaded from elsewhere, no token.
// It reads only GET /v1/public/... (the routes in PUBLIC below); every figure is a link to the
// JSON it comes from (`data-field`: its path in that JSON's `data`). Values go into the page
// with textContent only. Charts: globalThis.PoolkeeperCharts (/assets/charts.js), when loaded.

const PUBLIC = {
  operators: "/v1/public/operators",
  concentration: "/v1/public/concentration",
  token: "/v1/public/token",
  fees: "/v1/public/fees",
  withdrawals: "/v1/public/withdrawals",
  risk: "/v1/public/risk",
  control: "/v1/public/control",
};

const { DASH, int, pct, pp, when, para, table, chart } = globalThis.PoolkeeperUi;
const byId = (id) => document.getElementById(id);

async function getJson(path) {
  const res = await fetch(path, {
    method: "GET",
    headers: { Accept: "application/json" },
    credentials: "omit",
    redirect: "error",
  });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body !== null && typeof body.code === "string")
        message = `${res.status} ${body.code}: ${body.message}`;
    } catch {
      // keep the status line
    }
    throw new Error(message);
  }
  return (await res.json()).data;
}

// ---- formatting ----

function bp(x) {
  return typeof x === "number" ? `${(x / 100).toFixed(2)} %` : DASH;
}
/** Wei (decimal string) as ether with 4 decimals, rounded down. */
function eth(wei) {
  if (typeof wei !== "string" || !/^[0-9]+$/.test(wei)) return DASH;
  const v = BigInt(wei);
  const whole = v / 10n ** 18n;
  const frac = ((v % 10n ** 18n) / 10n ** 14n).toString().padStart(4, "0");
  return `${whole.toLocaleString("en-US")}.${frac} ETH`;
}
/** Share rate "1.000…" (27 decimals) with 9 decimals. */
function rate(r) {
  if (typeof r !== "string") return DASH;
  const [w, f = ""] = r.split(".");
  return `${w}.${f.slice(0, 9)}`;
}
function duration(seconds) {
  if (typeof seconds !== "number") return DASH;
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}
function unix(s) {
  return typeof s === "number" ? when(new Date(s * 1000).toISOString()) : DASH;
}

// ---- DOM (textContent only) ----

/** A figure: its text, linked to the JSON route it comes from, `field` its path in `data`. */
function fig(text, route, field) {
  const a = document.createElement("a");
  a.className = "figure";
  a.href = route;
  a.dataset.field = field;
  a.textContent = text;
  return a;
}

function placeholder(what, p) {
  const el = para(`${what}: not available yet (${p.reason}).`, "placeholder");
  el.dataset.placeholder = "true";
  return el;
}

function figures(pairs) {
  const dl = document.createElement("dl");
  dl.className = "figures";
  for (const [label, value] of pairs) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = String(value);
    dl.append(dt, dd);
  }
  return dl;
}

// ---- sections ----

function renderOperators(d) {
  const R = PUBLIC.operators;
  chart("bar", "operators-chart", {
    title: `Effectiveness over ${d.window}, against the network`,
    labels: d.operators.map((o) => o.name),
    series: [
      { label: "Operator", data: d.operators.map((o) => o.effectiveness) },
      { label: "Network", data: d.operators.map(() => d.network.effectiveness), line: true },
    ],
    percent: true,
  });
  return [
    figures([
      ["Operators", fig(int(d.operators.length), R, "operators.length")],
      ["Network effectiveness", fig(pct(d.network.effectiveness), R, "network.effectiveness")],
      ["Network CSM performance", fig(pct(d.network.csmPerformance), R, "network.csmPerformance")],
    ]),
    d.operators.length === 0
      ? para("No operators yet.", "note")
      : table(
          `Performance over the last ${d.window}`,
          [
            "Operator",
            "Active",
            "Validators",
            "Staked keys",
            "Share",
            "Effectiveness",
            "CSM performance",
            "vs network",
          ],
          d.operators.map((o, i) => [
            o.name,
            o.active ? "yes" : "no",
            fig(int(o.validators), R, `operators.${i}.validators`),
            fig(int(o.staked), R, `operators.${i}.staked`),
            fig(pct(o.share), R, `operators.${i}.share`),
            fig(pct(o.effectiveness), R, `operators.${i}.effectiveness`),
            fig(pct(o.csmPerformance), R, `operators.${i}.csmPerformance`),
            fig(pp(o.vsNetwork), R, `operators.${i}.vsNetwork`),
          ]),
          [0, 1],
        ),
  ];
}

function renderConcentration(d) {
  const R = PUBLIC.concentration;
  chart("bar", "concentration-chart", {
    title: "Each operator's share of the pool's staked keys and active validators",
    labels: d.shares.map((s) => s.name),
    series: [
      { label: "Staked keys", data: d.shares.map((s) => s.stakedShare) },
      { label: "Active validators", data: d.shares.map((s) => s.share) },
    ],
    percent: true,
  });
  const c = d.concentration;
  const s = d.stakedConcentration;
  const row = (label, field, f) => [
    label,
    fig(f(c[field]), R, `concentration.${field}`),
    fig(f(s[field]), R, `stakedConcentration.${field}`),
  ];
  return [
    figures([
      ["Active validators", fig(int(d.validators), R, "validators")],
      ["Staked keys (deposited, not yet active too)", fig(int(d.staked), R, "staked")],
      ["Operators with staked keys", fig(int(d.operators), R, "operators")],
    ]),
    table(
      "Concentration among operators",
      ["Figure", "Active validators", "Staked keys"],
      [
        row("Top-1 share", "top1Share", pct),
        row("Top-5 share", "top5Share", pct),
        row("HHI (0..10,000)", "hhi", (x) => x.toFixed(1)),
        row("Nakamoto coefficient (1/3)", "nakamoto33", int),
      ],
      [0],
    ),
  ];
}

function renderToken(d) {
  const R = PUBLIC.token;
  chart("line", "token-chart", {
    title: "Share rate after each report (ether per share)",
    labels: d.history.map((p) => String(p.refSlot)),
    series: [{ label: "Share rate", data: d.history.map((p) => Number(p.after)) }],
    unit: "ETH per share",
  });
  return [
    figures([
      ["Share rate", fig(rate(d.shareRate), R, "shareRate")],
      ["Pooled ether", fig(eth(d.totalPooledEther), R, "totalPooledEther")],
      ["Reports in the history", fig(int(d.history.length), R, "history.length")],
    ]),
    d.reports.length === 0
      ? para("No report decided yet.", "note")
      : table(
          "The last reports",
          ["Ref slot", "Status", "Decided", "Votes (agree / cast)", "Sanity checks", "Bunker mode"],
          d.reports.map((r, i) => [
            fig(String(r.refSlot), R, `reports.${i}.refSlot`),
            r.status,
            when(r.decidedAt),
            fig(
              `${r.votes.filter((v) => v.agrees).length} / ${r.votes.length} (${r.votes.map((v) => v.memberId).join(", ")})`,
              R,
              `reports.${i}.votes`,
            ),
            r.sanityFailed.length === 0
              ? `${r.sanityPassed} passed`
              : `${r.sanityPassed} passed, failed: ${r.sanityFailed.join(", ")}`,
            r.isBunkerMode === null ? DASH : r.isBunkerMode ? "on" : "off",
          ]),
          [1, 2, 3, 4],
        ),
  ];
}

function renderFees(d) {
  const R = PUBLIC.fees;
  const out = [];
  if (d.fee.available === false) out.push(placeholder("The fee", d.fee));
  else
    out.push(
      figures([
        ["Total fee on rewards", fig(bp(d.fee.totalFeeBP), R, "fee.totalFeeBP")],
        ["To the operators", fig(bp(d.fee.operatorsFeeBP), R, "fee.operatorsFeeBP")],
        ["To the treasury", fig(bp(d.fee.treasuryFeeBP), R, "fee.treasuryFeeBP")],
      ]),
    );
  const oldest = [...d.minted].reverse();
  chart("bar", "fees-chart", {
    title: "Fee per report (ETH)",
    labels: oldest.map((m) => String(m.refSlot)),
    series: [{ label: "Fee", data: oldest.map((m) => Number(BigInt(m.feeWei) / 10n ** 12n) / 1e6) }],
    unit: "ETH",
  });
  out.push(
    d.minted.length === 0
      ? para("No report minted fees yet.", "note")
      : table(
          "Minted by the last reports",
          ["Ref slot", "Time", "Rewards", "Fee", "Operators' shares", "Treasury's shares"],
          d.minted.map((m, i) => [
            m.refSlot,
            unix(m.timestamp),
            fig(eth(m.rewardsWei), R, `minted.${i}.rewardsWei`),
            fig(eth(m.feeWei), R, `minted.${i}.feeWei`),
            fig(m.operatorsShares, R, `minted.${i}.operatorsShares`),
            fig(m.treasuryShares, R, `minted.${i}.treasuryShares`),
          ]),
          [1],
        ),
  );
  return out;
}

function renderWithdrawals(d) {
  const R = PUBLIC.withdrawals;
  const w = d.expectedWait;
  return [
    figures([
      ["Requests waiting", fig(int(d.queue.requests), R, "queue.requests")],
      ["stETH waiting", fig(eth(d.queue.unfinalizedStETH), R, "queue.unfinalizedStETH")],
      ["Buffered ether", fig(eth(d.queue.bufferedEther), R, "queue.bufferedEther")],
      ["Bunker mode", fig(d.bunkerMode ? "on" : "off", R, "bunkerMode")],
      ...(w.available === false
        ? []
        : [
            ["Expected wait for a request made now", fig(duration(w.seconds), R, "expectedWait.seconds")],
            [
              "of which until the next finalizing report",
              fig(duration(w.finalizationSeconds), R, "expectedWait.finalizationSeconds"),
            ],
            [
              "of which exits (churn, withdrawability delay)",
              fig(duration(w.exitSeconds), R, "expectedWait.exitSeconds"),
            ],
            [
              "Validators the queue needs to exit",
              fig(int(w.validatorsToExit), R, "expectedWait.validatorsToExit"),
            ],
          ]),
    ]),
    ...(w.available === false ? [placeholder("The expected wait", w)] : []),
    para(
      "The wait follows the oracle's rules: a report finalizes requests made before its ref epoch less the request margin; when the buffer falls short, that report asks validators to exit, whose ether comes back after the exit churn (at least 128 ETH per epoch) and 256 epochs. Not counted: other exits queued on the chain and the withdrawals sweep.",
      "note",
    ),
  ];
}

function renderRisk(d) {
  const R = PUBLIC.risk;
  return [
    figures([
      ["Slashed validators", fig(int(d.slashedValidators), R, "slashedValidators")],
      [
        "CL balance change, 30 days (gwei)",
        fig(d.penalties.balanceChangeGwei, R, "penalties.balanceChangeGwei"),
      ],
      [
        "Missed attestations, 30 days",
        fig(int(d.penalties.missedAttestations), R, "penalties.missedAttestations"),
      ],
      ["Missed proposals, 30 days", fig(int(d.penalties.missedProposals), R, "penalties.missedProposals")],
      ["Late exits", fig(int(d.lateExits), R, "lateExits")],
      ["Exits the pool triggered (EIP-7002)", fig(int(d.triggeredExits), R, "triggeredExits")],
      ["Alerts, 30 days", fig(int(d.alerts30d.total), R, "alerts30d.total")],
      ["Front-run keys caught (deposit security)", fig(int(d.frontRunKeys.count), R, "frontRunKeys.count")],
    ]),
    table(
      "Alerts of the last 30 days by kind",
      ["Kind", "Count"],
      Object.entries(d.alerts30d.byKind).map(([k, n]) => [k, fig(int(n), R, `alerts30d.byKind.${k}`)]),
      [0],
    ),
    d.alerts30d.recent.length === 0
      ? para("No alerts in the last 30 days.", "note")
      : table(
          "Recent alerts",
          ["Created", "Kind", "Operator", "Epoch"],
          d.alerts30d.recent.map((a) => [when(a.createdAt), a.kind, a.operatorId, a.epoch]),
          [0, 1],
        ),
  ];
}

function renderControl(d) {
  const R = PUBLIC.control;
  return [
    d.oracle.available === false
      ? placeholder("The oracle", d.oracle)
      : figures([
          ["Oracle members", fig(int(d.oracle.members), R, "oracle.members")],
          ["Quorum", fig(int(d.oracle.quorum), R, "oracle.quorum")],
          ["Epochs per report frame", fig(int(d.oracle.epochsPerFrame), R, "oracle.epochsPerFrame")],
        ]),
    figures([
      [
        "Deposits released by",
        fig(
          d.deposits.guarded
            ? `${int(d.deposits.quorum)} of ${int(d.deposits.guardians)} guardians`
            : "no guardians (released at allocation)",
          R,
          "deposits.guardians",
        ),
      ],
      [
        "Deposits paused",
        fig(
          d.deposits.paused ? `yes, by ${d.deposits.pausedBy} since ${when(d.deposits.pausedAt)}` : "no",
          R,
          "deposits.paused",
        ),
      ],
    ]),
    ...(d.governance.available === false
      ? [placeholder("Who can change what", d.governance)]
      : [
          figures([
            ["DAO members", fig(int(d.governance.daoMembers), R, "governance.daoMembers")],
            ["Approvals a change needs", fig(int(d.governance.quorum), R, "governance.quorum")],
            ["Timelock", fig(duration(d.governance.timelockSeconds), R, "governance.timelockSeconds")],
          ]),
          table(
            "Governed parameters: each changes only by an executed proposal",
            ["Parameter", "Set by", "Since"],
            d.governance.parameters.map((p) => [
              p.name,
              p.proposalId === null ? "genesis" : `proposal ${p.proposalId}`,
              when(p.setAt),
            ]),
            [0],
          ),
          d.governance.pending.length === 0
            ? para("No proposal is waiting.", "note")
            : table(
                "Pending proposals",
                ["Id", "Kind", "Status", "Reason", "Can execute from"],
                d.governance.pending.map((p) => [p.id, p.kind, p.status, p.reason, when(p.executableAt)]),
                [0],
              ),
        ]),
  ];
}

const RENDER = {
  operators: renderOperators,
  concentration: renderConcentration,
  token: renderToken,
  fees: renderFees,
  withdrawals: renderWithdrawals,
  risk: renderRisk,
  control: renderControl,
};

async function loadSection(name) {
  const err = byId(`${name}-error`);
  try {
    const data = await getJson(PUBLIC[name]);
    byId(name).replaceChildren(...RENDER[name](data));
    err.hidden = true;
    byId(`${name}-section`).dataset.loaded = "true";
    return true;
  } catch (e) {
    err.textContent = `Could not load ${PUBLIC[name]}: ${e instanceof Error ? e.message : String(e)}`;
    err.hidden = false;
    return false;
  }
}

async function loadAll() {
  const ok = await Promise.all(Object.keys(PUBLIC).map(loadSection));
  const status = byId("status");
  status.textContent = ok.every(Boolean)
    ? `Loaded at ${when(new Date().toISOString())}.`
    : "Loaded with errors: see the sections below.";
  document.body.dataset.loaded = "true";
}

void loadAll();
