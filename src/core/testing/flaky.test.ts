import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { QuarantinePolicy } from "../pipeline/schema.ts";
import { classifyAttempts, flakeRate, quarantineDecision, rerunFiles, testJobVerdict, type ClassifiedTest, type TestOutcome } from "./flaky.ts";
import type { TestResult, TestStatus } from "./junit.ts";

const result = (id: string, status: TestStatus, over: Partial<TestResult> = {}): TestResult => ({
  id,
  name: id.split("::").at(-1)!,
  file: id.split("::")[0],
  durationMs: 10,
  status,
  ...over,
});
const outcomes = (classified: Map<string, ClassifiedTest>) => Object.fromEntries([...classified].map(([id, t]) => [id, t.outcome]));
const history = (...list: TestOutcome[]) => list.map((outcome) => ({ outcome }));
const policy = (over: Partial<QuarantinePolicy> = {}) => QuarantinePolicy.parse(over);

describe("classifyAttempts", () => {
  it("calls a test that failed and then passed on the same commit flaky, and one that always failed failed", () => {
    const classified = classifyAttempts([
      [result("a.js::ok", "passed"), result("a.js::shaky", "failed", { message: "timeout" }), result("b.js::broken", "failed"), result("b.js::later", "skipped")],
      [result("a.js::ok", "passed"), result("a.js::shaky", "passed", { durationMs: 42 }), result("b.js::broken", "error")],
      [result("b.js::broken", "failed")],
    ]);
    assert.deepEqual(outcomes(classified), { "a.js::ok": "passed", "a.js::shaky": "flaky", "b.js::broken": "failed", "b.js::later": "skipped" });
    assert.deepEqual(classified.get("a.js::shaky"), { id: "a.js::shaky", name: "shaky", file: "a.js", outcome: "flaky", attempts: 2, durationMs: 42, lastStatus: "passed", message: "timeout" });
    assert.equal(classified.get("b.js::broken")!.attempts, 3);
  });

  it("calls a test that passed and then failed on a re-run of its file flaky too", () => {
    assert.equal(classifyAttempts([[result("a::t", "passed")], [result("a::t", "failed")]]).get("a::t")!.outcome, "flaky");
  });

  it("calls a test its own tool retried into passing flaky, and one it retried in vain failed", () => {
    const classified = classifyAttempts([[result("A::retried", "passed", { rerunFailures: 1 }), result("A::hopeless", "failed", { rerunFailures: 2 })]]);
    assert.deepEqual(outcomes(classified), { "A::retried": "flaky", "A::hopeless": "failed" });
  });

  it("merges one id listed twice in an attempt into its worst status", () => {
    const classified = classifyAttempts([[result("m::t", "failed", { durationMs: 5 }), result("m::t", "error", { durationMs: 7, message: "teardown" })]]);
    assert.deepEqual(classified.get("m::t"), { id: "m::t", name: "t", file: "m", outcome: "failed", attempts: 1, durationMs: 12, lastStatus: "error", message: "teardown" });
  });

  it("never calls a test that failed in every attempt flaky, and always calls one that both failed and passed flaky", () => {
    const status = fc.constantFrom<TestStatus>("passed", "failed", "error", "skipped");
    fc.assert(
      fc.property(fc.array(status, { minLength: 1, maxLength: 6 }), (statuses) => {
        const test = classifyAttempts(statuses.map((s) => [result("t", s)])).get("t")!;
        const ran = statuses.filter((s) => s !== "skipped");
        const failures = ran.filter((s) => s !== "passed").length;
        if (ran.length > 0 && failures === ran.length) assert.equal(test.outcome, "failed");
        if (failures > 0 && failures < ran.length) assert.equal(test.outcome, "flaky");
        if (failures === 0 && ran.length > 0) assert.equal(test.outcome, "passed");
        if (ran.length === 0) assert.equal(test.outcome, "skipped");
      }),
    );
  });
});

describe("flakeRate", () => {
  it("is the flaky share of the most recent runs in the window, skipped runs left out", () => {
    const runs = history("flaky", "flaky", "passed", "skipped", "flaky", "passed", "failed", "passed");
    assert.equal(flakeRate(runs, 50), 3 / 7);
    assert.equal(flakeRate(runs, 4), 1 / 4, "the last four runs: flaky, passed, failed, passed");
    assert.equal(flakeRate([], 10), 0);
    assert.equal(flakeRate(history("skipped"), 10), 0);
  });

  it("does not count a deterministic failure as a flake", () => {
    assert.equal(flakeRate(history("failed", "failed", "failed"), 10), 0);
  });
});

