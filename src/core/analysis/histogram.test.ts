import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LATENCY_BUCKETS, latencyBatch, lognormalQuantile } from "../../../bench/support/canary-streams.ts";
import { normalTail } from "../../../bench/support/canary-mann-whitney.ts";
import { prng } from "../../../bench/support/prng.ts";
import { addEvidence, emptyEvidence, samplesOf } from "./evidence.ts";
import { commonBounds, fractionAbove, histogramCount, histogramQuantile, rebucket } from "./histogram.ts";
import type { QuantileEvidence } from "./types.ts";

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);
const histogram = (bounds: number[], counts: number[]): QuantileEvidence => ({ kind: "quantile", bounds, counts });

describe("histogramQuantile", () => {
  it("interpolates linearly inside the bucket holding the q-th observation, as Prometheus does", () => {
    const h = histogram([0.1, 0.2, 0.5, Infinity], [10, 20, 10, 0]);
    close(histogramQuantile(h, 0.5)!, 0.15);
    close(histogramQuantile(h, 0.25)!, 0.1);
    close(histogramQuantile(h, 0.9)!, 0.38);
  });

  it("starts the first bucket at 0 and answers the largest finite bound for the +Inf bucket", () => {
    assert.equal(histogramQuantile(histogram([0.1, Infinity], [4, 0]), 0.5), 0.05);
    assert.equal(histogramQuantile(histogram([0.1, 0.2, Infinity], [1, 1, 8]), 0.95), 0.2);
  });

  it("has no answer without observations or without a finite bucket", () => {
    assert.equal(histogramQuantile(histogram([0.1, Infinity], [0, 0]), 0.5), null);
    assert.equal(histogramQuantile(histogram([Infinity], [7]), 0.5), null);
  });

  it("estimates the p95 of a lognormal latency as the interpolation of its true distribution in coarse buckets, and closely in fine ones", () => {
    const d = { median: 0.05, sigma: 0.5 };
    const truth = lognormalQuantile(d, 1.6449);
    const cdf = (x: number) => 1 - normalTail(Math.log(x / d.median) / d.sigma);
    // The p95 (114 ms) lies in the (100 ms, 150 ms] bucket, where the density falls: the straight
    // line between the bucket's ends reads it higher, by the amount the true distribution gives.
    const interpolated = 0.1 + (0.05 * (0.95 - cdf(0.1))) / (cdf(0.15) - cdf(0.1));
    const coarse = histogramQuantile(latencyBatch(prng(11), 200_000, d), 0.95)!;
    assert.ok(Math.abs(coarse - interpolated) / interpolated < 0.01, `p95 ${coarse} vs ${interpolated}`);
    assert.ok(coarse > truth && coarse < 0.15);
    const fine = [...Array.from({ length: 100 }, (_, i) => (i + 1) * 0.005), Infinity];
    const estimate = histogramQuantile(latencyBatch(prng(12), 200_000, d, 1, fine), 0.95)!;
    assert.ok(Math.abs(estimate - truth) / truth < 0.01, `p95 ${estimate} vs ${truth}`);
    assert.ok(Math.abs(histogramQuantile(latencyBatch(prng(13), 200_000, d, 1, fine), 0.5)! - d.median) / d.median < 0.01);
  });

  it("estimates the quantiles of a uniform distribution exactly up to sampling error", () => {
    const bounds = [...Array.from({ length: 20 }, (_, i) => (i + 1) / 20), Infinity];
    const random = prng(5);
    const counts = bounds.map(() => 0);
    for (let i = 0; i < 100_000; i++) counts[Math.min(19, Math.floor(random() * 20))]! += 1;
    for (const q of [0.1, 0.5, 0.95, 0.99]) assert.ok(Math.abs(histogramQuantile(histogram(bounds, counts), q)! - q) < 0.01, `q ${q}`);
  });
});

describe("fractionAbove", () => {
  it("reads the same piecewise-linear distribution the other way", () => {
    const h = histogram([0.1, 0.2, 0.5, Infinity], [10, 20, 10, 0]);
    close(fractionAbove(h, 0.15), 0.5);
    assert.equal(fractionAbove(h, 0.5), 0);
    assert.equal(fractionAbove(h, 0), 1);
    assert.equal(fractionAbove(histogram([0.1, Infinity], [5, 5]), 1000), 0.5, "the +Inf bucket is past any t");
  });

  it("inverts histogramQuantile wherever the distribution is not flat", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 2, maxLength: 12 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (finite, q) => {
        const bounds = [...finite.map((_, i) => (i + 1) * 0.05), Infinity];
        const h = histogram(bounds, [...finite, 0]);
        const t = histogramQuantile(h, q)!;
        assert.ok(Math.abs(fractionAbove(h, t) - (1 - q)) < 1e-9);
      }),
    );
  });
});

describe("adding up histograms", () => {
  it("sums histograms with different buckets into the buckets both have, keeping every observation", () => {
    const a = histogram([0.1, 0.2, 0.5, Infinity], [1, 2, 3, 4]);
    const b = histogram([0.1, 0.25, 0.5, 1, Infinity], [10, 20, 30, 40, 50]);
    assert.deepEqual(commonBounds(a.bounds, b.bounds), [0.1, 0.5, Infinity]);
    assert.deepEqual(addEvidence(a, b), histogram([0.1, 0.5, Infinity], [11, 55, 94]));
    assert.deepEqual(rebucket(a, [0.2, Infinity]).counts, [3, 7]);
  });

  it("keeps the total of any two histograms of a shared layout, and treats the empty histogram as zero", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100), { minLength: 4, maxLength: 4 }), fc.array(fc.nat(100), { minLength: 4, maxLength: 4 }), (x, y) => {
        const a = histogram(LATENCY_BUCKETS.slice(-4), x);
        const b = histogram(LATENCY_BUCKETS.slice(-4), y);
        assert.equal(histogramCount(addEvidence(a, b) as QuantileEvidence), histogramCount(a) + histogramCount(b));
        assert.deepEqual(addEvidence(emptyEvidence("quantile"), a), a);
        assert.equal(samplesOf(addEvidence(a, emptyEvidence("quantile"))), histogramCount(a));
      }),
    );
  });
});
