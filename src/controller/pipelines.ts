// The pipeline controller: the loop that drives every unfinished run. Each pass reads a run's
// job rows, asks core/pipeline/run.ts what follows (queue the jobs whose needs succeeded, skip
// those whose needs failed, retry or fail jobs whose runner went silent), and writes each answer
// as a compare-and-set, so replicas can share the work and a server killed between two writes
// resumes from what the database says. It holds no state between passes.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { advanceJobs, runState, type JobView, type RetryCause } from "../core/pipeline/run.ts";
import type { JobState } from "../core/pipeline/dag.ts";
import type { RunState } from "../core/pipeline/run.ts";
import type { Changes } from "../store/changes.ts";
import { PassLoop } from "./pass-loop.ts";
import { appendSystemLog } from "../store/pipeline-jobs.ts";
import { jobsOfRun, jobsOfRuns, runningJobs, transitionJob, transitionRun, unfinishedRuns } from "../store/pipeline-runs.ts";
import type { Database, PipelineJobsTable, PipelineRunsTable } from "../store/schema.ts";
import { recordAudit } from "../store/audit.ts";

export interface PipelineControllerDeps {
  db: Kysely<Database>;
  changes: Changes;
  clock: () => number;
  logger: Pick<Logger, "info" | "warn" | "error" | "debug">;
  intervalMs?: number;
  /** A running job whose runner has been silent this long is given up on (retried or failed). */
  runnerLostAfterMs?: number;
}

interface StoredPipeline {
  jobs: Record<string, { needs: string[]; timeout: number }>;
}

export function jobView(row: PipelineJobsTable, pipeline: StoredPipeline): JobView {
  return {
    id: row.id,
    key: row.job_key,
    state: row.state as JobState,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    retryWhen: JSON.parse(row.retry_when) as RetryCause[],
    heartbeatAt: row.heartbeat_at,
    claimedAt: row.claimed_at,
    timeoutMs: pipeline.jobs[row.job_key]?.timeout ?? 3_600_000,
  };
}

export class PipelineController {
  private readonly deps: PipelineControllerDeps;
  private readonly loop: PassLoop;

  constructor(deps: PipelineControllerDeps) {
    this.deps = deps;
    this.loop = new PassLoop({
      pass: () => this.pass(),
      onError: (error) => deps.logger.error({ err: error }, "pipeline controller pass failed"),
      changes: deps.changes,
      wakeOn: ["run"],
      intervalMs: deps.intervalMs ?? 500,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  poke(): void {
    this.loop.poke();
  }

  /** One pass over every unfinished run, then over jobs still running in finished runs. Exposed for tests. */
  async pass(): Promise<void> {
    const runs = await unfinishedRuns(this.deps.db);
    // Every run's jobs in one query: a pass over hundreds of queued runs is not hundreds of reads.
    const jobs = await jobsOfRuns(this.deps.db, runs.map((run) => run.id));
    for (const run of runs) {
      try {
        await this.advance(run, jobs.get(run.id) ?? []);
      } catch (error) {
        this.deps.logger.error({ err: error, run: run.id }, "could not advance pipeline run");
      }
    }
    await this.reapOrphans();
  }

  private timing() {
    return { now: this.deps.clock(), runnerLostAfterMs: this.deps.runnerLostAfterMs ?? 30_000, timeoutGraceMs: 60_000 };
  }

  /** `read`: the run's jobs as the pass read them, which may be older than the pass's clock. */
  private async advance(run: PipelineRunsTable, read: PipelineJobsTable[]): Promise<void> {
    const { db, changes } = this.deps;
    const pipeline = JSON.parse(run.pipeline) as StoredPipeline;
    const needs = Object.fromEntries(Object.entries(pipeline.jobs).map(([key, job]) => [key, job.needs]));
    let rows = read;
    let timing = this.timing();
    let actions = advanceJobs(rows.map((row) => jobView(row, pipeline)), needs, timing);
    if (actions.length > 0) {
      // Decided again on rows read now: a heartbeat that came in since the pass's read must not
      // make a runner look lost. Terminal job states never change, so the rest may use `read`.
      rows = await jobsOfRun(db, run.id);
      timing = this.timing();
      actions = advanceJobs(rows.map((row) => jobView(row, pipeline)), needs, timing);
    }
    let queued = false;
    for (const action of actions) {
      const row = rows.find((r) => r.id === action.jobId)!;
      let applied = false;
      switch (action.type) {
        case "queue":
          applied = await transitionJob(db, { id: row.id, from: "pending" }, { state: "queued", queued_at: timing.now });
          queued ||= applied;
          break;
        case "skip":
          applied = await transitionJob(db, { id: row.id, from: "pending" }, { state: "skipped", reason: action.reason, finished_at: timing.now });
          break;
        case "requeue":
          applied = await transitionJob(db, { id: row.id, from: "running", attempt: action.attempt }, { state: "queued", reason: action.reason, queued_at: timing.now, runner_id: null });
          if (applied) await appendSystemLog(db, row.id, action.attempt, action.reason, timing.now);
          queued ||= applied;
          break;
        case "fail":
          applied = await transitionJob(db, { id: row.id, from: "running", attempt: action.attempt }, { state: "failed", reason: action.reason, finished_at: timing.now });
          if (applied) await appendSystemLog(db, row.id, action.attempt, action.reason, timing.now);
          break;
      }
      if (applied) {
        this.deps.logger.info({ run: run.id, job: row.job_key, shard: row.shard_index, action: action.type, reason: "reason" in action ? action.reason : undefined }, "pipeline job");
        changes.jobLogged(row.id);
      }
    }
    if (queued) changes.jobsQueued(run.tenant_id);
    const fresh = actions.length > 0 ? await jobsOfRun(db, run.id) : rows;
    const next = runState(run.state as RunState, fresh.map((r) => ({ key: r.job_key, state: r.state as JobState })));
    if (next.state !== run.state && (await transitionRun(db, run, next.state, timing.now, next.reason ?? null))) {
      this.deps.logger.info({ run: run.id, number: run.number, from: run.state, to: next.state, reason: next.reason }, "pipeline run transition");
      if (next.state !== "running") {
        await recordAudit(db, { tenantId: run.tenant_id, userId: null, actorName: "slipway", requestId: null, ip: null, now: timing.now }, `pipeline.${next.state}`, { type: "pipeline_run", id: run.id }, { number: run.number, reason: next.reason ?? null });
      }
    }
    if (actions.length > 0 || next.state !== run.state) changes.tenantChanged({ tenantId: run.tenant_id, kind: "run", id: run.id });
  }

  /** A cancelled run's job whose runner vanished before it could stop is ended here. */
  private async reapOrphans(): Promise<void> {
    const timing = this.timing();
    for (const row of await runningJobs(this.deps.db)) {
      if (row.cancel_requested !== 1) continue;
      const silentFor = timing.now - (row.heartbeat_at ?? row.claimed_at ?? timing.now);
      if (silentFor <= timing.runnerLostAfterMs) continue;
      if (await transitionJob(this.deps.db, { id: row.id, from: "running", attempt: row.attempt }, { state: "cancelled", finished_at: timing.now })) {
        this.deps.changes.jobLogged(row.id);
      }
    }
  }
}
