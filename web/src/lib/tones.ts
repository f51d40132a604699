// Colour for every state the dashboard shows: ok (green), active (blue), warn (amber),
// bad (red), idle (grey).
import type { DeploymentState, HostProgress, HostServiceState } from "./api.ts";
import type { LookOutcome, StageStatus } from "./deployments.ts";
import type { JobState, RunState, StepState, TestOutcome } from "./pipelines.ts";

export type Tone = "ok" | "active" | "warn" | "bad" | "idle";

// One table per kind of state: a Record needs every state as a key, so a state without a colour
// does not compile.
const tone =
  <S extends string>(table: Record<S, Tone>) =>
  (state: S): Tone =>
    table[state];

export const deploymentTone = tone<DeploymentState>({
  succeeded: "ok",
  migrating: "active",
  running: "active",
  paused: "warn",
  rolling_back: "warn",
  rolled_back: "warn",
  failed: "bad",
  queued: "idle",
  cancelled: "idle",
});

export const hostProgressTone = tone<HostProgress["status"]>({
  healthy: "ok",
  switching: "active",
  skipped: "warn",
  rolling_back: "warn",
  rolled_back: "warn",
  failed: "bad",
  pending: "idle",
});

export const stageTone = tone<StageStatus>({
  done: "ok",
  switching: "active",
  analyzing: "active",
  holding: "active",
  paused: "warn",
  skipped: "warn",
  failed: "bad",
  pending: "idle",
});

/** A look at a canary's metric: running (no decision yet) is in progress. */
export const outcomeTone = tone<LookOutcome>({ pass: "ok", running: "active", inconclusive: "warn", fail: "bad" });

export const runTone = tone<RunState>({ succeeded: "ok", running: "active", failed: "bad", queued: "idle", cancelled: "idle", superseded: "idle" });

/** Jobs and their steps share their states, but for `queued`, which only a job has. */
export const jobTone = tone<JobState | StepState>({ succeeded: "ok", running: "active", failed: "bad", pending: "idle", queued: "idle", cancelled: "idle", skipped: "idle" });

/** A flaky test passed in the end, but needs someone's attention. */
export const testTone = tone<TestOutcome>({ passed: "ok", flaky: "warn", failed: "bad", skipped: "idle" });

/** A host as the environment sees it: unreachable trumps everything, then health. */
export function hostCondition(host: HostServiceState): { label: string; tone: Tone } {
  if (!host.reachable) return { label: "unreachable", tone: "bad" };
  if (host.process_state === "crashloop") return { label: "crash loop", tone: "bad" };
  if (host.process_state === "failed") return { label: "failed", tone: "bad" };
  if (host.health === "healthy") return { label: "healthy", tone: "ok" };
  if (host.health === "unhealthy") return { label: "unhealthy", tone: "bad" };
  if (host.process_state === "starting") return { label: "starting", tone: "active" };
  if (host.process_state === "stopped") return { label: "stopped", tone: "idle" };
  return { label: host.actual_version ? "unknown" : "not deployed", tone: "idle" };
}

export const stateLabel = (state: string): string => state.replaceAll("_", " ");
