// Canary steps, region waves, pauses and the bake, driven through the pure state machine with
// analysis reports standing in for the controller's looks at the metrics.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Fleet, settings, snapshot } from "../../../test/support/rollout-sim.ts";
import { AnalysisSection } from "../analysis/spec.ts";
import { CanarySection, type RolloutSettings } from "../manifest/schema.ts";
import { step } from "./machine.ts";
import { planStages, stepTarget, wavesOf } from "./stages.ts";
import type { AnalysisReport, DeploymentSnapshot, Progress } from "./types.ts";

const MIN = 60_000;
const analysis = AnalysisSection.parse({ metrics: [{ name: "error ratio", ratio: { numerator: "errors_total", denominator: "requests_total" } }] });
const canary = (over: Partial<RolloutSettings> = {}) =>
  settings({
    strategy: "canary",
    canary: CanarySection.parse({ steps: [{ hosts: 1, analyze: "2m" }, { percent: 50, analyze: "5m" }, { percent: 100 }] }),
    analysis,
    ...over,
  });

type Judge = (window: NonNullable<Progress["analysis"]>, now: number) => Omit<AnalysisReport, "windowStartedAt"> | undefined;
const passAtEnd: Judge = (w, now) => (now >= w.until ? { outcome: "pass", response: "rollback", reason: "within 1 point" } : { outcome: "running", response: "rollback", reason: `looking (${now - w.startedAt} ms)` });

/** Drives a deployment every 10 s of simulated time, with `judge` answering each look. */
function drive(d: DeploymentSnapshot, fleet: Fleet, judge: Judge = passAtEnd, options: { until?: (s: DeploymentSnapshot) => boolean; now?: number } = {}) {
  let now = options.now ?? 0;
  let current = d;
  const reasons: string[] = [];
  const onNew: number[] = [];
  let result = current.state === "queued" ? step(current, { type: "start", now, hosts: fleet.views }) : step(current, { type: "observe", now, hosts: fleet.views });
  for (let i = 0; i < 2_000; i++) {
    if (result.reason) reasons.push(result.reason);
    fleet.apply(result.effects);
    current = { ...current, state: result.state, progress: result.progress };
    onNew.push([...fleet.hosts.values()].filter((h) => h.actualReleaseId === "v2").length);
    if (["succeeded", "failed", "rolled_back", "paused", "cancelled"].includes(current.state) || options.until?.(current)) break;
    now += 10_000;
    const w = current.progress?.analysis;
    const answer = w && current.progress?.phase === "analyzing" ? judge(w, now) : undefined;
    result = step(current, { type: "observe", now, hosts: fleet.views, ...(answer && w ? { analysis: { ...answer, windowStartedAt: w.startedAt } } : {}) });
  }
  return { final: current, reasons, onNew, now };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);

describe("deployment stages", () => {
  it("plans canary steps as stages of cumulative targets, then the rest", () => {
    const plan = planStages(
      ids(10).map((id) => ({ id })),
      canary({ canary: CanarySection.parse({ steps: [{ hosts: 1, analyze: "2m" }, { percent: 25, analyze: "5m" }, { pause: "until_resumed" }, { percent: 60 }], bake: "10m" }) }),
    );
    assert.deepEqual(
      plan.stages.map((s) => [s.label, s.to - s.from, s.analyze, s.pause]),
      [
        ["canary: 1 host", 1, 2 * MIN, undefined],
        ["canary: 25% (3 hosts)", 1, 5 * MIN, undefined],
        ["pause until resumed", 0, 0, null],
        ["canary: 60% (6 hosts)", 1, 0, undefined],
        ["the rest of the hosts", 2, 0, undefined],
        ["bake 10m", 0, 10 * MIN, undefined],
      ],
    );
    assert.deepEqual(plan.batches.flat(), ids(10), "every host once, in order");
  });

  it("goes in waves by region, the canary in the first, with wave_analyze between regions", () => {
    const hosts = [...ids(4).map((id) => ({ id, region: "us" })), ...["e1", "e2"].map((id) => ({ id, region: "eu" })), { id: "x1" }];
    assert.deepEqual(
      wavesOf(hosts, ["eu", "us"]).map((w) => [w.region, w.hosts.length]),
      [
        ["eu", 2],
        ["us", 4],
        ["(no region)", 1],
      ],
    );
    const plan = planStages(hosts, canary({ regions: ["eu", "us"], wave_analyze: 3 * MIN }));
    assert.deepEqual(
      plan.stages.map((s) => [s.label, s.analyze]),
      [
        ["canary: 1 host of eu", 2 * MIN],
        ["all of eu", 3 * MIN],
        ["region us", 3 * MIN],
        ["region (no region)", 0],
      ],
    );
  });

  it("plans a rollback as one stage, whatever the strategy", () => {
    const plan = planStages(ids(6).map((id) => ({ id, region: id < "h4" ? "a" : "b" })), canary({ regions: ["a", "b"] }), "rollback");
    assert.equal(plan.stages.length, 1);
  });

  it("targets at least one host and never more than the wave", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 100 }), (size, percent) => stepTarget({ percent }, size) >= 1 && stepTarget({ percent }, size) <= size));
  });
});

