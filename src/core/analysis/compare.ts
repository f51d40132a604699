// Canary against baseline, per kind of metric: the point estimate of each side and the always-
// valid interval of the difference canary - baseline (sequential.ts), in the metric's unit.
import { SlipwayError } from "../errors.ts";
import { commonBounds, fractionAbove, histogramCount, histogramQuantile, rebucket } from "./histogram.ts";
import { confidenceHalfWidth } from "./sequential.ts";
import { kindOf, type MetricSpec } from "./spec.ts";
import type { Evidence, Interval, QuantileEvidence, RatioEvidence, ValueEvidence } from "./types.ts";

export interface Side {
  value: number | null;
  samples: number;
}

/** +1 when higher values are worse (lower_is_better), -1 otherwise. */
export const worseSign = (spec: MetricSpec): 1 | -1 => (spec.direction === "higher_is_better" ? -1 : 1);

/**
 * Mixing scales (sequential.ts: tau should be about the smallest effect worth catching fast),
 * as multiples of a scale on which the test runs:
 * - ratio: 2 x the larger of the allowed degradation and the baseline's rate: tuned for an
 *   excess of about twice the baseline's rate (1% -> 3% beyond what is allowed). Regressions
 *   people must catch fast are several times the baseline's rate; small ones take most of the
 *   window whatever tau is. Measured by bench/canary.ts (1,000 canaries, 1% baseline, 200
 *   requests per interval and side, alpha 0.05): with 1 x, a 1% -> 5% regression failed after
 *   a median 600 requests (73% of canaries within the first tenth of a 6,000-request window);
 *   with 2 x, after 400 (84%), while detection of 1% -> 2% within the window went from 94% to
 *   91%; 0.5 x needed 1,000. A/A false alarms stayed at 0.3-0.5% for all three.
 * - quantile: the test runs on the fraction of requests past a threshold, which is 1 - q at
 *   the baseline; tau = 1 - q (at most q) targets the canary sending twice as many requests
 *   past it, which for a lognormal p95 is a slowdown of about 20%. 0.5 x to 3 x measured the
 *   same within one interval.
 * - value: one pooled standard deviation of the per-host values, or the allowed difference
 *   when that is larger.
 */
const MIXTURE = { ratio: 2, quantile: 1, value: 1 };

/** The canary's (or the baseline's) own value: a fraction, a quantile in seconds, a mean. */
export function pointOf(spec: MetricSpec, e: Evidence): Side {
  switch (e.kind) {
    case "ratio":
      return { value: e.denominator > 0 ? clamp01(e.numerator / e.denominator) : null, samples: e.denominator };
    case "quantile":
      return { value: histogramQuantile(e, spec.quantile?.q ?? 0.5), samples: histogramCount(e) };
    case "value":
      return { value: e.values.length > 0 ? mean(e.values) : null, samples: e.values.length };
  }
}

/** How much worse than the baseline the canary may be: max(max_difference, max_relative x |baseline|). */
export function allowedOf(spec: MetricSpec, baseline: number | null): number {
  const relative = spec.max_relative !== undefined && baseline !== null ? spec.max_relative * Math.abs(baseline) : 0;
  return Math.max(spec.max_difference ?? 0, relative, 0);
}

/** The always-valid (1 - alpha) interval of canary - baseline; null when either side has no value. */
export function differenceOf(spec: MetricSpec, canary: Evidence, baseline: Evidence, allowed: number, alpha: number): Interval | null {
  if (canary.kind !== baseline.kind || canary.kind !== kindOf(spec)) throw new SlipwayError("internal", `metric '${spec.name}' is a ${kindOf(spec)} but was given ${canary.kind} and ${baseline.kind} evidence`);
  if (canary.kind === "ratio") return ratioDifference(canary, baseline as RatioEvidence, allowed, alpha);
  if (canary.kind === "quantile") return quantileDifference(spec, canary, baseline as QuantileEvidence, allowed, alpha);
  return valueDifference(canary, baseline as ValueEvidence, allowed, alpha);
}

/**
 * Two proportions, each request a Bernoulli trial. The variance is computed with one pseudo-
 * failure and one pseudo-success per side (as Agresti & Caffo do): with no errors seen yet, a
 * plain p(1 - p) is 0 and would claim certainty; the estimate itself stays the raw difference,
 * so the pseudo-counts never make one side look worse.
 */
