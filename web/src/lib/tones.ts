// Colour for every state the dashboard shows: ok (green), active (blue), warn (amber),
// bad (red), idle (grey). Exhaustive, so a new state is a type error until it has a colour.
import type { DeploymentState, HostProgress, HostServiceState } from "./api.ts";
import type { LookOutcome, StageStatus } from "./deployments.ts";
import type { JobState, RunState, StepState, TestOutcome } from "./pipelines.ts";

export type Tone = "ok" | "active" | "warn" | "bad" | "idle";

function assertNever(value: never): never {
  throw new Error(`unhandled state ${String(value)}`);
}

export function deploymentTone(state: DeploymentState): Tone {
  switch (state) {
    case "succeeded":
      return "ok";
    case "migrating":
    case "running":
      return "active";
    case "paused":
    case "rolling_back":
    case "rolled_back":
      return "warn";
    case "failed":
      return "bad";
    case "queued":
    case "cancelled":
      return "idle";
    default:
      return assertNever(state);
  }
}

export function hostProgressTone(status: HostProgress["status"]): Tone {
  switch (status) {
    case "healthy":
      return "ok";
    case "switching":
      return "active";
    case "skipped":
    case "rolling_back":
    case "rolled_back":
      return "warn";
    case "failed":
      return "bad";
    case "pending":
      return "idle";
    default:
      return assertNever(status);
  }
}

export function stageTone(status: StageStatus): Tone {
  switch (status) {
    case "done":
      return "ok";
    case "switching":
    case "analyzing":
    case "holding":
      return "active";
    case "paused":
    case "skipped":
      return "warn";
    case "failed":
      return "bad";
    case "pending":
      return "idle";
    default:
      return assertNever(status);
  }
}

/** A look at a canary's metric: running (no decision yet) is in progress. */
export function outcomeTone(outcome: LookOutcome): Tone {
  switch (outcome) {
    case "pass":
      return "ok";
    case "running":
      return "active";
    case "inconclusive":
      return "warn";
    case "fail":
      return "bad";
    default:
      return assertNever(outcome);
  }
}

export function runTone(state: RunState): Tone {
  switch (state) {
    case "succeeded":
      return "ok";
    case "running":
      return "active";
    case "failed":
      return "bad";
    case "queued":
    case "cancelled":
    case "superseded":
      return "idle";
    default:
      return assertNever(state);
  }
}

/** Jobs and their steps share their states, but for `queued`, which only a job has. */
export function jobTone(state: JobState | StepState): Tone {
  switch (state) {
    case "succeeded":
      return "ok";
    case "running":
      return "active";
    case "failed":
      return "bad";
    case "pending":
    case "queued":
    case "cancelled":
    case "skipped":
      return "idle";
    default:
      return assertNever(state);
  }
}

/** A flaky test passed in the end, but needs someone's attention. */
export function testTone(outcome: TestOutcome): Tone {
  switch (outcome) {
    case "passed":
      return "ok";
    case "flaky":
      return "warn";
    case "failed":
      return "bad";
    case "skipped":
      return "idle";
    default:
      return assertNever(outcome);
  }
}

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
