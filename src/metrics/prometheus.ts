// The prometheus provider: evidence from an existing Prometheus server. The side's hosts are
// picked by `host_label` (default `instance`), whose value must be a host's address, optionally
// with a port: `10.0.0.7` or `10.0.0.7:8080` (or `[::1]:8080`). Each metric becomes PromQL
// evaluated at the interval's end `to` over the window W = to - from:
//
//   ratio     sum(increase(<numerator, hosts>[W]))  and the same for the denominator
//   quantile  sum by (le) (increase(<histogram>_bucket{<hosts>}[W]))
//   value     sum by (<host_label>) (avg_over_time(<selector, hosts>[W]))       a gauge
//             sum by (<host_label>) (rate(<selector, hosts>[W]))                rate: true
//             any other PromQL: avg_over_time((<query>)[W:s]) or rate((<query>)[W:s]), its
//             results picked by their host label (which the expression must keep)
//
// increase() extrapolates to the window's edges, so counts are rounded to whole numbers.
import type { MetricSpec, PrometheusSettings } from "../core/analysis/spec.ts";
import { kindOf } from "../core/analysis/spec.ts";
import { emptyEvidence } from "../core/analysis/evidence.ts";
import type { Evidence } from "../core/analysis/types.ts";
import { invalidInput } from "../core/errors.ts";
import { bucketBound, type Labels } from "../core/metrics/exposition.ts";
import { escapeRegex, formatSelector, parseSelector, withMatcher, withName, type SeriesSelector } from "../core/metrics/selector.ts";
import { fromCumulative } from "../core/metrics/series.ts";
import { PrometheusApi, type QueryContext, type VectorPoint } from "./prometheus-api.ts";
import type { EvidencePoint, MetricHost, MetricQuery, MetricSource } from "./source.ts";

/** The PromQL of a metric for some hosts over a window, and how to read its answer. */
type Plan =
  | { kind: "ratio"; numerator: string; denominator: string }
  | { kind: "quantile"; buckets: string }
  | { kind: "value"; query: string; perHost: "grouped" | "labelled" };

export class PrometheusSource implements MetricSource {
  readonly #settings: PrometheusSettings;
  readonly #api: PrometheusApi;

