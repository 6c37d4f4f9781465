// poolkeeper pages' shared helpers (the dashboard and the public page): formatting, tables that
// sort when a header is clicked, and charts through globalThis.PoolkeeperCharts
// (/assets/charts.js) when it is loaded. Plain DOM, textContent only, nothing from elsewhere.

(() => {
  const DASH = "–";

  const int = (x) => (typeof x === "number" ? x.toLocaleString("en-US") : DASH);
  const pct = (x) => (typeof x === "number" ? `${(x * 100).toFixed(2)} %` : DASH);
  /** A difference of two 0..1 figures, in percentage points. */
  const pp = (x) => (typeof x === "number" ? `${x > 0 ? "+" : ""}${(x * 100).toFixed(2)} pp` : DASH);
  const fixed = (x, digits) => (typeof x === "number" ? x.toFixed(digits) : DASH);

  function when(iso) {
    if (typeof iso !== "string") return DASH;
    const d = new Date(iso);
    return Number.isNaN(d.getTime())
      ? iso
      : d
          .toISOString()
          .replace("T", " ")
          .replace(/\.\d+Z$/, "Z");
  }

  function para(text, className) {
    const p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    return p;
  }

  /** The number a cell sorts by: its data-sort, else the first number in its text, else its text. */
  function sortKey(td) {
    const raw = td.dataset?.sort ?? td.textContent;
    const m = /^[^0-9+-]*([+-]?[0-9][0-9,]*(?:\.[0-9]+)?)/.exec(raw);
    return m === null ? raw : Number(m[1].replace(/,/g, ""));
  }

  function sortBy(tbody, column, header) {
    const dir = header.dataset.dir === "asc" ? "desc" : "asc";
    for (const th of header.parentNode.children) delete th.dataset.dir;
    header.dataset.dir = dir;
    const rows = [...tbody.children];
    rows.sort((a, b) => {
      const x = sortKey(a.children[column]);
      const y = sortKey(b.children[column]);
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return dir === "asc" ? c : -c;
    });
    tbody.replaceChildren(...rows);
  }

  /**
   * A table in a scrolling box; a cell is a string/number (set as text) or a DOM node.
   * `textColumns`: left-aligned columns. Clicking a header sorts by that column.
   */
  function table(caption, headers, rows, textColumns = []) {
    const t = document.createElement("table");
    if (caption) {
      const c = document.createElement("caption");
      c.textContent = caption;
      t.append(c);
    }
    const head = document.createElement("thead");
    const hr = document.createElement("tr");
    const body = document.createElement("tbody");
    headers.forEach((h, i) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = h;
      th.title = "Sort by this column";
      th.className = textColumns.includes(i) ? "text sortable" : "sortable";
      th.addEventListener("click", () => sortBy(body, i, th));
      hr.append(th);
    });
    head.append(hr);
    for (const row of rows) {
      const tr = document.createElement("tr");
      row.forEach((cell, i) => {
        const td = document.createElement("td");
        if (cell instanceof Node) td.append(cell);
        else td.textContent = cell === null || cell === undefined ? DASH : String(cell);
        if (textColumns.includes(i)) td.className = "text";
        tr.append(td);
      });
      body.append(tr);
    }
    t.append(head, body);
    const box = document.createElement("div");
    box.className = "scroll";
    box.append(t);
    return box;
  }

  /** Draws `spec` on canvas #id when the chart bundle is loaded (else the tables say it all). */
  function chart(kind, id, spec) {
    const charts = globalThis.PoolkeeperCharts;
    const canvas = document.getElementById(id);
    if (charts === undefined || canvas === null) return;
    charts[kind](canvas, spec);
  }

  function clearChart(id) {
    const charts = globalThis.PoolkeeperCharts;
    const canvas = document.getElementById(id);
    if (charts !== undefined && canvas !== null) charts.clear(canvas);
  }

  globalThis.PoolkeeperUi = { DASH, int, pct, pp, fixed, when, para, table, chart, clearChart };
})();
