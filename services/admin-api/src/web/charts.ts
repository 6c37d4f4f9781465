/**
 * The charts of the public page and the dashboard: Chart.js, bundled by esbuild into
 * /assets/charts.js (web-bundle.ts) and served by the admin API; nothing from another origin.
 * The pages' own scripts call `globalThis.PoolkeeperCharts` (absent: they show tables only).
 * Each canvas records how many points it draws in `data-points` (the browser test reads it).
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Title,
  Tooltip,
} from "chart.js";

/** The canvas, as much of it as this file touches (the project's types have no DOM library). */
interface Canvas {
  dataset: Record<string, string | undefined>;
  setAttribute(name: string, value: string): void;
}

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Title,
  Tooltip,
);

export interface Series {
  label: string;
  data: (number | null)[];
  /** Draw as a line over a bar chart (limits over shares). */
  line?: boolean;
}

export interface ChartSpec {
  title: string;
  labels: string[];
  series: Series[];
  /** Axis label of the values. */
  unit?: string;
  /** Values are fractions 0..1 shown as percent. */
  percent?: boolean;
}

const COLORS = ["#1f6feb", "#d9480f", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#c2255c", "#5c940d"];

function render(kind: "bar" | "line", canvas: Canvas, spec: ChartSpec): Chart {
  Chart.getChart(canvas as never)?.destroy();
  const points = spec.series.reduce((n, s) => n + s.data.filter((v) => v !== null).length, 0);
  canvas.dataset.points = String(points);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", spec.title);
  return new Chart(canvas as never, {
    type: kind,
    data: {
      labels: spec.labels,
      datasets: spec.series.map((s, i) => ({
        ...(s.line === true ? { type: "line" as const } : {}),
        label: s.label,
        data: s.data,
        borderColor: COLORS[i % COLORS.length],
        backgroundColor:
          kind === "bar" && s.line !== true ? `${COLORS[i % COLORS.length]}99` : COLORS[i % COLORS.length],
        borderWidth: s.line === true || kind === "line" ? 2 : 1,
        pointRadius: kind === "line" ? 2 : 3,
        spanGaps: true,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        title: { display: true, text: spec.title },
        legend: { display: spec.series.length > 1 },
        tooltip: {
          callbacks:
            spec.percent === true
              ? { label: (c) => `${c.dataset.label}: ${((c.parsed.y ?? 0) * 100).toFixed(2)} %` }
              : {},
        },
      },
      scales: {
        y: {
          beginAtZero: kind === "bar",
          title: { display: spec.unit !== undefined, text: spec.unit ?? "" },
          ticks: spec.percent === true ? { callback: (v) => `${(Number(v) * 100).toFixed(1)} %` } : {},
        },
      },
    },
  });
}

const api = {
  bar: (canvas: Canvas, spec: ChartSpec) => render("bar", canvas, spec),
  line: (canvas: Canvas, spec: ChartSpec) => render("line", canvas, spec),
  clear: (canvas: Canvas) => {
    Chart.getChart(canvas as never)?.destroy();
    delete canvas.dataset.points;
  },
};

(globalThis as unknown as { PoolkeeperCharts: typeof api }).PoolkeeperCharts = api;