function ratioDifference(c: RatioEvidence, b: RatioEvidence, allowed: number, alpha: number): Interval | null {
  if (c.denominator <= 0 || b.denominator <= 0) return null;
  const estimate = clamp01(c.numerator / c.denominator) - clamp01(b.numerator / b.denominator);
  const pc = smoothed(c.numerator, c.denominator);
  const pb = smoothed(b.numerator, b.denominator);
  const variance = (pc * (1 - pc)) / c.denominator + (pb * (1 - pb)) / b.denominator;
  return around(estimate, confidenceHalfWidth(variance, MIXTURE.ratio * Math.max(allowed, pb), alpha), alpha);
}

/**
 * A latency quantile. Quantile estimates from buckets have no simple variance, but a question
 * about a quantile is a question about a proportion: "is the canary's q-quantile more than
 * `allowed` above the baseline's?" is "does more than 1 - q of the canary's requests take
 * longer than t = baseline's q-quantile + allowed?". At the baseline, exactly 1 - q of the
 * requests lie past its own q-quantile; the uncertainty of where that quantile is (from the
 * baseline's finite sample) is, on the proportion scale, q(1 - q) / n_baseline (the Bahadur
 * representation of a sample quantile; an over-estimate when allowed > 0, as the density past
 * t is lower). So the test is the two-proportion comparison of the canary's fraction past t
 * (smoothed by pseudo-counts, as for a ratio) with 1 - q, in the same confidence sequence.
 * Inverting it gives the interval in seconds that the verdict reports: the canary's quantile
 * lies between its (q - h)- and (q + h)-quantiles, h the half-width on the proportion scale,
 * so the interval's edge crosses `allowed` exactly when the proportion test rejects.
 * Histograms with different buckets are compared in the buckets both have.
 */
function quantileDifference(spec: MetricSpec, c0: QuantileEvidence, b0: QuantileEvidence, allowed: number, alpha: number): Interval | null {
  const q = spec.quantile?.q ?? 0.5;
  const bounds = commonBounds(c0.bounds, b0.bounds);
  const c = rebucket(c0, bounds);
  const b = rebucket(b0, bounds);
  const nc = histogramCount(c);
  const nb = histogramCount(b);
  const qb = histogramQuantile(b, q);
  const qc = histogramQuantile(c, q);
  if (qb === null || qc === null || nc <= 0 || nb <= 0) return null;
  const worse = worseSign(spec);
  const threshold = qb + worse * allowed;
  const past = worse > 0 ? fractionAbove(c, threshold) : 1 - fractionAbove(c, threshold);
  const pc = smoothed(past * nc, nc);
  const variance = (pc * (1 - pc)) / nc + (q * (1 - q)) / nb;
  const h = confidenceHalfWidth(variance, MIXTURE.quantile * Math.min(q, 1 - q), alpha);
  const low = histogramQuantile(c, q - h) ?? qc;
  const high = histogramQuantile(c, q + h) ?? qc;
  return { estimate: qc - qb, low: low - qb, high: high - qb, confidence: 1 - alpha };
}

/**
 * Means of per-host-per-interval values, with their estimated variances (Welch). Each side's
 * variance is at least the pooled one, so a side whose few values happen to agree (or a single
 * host) does not claim a precision the other side's spread shows is not there.
 */
function valueDifference(c: ValueEvidence, b: ValueEvidence, allowed: number, alpha: number): Interval | null {
  const nc = c.values.length;
  const nb = b.values.length;
  if (nc === 0 || nb === 0) return null;
  const mc = mean(c.values);
  const mb = mean(b.values);
  const ssc = sumSquares(c.values, mc);
  const ssb = sumSquares(b.values, mb);
  const pooled = nc + nb > 2 ? (ssc + ssb) / (nc + nb - 2) : 0;
  const vc = Math.max(nc > 1 ? ssc / (nc - 1) : 0, pooled);
  const vb = Math.max(nb > 1 ? ssb / (nb - 1) : 0, pooled);
  const tau = MIXTURE.value * Math.max(allowed, Math.sqrt(pooled));
  return around(mc - mb, confidenceHalfWidth(vc / nc + vb / nb, tau, alpha), alpha);
}

const around = (estimate: number, h: number, alpha: number): Interval => ({ estimate, low: estimate - h, high: estimate + h, confidence: 1 - alpha });
const smoothed = (x: number, n: number) => (Math.min(Math.max(x, 0), n) + 1) / (n + 2);
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sumSquares = (xs: number[], m: number) => xs.reduce((s, x) => s + (x - m) * (x - m), 0);
