import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Fleet, host, settings, snapshot } from "../../../test/support/rollout-sim.ts";
import { step } from "./machine.ts";
import { resolveCount } from "./plan.ts";
import type { DeploymentSnapshot } from "./types.ts";

function drive(d: DeploymentSnapshot, fleet: Fleet, options: { broken?: Set<string>; maxSteps?: number } = {}) {
  let now = 1_000;
  let current = d;
  const reasons: string[] = [];
  let result = step(current, { type: "start", now, hosts: fleet.views });
  for (let i = 0; i < (options.maxSteps ?? 100); i++) {
    if (result.reason) reasons.push(result.reason);
    fleet.apply(result.effects, true, options.broken);
    current = { ...current, state: result.state, progress: result.progress };
    if (["succeeded", "failed", "rolled_back", "paused", "cancelled"].includes(current.state)) break;
    now += 1_000;
    result = step(current, { type: "observe", now, hosts: fleet.views });
  }
  return { final: current, reasons };
}

describe("deployment state machine", () => {
  it("rolls out in batches and records the release as live", () => {
    const fleet = new Fleet(["h1", "h2", "h3", "h4"]);
    const { final, reasons } = drive(snapshot({ settings: settings({ batch_size: 2, max_unavailable: 2 }) }), fleet);
    assert.equal(final.state, "succeeded");
    assert.deepEqual(final.progress!.batches, [["h1", "h2"], ["h3", "h4"]]);
    assert.ok(reasons.some((r) => /batch 2 of 2/.test(r)));
    assert.ok([...fleet.hosts.values()].every((h) => h.actualReleaseId === "v2"));
  });

  it("rolls back the hosts already updated when the second batch fails its health check", () => {
    const fleet = new Fleet(["h1", "h2", "h3", "h4"]);
    const { final, reasons } = drive(snapshot({ settings: settings({ batch_size: 2, max_unavailable: 2 }) }), fleet, { broken: new Set(["h3"]) });
    assert.equal(final.state, "rolled_back");
    assert.ok(reasons.some((r) => /batch 2 failed \(h3: health check failed: 500\)/.test(r)), reasons.join("\n"));
    assert.ok([...fleet.hosts.values()].every((h) => h.actualReleaseId === "v1" && h.desiredReleaseId === "v1"));
  });

  it("pauses instead of rolling back when on_failure is pause, and retries the failed hosts on resume", () => {
    const fleet = new Fleet(["h1", "h2"]);
    const { final } = drive(snapshot({ settings: settings({ batch_size: 1, on_failure: "pause" }) }), fleet, { broken: new Set(["h1"]) });
    assert.equal(final.state, "paused");
    assert.match(final.progress!.pausedReason!, /h1/);
    const resumed = step(final, { type: "resume", now: 99_000, by: "alice" });
    assert.equal(resumed.state, "running");
    assert.equal(resumed.progress!.hosts.h1!.status, "switching");
    assert.match(resumed.reason!, /resumed by alice; checking h1 again/);
  });

  it("fails a host that does not become healthy within the health timeout", () => {
    const d = snapshot({ settings: settings({ strategy: "all_at_once", health_timeout: 5_000 }) });
    const started = step(d, { type: "start", now: 0, hosts: [host("h1")] });
    const running = { ...d, state: started.state, progress: started.progress };
    assert.equal(step(running, { type: "observe", now: 4_000, hosts: [host("h1", { desiredReleaseId: "v2" })] }).state, "running");
    const late = step(running, { type: "observe", now: 6_000, hosts: [host("h1", { desiredReleaseId: "v2" })] });
    assert.equal(late.state, "rolling_back");
    assert.match(late.reason!, /not healthy after 5s/);
  });

  it("skips an unreachable host and succeeds without it, up to max_unreachable", () => {
    const fleet = new Fleet(["h1", "h2", "h3"]);
    fleet.hosts.get("h2")!.reachable = false;
    const { final, reasons } = drive(snapshot({ settings: settings({ batch_size: 1, max_unreachable: 1 }) }), fleet);
    assert.equal(final.state, "succeeded");
    assert.equal(final.progress!.hosts.h2!.status, "skipped");
    assert.equal(fleet.hosts.get("h2")!.desiredReleaseId, "v2", "the skipped host converges when it returns");
    assert.ok(reasons.some((r) => /skipped h2/.test(r)));
  });

  it("pauses when more hosts are unreachable than allowed", () => {
    const fleet = new Fleet(["h1", "h2", "h3"]);
    fleet.hosts.get("h1")!.reachable = false;
    fleet.hosts.get("h2")!.reachable = false;
    const { final } = drive(snapshot({ settings: settings({ strategy: "all_at_once", max_unreachable: 1 }) }), fleet);
    assert.equal(final.state, "paused");
    assert.match(final.progress!.pausedReason!, /2 hosts unreachable, more than the 1 allowed/);
  });

  it("runs the migration on one host before any host switches, and stops if it fails", () => {
    const d = snapshot({ hasMigration: true });
    const started = step(d, { type: "start", now: 0, hosts: [host("h1", { reachable: false }), host("h2")] });
    assert.equal(started.state, "migrating");
    assert.deepEqual(started.effects, [{ type: "run_migration", hostId: "h2" }]);
    const migrating = { ...d, state: started.state, progress: started.progress };
    const failed = step(migrating, { type: "observe", now: 10, hosts: [host("h2")], migration: { status: "failed", reason: "exit 1" } });
    assert.equal(failed.state, "failed");
    assert.deepEqual(failed.effects, []);
    assert.match(failed.reason!, /no host was changed/);
    const ok = step(migrating, { type: "observe", now: 10, hosts: [host("h1"), host("h2")], migration: { status: "succeeded" } });
    assert.equal(ok.state, "running");
    assert.equal(ok.effects[0]?.type, "set_desired");
  });

  it("waits the pause between batches before starting the next", () => {
    const d = snapshot({ settings: settings({ batch_size: 1, pause_between_batches: 30_000 }) });
    let result = step(d, { type: "start", now: 0, hosts: [host("h1"), host("h2")] });
    let current = { ...d, state: result.state, progress: result.progress };
    result = step(current, { type: "observe", now: 1_000, hosts: [host("h1", { actualReleaseId: "v2" }), host("h2")] });
    assert.equal(result.progress!.phase, "waiting");
    current = { ...current, state: result.state, progress: result.progress };
    assert.deepEqual(step(current, { type: "observe", now: 20_000, hosts: [host("h1", { actualReleaseId: "v2" }), host("h2")] }).effects, []);
    assert.deepEqual(step(current, { type: "observe", now: 31_000, hosts: [host("h1", { actualReleaseId: "v2" }), host("h2")] }).effects, [{ type: "set_desired", hostIds: ["h2"], releaseId: "v2" }]);
  });

  it("fails when no host matches the environment", () => {
    assert.equal(step(snapshot(), { type: "start", now: 0, hosts: [] }).state, "failed");
  });

  it("never has more than max_unavailable hosts switching at once, and always ends", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constantFrom("10%", "25%", "50%", "100%")),
        fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constantFrom("10%", "25%", "50%")),
        fc.array(fc.nat(), { maxLength: 5 }),
        (count, batchSize, maxUnavailable, brokenIndexes) => {
          const ids = Array.from({ length: count }, (_, i) => `h${i}`);
          const fleet = new Fleet(ids);
          const broken = new Set(brokenIndexes.map((i) => ids[i % count]!));
          const d = snapshot({ settings: settings({ batch_size: batchSize, max_unavailable: maxUnavailable }) });
          const limit = resolveCount(maxUnavailable, count);
          let now = 0;
          let result = step(d, { type: "start", now, hosts: fleet.views });
          let current = d;
          for (let i = 0; i < 200; i++) {
            const switching = Object.values(result.progress?.hosts ?? {}).filter((h) => h.status === "switching").length;
            if (switching > limit) return false;
            fleet.apply(result.effects, true, broken);
            current = { ...current, state: result.state, progress: result.progress };
            if (["succeeded", "rolled_back", "failed"].includes(current.state)) return broken.size === 0 ? current.state === "succeeded" : current.state === "rolled_back";
            now += 1_000;
            result = step(current, { type: "observe", now, hosts: fleet.views });
          }
          return false;
        },
      ),
      { numRuns: 300 },
    );
  });
});
