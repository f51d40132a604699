import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { errorBatch, latencyBatch, type Random } from "../../../bench/support/canary-streams.ts";
import { prng } from "../../../bench/support/prng.ts";
import { addEvidence, emptyEvidence } from "./evidence.ts";
import { combineVerdicts, judgeMetric } from "./judge.ts";
import { MetricSpec, type JudgeSettings } from "./spec.ts";
import type { Evidence, MetricVerdict, RatioEvidence } from "./types.ts";

const settings: JudgeSettings = { alpha: 0.05, min_samples: 200 };
const errors = (over: Record<string, unknown> = {}) => MetricSpec.parse({ name: "error ratio", ratio: { numerator: 'requests_total{code=~"5.."}', denominator: "requests_total" }, ...over });
const p95 = (over: Record<string, unknown> = {}) => MetricSpec.parse({ name: "p95 latency", quantile: { histogram: "request_duration_seconds", q: 0.95 }, ...over });
const memory = (over: Record<string, unknown> = {}) => MetricSpec.parse({ name: "memory", value: { query: "process_resident_memory_bytes" }, ...over });
const ratio = (numerator: number, denominator: number): RatioEvidence => ({ kind: "ratio", numerator, denominator });
const LATENCY = { median: 0.05, sigma: 0.5 };

/**
 * Judges an analysis window the way the controller does: one interval at a time, the evidence
 * of each side summed, the judge asked after each; returns the interval of the first fail (1-based).
 */
function firstFail(spec: MetricSpec, intervals: number, draw: (side: "canary" | "baseline") => Evidence, s = settings): { failedAt: number | null; last: MetricVerdict } {
  let canary = emptyEvidence(spec.ratio ? "ratio" : spec.quantile ? "quantile" : "value");
  let baseline = canary;
  let last: MetricVerdict | undefined;
  for (let i = 1; i <= intervals; i++) {
    canary = addEvidence(canary, draw("canary"));
    baseline = addEvidence(baseline, draw("baseline"));
    last = judgeMetric(spec, s, canary, baseline, { final: i === intervals });
    if (last.outcome === "fail") return { failedAt: i, last };
  }
  return { failedAt: null, last: last! };
}

const errorStreams = (random: Random, canaryRatio: number, baselineRatio = 0.01, perInterval = 200) => (side: "canary" | "baseline") => errorBatch(random, perInterval, side === "canary" ? canaryRatio : baselineRatio);

