// Simulated request streams for the canary bench and the judge's tests: per batch (one analysis
// interval of one host), the number of failed requests, or the latencies bucketed into a
// Prometheus histogram, drawn from a seeded PRNG so every run sees the same requests.
import { histogramQuantile } from "../../src/core/analysis/histogram.ts";
import type { QuantileEvidence, RatioEvidence } from "../../src/core/analysis/types.ts";

export type Random = () => number;

/** Histogram buckets (seconds) of a typical web service, the +Inf bucket last. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, Infinity];

/** A standard normal draw (Box-Muller). */
export function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** `requests` requests, each failing with probability `errorRatio`. */
export function errorBatch(random: Random, requests: number, errorRatio: number): RatioEvidence {
  let failed = 0;
  for (let i = 0; i < requests; i++) if (random() < errorRatio) failed++;
  return { kind: "ratio", numerator: failed, denominator: requests };
}

export interface Lognormal {
  /** Median latency, seconds. */
  median: number;
  /** Standard deviation of the log. */
  sigma: number;
}

/** The q-quantile of a lognormal latency (for stating what a slowdown means). */
export const lognormalQuantile = (d: Lognormal, z: number): number => d.median * Math.exp(d.sigma * z);

/** `requests` latencies drawn from `d` and multiplied by `slowdown`, counted into `bounds`. */
export function latencyBatch(random: Random, requests: number, d: Lognormal, slowdown = 1, bounds = LATENCY_BUCKETS): QuantileEvidence {
  const counts = bounds.map(() => 0);
  const logMedian = Math.log(d.median * slowdown);
  for (let i = 0; i < requests; i++) {
    const seconds = Math.exp(logMedian + d.sigma * normal(random));
    let lo = 0;
    let hi = bounds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid]! < seconds) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]! += 1;
  }
  return { kind: "quantile", bounds, counts };
}

/** The batch's own value, as a per-interval time series would hold it: the ratio, or the bucketed q-quantile. */
export function batchValue(batch: RatioEvidence | QuantileEvidence, q = 0.95): number {
  if (batch.kind === "ratio") return batch.denominator > 0 ? batch.numerator / batch.denominator : 0;
  return histogramQuantile(batch, q) ?? 0;
}
