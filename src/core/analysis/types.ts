// What a metric source gives the judge, and what the judge says back.
//
// A source (the scraped samples in the store, or a Prometheus server) answers, for one side of
// the comparison (the canary hosts on the new release, or the baseline hosts still on the
// previous one) and one time interval, with the evidence of that interval: counter increases for
// a ratio, histogram bucket increases for a quantile, one value per host for a value. The
// controller adds up the intervals of an analysis and asks the judge after each one; the judge is
// a pure function of the accumulated evidence and stays valid however often it is asked.

/** Increases of the numerator and denominator counters over the interval, summed over the side's hosts. */
export interface RatioEvidence {
  kind: "ratio";
  numerator: number;
  denominator: number;
}

/** A histogram's increases over the interval: per-bucket (not cumulative) counts, summed over hosts. */
export interface QuantileEvidence {
  kind: "quantile";
  /** Upper bounds in ascending order; the last is Infinity (+Inf). */
  bounds: number[];
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; same length as bounds. */
  counts: number[];
}

/** One value per host and interval (a gauge, or a counter's per-second rate). */
export interface ValueEvidence {
  kind: "value";
  values: number[];
}

export type Evidence = RatioEvidence | QuantileEvidence | ValueEvidence;

export type Outcome = "pass" | "fail" | "inconclusive";

/** An interval of the difference canary - baseline (or of the canary's value) at a confidence. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
  /** 1 - alpha. */
  confidence: number;
}

export interface MetricVerdict {
  metric: string;
  /** running: no decision yet (only before the end of the analysis window). */
  outcome: Outcome | "running";
  /** The rule that decided, or the one closest to deciding while running. */
  rule: "max" | "min" | "sequential" | "min_samples" | "no_data";
  /** Point estimates in the metric's unit (a fraction for a ratio, seconds for a latency quantile). */
  canary: { value: number | null; samples: number };
  baseline: { value: number | null; samples: number } | null;
  /** Canary - baseline, with its always-valid confidence interval; null without a baseline. */
  difference: Interval | null;
  /** How much worse the canary may be before it fails, in the metric's unit (from max_difference / max_relative). */
  allowed: number;
  /** The verdict in words: "error ratio 4.1% vs 0.9% on baseline; the difference exceeds 1 point with 95% confidence after 1,840 requests". */
  reason: string;
}