describe("judgeMetric: canary against baseline", () => {
  it("never calls a canary worse than a baseline with exactly the same evidence, and passes it at the end", () => {
    const side = fc.oneof(
      fc.tuple(fc.nat(5000), fc.integer({ min: 1, max: 5000 })).map(([x, n]): Evidence => ratio(Math.min(x, n), n)),
      fc.array(fc.nat(500), { minLength: 4, maxLength: 4 }).map((counts): Evidence => ({ kind: "quantile", bounds: [0.05, 0.1, 0.5, Infinity], counts })),
      fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 40 }).map((values): Evidence => ({ kind: "value", values })),
    );
    fc.assert(
      fc.property(side, fc.boolean(), fc.constantFrom("lower_is_better", "higher_is_better"), (evidence, final, direction) => {
        const spec = evidence.kind === "ratio" ? errors({ direction }) : evidence.kind === "quantile" ? p95({ direction }) : memory({ direction });
        const verdict = judgeMetric(spec, settings, evidence, evidence, { final });
        assert.notEqual(verdict.outcome, "fail");
        if (verdict.difference) assert.ok(verdict.difference.low <= 0 && verdict.difference.high >= 0);
        if (final && verdict.rule === "sequential") assert.equal(verdict.outcome, "pass");
      }),
    );
  });

  it("fails a 1% -> 5% error ratio within the first three intervals of 200 requests, in words", () => {
    const { failedAt, last } = firstFail(errors(), 30, errorStreams(prng(21), 0.05));
    assert.ok(failedAt !== null && failedAt <= 3, `failed at interval ${failedAt}`);
    assert.equal(last.rule, "sequential");
    assert.ok(last.difference!.low > 0);
    assert.match(last.reason, /^error ratio \d+\.\d% vs \d+\.\d% on baseline; higher than on baseline with 95% confidence after \d+ requests on the canary$/);
  });

  it("passes identical error streams at the end of the window", () => {
    const { failedAt, last } = firstFail(errors({ max_difference: "0.5%" }), 30, errorStreams(prng(22), 0.01));
    assert.equal(failedAt, null);
    assert.equal(last.outcome, "pass");
    assert.equal(last.canary.samples, 6000);
    assert.match(last.reason, /^error ratio \d\.\d% vs \d\.\d% on baseline: (within 0.5 points with 95% confidence|not shown to be more than 0.5 points higher)/);
  });

  it("fails only beyond the allowed degradation: max(max_difference, max_relative x baseline)", () => {
    const lots = { canary: ratio(1_800, 100_000), baseline: ratio(1_000, 100_000) };
    assert.equal(judgeMetric(errors({ max_difference: "1%" }), settings, lots.canary, lots.baseline, { final: true }).outcome, "pass");
    const relative = judgeMetric(errors({ max_relative: "50%" }), settings, lots.canary, lots.baseline, { final: false });
    assert.equal(relative.allowed, 0.005);
    assert.equal(relative.outcome, "fail");
    assert.match(relative.reason, /the difference exceeds 0.5 points \(50% of baseline\) with 95% confidence/);
    assert.equal(judgeMetric(errors({ max_relative: "50%", max_difference: "1%" }), settings, lots.canary, lots.baseline, { final: false }).allowed, 0.01);
  });

  it("fails a drop of a higher-is-better ratio, and never a rise", () => {
    const success = errors({ name: "success ratio", direction: "higher_is_better" });
    const drop = judgeMetric(success, settings, ratio(9_000, 10_000), ratio(9_900, 10_000), { final: false });
    assert.equal(drop.outcome, "fail");
    assert.match(drop.reason, /^success ratio 90\.0% vs 99\.0% on baseline; lower than on baseline with 95% confidence/);
    assert.equal(judgeMetric(success, settings, ratio(9_990, 10_000), ratio(9_000, 10_000), { final: true }).outcome, "pass");
    assert.equal(judgeMetric(errors({ direction: "higher_is_better", max_difference: "2%" }), settings, ratio(9_000, 10_000), ratio(9_900, 10_000), { final: false }).reason.includes("lower by more than 2 points"), true);
  });

  it("waits for min_samples on both sides, and calls the window inconclusive without them", () => {
    const running = judgeMetric(errors(), settings, ratio(75, 150), ratio(10, 1000), { final: false });
    assert.deepEqual([running.outcome, running.rule], ["running", "min_samples"]);
    const end = judgeMetric(errors(), settings, ratio(75, 150), ratio(10, 1000), { final: true });
    assert.deepEqual([end.outcome, end.rule, end.reason], ["inconclusive", "min_samples", "inconclusive: 150 requests on the canary, 200 needed"]);
    assert.equal(judgeMetric(errors(), settings, ratio(75, 1500), ratio(1, 57), { final: true }).reason, "inconclusive: 57 requests on the baseline, 200 needed");
    assert.equal(judgeMetric(errors(), settings, ratio(0, 57), ratio(1, 99), { final: true }).reason, "inconclusive: 57 requests on the canary and 99 on the baseline, 200 needed on each");
  });

  it("says no data rather than judging an empty side", () => {
    const none = judgeMetric(errors(), settings, ratio(0, 0), ratio(5, 500), { final: false });
    assert.deepEqual([none.outcome, none.rule, none.reason], ["running", "no_data", "no data from the canary hosts yet"]);
    const end = judgeMetric(errors(), settings, ratio(3, 500), ratio(0, 0), { final: true });
    assert.deepEqual([end.outcome, end.rule, end.reason], ["inconclusive", "no_data", "inconclusive: no data from the baseline hosts"]);
  });

  it("rejects evidence of another kind than the metric's", () => {
    assert.throws(() => judgeMetric(p95(), settings, ratio(1, 2), ratio(1, 2), { final: false }), /metric 'p95 latency' is a quantile but was given ratio evidence/);
  });
});

describe("judgeMetric: thresholds", () => {
  it("fails a canary above max as soon as it has min_samples, whatever the baseline", () => {
    const spec = errors({ max: "5%" });
    assert.equal(judgeMetric(spec, settings, ratio(20, 199), ratio(20, 199), { final: false }).outcome, "running");
    const fail = judgeMetric(spec, settings, ratio(20, 200), ratio(20, 200), { final: false });
    assert.deepEqual([fail.outcome, fail.rule, fail.reason], ["fail", "max", "error ratio 10.0% on the canary is above the maximum 5.0% (200 requests)"]);
    assert.equal(judgeMetric(spec, settings, ratio(20, 200), null, { final: false }).outcome, "fail");
  });

  it("fails below min, and passes a canary within its thresholds without a baseline at the end", () => {
    const throughput = memory({ name: "throughput", direction: "higher_is_better", min: 100 });
    const low = judgeMetric(throughput, settings, { kind: "value", values: Array.from({ length: 10 }, () => 80) }, null, { final: false });
    assert.deepEqual([low.outcome, low.rule], ["fail", "min"]);
    const fine = judgeMetric(errors({ max: "5%" }), settings, ratio(10, 1000), null, { final: true });
    assert.deepEqual([fine.outcome, fine.rule, fine.reason], ["pass", "max", "error ratio 1.0% after 1,000 requests on the canary, within the maximum 5.0% (no baseline to compare with)"]);
    assert.equal(judgeMetric(errors({ max: "5%" }), settings, ratio(10, 1000), null, { final: false }).outcome, "running");
    assert.equal(judgeMetric(errors(), settings, ratio(10, 100), null, { final: true }).outcome, "inconclusive");
  });
});

