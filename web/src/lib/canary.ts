// What the deployment page computes from the API's answers (pure, so the browser test checks it
// on its own): the stage each host belongs to, a metric's looks as chart series in the units
// people read (ratios in %, latencies in ms), the look that decided, and the rule in words.
import type { Deployment } from "./api.ts";
import type { AnalysisLook, AnalysisWindow, MetricInfo } from "./deployments.ts";

export type MetricKind = MetricInfo["kind"];

/**
 * Each host's stage. Stages switch consecutive batches (a batch never spans two stages) and the
 * API lists hosts by batch, so the first `stages[0].hosts` hosts are the first stage's, and so on.
 */
export function stageOfHosts(d: Pick<Deployment, "stages" | "hosts">): Map<string, number> {
  const byBatch = [...d.hosts].sort((a, b) => a.batch - b.batch);
  const stageOf = new Map<string, number>();
  let next = 0;
  d.stages.forEach((stage, index) => {
    for (const host of byBatch.slice(next, next + stage.hosts)) stageOf.set(host.id, index);
    next += stage.hosts;
  });
  return stageOf;
}

/** How a metric's values are shown: the factor from the API's unit (a fraction, seconds) and the unit's name. */
export function unitOf(kind: MetricKind): { scale: number; unit: string; difference: string } {
  switch (kind) {
    case "ratio":
      return { scale: 100, unit: "%", difference: "points" };
    case "quantile":
      return { scale: 1000, unit: "ms", difference: "ms" };
    case "value":
      return { scale: 1, unit: "", difference: "" };
  }
}

// The numbers are written as the verdicts in words write them (src/core/analysis/words.ts), so the
// figures beside a verdict read the same as the verdict.
const trim = (text: string) => (text.includes(".") ? text.replace(/\.?0+$/, "") : text);
const count = (x: number) => Math.round(x).toLocaleString("en-US");

/** 4.1%, 0.25%, 0% */
function percent(fraction: number): string {
  const v = fraction * 100;
  if (v === 0) return "0%";
  return `${Math.abs(v) >= 1 ? v.toFixed(1) : String(Number(v.toPrecision(2)))}%`;
}

/** 212 ms, 4.5 ms, 0.95 ms, 1.25 s */
function seconds(x: number): string {
  const abs = Math.abs(x);
  if (abs === 0) return "0 ms";
  if (abs < 1) {
    const ms = x * 1000;
    if (Math.abs(ms) >= 10) return `${Math.round(ms)} ms`;
    if (Math.abs(ms) >= 1) return `${trim(ms.toFixed(1))} ms`;
    return `${Number(ms.toPrecision(2))} ms`;
  }
  if (abs >= 100) return `${count(x)} s`;
  return `${trim(x.toFixed(abs >= 10 ? 1 : 2))} s`;
}

/** 4.1%, 212 ms, 1,840 — a value of the metric in its unit. */
export function formatValue(kind: MetricKind, x: number | null): string {
  if (x === null) return "—";
  if (kind === "ratio") return percent(x);
  if (kind === "quantile") return seconds(x);
  return x.toLocaleString("en-US", { maximumSignificantDigits: 4 });
}

/** +3.1 points, -12 ms — a difference canary - baseline in the metric's unit. */
export function formatDifference(kind: MetricKind, x: number | null): string {
  if (x === null) return "—";
  const sign = x > 0 ? "+" : "";
  if (kind !== "ratio") return sign + formatValue(kind, x);
  const points = x * 100;
  const text = Math.abs(points) >= 1 ? trim(points.toFixed(1)) : points === 0 ? "0" : String(Number(points.toPrecision(2)));
  return `${sign}${text} ${text === "1" || text === "-1" ? "point" : "points"}`;
}

/** A number on a chart's axis, whose unit the chart's title names: 5, 0.25, +1.5. */
export function formatTick(x: number, signed = false): string {
  const text = Math.abs(x) >= 100 ? count(x) : String(Number(x.toPrecision(3)));
  return signed && x > 0 ? `+${text}` : text;
}

export const formatCount = (n: number): string => Math.round(n).toLocaleString("en-US");

/** One metric's looks as the columns of its charts, time in seconds (uPlot's unit), values scaled. */
export interface MetricSeries {
  at: number[];
  canary: (number | null)[];
  baseline: (number | null)[];
  estimate: (number | null)[];
  low: (number | null)[];
  high: (number | null)[];
  /** The allowed degradation, signed towards worse: above zero when lower is better, below when higher is. */
  allowed: number[];
}

export function seriesOf(looks: readonly AnalysisLook[], kind: MetricKind, direction: MetricInfo["direction"]): MetricSeries {
  const { scale } = unitOf(kind);
  const scaled = (x: number | null | undefined) => (x === null || x === undefined ? null : x * scale);
  const worse = direction === "higher_is_better" ? -1 : 1;
  return {
    at: looks.map((l) => Date.parse(l.at) / 1000),
    canary: looks.map((l) => scaled(l.canary.value)),
    baseline: looks.map((l) => scaled(l.baseline?.value)),
    estimate: looks.map((l) => scaled(l.difference?.estimate)),
    low: looks.map((l) => scaled(l.difference?.low)),
    high: looks.map((l) => scaled(l.difference?.high)),
    allowed: looks.map((l) => worse * l.allowed * scale),
  };
}

/** The look that decided the metric (its first fail, pass or inconclusive), or null while it runs. */
export function decisionOf(looks: readonly AnalysisLook[]): { index: number; look: AnalysisLook } | null {
  const index = looks.findIndex((l) => l.outcome !== "running");
  return index < 0 ? null : { index, look: looks[index]! };
}

/** The look to explain: the deciding one, else the latest. */
export function verdictLook(looks: readonly AnalysisLook[]): AnalysisLook | null {
  return decisionOf(looks)?.look ?? looks.at(-1) ?? null;
}

/** The rule that decided (or is closest to deciding), in words. */
export function ruleText(rule: string, context: { alpha: number | null; minSamples: number | null }): string {
  const confidence = context.alpha === null ? "" : ` at ${Number(((1 - context.alpha) * 100).toFixed(2))}% confidence`;
  switch (rule) {
    case "sequential":
      return `sequential test: the always-valid interval of canary - baseline against the allowed degradation${confidence}, valid however often it is checked`;
    case "max":
      return "threshold: the canary's own value against its maximum";
    case "min":
      return "threshold: the canary's own value against its minimum";
    case "min_samples":
      return `minimum samples: ${context.minSamples === null ? "enough" : formatCount(context.minSamples)} per side before the comparison may decide`;
    case "no_data":
      return "no data: a side has no samples in this window";
    default:
      return rule;
  }
}

/**
 * How long a window was analyzed, in ms since the epoch: to the first failed look (a failure
 * ends the window whatever the other metrics say), else to the last deciding look once every
 * metric decided, else to the latest look so far.
 */
export function windowSpan(window: AnalysisWindow): { from: number; to: number; decided: boolean } {
  const from = Date.parse(window.started_at);
  const all = Object.values(window.metrics);
  const decisions = all.map(decisionOf);
  const failed = decisions.flatMap((d) => (d?.look.outcome === "fail" ? [Date.parse(d.look.at)] : []));
  if (failed.length > 0) return { from, to: Math.min(...failed), decided: true };
  const latest = Math.max(from, ...all.flatMap((looks) => looks.map((l) => Date.parse(l.at))));
  return { from, to: latest, decided: all.length > 0 && decisions.every((d) => d !== null) };
}
