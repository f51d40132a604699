// A verdict in words, for the dashboard, the CLI and notifications: the two values, the
// comparison and how sure it is, with numbers formatted for people (percent for ratios, ms or s
// for latencies, thousands separators).
//
//   error ratio 4.1% vs 0.9% on baseline; the difference exceeds 1 point with 95% confidence after 1,840 requests on the canary
//   error ratio 1.0% vs 1.1% on baseline: within 1 point (95% confidence, 12,400 requests on the canary)
//   inconclusive: 57 requests on the canary, 200 needed
import { kindOf, type MetricKind, type MetricSpec } from "./spec.ts";
import type { MetricVerdict } from "./types.ts";

type Unworded = Omit<MetricVerdict, "reason">;

export interface WordsContext {
  alpha: number;
  /** Samples needed on each side before the comparison may decide. */
  needed: number;
}

const en = (x: number, digits: Intl.NumberFormatOptions) => x.toLocaleString("en-US", digits);
const trim = (text: string) => (text.includes(".") ? text.replace(/\.?0+$/, "") : text);

/** 1,840 */
export const formatCount = (n: number): string => en(Math.round(n), { maximumFractionDigits: 0 });

/** 4.1%, 1.0%, 0.25%, 12.0% */
export function formatPercent(fraction: number): string {
  const v = fraction * 100;
  if (v === 0) return "0%";
  return `${Math.abs(v) >= 1 ? v.toFixed(1) : String(Number(v.toPrecision(2)))}%`;
}

/** 95%, 97.5% */
export const formatConfidence = (confidence: number): string => `${trim((confidence * 100).toFixed(2))}%`;

/** 212 ms, 4.5 ms, 1.25 s, 12.3 s */
export function formatSeconds(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs === 0) return "0 ms";
  if (abs < 1) {
    const ms = seconds * 1000;
    if (Math.abs(ms) >= 10) return `${Math.round(ms)} ms`;
    if (Math.abs(ms) >= 1) return `${trim(ms.toFixed(1))} ms`;
    return `${Number(ms.toPrecision(2))} ms`;
  }
  if (abs >= 100) return `${formatCount(seconds)} s`;
  return `${trim(seconds.toFixed(abs >= 10 ? 1 : 2))} s`;
}

/** A value of a metric in its unit. */
export function formatAmount(kind: MetricKind, x: number): string {
  if (kind === "ratio") return formatPercent(x);
  if (kind === "quantile") return formatSeconds(x);
  return en(x, { maximumSignificantDigits: 4 });
}

/** A difference in the metric's unit: percentage points for a ratio. Signed with `signed`. */
export function formatDifference(kind: MetricKind, d: number, signed = false): string {
  const sign = signed && d > 0 ? "+" : "";
  if (kind !== "ratio") return sign + formatAmount(kind, d);
  const points = d * 100;
  const text = Math.abs(points) >= 1 ? trim(points.toFixed(1)) : points === 0 ? "0" : String(Number(points.toPrecision(2)));
  return `${sign}${text} ${text === "1" || text === "-1" ? "point" : "points"}`;
}

/** "-0.71 to +2.7 points", "+75 ms to +165 ms": the unit once for points. */
function formatRange(kind: MetricKind, low: number, high: number): string {
  if (kind !== "ratio") return `${formatDifference(kind, low, true)} to ${formatDifference(kind, high, true)}`;
  const number = (d: number) => formatDifference(kind, d, true).replace(/ points?$/, "");
  return `${number(low)} to ${number(high)} points`;
}

const noun = (kind: MetricKind, n: number) => (kind === "value" ? (n === 1 ? "value" : "values") : n === 1 ? "request" : "requests");
const samples = (kind: MetricKind, n: number) => `${formatCount(n)} ${noun(kind, n)}`;

/** The allowed degradation, saying when it is relative to the baseline. */
function allowedText(spec: MetricSpec, kind: MetricKind, allowed: number): string {
  const amount = formatDifference(kind, allowed);
  const relative = spec.max_relative !== undefined && allowed > (spec.max_difference ?? 0);
  return relative ? `${amount} (${trim((spec.max_relative! * 100).toFixed(2))}% of baseline)` : amount;
}

