// From the scrapes of several hosts (what agents sent, as the store keeps them) to the evidence of
// one time interval that the canary judge reads (see ../analysis/types.ts).
//
// Counters: the increase between two consecutive scrapes of a host is dated at the later scrape
// and belongs to the interval [from, to) that contains it. Consecutive intervals therefore add up
// to exactly the increase over their union, in whole counts, with no extrapolation (Prometheus'
// increase() extrapolates to the window's edges; the judge wants counts). A counter reset is
// handled as increase() does: a value below the previous one counts from zero. So is a series
// that appears between two scrapes (a first 5xx creates its series), and a change of release
// between two scrapes of a host (the process restarted, its counters with it). The first scrape
// of a host is only a starting point. Samples that are NaN or infinite are skipped.
//
// Histograms: each `le` bucket is a counter; their increases are summed by bound over every
// matching series and host, then turned from cumulative into per-bucket counts (a bucket whose
// increase is below the one under it, from a scrape taken mid-update, counts 0). No observation
// gives empty bounds and counts.
//
// Values: a gauge is, per host, the mean over the host's scrapes in the interval of the sum of the
// matching series; with `rate: true` it is the counter's increase per second over the interval.
import { invalidInput } from "../errors.ts";
import type { MetricSpec } from "../analysis/spec.ts";
import type { Evidence, QuantileEvidence, ValueEvidence } from "../analysis/types.ts";
import { bucketBound, seriesKey, type Labels, type Sample } from "./exposition.ts";
import { matchesSelector, parseSelector, withName, type SeriesSelector } from "./selector.ts";

export interface Scrape {
  host: string;
  /** When the agent scraped, epoch milliseconds. */
  at: number;
  /** The release the host ran; a change between two scrapes is a counter reset. */
  release: string | null;
  samples: readonly Sample[];
}

/** What a metric reads from scraped samples. */
export type MetricReads =
  | { kind: "ratio"; numerator: SeriesSelector; denominator: SeriesSelector }
  | { kind: "quantile"; buckets: SeriesSelector }
  | { kind: "value"; series: SeriesSelector; rate: boolean };

/** The selectors of a metric, for scraped samples; a clear error naming the metric when one is not a selector. */
export function readsOf(metric: MetricSpec): MetricReads {
  const parse = (field: string, text: string) => {
    try {
      return parseSelector(text);
    } catch (error) {
      throw invalidInput(`metric '${metric.name}': ${field} ${(error as Error).message}; scraped metrics are read with series selectors (PromQL expressions need provider: prometheus)`, [{ field, message: (error as Error).message }]);
    }
  };
  if (metric.ratio) return { kind: "ratio", numerator: parse("ratio.numerator", metric.ratio.numerator), denominator: parse("ratio.denominator", metric.ratio.denominator) };
  if (metric.quantile) {
    const histogram = parse("quantile.histogram", metric.quantile.histogram);
    if (histogram.name === undefined) throw invalidInput(`metric '${metric.name}': quantile.histogram needs a histogram's name`);
    return { kind: "quantile", buckets: withName(histogram, `${histogram.name.replace(/_bucket$/, "")}_bucket`) };
  }
  if (metric.value) return { kind: "value", series: parse("value.query", metric.value.query), rate: metric.value.rate };
  throw invalidInput(`metric '${metric.name}' gives none of ratio, quantile or value`);
}

/** Every selector a metric reads (what an agent keeps of a scrape). */
export function selectorsOf(metric: MetricSpec): SeriesSelector[] {
  const reads = readsOf(metric);
  return reads.kind === "ratio" ? [reads.numerator, reads.denominator] : reads.kind === "quantile" ? [reads.buckets] : [reads.series];
}

/** The matching series of one scrape by series key, each with its group and value. */
type Matched = Map<string, { group: string; value: number }>;

/** Sums by nothing (one group, "") or by histogram bucket bound. */
type Grouping = "none" | "le";

/** The group of a series; undefined leaves it out (a bucket without a readable `le`). */
function groupOf(grouping: Grouping, labels: Labels): string | undefined {
  if (grouping === "none") return "";
  const bound = bucketBound(labels.le);
  return bound === undefined ? undefined : String(bound);
}

interface Pair {
  host: string;
  at: number;
  durationMs: number;
  increases: Map<string, number>;
}

const finite = (value: number) => Number.isFinite(value);

/**
 * A set of scrapes, grouped by host and sorted by time, that answers for any interval and metric.
 * The matching of series is cached per scrape, so stepping through many intervals stays linear.
 */
export class ScrapeSet {
  readonly #byHost = new Map<string, Scrape[]>();
  readonly #matched = new Map<string, WeakMap<Scrape, Matched>>();

