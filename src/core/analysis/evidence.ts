// Adding up evidence: the controller sums the intervals of an analysis window, one side at a
// time, and hands the judge the totals. Counters and bucket counts add; per-host values are
// kept one by one (the judge needs their spread).
import { SlipwayError } from "../errors.ts";
import type { MetricKind } from "./spec.ts";
import { commonBounds, histogramCount, rebucket } from "./histogram.ts";
import type { Evidence } from "./types.ts";

export function emptyEvidence(kind: MetricKind): Evidence {
  switch (kind) {
    case "ratio":
      return { kind, numerator: 0, denominator: 0 };
    case "quantile":
      return { kind, bounds: [], counts: [] };
    case "value":
      return { kind, values: [] };
  }
}

/**
 * a + b. Histograms with different buckets (a release that changed its buckets) are summed into
 * the buckets both have, which loses resolution but never invents observations.
 */
export function addEvidence(a: Evidence, b: Evidence): Evidence {
  if (a.kind === "ratio" && b.kind === "ratio") return { kind: "ratio", numerator: a.numerator + b.numerator, denominator: a.denominator + b.denominator };
  if (a.kind === "value" && b.kind === "value") return { kind: "value", values: [...a.values, ...b.values] };
  if (a.kind === "quantile" && b.kind === "quantile") {
    if (histogramCount(b) === 0 && b.bounds.length === 0) return a;
    if (histogramCount(a) === 0 && a.bounds.length === 0) return b;
    const bounds = commonBounds(a.bounds, b.bounds);
    const x = rebucket(a, bounds);
    const y = rebucket(b, bounds);
    return { kind: "quantile", bounds, counts: x.counts.map((c, i) => c + y.counts[i]!) };
  }
  throw new SlipwayError("internal", `cannot add ${b.kind} evidence to ${a.kind} evidence`);
}

/** How many observations the evidence rests on: requests for a ratio or a histogram, values for a value. */
export function samplesOf(e: Evidence): number {
  switch (e.kind) {
    case "ratio":
      return e.denominator;
    case "quantile":
      return histogramCount(e);
    case "value":
      return e.values.length;
  }
}
