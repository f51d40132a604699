import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgeMetric } from "./judge.ts";
import { MetricSpec } from "./spec.ts";
import { formatAmount, formatConfidence, formatCount, formatDifference, formatPercent, formatSeconds } from "./words.ts";

describe("numbers for people", () => {
  it("writes ratios as percentages with one decimal, and small ones to two significant digits", () => {
    assert.deepEqual([0.041, 0.01, 0.0025, 0.00053, 0, 0.5].map(formatPercent), ["4.1%", "1.0%", "0.25%", "0.053%", "0%", "50.0%"]);
  });

  it("writes differences of ratios in percentage points", () => {
    assert.deepEqual(
      [0.01, 0.015, -0.0071, 0.03176].map((d) => formatDifference("ratio", d, true)),
      ["+1 point", "+1.5 points", "-0.71 points", "+3.2 points"],
    );
    assert.equal(formatDifference("ratio", 0.01), "1 point");
  });

  it("writes latencies in ms below a second and in s above", () => {
    assert.deepEqual([0.212, 0.048, 0.0045, 0.00025, 1.25, 12.34, 125.4, 0].map(formatSeconds), ["212 ms", "48 ms", "4.5 ms", "0.25 ms", "1.25 s", "12.3 s", "125 s", "0 ms"]);
    assert.equal(formatDifference("quantile", 0.164, true), "+164 ms");
  });

  it("writes counts and other values with thousands separators", () => {
    assert.equal(formatCount(12400), "12,400");
    assert.equal(formatAmount("value", 221_818_181.8), "221,800,000");
    assert.equal(formatAmount("value", 0.012345), "0.01235");
    assert.deepEqual([0.95, 0.98, 0.975].map(formatConfidence), ["95%", "98%", "97.5%"]);
  });
});

describe("verdicts in words", () => {
  const settings = { alpha: 0.05, min_samples: 200 };
  const errors = MetricSpec.parse({ name: "error ratio", ratio: { numerator: "e", denominator: "r" }, max_difference: "1%" });

  it("says by how much a failing canary is worse, how sure, and after how many requests", () => {
    const verdict = judgeMetric(errors, settings, { kind: "ratio", numerator: 75, denominator: 1840 }, { kind: "ratio", numerator: 90, denominator: 10_000 }, { final: false });
    assert.equal(verdict.reason, "error ratio 4.1% vs 0.9% on baseline; the difference exceeds 1 point with 95% confidence after 1,840 requests on the canary");
  });

  it("says a passing canary is within the allowed degradation when the interval shows it", () => {
    const verdict = judgeMetric(errors, settings, { kind: "ratio", numerator: 124, denominator: 12_400 }, { kind: "ratio", numerator: 136, denominator: 12_400 }, { final: true });
    assert.equal(verdict.reason, "error ratio 1.0% vs 1.1% on baseline: within 1 point with 95% confidence after 12,400 requests on the canary");
  });

  it("says only what the data shows when a canary passes without proving it is within the allowance", () => {
    const verdict = judgeMetric(errors, settings, { kind: "ratio", numerator: 6, denominator: 300 }, { kind: "ratio", numerator: 3, denominator: 300 }, { final: true });
    assert.equal(verdict.outcome, "pass");
    assert.match(verdict.reason, /^error ratio 2\.0% vs 1\.0% on baseline: not shown to be more than 1 point higher \(difference \+1 point, 95% interval -\d\.\d+ to \+\d\.\d+ points; 300 requests on the canary\)$/);
  });

  it("shows the running comparison while the window is open", () => {
    const verdict = judgeMetric(errors, settings, { kind: "ratio", numerator: 20, denominator: 1000 }, { kind: "ratio", numerator: 10, denominator: 1000 }, { final: false });
    assert.match(verdict.reason, /^error ratio 2\.0% vs 1\.0% on baseline after 1,000 requests on the canary; difference \+1 point, 95% interval -0\.\d+ to \+2\.\d points$/);
  });
});