  /** `hosts`: the order of the per-host values of a value metric (first appearance otherwise). */
  constructor(scrapes: Iterable<Scrape>, hosts: readonly string[] = []) {
    for (const host of hosts) this.#byHost.set(host, []);
    for (const scrape of scrapes) {
      const list = this.#byHost.get(scrape.host) ?? [];
      list.push(scrape);
      this.#byHost.set(scrape.host, list);
    }
    for (const list of this.#byHost.values()) list.sort((a, b) => a.at - b.at);
  }

  /** The evidence of [from, to). */
  evidence(metric: MetricSpec, from: number, to: number): Evidence {
    return this.#evidence(readsOf(metric), from, to);
  }

  /** The evidence of each step of [from, to), dated at the step's end (the last one may be shorter). */
  steps(metric: MetricSpec, from: number, to: number, stepMs: number): { at: number; evidence: Evidence }[] {
    if (!(stepMs > 0)) throw invalidInput("the step must be a positive number of milliseconds");
    const reads = readsOf(metric);
    const out: { at: number; evidence: Evidence }[] = [];
    for (let start = from; start < to; start += stepMs) {
      const end = Math.min(to, start + stepMs);
      out.push({ at: end, evidence: this.#evidence(reads, start, end) });
    }
    return out;
  }

  #evidence(reads: MetricReads, from: number, to: number): Evidence {
    switch (reads.kind) {
      case "ratio":
        return { kind: "ratio", numerator: this.#total(reads.numerator, from, to), denominator: this.#total(reads.denominator, from, to) };
      case "quantile":
        return this.#quantile(reads.buckets, from, to);
      case "value":
        return reads.rate ? this.#rates(reads.series, from, to) : this.#gauges(reads.series, from, to);
    }
  }

  #total(selector: SeriesSelector, from: number, to: number): number {
    let total = 0;
    for (const pair of this.#pairs(selector, from, to, "none")) total += pair.increases.get("") ?? 0;
    return total;
  }

  #quantile(selector: SeriesSelector, from: number, to: number): QuantileEvidence {
    const cumulative = new Map<number, number>();
    for (const pair of this.#pairs(selector, from, to, "le")) {
      for (const [group, increase] of pair.increases) cumulative.set(Number(group), (cumulative.get(Number(group)) ?? 0) + increase);
    }
    return fromCumulative(cumulative);
  }

  #gauges(selector: SeriesSelector, from: number, to: number): ValueEvidence {
    const values: number[] = [];
    for (const scrapes of this.#byHost.values()) {
      let sum = 0;
      let seen = 0;
      for (const scrape of scrapes) {
        if (scrape.at < from || scrape.at >= to) continue;
        const matched = this.#match(scrape, selector, "none");
        if (matched.size === 0) continue;
        for (const { value } of matched.values()) sum += value;
        seen++;
      }
      if (seen > 0) values.push(sum / seen);
    }
    return { kind: "value", values };
  }

  #rates(selector: SeriesSelector, from: number, to: number): ValueEvidence {
    const perHost = new Map<string, { increase: number; ms: number }>();
    for (const pair of this.#pairs(selector, from, to, "none")) {
      const host = perHost.get(pair.host) ?? { increase: 0, ms: 0 };
      host.increase += pair.increases.get("") ?? 0;
      host.ms += pair.durationMs;
      perHost.set(pair.host, host);
    }
    const values: number[] = [];
    for (const host of this.#byHost.keys()) {
      const totals = perHost.get(host);
      if (totals && totals.ms > 0) values.push(totals.increase / (totals.ms / 1000));
    }
    return { kind: "value", values };
  }

  /** Consecutive scrapes of each host whose later one falls in [from, to), with the counters' increases by group. */
  *#pairs(selector: SeriesSelector, from: number, to: number, grouping: Grouping): Generator<Pair> {
    for (const [host, scrapes] of this.#byHost) {
      for (let i = firstAtOrAfter(scrapes, from); i < scrapes.length && scrapes[i]!.at < to; i++) {
        if (i === 0) continue; // the host's first scrape: a starting point only
        const prev = scrapes[i - 1]!;
        const cur = scrapes[i]!;
        const restarted = prev.release !== null && cur.release !== null && prev.release !== cur.release;
        const before: Matched = restarted ? new Map<string, { group: string; value: number }>() : this.#match(prev, selector, grouping);
        const increases = new Map<string, number>();
        for (const [key, { group, value }] of this.#match(cur, selector, grouping)) {
          const previous = before.get(key)?.value;
          const increase = previous === undefined || value < previous ? value : value - previous;
          increases.set(group, (increases.get(group) ?? 0) + increase);
        }
        yield { host, at: cur.at, durationMs: cur.at - prev.at, increases };
      }
    }
  }

  #match(scrape: Scrape, selector: SeriesSelector, grouping: Grouping): Matched {
    const cacheKey = `${grouping}\0${JSON.stringify(selector)}`;
    let cache = this.#matched.get(cacheKey);
    if (!cache) this.#matched.set(cacheKey, (cache = new WeakMap()));
    let matched = cache.get(scrape);
    if (matched) return matched;
    matched = new Map();
    for (const sample of scrape.samples) {
      if (!finite(sample.value) || !matchesSelector(selector, sample.name, sample.labels)) continue;
      const group = groupOf(grouping, sample.labels);
      if (group !== undefined) matched.set(seriesKey(sample.name, sample.labels), { group, value: sample.value });
    }
    cache.set(scrape, matched);
    return matched;
  }
}

/**
 * Per-bucket counts from cumulative ones (bound -> observations at or below it), as a histogram's
 * `le` series give them: bounds ascending and ending with +Inf (added, empty, when missing); a
 * cumulative count below the one under it counts 0. Nothing observed: empty bounds and counts.
 */
export function fromCumulative(cumulative: ReadonlyMap<number, number>): QuantileEvidence {
  if (cumulative.size === 0) return { kind: "quantile", bounds: [], counts: [] };
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  if (bounds.at(-1) !== Infinity) bounds.push(Infinity);
  let below = 0;
  const counts = bounds.map((bound) => {
    const upTo = Math.max(below, cumulative.get(bound) ?? below);
    const count = upTo - below;
    below = upTo;
    return count;
  });
  return { kind: "quantile", bounds, counts };
}

/** The index of the first scrape at or after `at` (scrapes sorted by time). */
function firstAtOrAfter(scrapes: readonly Scrape[], at: number): number {
  let low = 0;
  let high = scrapes.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (scrapes[mid]!.at < at) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The evidence of [from, to) in these scrapes. */
export function evidenceOf(metric: MetricSpec, scrapes: Iterable<Scrape>, from: number, to: number, hosts: readonly string[] = []): Evidence {
  return new ScrapeSet(scrapes, hosts).evidence(metric, from, to);
}
