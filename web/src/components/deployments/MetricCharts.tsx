// A metric's two charts over an analysis window, one look per point: the canary's value beside
// the baseline's, and beneath it the difference canary - baseline with its always-valid
// confidence band and the allowed degradation. A dashed line marks the look that decided. The
// two charts share their cursor, so a look reads across both.
import { useMemo } from "react";
import type uPlot from "uplot";
import { decisionOf, formatDifference, formatTick, formatValue, seriesOf, unitOf, type MetricKind } from "../../lib/canary.ts";
import type { AnalysisLook, MetricInfo } from "../../lib/deployments.ts";
import { stamp } from "../../lib/format.ts";
import { UplotChart, type Marker } from "./UplotChart.tsx";

/** The dashboard's palette (styles.css), for the canvas, which cannot read CSS variables itself. */
function palette() {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    canary: read("--active", "#4d9bff"),
    baseline: read("--muted", "#8a97a8"),
    grid: read("--border", "#2a3441"),
    text: read("--muted", "#8a97a8"),
    ok: read("--ok", "#3fb950"),
    warn: read("--warn", "#d9a23a"),
    bad: read("--bad", "#f2645a"),
  };
}
type Palette = ReturnType<typeof palette>;

const OUTCOME_COLOUR = { pass: "ok", fail: "bad", inconclusive: "warn" } as const;

/** Whole seconds and up between time ticks: analysis windows last seconds to hours. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
const clock = (seconds: number) => stamp(new Date(seconds * 1000).toISOString()).slice(11);

function axes(colours: Palette, signed: boolean): uPlot.Axis[] {
  const common = { stroke: colours.text, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid, width: 1 }, font: "11px system-ui, sans-serif" };
  return [
    { ...common, size: 30, space: 70, incrs: TIME_STEPS, values: (_u: uPlot, splits: number[]) => splits.map(clock) },
    { ...common, size: 48, values: (_u: uPlot, splits: number[]) => splits.map((y) => formatTick(y, signed)) },
  ];
}

/** The values chart starts at zero (so noise on a flat metric does not look like a swing), with headroom. */
function valueRange(minimumTop: number): uPlot.Range.Function {
  return (_u, min, max) => (min < 0 ? [min * 1.15, Math.max(max, 0) * 1.15] : [0, Math.max(max * 1.15, minimumTop)]);
}

/**
 * The difference chart shows zero, the allowed line and the latest look's interval, padded; the
 * first looks' wide intervals are clipped rather than flattening the later ones.
 */
const differenceRange: uPlot.Range.Function = (u, min, max) => {
  const lows = u.data[1] ?? [];
  const highs = u.data[2] ?? [];
  const lastLow = lows[lows.length - 1] ?? null;
  const lastHigh = highs[highs.length - 1] ?? null;
  const low = Math.min(min, 0, lastLow ?? 0);
  const high = Math.max(max, 0, lastHigh ?? 0);
  const pad = (high - low || 1) * 0.15;
  return [low - pad, high + pad];
};

export function MetricCharts({ metric, looks, alpha, timeRange, id }: { metric: MetricInfo; looks: AnalysisLook[]; alpha: number | null; timeRange: [number, number]; id: string }) {
  const kind: MetricKind = metric.kind;
  const series = useMemo(() => seriesOf(looks, kind, metric.direction), [looks, kind, metric.direction]);
  const decision = decisionOf(looks);
  const colours = useMemo(palette, []);
  const decided = decision && decision.look.outcome !== "running" ? { x: series.at[decision.index]!, outcome: decision.look.outcome } : null;
  // Memoized, so that a re-render of the page (its clock ticks every second) does not redraw the charts.
  const marker = useMemo<Marker | null>(() => (decided ? { x: decided.x, color: colours[OUTCOME_COLOUR[decided.outcome]], label: decided.outcome } : null), [decided?.x, decided?.outcome, colours]);
  const values = useMemo<uPlot.AlignedData>(() => [series.at, series.canary, series.baseline], [series]);
  const differences = useMemo<uPlot.AlignedData>(() => [series.at, series.low, series.high, series.estimate, series.allowed], [series]);
  const { unit, difference, scale } = unitOf(kind);
  const confidence = alpha === null ? "" : `${Number(((1 - alpha) * 100).toFixed(2))}% `;
  const sync = `metric:${id}`;
  const [from, to] = timeRange;
  const shape = `${kind}:${metric.direction}:${alpha}:${from}:${to}`;
  const x: uPlot.Scale = { time: true, range: () => [from, to] };
  const time: uPlot.Series = { label: "look", value: (_u, x) => (x === null ? "—" : clock(x)) };
  const valueOf = (_u: uPlot, y: number | null) => (y === null ? "—" : formatValue(kind, y / scale));
  const differenceOf = (_u: uPlot, y: number | null) => (y === null ? "—" : formatDifference(kind, y / scale));

  const valueOptions = (width: number): uPlot.Options => ({
    width,
    height: 150,
    cursor: { sync: { key: sync } },
    scales: { x, y: { range: valueRange(kind === "value" ? 0 : 1) } },
    axes: axes(colours, false),
    series: [
      time,
      { label: "canary", stroke: colours.canary, width: 2, points: { show: true, size: 5 }, value: valueOf },
      { label: "baseline", stroke: colours.baseline, width: 2, dash: [5, 4], points: { show: true, size: 4 }, value: valueOf },
    ],
  });

  const differenceOptions = (width: number): uPlot.Options => ({
    width,
    height: 130,
    cursor: { sync: { key: sync } },
    scales: { x, y: { range: differenceRange } },
    axes: axes(colours, true),
    series: [
      time,
      { label: "interval low", auto: false, stroke: colours.canary, width: 0.5, alpha: 0.6, points: { show: false }, value: differenceOf },
      { label: "interval high", auto: false, stroke: colours.canary, width: 0.5, alpha: 0.6, points: { show: false }, value: differenceOf },
      { label: "difference", stroke: colours.canary, width: 2, points: { show: true, size: 5 }, value: differenceOf },
      { label: "allowed", stroke: colours.bad, width: 1.5, dash: [6, 4], points: { show: false }, value: differenceOf },
    ],
    bands: [{ series: [2, 1], fill: "rgba(77, 155, 255, 0.28)" }],
  });

  return (
    <div className="metric-charts">
      <div className="chart-title">canary vs baseline{unit ? ` (${unit})` : ""}</div>
      <UplotChart kind={`value:${shape}`} options={valueOptions} data={values} marker={marker} label={`${metric.name}: canary vs baseline`} />
      <div className="chart-title">
        difference canary - baseline{difference ? ` (${difference})` : ""} with its {confidence}confidence band, and the allowed degradation
      </div>
      <UplotChart kind={`difference:${shape}`} options={differenceOptions} data={differences} marker={marker} label={`${metric.name}: difference and allowed`} />
    </div>
  );
}