  constructor(settings: PrometheusSettings, deps: { fetch?: typeof fetch } = {}) {
    this.#settings = settings;
    this.#api = new PrometheusApi({ url: settings.url, timeoutMs: settings.timeout, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  }

  async evidence(metric: MetricSpec, query: MetricQuery): Promise<Evidence> {
    const windowMs = query.to - query.from;
    if (windowMs <= 0 || query.hosts.length === 0) return emptyEvidence(kindOf(metric));
    const plan = this.plan(metric, query.hosts, windowMs);
    const ask = (promql: string) => this.#api.instant({ metric: metric.name, query: promql }, query.to);
    switch (plan.kind) {
      case "ratio": {
        const [numerator, denominator] = await Promise.all([ask(plan.numerator), ask(plan.denominator)]);
        return { kind: "ratio", numerator: countOf(numerator), denominator: countOf(denominator) };
      }
      case "quantile":
        return bucketsOf(await ask(plan.buckets));
      case "value":
        return this.#valuesOf(await ask(plan.query), query.hosts, { metric: metric.name, query: plan.query }, plan.perHost);
    }
  }

  /** One instant per step end from `from + stepMs` on; a last partial step is left out. */
  async series(metric: MetricSpec, query: MetricQuery, stepMs: number): Promise<EvidencePoint[]> {
    if (!(stepMs >= 1)) throw invalidInput("the step must be a positive number of milliseconds");
    const steps = Math.floor((query.to - query.from) / stepMs);
    if (steps < 1 || query.hosts.length === 0) return [];
    const [start, end] = [query.from + stepMs, query.from + steps * stepMs];
    const plan = this.plan(metric, query.hosts, stepMs);
    const ask = async (promql: string) => byTime(await this.#api.range({ metric: metric.name, query: promql }, start, end, stepMs), start, end, stepMs);
    const times = Array.from({ length: steps }, (_, i) => start + i * stepMs);
    switch (plan.kind) {
      case "ratio": {
        const [numerator, denominator] = await Promise.all([ask(plan.numerator), ask(plan.denominator)]);
        return times.map((at) => ({ at, evidence: { kind: "ratio", numerator: countOf(numerator.get(at) ?? []), denominator: countOf(denominator.get(at) ?? []) } }));
      }
      case "quantile": {
        const buckets = await ask(plan.buckets);
        return times.map((at) => ({ at, evidence: bucketsOf(buckets.get(at) ?? []) }));
      }
      case "value": {
        const values = await ask(plan.query);
        const context = { metric: metric.name, query: plan.query };
        return times.map((at) => ({ at, evidence: this.#valuesOf(values.get(at) ?? [], query.hosts, context, plan.perHost) }));
      }
    }
  }

  /** The PromQL for a metric, these hosts and this window (exposed for the docs' examples and tests). */
  plan(metric: MetricSpec, hosts: readonly MetricHost[], windowMs: number): Plan {
    const label = this.#settings.host_label;
    const range = `[${Math.max(1, Math.round(windowMs))}ms]`;
    const parse = (field: string, text: string): SeriesSelector => {
      try {
        return withMatcher(parseSelector(text), { label, op: "=~", value: hostsRegex(hosts) });
      } catch (error) {
        throw invalidInput(`metric '${metric.name}': ${field} ${(error as Error).message}`);
      }
    };
    if (metric.ratio) {
      const increase = (s: SeriesSelector) => `sum(increase(${formatSelector(s)}${range}))`;
      return { kind: "ratio", numerator: increase(parse("ratio.numerator", metric.ratio.numerator)), denominator: increase(parse("ratio.denominator", metric.ratio.denominator)) };
    }
    if (metric.quantile) {
      const histogram = parse("quantile.histogram", metric.quantile.histogram);
      if (histogram.name === undefined) throw invalidInput(`metric '${metric.name}': quantile.histogram needs a histogram's name`);
      return { kind: "quantile", buckets: `sum by (le) (increase(${formatSelector(withName(histogram, `${histogram.name.replace(/_bucket$/, "")}_bucket`))}${range}))` };
    }
    const value = metric.value!;
    const over = value.rate ? "rate" : "avg_over_time";
    let selector: SeriesSelector | undefined;
    try {
      selector = parse("value.query", value.query);
    } catch {
      selector = undefined; // any other PromQL expression
    }
    if (selector) return { kind: "value", query: `sum by (${label}) (${over}(${formatSelector(selector)}${range}))`, perHost: "grouped" };
    const resolution = `${Math.max(1000, Math.round(windowMs / 10))}ms`;
    return { kind: "value", query: `${over}((${value.query})[${Math.max(1, Math.round(windowMs))}ms:${resolution}])`, perHost: "labelled" };
  }

  /** One value per host that has one, in the hosts' order (a host's several series added up). */
  #valuesOf(points: readonly VectorPoint[], hosts: readonly MetricHost[], context: QueryContext, perHost: "grouped" | "labelled"): Evidence {
    const label = this.#settings.host_label;
    if (perHost === "labelled" && points.length > 0 && points.every((p) => p.labels[label] === undefined)) {
      throw invalidInput(`metric '${context.metric}': the results of the query have no '${label}' label to tell the hosts apart; keep it, e.g. sum by (${label}) (...) (query: ${context.query})`);
    }
    const patterns = hosts.map((h) => new RegExp(`^(?:${hostRegex(h)})$`));
    const sums = hosts.map(() => ({ sum: 0, seen: false }));
    for (const point of points) {
      const name = point.labels[label];
      if (name === undefined || !Number.isFinite(point.value)) continue;
      const index = patterns.findIndex((p) => p.test(name));
      if (index < 0) continue;
      sums[index]!.sum += point.value;
      sums[index]!.seen = true;
    }
    return { kind: "value", values: sums.filter((s) => s.seen).map((s) => s.sum) };
  }
}

/** The host label's value for this host: its address (IPv6 in brackets when a port follows) and an optional port. */
function hostRegex(host: MetricHost): string {
  const address = escapeRegex(host.address);
  const withPort = host.address.includes(":") ? `\\[${address}\\]` : address;
  const port = host.port !== undefined ? String(host.port) : "[0-9]+";
  return host.address.includes(":") ? `${address}|${withPort}(:${port})?` : `${address}(:${port})?`;
}

const hostsRegex = (hosts: readonly MetricHost[]): string => hosts.map((h) => `(?:${hostRegex(h)})`).join("|");

/** The sum of a vector's values, in whole counts. */
function countOf(points: readonly VectorPoint[]): number {
  return Math.round(points.reduce((sum, p) => (Number.isFinite(p.value) ? sum + p.value : sum), 0));
}

function bucketsOf(points: readonly VectorPoint[]): Evidence {
  const cumulative = new Map<number, number>();
  for (const point of points) {
    const bound = bucketBound(point.labels.le);
    if (bound === undefined || !Number.isFinite(point.value)) continue;
    cumulative.set(bound, (cumulative.get(bound) ?? 0) + Math.round(point.value));
  }
  return fromCumulative(cumulative);
}

/** A range query's series regrouped as one vector per step time. */
function byTime(series: readonly { labels: Labels; points: [number, number][] }[], start: number, end: number, stepMs: number): Map<number, VectorPoint[]> {
  const out = new Map<number, VectorPoint[]>();
  for (const s of series) {
    for (const [at, value] of s.points) {
      // Prometheus answers at start + k * step; snap to it against rounding of the seconds.
      const snapped = start + Math.round((at - start) / stepMs) * stepMs;
      if (snapped < start || snapped > end) continue;
      const list = out.get(snapped) ?? [];
      list.push({ labels: s.labels, value });
      out.set(snapped, list);
    }
  }
  return out;
}