describe("quarantineDecision", () => {
  it("quarantines once min_runs are reached and the rate is above the threshold", () => {
    const decision = quarantineDecision(history("passed", "flaky", "passed", "flaky", "passed"), policy({ flake_rate: 0.2, min_runs: 5 }));
    assert.deepEqual(decision, { quarantine: true, rate: 0.4, runs: 5, reason: "flaky in 2 of the last 5 runs (40%), above the 20% threshold" });
    const atThreshold = quarantineDecision(history("passed", "flaky", "passed", "passed", "passed"), policy({ flake_rate: 0.2, min_runs: 5 }));
    assert.deepEqual(atThreshold, { quarantine: false, rate: 0.2, runs: 5, reason: "flaky in 1 of the last 5 runs (20%), not above the 20% threshold" });
  });

  it("waits for min_runs, however flaky the first runs", () => {
    const decision = quarantineDecision(history("flaky", "flaky", "flaky"), policy({ min_runs: 5 }));
    assert.equal(decision.quarantine, false);
    assert.equal(decision.reason, "3 of the 5 runs needed before the flake rate counts");
  });

  it("leaves a test under the threshold, a broken test, and everything when auto is off", () => {
    assert.equal(quarantineDecision(history("passed", "passed", "flaky", "passed", "passed", "passed"), policy({ flake_rate: 0.2 })).quarantine, false);
    assert.equal(quarantineDecision(history("failed", "failed", "failed", "failed", "failed"), policy()).quarantine, false);
    const off = quarantineDecision(history("flaky", "flaky", "flaky", "flaky", "flaky"), policy({ auto: false }));
    assert.deepEqual([off.quarantine, off.rate], [false, 1]);
  });

  it("counts a full window as enough runs when the window is smaller than min_runs", () => {
    assert.equal(quarantineDecision(history("flaky", "flaky", "passed"), policy({ window: 3, min_runs: 10 })).quarantine, true);
  });

  it("quarantines a test that fails one time in three, retried twice, within its first runs", () => {
    // Seeded: each attempt fails with probability 1/3; a run is flaky when a later retry passes.
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const runs: { outcome: TestOutcome }[] = [];
    let quarantinedAfter = 0;
    for (let run = 1; run <= 50 && !quarantinedAfter; run++) {
      const attempts: TestResult[][] = [];
      do attempts.push([result("t", random() < 1 / 3 ? "failed" : "passed")]);
      while (attempts.at(-1)![0]!.status === "failed" && attempts.length < 3);
      runs.push({ outcome: classifyAttempts(attempts).get("t")!.outcome });
      if (quarantineDecision(runs, policy()).quarantine) quarantinedAfter = run;
    }
    assert.ok(quarantinedAfter >= 5 && quarantinedAfter <= 15, `quarantined after ${quarantinedAfter} runs`);
  });
});

describe("testJobVerdict", () => {
  const classify = (...attempts: TestResult[][]) => classifyAttempts(attempts);
  const none = new Set<string>();

  it("fails on a test that failed in every attempt, even if the command exited 0", () => {
    const verdict = testJobVerdict(classify([result("a::ok", "passed"), result("a::bad", "failed")], [result("a::ok", "passed"), result("a::bad", "failed")]), none, true, true);
    assert.deepEqual(verdict, { passed: false, reason: "1 test failed in every attempt: a::bad", failed: ["a::bad"], flaky: [], quarantinedFailures: [] });
  });

  it("passes with a flaky test, and names it", () => {
    const verdict = testJobVerdict(classify([result("a::ok", "passed"), result("a::shaky", "failed")], [result("a::ok", "passed"), result("a::shaky", "passed")]), none, true, true);
    assert.deepEqual(verdict, { passed: true, reason: "1 test passed; 1 flaky test: a::shaky", failed: [], flaky: ["a::shaky"], quarantinedFailures: [] });
  });

  it("passes when every failing test is quarantined, though the command exited non-zero, and reports them", () => {
    const verdict = testJobVerdict(classify([result("a::ok", "passed"), result("a::q", "failed")], [result("a::q", "failed")]), new Set(["a::q"]), false, true);
    assert.deepEqual(verdict, { passed: true, reason: "1 test passed; 1 quarantined test failed: a::q", failed: [], flaky: [], quarantinedFailures: ["a::q"] });
  });

  it("fails when the command exited non-zero and the reports show no failing test: a crash", () => {
    const verdict = testJobVerdict(classify([result("a::ok", "passed")]), none, false, true);
    assert.equal(verdict.passed, false);
    assert.match(verdict.reason, /reports show no failing test/);
    const afterFlake = testJobVerdict(classify([result("a::shaky", "failed")], [result("a::shaky", "passed")]), none, false, true);
    assert.equal(afterFlake.passed, false, "the last attempt's failure is not explained by a test that passed in it");
  });

  it("decides by the exit status when no report was found", () => {
    assert.deepEqual(testJobVerdict(new Map(), none, false, false), { passed: false, reason: "the test command failed and no JUnit report matched `reports`", failed: [], flaky: [], quarantinedFailures: [] });
    const green = testJobVerdict(classify([result("a::bad", "failed")]), none, true, false);
    assert.equal(green.passed, true);
    assert.deepEqual(green.failed, [], "without reports, results are not looked at");
    assert.match(green.reason, /no per-test results were kept/);
  });

  it("lists at most five ids in its reason", () => {
    const failing = Array.from({ length: 7 }, (_, i) => result(`f::t${i}`, "failed"));
    assert.match(testJobVerdict(classify(failing), none, false, true).reason, /^7 tests failed in every attempt: f::t0, f::t1, f::t2, f::t3, f::t4 and 2 more$/);
  });
});

describe("rerunFiles", () => {
  it("re-runs the files of the failed tests, once each, and says which failures have no file", () => {
    const rerun = rerunFiles([
      result("b.js::x", "failed"),
      result("a.js::y", "error"),
      result("b.js::z", "failed"),
      result("c.js::ok", "passed"),
      { id: "com.example.FooTest::bar", name: "bar", classname: "com.example.FooTest", durationMs: 1, status: "failed" },
      { id: "Widget::renders", name: "renders", classname: "Widget", durationMs: 1, status: "failed" },
    ], ["a.js", "b.js", "c.js", "src/test/java/com/example/FooTest.java"]);
    assert.deepEqual(rerun, { files: ["a.js", "b.js", "src/test/java/com/example/FooTest.java"], unmapped: ["Widget::renders"] });
  });
});
