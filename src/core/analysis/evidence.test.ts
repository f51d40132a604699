import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addEvidence, emptyEvidence, samplesOf } from "./evidence.ts";

describe("addEvidence", () => {
  it("adds counter increases and keeps every per-host value", () => {
    assert.deepEqual(addEvidence({ kind: "ratio", numerator: 2, denominator: 200 }, { kind: "ratio", numerator: 3, denominator: 180 }), { kind: "ratio", numerator: 5, denominator: 380 });
    assert.deepEqual(addEvidence(addEvidence(emptyEvidence("value"), { kind: "value", values: [1, 2] }), { kind: "value", values: [3] }), { kind: "value", values: [1, 2, 3] });
    assert.equal(samplesOf(addEvidence(emptyEvidence("ratio"), { kind: "ratio", numerator: 1, denominator: 40 })), 40);
  });

  it("refuses to add evidence of different kinds", () => {
    assert.throws(() => addEvidence(emptyEvidence("ratio"), emptyEvidence("value")), /cannot add value evidence to ratio evidence/);
  });
});
