// Quantiles from Prometheus histogram buckets, the way Prometheus' histogram_quantile computes
// them: find the bucket holding the q-th observation and interpolate linearly inside it, as if
// the observations were spread evenly between the bucket's bounds (the first bucket starts at 0
// when its upper bound is positive; a quantile falling into the +Inf bucket is the largest
// finite bound, since nothing is known beyond it). `fractionAbove` is the same piecewise-linear
// distribution read the other way, so fractionAbove(h, quantile(h, q)) = 1 - q wherever the
// distribution is not flat.
import type { QuantileEvidence } from "./types.ts";

/** Observations in the histogram. */
export const histogramCount = (h: QuantileEvidence): number => h.counts.reduce((sum, c) => sum + c, 0);

/** The lower bound of bucket i under histogram_quantile's convention. */
function lowerBound(bounds: number[], i: number): number {
  if (i > 0) return bounds[i - 1]!;
  return bounds[0]! > 0 ? 0 : bounds[0]!;
}

/** The largest finite upper bound, or null when the histogram has only the +Inf bucket. */
function largestFinite(bounds: number[]): number | null {
  for (let i = bounds.length - 1; i >= 0; i--) if (Number.isFinite(bounds[i])) return bounds[i]!;
  return null;
}

/**
 * The p-quantile (0 <= p <= 1) of the observations, by histogram_quantile's interpolation;
 * null without observations or without a finite bucket.
 */
export function histogramQuantile(h: QuantileEvidence, p: number): number | null {
  const total = histogramCount(h);
  const top = largestFinite(h.bounds);
  if (total <= 0 || top === null) return null;
  const rank = Math.min(1, Math.max(0, p)) * total;
  let before = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    const count = h.counts[i]!;
    if (count > 0 && before + count >= rank) {
      const upper = h.bounds[i]!;
      if (!Number.isFinite(upper)) return top;
      if (i === 0 && upper <= 0) return upper;
      const lower = lowerBound(h.bounds, i);
      return lower + (upper - lower) * ((rank - before) / count);
    }
    before += count;
  }
  return top;
}

/**
 * The fraction of observations above t, reading the buckets as histogram_quantile does (evenly
 * spread inside a bucket). Everything in the +Inf bucket counts as above any t, since the
 * histogram cannot place it.
 */
export function fractionAbove(h: QuantileEvidence, t: number): number {
  const total = histogramCount(h);
  if (total <= 0) return 0;
  let atOrBelow = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    const upper = h.bounds[i]!;
    const count = h.counts[i]!;
    if (!Number.isFinite(upper)) break;
    if (t >= upper) {
      atOrBelow += count;
      continue;
    }
    const lower = lowerBound(h.bounds, i);
    if (t > lower && upper > lower) atOrBelow += (count * (t - lower)) / (upper - lower);
    break;
  }
  return Math.min(1, Math.max(0, 1 - atOrBelow / total));
}

/** The bounds both histograms have (always including +Inf): a layout both can be summed into exactly. */
export function commonBounds(a: number[], b: number[]): number[] {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  const inB = new Set(b);
  const shared = a.filter((bound) => inB.has(bound));
  if (shared.at(-1) !== Infinity) shared.push(Infinity);
  return shared;
}

/**
 * The same observations in coarser buckets: each bucket goes to the first of `bounds` at or
 * above its upper bound. Exact when `bounds` is a subset of the histogram's own bounds (as
 * commonBounds gives), which is the only way it is used.
 */
export function rebucket(h: QuantileEvidence, bounds: number[]): QuantileEvidence {
  if (h.bounds.length === bounds.length && h.bounds.every((b, i) => b === bounds[i])) return h;
  const counts = bounds.map(() => 0);
  let j = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    while (j < bounds.length - 1 && bounds[j]! < h.bounds[i]!) j++;
    counts[j]! += h.counts[i]!;
  }
  return { kind: "quantile", bounds: [...bounds], counts };
}