describe("judgeMetric: latency quantiles", () => {
  it("fails a doubled latency within two intervals and reports the quantiles in seconds", () => {
    const random = prng(31);
    const { failedAt, last } = firstFail(p95({ max_relative: "20%" }), 30, (side) => latencyBatch(random, 200, LATENCY, side === "canary" ? 2 : 1));
    assert.ok(failedAt !== null && failedAt <= 2, `failed at ${failedAt}`);
    assert.ok(last.canary.value! > 0.2 && last.canary.value! < 0.3, `canary p95 ${last.canary.value}`);
    assert.ok(last.baseline!.value! > 0.1 && last.baseline!.value! < 0.15);
    assert.ok(last.difference!.low > last.allowed);
    assert.match(last.reason, /^p95 latency \d+ ms vs \d+ ms on baseline; the difference exceeds \d+ ms \(20% of baseline\) with 95% confidence after 2?\d\d requests on the canary$/);
  });

  it("passes the same latency distribution at the end of the window", () => {
    const random = prng(32);
    const { failedAt, last } = firstFail(p95({ max_relative: "10%" }), 30, () => latencyBatch(random, 200, LATENCY));
    assert.equal(failedAt, null);
    assert.equal(last.outcome, "pass");
    assert.ok(last.difference!.low < 0 && last.difference!.high > 0);
  });
});

describe("judgeMetric: per-host values", () => {
  it("fails a memory increase of ten standard deviations after ten values, and not a same-sized spread", () => {
    const random = prng(41);
    const host = (mean: number) => mean + 5e6 * (random() - 0.5);
    const { failedAt } = firstFail(memory({ max_relative: "10%" }), 12, (side) => ({ kind: "value", values: side === "canary" ? [host(230e6)] : [host(150e6), host(150e6), host(150e6)] }));
    assert.equal(failedAt, 10);
    const same = firstFail(memory(), 12, (side) => ({ kind: "value", values: side === "canary" ? [host(150e6)] : [host(150e6), host(150e6)] }));
    assert.deepEqual([same.failedAt, same.last.outcome], [null, "pass"]);
  });
});

describe("judgeMetric: the always-valid guarantee", () => {
  // 300 A/A canaries of 30 intervals each, the judge asked after every interval: the share that
  // ever fail stays at or below alpha. Seeded, so it measures the same streams on every run.
  it("keeps false alarms at or below alpha over 300 A/A error-ratio canaries judged after every interval", () => {
    const random = prng(51);
    let alarms = 0;
    for (let run = 0; run < 300; run++) if (firstFail(errors(), 30, errorStreams(random, 0.01)).failedAt !== null) alarms++;
    assert.ok(alarms / 300 <= settings.alpha + 0.01, `${alarms} false alarms in 300`);
  });

  it("keeps false alarms at or below alpha over 300 A/A latency canaries judged after every interval", () => {
    const random = prng(52);
    let alarms = 0;
    for (let run = 0; run < 300; run++) if (firstFail(p95(), 30, () => latencyBatch(random, 100, LATENCY)).failedAt !== null) alarms++;
    assert.ok(alarms / 300 <= settings.alpha + 0.01, `${alarms} false alarms in 300`);
  });
});

describe("combineVerdicts", () => {
  const verdict = (metric: string, outcome: MetricVerdict["outcome"], reason = `${metric} ${outcome}`): MetricVerdict => ({ metric, outcome, rule: "sequential", canary: { value: 0, samples: 0 }, baseline: null, difference: null, allowed: 0, reason });

  it("fails when any metric fails, naming every failed metric's reason", () => {
    const combined = combineVerdicts([verdict("error ratio", "fail"), verdict("p95 latency", "running"), verdict("memory", "fail", "too much")]);
    assert.deepEqual(combined, { outcome: "fail", reason: "error ratio fail. memory: too much" });
  });

  it("is running while any metric is undecided, then inconclusive if any is, else passes", () => {
    assert.deepEqual(combineVerdicts([verdict("a", "pass"), verdict("b", "running"), verdict("c", "running"), verdict("d", "running")]), { outcome: "running", reason: "waiting for b, c and d" });
    assert.equal(combineVerdicts([verdict("a", "pass"), verdict("b", "inconclusive")]).outcome, "inconclusive");
    assert.deepEqual(combineVerdicts([verdict("a", "pass"), verdict("b", "pass")]), { outcome: "pass", reason: "all 2 metrics passed" });
    assert.equal(combineVerdicts([verdict("a", "pass", "a fine")]).reason, "a fine");
    assert.equal(combineVerdicts([]).outcome, "inconclusive");
  });
});
