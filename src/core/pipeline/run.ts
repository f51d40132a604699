// The pipeline run as a state machine over its job rows (one row per shard). Given what the
// store holds, these functions say what happens next: which pending jobs are queued because
// their needs are met, which are skipped because a need failed, which running jobs lost their
// runner or ran past their timeout, what a finished attempt leads to, and the run's own state.
// The controller writes each answer as compare-and-set updates, so a server killed between
// two of them resumes from what the database says.
import { isTerminalJobState, readyJobs, type JobState } from "./dag.ts";

export const RUN_STATES = ["queued", "running", "succeeded", "failed", "cancelled", "superseded"] as const;
export type RunState = (typeof RUN_STATES)[number];

export type RetryCause = "failure" | "runner_lost";

export interface JobView {
  id: string;
  key: string;
  state: JobState;
  attempt: number;
  maxAttempts: number;
  retryWhen: RetryCause[];
  heartbeatAt: number | null;
  claimedAt: number | null;
  timeoutMs: number;
}

export type JobAction =
  | { type: "queue"; jobId: string }
  | { type: "skip"; jobId: string; reason: string }
  | { type: "requeue"; jobId: string; attempt: number; reason: string }
  | { type: "fail"; jobId: string; attempt: number; reason: string };

const TERMINAL_RUN_STATES: readonly RunState[] = ["succeeded", "failed", "cancelled", "superseded"];
const isTerminalJob = isTerminalJobState;
export const isTerminalRun = (state: RunState): boolean => TERMINAL_RUN_STATES.includes(state);

/** A job id's state across its shards: failed if any failed, succeeded once all did. */
export function keyState(shards: Pick<JobView, "state">[]): JobState {
  const states = new Set(shards.map((s) => s.state));
  for (const bad of ["failed", "cancelled", "skipped"] as const) if (states.has(bad) && shards.every((s) => isTerminalJob(s.state))) return bad;
  if (states.has("failed")) return "failed";
  if (shards.every((s) => s.state === "succeeded")) return "succeeded";
  if (states.has("running") || states.has("succeeded")) return "running";
  if (states.has("queued")) return "queued";
  return "pending";
}

export interface Timing {
  now: number;
  /** A running job whose runner has not been heard from for this long has lost its runner. */
  runnerLostAfterMs: number;
  /** A running job is failed this long after its own timeout, if its runner has not ended it. */
  timeoutGraceMs: number;
}

/** What the controller does to a run's jobs now: queue, skip, and deal with lost or overdue runners. */
export function advanceJobs(jobs: JobView[], needs: Record<string, string[]>, timing: Timing): JobAction[] {
  const byKey = new Map<string, JobView[]>();
  for (const job of jobs) byKey.set(job.key, [...(byKey.get(job.key) ?? []), job]);
  const states = Object.fromEntries([...byKey].map(([key, shards]) => [key, keyState(shards)]));
  const graph = Object.fromEntries(Object.keys(states).map((key) => [key, { needs: needs[key] ?? [] }]));
  const { queue, skip } = readyJobs(graph, states);
  const actions: JobAction[] = [];
  for (const key of queue) for (const job of byKey.get(key) ?? []) if (job.state === "pending") actions.push({ type: "queue", jobId: job.id });
  for (const key of skip) {
    const blocker = (needs[key] ?? []).find((need) => states[need] !== "succeeded" && states[need] !== undefined) ?? "a job it needs";
    for (const job of byKey.get(key) ?? []) if (job.state === "pending") actions.push({ type: "skip", jobId: job.id, reason: `${blocker} did not succeed` });
  }
  for (const job of jobs) {
    if (job.state !== "running") continue;
    const lost = runnerLost(job, timing);
    if (lost) actions.push(retryOrFail(job, "runner_lost", lost));
    else if (job.claimedAt !== null && timing.now > job.claimedAt + job.timeoutMs + timing.timeoutGraceMs) {
      actions.push({ type: "fail", jobId: job.id, attempt: job.attempt, reason: `timed out after ${Math.round(job.timeoutMs / 1000)} s` });
    }
  }
  return actions;
}

function runnerLost(job: JobView, { now, runnerLostAfterMs }: Timing): string | undefined {
  const heardAt = job.heartbeatAt ?? job.claimedAt;
  if (heardAt === null || now - heardAt <= runnerLostAfterMs) return undefined;
  return `the runner stopped reporting ${Math.round((now - heardAt) / 1000)} s ago`;
}

function retryOrFail(job: JobView, cause: RetryCause, reason: string): JobAction {
  if (job.retryWhen.includes(cause) && job.attempt < job.maxAttempts) {
    return { type: "requeue", jobId: job.id, attempt: job.attempt, reason: `${reason}; retrying (attempt ${job.attempt + 1} of ${job.maxAttempts})` };
  }
  return { type: "fail", jobId: job.id, attempt: job.attempt, reason };
}

/** What a finished attempt leads to: the job's final state, or back to the queue for a retry. */
export function afterAttempt(job: Pick<JobView, "attempt" | "maxAttempts" | "retryWhen">, outcome: "succeeded" | "failed" | "cancelled"): "succeeded" | "failed" | "cancelled" | "queued" {
  if (outcome === "failed" && job.retryWhen.includes("failure") && job.attempt < job.maxAttempts) return "queued";
  return outcome;
}

/** The run's state from its jobs: running once one was claimed, and finished when all are. */
export function runState(current: RunState, jobs: Pick<JobView, "state" | "key">[]): { state: RunState; reason?: string } {
  if (isTerminalRun(current)) return { state: current };
  if (jobs.length > 0 && jobs.every((j) => isTerminalJob(j.state))) {
    const failed = [...new Set(jobs.filter((j) => j.state === "failed").map((j) => j.key))];
    if (failed.length > 0) return { state: "failed", reason: `${failed.join(", ")} failed` };
    if (jobs.some((j) => j.state === "cancelled")) return { state: "cancelled", reason: "cancelled" };
    return { state: "succeeded", reason: "every job succeeded" };
  }
  const started = jobs.some((j) => j.state !== "pending" && j.state !== "queued");
  return { state: started ? "running" : current };
}
