import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MetricSpec } from "../analysis/spec.ts";
import type { QuantileEvidence, RatioEvidence } from "../analysis/types.ts";
import { SlipwayError } from "../errors.ts";
import type { Sample } from "./exposition.ts";
import { ScrapeSet, evidenceOf, selectorsOf, type Scrape } from "./series.ts";
import { formatSelector } from "./selector.ts";

const errorRatio = MetricSpec.parse({ name: "error ratio", ratio: { numerator: 'req_total{status=~"5.."}', denominator: "req_total" } });
const p95 = MetricSpec.parse({ name: "p95", quantile: { histogram: 'lat_seconds{route="/"}', q: 0.95 } });
const memory = MetricSpec.parse({ name: "memory", value: { query: "mem_bytes" } });
const requestRate = MetricSpec.parse({ name: "rps", value: { query: "req_total", rate: true } });

const req = (status: string, value: number): Sample => ({ name: "req_total", labels: { status }, value });
const scrape = (host: string, at: number, samples: Sample[], release: string | null = "r1"): Scrape => ({ host, at, release, samples });

describe("evidence from scraped samples", () => {
  it("sums counter increases of the hosts, dated at the later scrape of each pair", () => {
    const scrapes = [
      scrape("a", 0, [req("200", 100), req("500", 1)]),
      scrape("a", 10, [req("200", 150), req("500", 3)]),
      scrape("a", 20, [req("200", 190), req("500", 4)]),
      scrape("b", 2, [req("200", 10)]),
      scrape("b", 12, [req("200", 30)]),
      scrape("b", 22, [req("200", 70)]),
    ];
    // [5, 15): a's pair 0->10, b's pair 2->12.
    assert.deepEqual(evidenceOf(errorRatio, scrapes, 5, 15), { kind: "ratio", numerator: 2, denominator: 50 + 2 + 20 });
    // [0, 30): everything but the first scrape of each host, which is only a starting point.
    assert.deepEqual(evidenceOf(errorRatio, scrapes, 0, 30), { kind: "ratio", numerator: 3, denominator: 90 + 3 + 60 });
    assert.deepEqual(evidenceOf(errorRatio, scrapes, 30, 40), { kind: "ratio", numerator: 0, denominator: 0 });
  });

  it("counts from zero after a counter reset, a change of release, or a series that appears", () => {
    const scrapes = [
      scrape("a", 0, [req("200", 100)]),
      scrape("a", 10, [req("200", 7)]), // reset: 7
      scrape("a", 20, [req("200", 9), req("500", 2)]), // +2, and a new series: +2
      scrape("a", 30, [req("200", 12), req("500", 3)], "r2"), // another release: 12 + 3
    ];
    assert.deepEqual(evidenceOf(errorRatio, scrapes, 5, 35), { kind: "ratio", numerator: 2 + 3, denominator: 7 + 2 + 2 + 12 + 3 });
  });

  it("skips NaN and infinite samples", () => {
    const scrapes = [scrape("a", 0, [req("200", 1), req("500", Number.NaN)]), scrape("a", 10, [req("200", Infinity), req("500", Number.NaN)])];
    assert.deepEqual(evidenceOf(errorRatio, scrapes, 0, 20), { kind: "ratio", numerator: 0, denominator: 0 });
  });

  it("turns histogram buckets into per-bucket counts, summed over series and hosts", () => {
    const buckets = (route: string, cumulative: [string, number][]): Sample[] => cumulative.map(([le, value]) => ({ name: "lat_seconds_bucket", labels: { route, le }, value }));
    const scrapes = [
      scrape("a", 0, [...buckets("/", [["0.1", 5], ["0.5", 8], ["+Inf", 9]]), ...buckets("/other", [["0.1", 100], ["+Inf", 100]])]),
      scrape("a", 10, [...buckets("/", [["0.1", 15], ["0.5", 28], ["+Inf", 31]]), ...buckets("/other", [["0.1", 200], ["+Inf", 200]])]),
      scrape("b", 0, buckets("/", [["0.1", 0], ["0.5", 0], ["+Inf", 0]])),
      scrape("b", 10, buckets("/", [["0.1", 1], ["0.5", 1], ["+Inf", 4]])),
    ];
    // Increases: 0.1 -> 10 + 1, 0.5 -> 20 + 1, +Inf -> 22 + 4 (cumulative), the /other route left out.
    assert.deepEqual(evidenceOf(p95, scrapes, 5, 15), { kind: "quantile", bounds: [0.1, 0.5, Infinity], counts: [11, 10, 5] });
    assert.deepEqual(evidenceOf(p95, scrapes, 20, 30), { kind: "quantile", bounds: [], counts: [] });
  });

  it("gives a histogram without +Inf an empty last bucket, and never a negative count", () => {
    const scrapes = [
      scrape("a", 0, [{ name: "lat_seconds_bucket", labels: { route: "/", le: "0.1" }, value: 0 }, { name: "lat_seconds_bucket", labels: { route: "/", le: "1" }, value: 0 }]),
      scrape("a", 10, [{ name: "lat_seconds_bucket", labels: { route: "/", le: "0.1" }, value: 5 }, { name: "lat_seconds_bucket", labels: { route: "/", le: "1" }, value: 4 }]),
    ];
    assert.deepEqual(evidenceOf(p95, scrapes, 0, 20), { kind: "quantile", bounds: [0.1, 1, Infinity], counts: [5, 0, 0] });
  });

  it("gives one value per host: a gauge's mean over the interval, or a counter's rate per second, in the hosts' order", () => {
    const mem = (value: number, area = "heap"): Sample => ({ name: "mem_bytes", labels: { area }, value });
    const scrapes = [
      scrape("a", 0, [mem(100), mem(1, "stack")]),
      scrape("a", 10, [mem(200), mem(1, "stack")]),
      scrape("b", 10, [mem(50)]),
      scrape("b", 20, [mem(70)]),
      scrape("c", 10, [req("200", 1)]),
    ];
    const set = new ScrapeSet(scrapes, ["b", "a", "c", "d"]);
    assert.deepEqual(set.evidence(memory, 0, 30), { kind: "value", values: [60, 151] }, "c has no such series and d no scrape: no value for them");
    const rated = new ScrapeSet([scrape("a", 0, [req("200", 0)]), scrape("a", 2000, [req("200", 10)]), scrape("a", 4000, [req("200", 30)]), scrape("b", 0, [req("200", 5)])], ["a", "b"]);
    assert.deepEqual(rated.evidence(requestRate, 0, 5000), { kind: "value", values: [7.5] }, "30 requests in 4 s; b has one scrape only");
  });

  it("steps through an interval, dating each step at its end", () => {
    const scrapes = [0, 10, 20, 30, 40].map((at, i) => scrape("a", at, [req("200", i * 10), req("500", i)]));
    const steps = new ScrapeSet(scrapes).steps(errorRatio, 5, 45, 20);
    assert.deepEqual(steps, [
      { at: 25, evidence: { kind: "ratio", numerator: 2, denominator: 22 } },
      { at: 45, evidence: { kind: "ratio", numerator: 2, denominator: 22 } },
    ]);
    assert.throws(() => new ScrapeSet(scrapes).steps(errorRatio, 0, 10, 0), /positive/);
  });

  it("adds up: the evidence of two consecutive intervals is that of their union", () => {
    const series = fc.array(fc.record({ host: fc.constantFrom("a", "b"), at: fc.integer({ min: 0, max: 1000 }), release: fc.constantFrom("r1", "r2"), ok: fc.nat(50), err: fc.nat(5), slow: fc.nat(5) }), { maxLength: 40 });
    fc.assert(
      fc.property(series, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (rows, x, y, z) => {
        const [from, mid, to] = [x, y, z].sort((p, q) => p - q) as [number, number, number];
        const scrapes = rows.map((r) =>
          scrape(r.host, r.at, [req("200", r.ok), req("500", r.err), { name: "lat_seconds_bucket", labels: { route: "/", le: "0.5" }, value: r.ok }, { name: "lat_seconds_bucket", labels: { route: "/", le: "+Inf" }, value: r.ok + r.slow }], r.release),
        );
        const set = new ScrapeSet(scrapes);
        const ratio = (a: number, b: number) => set.evidence(errorRatio, a, b) as RatioEvidence;
        assert.equal(ratio(from, mid).numerator + ratio(mid, to).numerator, ratio(from, to).numerator);
        assert.equal(ratio(from, mid).denominator + ratio(mid, to).denominator, ratio(from, to).denominator);
        const total = (a: number, b: number) => (set.evidence(p95, a, b) as QuantileEvidence).counts.reduce((s, c) => s + c, 0);
        assert.ok(total(from, mid) + total(mid, to) >= 0);
      }),
    );
  });

  it("names the metric when its query is not a series selector", () => {
    const promql = MetricSpec.parse({ name: "cpu", value: { query: "sum(rate(cpu_seconds_total[1m]))" } });
    assert.throws(
      () => evidenceOf(promql, [], 0, 1),
      (error: unknown) => error instanceof SlipwayError && error.code === "invalid_input" && /metric 'cpu': value.query .*provider: prometheus/.test(error.message),
    );
  });

  it("lists the series a metric reads, a histogram's _bucket series among them", () => {
    assert.deepEqual(selectorsOf(errorRatio).map(formatSelector), ['req_total{status=~"5.."}', "req_total"]);
    assert.deepEqual(selectorsOf(p95).map(formatSelector), ['lat_seconds_bucket{route="/"}']);
  });
});