export function describeVerdict(spec: MetricSpec, v: Unworded, context: WordsContext): string {
  const kind = kindOf(spec);
  const confidence = formatConfidence(1 - context.alpha);
  const canary = v.canary.value === null ? "no value" : formatAmount(kind, v.canary.value);
  const baseline = v.baseline?.value === undefined || v.baseline.value === null ? null : formatAmount(kind, v.baseline.value);
  const both = baseline === null ? `${spec.name} ${canary}` : `${spec.name} ${canary} vs ${baseline} on baseline`;
  const onCanary = `${samples(kind, v.canary.samples)} on the canary`;
  const higher = spec.direction === "higher_is_better" ? "lower" : "higher";
  const interval = v.difference ? `${formatDifference(kind, v.difference.estimate, true)}, ${confidence} interval ${formatRange(kind, v.difference.low, v.difference.high)}` : "";

  switch (v.rule) {
    case "no_data": {
      const side = v.canary.samples === 0 || v.canary.value === null ? "canary" : "baseline";
      const what = `no data from the ${side} hosts`;
      return v.outcome === "inconclusive" ? `inconclusive: ${what}` : `${what} yet`;
    }
    case "max":
    case "min": {
      const limit = v.rule === "max" ? spec.max : spec.min;
      const word = v.rule === "max" ? "maximum" : "minimum";
      if (v.outcome === "fail") return `${spec.name} ${canary} on the canary is ${v.rule === "max" ? "above" : "below"} the ${word} ${formatAmount(kind, limit!)} (${samples(kind, v.canary.samples)})`;
      return `${spec.name} ${canary} after ${onCanary}, within the ${word} ${formatAmount(kind, limit!)}${baseline === null ? " (no baseline to compare with)" : ""}`;
    }
    case "min_samples": {
      if (v.outcome === "pass") return `${spec.name} ${canary} after ${onCanary} (no baseline to compare with)`;
      const short = shortSides(kind, v, context.needed);
      return v.outcome === "inconclusive" ? `inconclusive: ${short}` : `${both}; waiting for more traffic: ${short}`;
    }
    case "sequential": {
      if (!v.difference) return `${both} after ${onCanary}`;
      const allowed = allowedText(spec, kind, v.allowed);
      // How much worse the canary may be at the far edge of the interval.
      const worstCase = spec.direction === "higher_is_better" ? -v.difference.low : v.difference.high;
      if (v.outcome === "fail") {
        if (v.allowed === 0) return `${both}; ${higher} than on baseline with ${confidence} confidence after ${onCanary}`;
        if (spec.direction === "higher_is_better") return `${both}; lower by more than ${allowed} with ${confidence} confidence after ${onCanary}`;
        return `${both}; the difference exceeds ${allowed} with ${confidence} confidence after ${onCanary}`;
      }
      if (v.outcome === "pass") {
        if (worstCase <= v.allowed) return v.allowed === 0 ? `${both}: not ${higher} than on baseline with ${confidence} confidence after ${onCanary}` : `${both}: within ${allowed} with ${confidence} confidence after ${onCanary}`;
        const claim = v.allowed === 0 ? `${higher} than on baseline` : `more than ${allowed} ${higher}`;
        return `${both}: not shown to be ${claim} (difference ${interval}; ${onCanary})`;
      }
      return `${both} after ${onCanary}; difference ${interval}`;
    }
  }
}

/** "57 requests on the canary, 200 needed", naming whichever sides are short. */
function shortSides(kind: MetricKind, v: Unworded, needed: number): string {
  const canaryShort = v.canary.samples < needed;
  const baselineShort = v.baseline !== null && v.baseline.samples < needed;
  if (canaryShort && baselineShort) return `${samples(kind, v.canary.samples)} on the canary and ${formatCount(v.baseline!.samples)} on the baseline, ${formatCount(needed)} needed on each`;
  if (baselineShort) return `${samples(kind, v.baseline!.samples)} on the baseline, ${formatCount(needed)} needed`;
  return `${samples(kind, v.canary.samples)} on the canary, ${formatCount(needed)} needed`;
}