describe("canary deployments", () => {
  it("promotes step by step after each analysis passes, and records the release live", () => {
    const fleet = new Fleet(ids(4));
    const { final, reasons, onNew } = drive(snapshot({ settings: canary() }), fleet);
    assert.equal(final.state, "succeeded", reasons.join("\n"));
    assert.ok(onNew.includes(1) && onNew.includes(2), "1 host, then half, then all");
    assert.ok(reasons.some((r) => /analysis of canary: 1 host passed: within 1 point/.test(r)), reasons.join("\n"));
    assert.match(reasons[0]!, /3 stages: canary: 1 host \(analyze 2m\) -> canary: 50% \(2 hosts\) \(analyze 5m\) -> all hosts/);
  });

  it("rolls back the canary alone when its first analysis fails", () => {
    const fleet = new Fleet(ids(4));
    const { final, reasons, onNew } = drive(snapshot({ settings: canary() }), fleet, () => ({ outcome: "fail", response: "rollback", reason: "error ratio 5.0% vs 1.0% on baseline" }));
    assert.equal(final.state, "rolled_back");
    assert.ok(reasons.includes("analysis of canary: 1 host failed: error ratio 5.0% vs 1.0% on baseline; returning 1 host to the previous release"), reasons.join("\n"));
    assert.equal(Math.max(...onNew), 1, "no host beyond the canary ever ran the new release");
    assert.ok([...fleet.hosts.values()].every((h) => h.actualReleaseId === "v1"));
  });

  it("pauses for a person when the response is pause; resuming goes on to the next step", () => {
    const fleet = new Fleet(ids(4));
    const { final } = drive(snapshot({ settings: canary() }), fleet, () => ({ outcome: "fail", response: "pause", reason: "p95 latency 212 ms vs 48 ms on baseline" }));
    assert.equal(final.state, "paused");
    assert.match(final.progress!.pausedReason!, /p95 latency 212 ms/);
    const resumed = step(final, { type: "resume", now: 5e6, by: "alice" });
    assert.match(resumed.reason!, /resumed by alice: the analysis of canary: 1 host accepted/);
    const next = step({ ...final, state: resumed.state, progress: resumed.progress }, { type: "observe", now: 5e6 + 1, hosts: fleet.views });
    assert.deepEqual(next.effects, [{ type: "set_desired", hostIds: ["h2"], releaseId: "v2" }]);
  });

  it("records a warning and goes on when the response is warn", () => {
    const fleet = new Fleet(ids(2));
    const { final, reasons } = drive(snapshot({ settings: canary() }), fleet, (w, now) => (now - w.startedAt >= 20_000 ? { outcome: "fail", response: "warn", reason: "memory 310 MB vs 120 MB" } : undefined));
    assert.equal(final.state, "succeeded");
    assert.equal(final.progress!.warnings!.length, 1);
    assert.ok(reasons.some((r) => /^warning: analysis of canary: 1 host failed: memory 310 MB/.test(r)));
    assert.match(reasons.at(-1)!, /1 warning recorded/);
  });

  it("treats an inconclusive end with its response (pause by default)", () => {
    const fleet = new Fleet(ids(3));
    const { final } = drive(snapshot({ settings: canary() }), fleet, (w, now) => (now >= w.until ? { outcome: "inconclusive", response: "pause", reason: "57 requests on the canary, 200 needed" } : { outcome: "running", response: "pause", reason: "…" }));
    assert.equal(final.state, "paused");
    assert.match(final.progress!.pausedReason!, /inconclusive: 57 requests/);
  });

  it("ignores a report about another window, and waits for the end of the window to pass", () => {
    const fleet = new Fleet(ids(2));
    const { final } = drive(snapshot({ settings: canary() }), fleet, undefined, { until: (s) => s.progress?.phase === "analyzing" });
    const w = final.progress!.analysis!;
    const stale = step(final, { type: "observe", now: w.until + 1, hosts: fleet.views, analysis: { windowStartedAt: w.startedAt - 1, outcome: "fail", response: "rollback", reason: "old" } });
    assert.equal(stale.state, "running");
    const early = step(final, { type: "observe", now: w.until - 1, hosts: fleet.views, analysis: { windowStartedAt: w.startedAt, outcome: "pass", response: "rollback", reason: "so far so good" } });
    assert.equal(early.progress!.phase, "analyzing", "a pass before the end of the window does not end it");
  });

  it("fails the analysis when a canary host crashes during it, whatever the metrics say", () => {
    const fleet = new Fleet(ids(3));
    const { final } = drive(snapshot({ settings: canary() }), fleet, undefined, { until: (s) => s.progress?.phase === "analyzing" });
    Object.assign(fleet.hosts.get("h1")!, { processState: "crashloop" });
    const result = step(final, { type: "observe", now: final.progress!.analysis!.startedAt + 10_000, hosts: fleet.views });
    assert.equal(result.state, "rolling_back");
    assert.match(result.reason!, /during the analysis of canary: 1 host: h1 is crash-looping/);
  });

  it("holds a timed pause step, and waits for a person at an until_resumed one", () => {
    const steps = CanarySection.parse({ steps: [{ hosts: 1 }, { pause: "1m" }, { percent: 50 }, { pause: "until_resumed" }, { percent: 100 }] });
    const fleet = new Fleet(ids(4));
    const { final, reasons } = drive(snapshot({ settings: canary({ canary: steps }) }), fleet);
    assert.equal(final.state, "paused");
    assert.ok(reasons.some((r) => /pause 1m: over/.test(r)));
    assert.equal([...fleet.hosts.values()].filter((h) => h.actualReleaseId === "v2").length, 2);
    const resumed = step(final, { type: "resume", now: 9e6, by: "bob" });
    const done = drive({ ...final, state: resumed.state, progress: resumed.progress }, fleet, undefined, { now: 9e6 });
    assert.equal(done.final.state, "succeeded");
  });

  it("without analysis metrics, watches each step's hosts for its time", () => {
    const fleet = new Fleet(ids(2));
    const { analysis: _none, ...rest } = canary();
    const { final, reasons } = drive(snapshot({ settings: rest }), fleet, () => undefined);
    assert.equal(final.state, "succeeded");
    assert.ok(reasons.some((r) => /canary: 1 host watched for 2m: every host healthy/.test(r)));
  });

  it("never runs the new release on more hosts than the step allows before its analysis passed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 12 }), (count, percent, failAtLook) => {
        const fleet = new Fleet(ids(count));
        const first = stepTarget({ hosts: 1 }, count);
        let looks = 0;
        const { final, onNew } = drive(snapshot({ settings: canary({ canary: CanarySection.parse({ steps: [{ hosts: 1, analyze: "2m" }, { percent, analyze: "2m" }] }) }) }), fleet, () =>
          ++looks === failAtLook ? { outcome: "fail", response: "rollback", reason: "bad" } : { outcome: "running", response: "rollback", reason: "…" },
        );
        return final.state === "rolled_back" && Math.max(...onNew) <= first;
      }),
      { numRuns: 200 },
    );
  });
});
