import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { confidenceHalfWidth } from "./sequential.ts";

/** The normal-mixture likelihood ratio of Johari et al.'s mSPRT, written out independently. */
const mixtureRatio = (d: number, v: number, tau: number) => Math.sqrt(v / (v + tau * tau)) * Math.exp((tau * tau * d * d) / (2 * v * (v + tau * tau)));

const variance = fc.double({ min: 1e-9, max: 1, noNaN: true });
const tau = fc.double({ min: 1e-4, max: 1, noNaN: true });
const alpha = fc.constantFrom(0.01, 0.02, 0.05, 0.1);

describe("confidenceHalfWidth", () => {
  it("puts the interval's edges exactly where the mixture likelihood ratio reaches 1 / alpha", () => {
    fc.assert(
      fc.property(variance, tau, alpha, (v, t, a) => {
        const h = confidenceHalfWidth(v, t, a);
        const ratio = mixtureRatio(h, v, t);
        assert.ok(Math.abs(ratio * a - 1) < 1e-6, `ratio ${ratio} at alpha ${a}`);
      }),
    );
  });

  it("is wider than the fixed-horizon interval of the same confidence, the price of looking any number of times", () => {
    const z = { 0.01: 2.5758, 0.02: 2.3263, 0.05: 1.96, 0.1: 1.6449 } as const;
    fc.assert(fc.property(variance, tau, alpha, (v, t, a) => assert.ok(confidenceHalfWidth(v, t, a) > z[a] * Math.sqrt(v))));
  });

  it("narrows as the variance shrinks, to nothing without variance", () => {
    fc.assert(
      fc.property(variance, variance, tau, alpha, (v1, v2, t, a) => {
        const [small, large] = v1 < v2 ? [v1, v2] : [v2, v1];
        assert.ok(confidenceHalfWidth(small, t, a) <= confidenceHalfWidth(large, t, a) + 1e-15);
      }),
    );
    assert.equal(confidenceHalfWidth(0, 0.01, 0.05), 0);
  });

  it("is narrowest when the mixing scale is near the effect it will just exclude", () => {
    // At V where a 1-point effect is just excluded with tau = 1 point, other scales are wider there.
    const v = 1e-4 / 9.2;
    const best = confidenceHalfWidth(v, 0.01, 0.05);
    assert.ok(confidenceHalfWidth(v, 0.001, 0.05) > best);
    assert.ok(confidenceHalfWidth(v, 0.1, 0.05) > best);
  });
});
