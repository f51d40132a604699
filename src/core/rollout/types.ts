// The deployment state machine's vocabulary: states, per-host progress, what it observes of
// the hosts, the events that drive it and the effects it asks for.
import type { RolloutSettings } from "../manifest/schema.ts";
import type { Stage } from "./stages.ts";

export const DEPLOYMENT_STATES = ["queued", "migrating", "running", "paused", "rolling_back", "succeeded", "failed", "rolled_back", "cancelled"] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

export const TERMINAL_STATES: readonly DeploymentState[] = ["succeeded", "failed", "rolled_back", "cancelled"];
export const isTerminal = (state: DeploymentState): boolean => TERMINAL_STATES.includes(state);
export const isActive = (state: DeploymentState): boolean => state !== "queued" && !isTerminal(state);

export const HOST_STEP_STATUSES = ["pending", "switching", "healthy", "failed", "skipped", "rolling_back", "rolled_back"] as const;
export type HostStepStatus = (typeof HOST_STEP_STATUSES)[number];

export interface HostProgress {
  status: HostStepStatus;
  /** The host's name, for the reasons people read. */
  name?: string;
  /** What the host was meant to run before this deployment changed it; the rollback target. */
  previousReleaseId: string | null;
  reason?: string;
  at?: number;
}

/** An analysis window: the hosts switched so far judged against the baseline from startedAt to until. */
export interface AnalysisWindow {
  stage: number;
  startedAt: number;
  until: number;
  /** The last verdict the controller reported for this window, in words. */
  lastReason?: string;
}

export interface Progress {
  batches: string[][];
  /** Index of the batch being switched or waited after. */
  batch: number;
  /**
   * switching: the batch's hosts are converging; waiting: a pause between batches or before the
   * next stage; analyzing: the stage's hosts are judged (analysis); holding: a timed pause step.
   */
  phase: "switching" | "waiting" | "analyzing" | "holding";
  /** The plan in stages (canary steps, region waves, bake); absent in deployments planned before stages. */
  stages?: Stage[];
  /** Index of the stage in progress. */
  stage?: number;
  analysis?: AnalysisWindow;
  /** Failures whose response was `warn`: recorded, and the deployment went on. */
  warnings?: { at: number; reason: string }[];
  batchStartedAt: number;
  waitUntil?: number;
  hosts: Record<string, HostProgress>;
  migration?: { hostId: string; status: "pending" | "succeeded" | "failed"; startedAt: number; reason?: string };
  rollbackStartedAt?: number;
  pausedReason?: string;
  /** Skipped hosts a person accepted by resuming; only more than these pause again. */
  acceptedSkips?: number;
}

/** What the controller saw of one host when it called the machine. */
export interface HostView {
  id: string;
  name?: string;
  /** The host's region label, for waves. */
  region?: string | undefined;
  reachable: boolean;
  /** The release the host is meant to run (desired state) for this service. */
  desiredReleaseId: string | null;
  /** The release it reports running, with its health. */
  actualReleaseId: string | null;
  health: "healthy" | "unhealthy" | "unknown";
  /** failed: the agent could not install or start it (download, checksum, hook, crash loop). */
  processState: "running" | "starting" | "stopped" | "failed" | "crashloop" | "unknown";
  error?: string | undefined;
  /** When the agent last reported; a failure reported before the host was switched is old news. */
  reportedAt?: number | undefined;
}

export interface DeploymentSnapshot {
  state: DeploymentState;
  releaseId: string;
  kind: "deploy" | "rollback";
  settings: RolloutSettings;
  hasMigration: boolean;
  progress: Progress | null;
}

export type DeploymentEvent =
  | { type: "start"; now: number; hosts: HostView[] }
  | { type: "observe"; now: number; hosts: HostView[]; migration?: { status: "pending" | "succeeded" | "failed"; reason?: string }; analysis?: AnalysisReport }
  | { type: "resume"; now: number; by: string }
  | { type: "rollback"; now: number; by: string; reason: string }
  | { type: "cancel"; now: number; by: string; reason: string };

/**
 * What the controller's look at the metrics of the current analysis window says. `response` is
 * what the settings say a fail or an inconclusive end calls for (per metric, or the analysis').
 */
export interface AnalysisReport {
  /** The window it is about (AnalysisWindow.startedAt); a report about another window is ignored. */
  windowStartedAt: number;
  outcome: "running" | "pass" | "fail" | "inconclusive";
  response: "rollback" | "pause" | "warn";
  reason: string;
}

export type Effect =
  | { type: "set_desired"; hostIds: string[]; releaseId: string | null }
  | { type: "run_migration"; hostId: string }
  | { type: "record_live"; releaseId: string };

export interface StepResult {
  state: DeploymentState;
  progress: Progress | null;
  effects: Effect[];
  /** Why the state changed, in words, when it did. */
  reason?: string;
}
