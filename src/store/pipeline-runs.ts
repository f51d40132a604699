// Pipeline runs and their job rows: creating a run (numbered per service, superseding the
// branch's runs still queued), the controller's work list, compare-and-set job transitions,
// cancellation, and the API's views.
import type { Kysely } from "kysely";
import { notFound } from "../core/errors.ts";
import type { JobState, Run, RunJob, RunState, StepStatus, TestSummary, Trigger } from "../contracts/pipelines.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { iso, isoOrNull, newId } from "./ids.ts";
import type { Database, PipelineJobsTable, PipelineRunsTable } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

export interface NewJob {
  key: string;
  shardIndex: number;
  shardTotal: number;
  labels: unknown;
  testFiles: string[];
  maxAttempts: number;
  retryWhen: string[];
}

export interface NewRun {
  serviceId: string;
  trigger: Trigger;
  branch: string | null;
  sha: string;
  message: string;
  author: string;
  /** The parsed pipeline of the commit, kept with the run. */
  pipeline: unknown;
  gitDescribe: string | null;
  jobs: NewJob[];
  /** Cancel the branch's runs that are still queued (nothing of them has started). */
  supersede: boolean;
  /** Record the run as failed at once, for this reason (a pushed commit whose slipway.yaml is broken). */
  failed?: string;
  /** Written in the same transaction as the run. */
  alsoRecord?: (trx: Kysely<Database>) => Promise<void>;
}

/** Records a run and its jobs; returns the run's row and the runs it superseded. */
export async function createRun(db: Kysely<Database>, actor: ActorContext, input: NewRun): Promise<{ run: PipelineRunsTable; superseded: string[] }> {
  return inTransaction(db, async (trx) => {
    const counter = await trx.updateTable("services").set((eb) => ({ run_counter: eb("run_counter", "+", 1) })).where("id", "=", input.serviceId).where("tenant_id", "=", actor.tenantId).returning("run_counter").executeTakeFirst();
    if (!counter) throw notFound("service", input.serviceId);
    const run: PipelineRunsTable = {
      id: newId("run", actor.now),
      tenant_id: actor.tenantId,
      service_id: input.serviceId,
      number: Number(counter.run_counter),
      state: input.failed === undefined ? "queued" : "failed",
      trigger: input.trigger,
      branch: input.branch,
      sha: input.sha,
      message: input.message,
      author: input.author,
      triggered_by: actor.actorName,
      pipeline: JSON.stringify(input.pipeline),
      git_describe: input.gitDescribe,
      reason: input.failed ?? null,
      release_id: null,
      created_at: actor.now,
      started_at: null,
      finished_at: input.failed === undefined ? null : actor.now,
      version: 0,
    };
    const superseded = input.supersede && input.branch !== null ? await supersedeQueued(trx, input.serviceId, input.branch, run.number, actor.now) : [];
    await trx.insertInto("pipeline_runs").values(run).execute();
    const rows: PipelineJobsTable[] = input.jobs.map((job) => ({
      id: newId("job", actor.now),
      run_id: run.id,
      tenant_id: actor.tenantId,
      job_key: job.key,
      shard_index: job.shardIndex,
      shard_total: job.shardTotal,
      state: "pending",
      labels: JSON.stringify(job.labels ?? null),
      test_files: JSON.stringify(job.testFiles),
      attempt: 0,
      max_attempts: job.maxAttempts,
      retry_when: JSON.stringify(job.retryWhen),
      runner_id: null,
      steps: "[]",
      tests: null,
      kept_sha256: null,
      reason: null,
      cancel_requested: 0,
      queued_at: null,
      claimed_at: null,
      heartbeat_at: null,
      started_at: null,
      finished_at: null,
      log_seq: 0,
    }));
    if (rows.length > 0) await trx.insertInto("pipeline_jobs").values(rows).execute();
    await input.alsoRecord?.(trx);
    await recordAudit(trx, actor, "pipeline.run", { type: "pipeline_run", id: run.id }, { service_id: input.serviceId, number: run.number, trigger: input.trigger, branch: input.branch, sha: input.sha, superseded });
    return { run, superseded };
  });
}

/** Runs of the branch that have not started any job give way to a newer one. */
async function supersedeQueued(trx: Kysely<Database>, serviceId: string, branch: string, number: number, now: number): Promise<string[]> {
  const queued = await trx.selectFrom("pipeline_runs").select(["id"]).where("service_id", "=", serviceId).where("branch", "=", branch).where("state", "=", "queued").execute();
  const superseded: string[] = [];
  for (const { id } of queued) {
    // Claims take only queued jobs and move them to running with a compare-and-set, so once
    // this update has cancelled every job, no runner can start one; a run with a started job
    // keeps going.
    const started = await trx.selectFrom("pipeline_jobs").select("id").where("run_id", "=", id).where("state", "not in", ["pending", "queued"]).executeTakeFirst();
    if (started) continue;
    await trx.updateTable("pipeline_jobs").set({ state: "cancelled", reason: `superseded by run #${number}`, finished_at: now }).where("run_id", "=", id).where("state", "in", ["pending", "queued"]).execute();
    await trx.updateTable("pipeline_runs").set({ state: "superseded", reason: `superseded by run #${number}`, finished_at: now }).where("id", "=", id).where("state", "=", "queued").execute();
    superseded.push(id);
  }
  return superseded;
}

export async function unfinishedRuns(db: Kysely<Database>, limit = 500): Promise<PipelineRunsTable[]> {
  return db.selectFrom("pipeline_runs").selectAll().where("state", "in", ["queued", "running"]).orderBy("created_at").limit(limit).execute();
}

export async function jobsOfRun(db: Kysely<Database>, runId: string): Promise<PipelineJobsTable[]> {
  return db.selectFrom("pipeline_jobs").selectAll().where("run_id", "=", runId).orderBy("job_key").orderBy("shard_index").execute();
}

/** The jobs of each of these runs (in jobsOfRun's order), read in one query. */
export async function jobsOfRuns(db: Kysely<Database>, runIds: readonly string[]): Promise<Map<string, PipelineJobsTable[]>> {
  const byRun = new Map<string, PipelineJobsTable[]>(runIds.map((id) => [id, []]));
  if (runIds.length === 0) return byRun;
  const rows = await db.selectFrom("pipeline_jobs").selectAll().where("run_id", "in", runIds).orderBy("run_id").orderBy("job_key").orderBy("shard_index").execute();
  for (const row of rows) byRun.get(row.run_id)?.push(row);
  return byRun;
}

/** Running jobs across all runs (including cancelled runs whose runner must still stop). */
export async function runningJobs(db: Kysely<Database>): Promise<PipelineJobsTable[]> {
  return db.selectFrom("pipeline_jobs").selectAll().where("state", "=", "running").execute();
}

/** Compare-and-set on a job's state (and attempt, where given). Returns whether it applied. */
export async function transitionJob(
  db: Kysely<Database>,
  job: { id: string; from: JobState; attempt?: number },
  set: Partial<Pick<PipelineJobsTable, "state" | "reason" | "queued_at" | "finished_at" | "runner_id" | "cancel_requested" | "steps" | "tests" | "kept_sha256" | "started_at">>,
): Promise<boolean> {
  let query = db.updateTable("pipeline_jobs").set(set).where("id", "=", job.id).where("state", "=", job.from);
  if (job.attempt !== undefined) query = query.where("attempt", "=", job.attempt);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Compare-and-set on a run's state. */
export async function transitionRun(db: Kysely<Database>, run: Pick<PipelineRunsTable, "id" | "state">, to: RunState, now: number, reason: string | null, extra: Partial<Pick<PipelineRunsTable, "release_id">> = {}): Promise<boolean> {
  const terminal = to !== "queued" && to !== "running";
  const result = await db
    .updateTable("pipeline_runs")
    .set({ state: to, reason, ...(to === "running" ? { started_at: now } : {}), ...(terminal ? { finished_at: now } : {}), ...extra })
    .where("id", "=", run.id)
    .where("state", "=", run.state)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Cancels a run: jobs not yet started are cancelled, running ones are told to stop. */
export async function cancelRun(db: Kysely<Database>, actor: ActorContext, runId: string): Promise<PipelineRunsTable> {
  return inTransaction(db, async (trx) => {
    const run = await getRunRow(trx, actor.tenantId, runId);
    if (run.state !== "queued" && run.state !== "running") return run;
    const reason = `cancelled by ${actor.actorName}`;
    await trx.updateTable("pipeline_jobs").set({ state: "cancelled", reason, finished_at: actor.now }).where("run_id", "=", run.id).where("state", "in", ["pending", "queued"]).execute();
    await trx.updateTable("pipeline_jobs").set({ cancel_requested: 1, reason }).where("run_id", "=", run.id).where("state", "=", "running").execute();
    await transitionRun(trx, run, "cancelled", actor.now, reason);
    await recordAudit(trx, actor, "pipeline.cancel", { type: "pipeline_run", id: run.id }, { number: run.number });
    return { ...run, state: "cancelled", reason, finished_at: actor.now };
  });
}

export async function getRunRow(db: Kysely<Database>, tenantId: string, id: string): Promise<PipelineRunsTable> {
  const row = await db.selectFrom("pipeline_runs").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("pipeline run", id);
  return row;
}

export async function getJobRow(db: Kysely<Database>, tenantId: string, runId: string, jobId: string): Promise<PipelineJobsTable> {
  const row = await db.selectFrom("pipeline_jobs").selectAll().where("tenant_id", "=", tenantId).where("run_id", "=", runId).where("id", "=", jobId).executeTakeFirst();
  if (!row) throw notFound("job", jobId);
  return row;
}

// ---- views ----

interface PipelineShape {
  jobs: Record<string, { name?: string; needs: string[] }>;
}

export function toRunJob(row: PipelineJobsTable, pipeline: PipelineShape, runnerNames: Map<string, string>): RunJob {
  const spec = pipeline.jobs[row.job_key];
  return {
    id: row.id,
    key: row.job_key,
    name: (spec?.name ?? row.job_key) + (row.shard_total > 1 ? ` (${row.shard_index + 1}/${row.shard_total})` : ""),
    shard: row.shard_total > 1 ? { index: row.shard_index, total: row.shard_total } : null,
    needs: spec?.needs ?? [],
    state: row.state as JobState,
    attempt: row.attempt,
    max_attempts: row.max_attempts,
    runner: row.runner_id === null ? null : (runnerNames.get(row.runner_id) ?? row.runner_id),
    steps: JSON.parse(row.steps) as StepStatus[],
    tests: row.tests === null ? null : (JSON.parse(row.tests) as TestSummary),
    test_files: JSON.parse(row.test_files) as string[],
    reason: row.reason,
    queued_at: isoOrNull(row.queued_at),
    started_at: isoOrNull(row.claimed_at),
    finished_at: isoOrNull(row.finished_at),
  };
}

export async function runView(db: Kysely<Database>, run: PipelineRunsTable, serviceName: string): Promise<Run> {
  const jobs = await jobsOfRun(db, run.id);
  const runnerIds = [...new Set(jobs.map((j) => j.runner_id).filter((id): id is string => id !== null))];
  const runners = runnerIds.length === 0 ? [] : await db.selectFrom("hosts").select(["id", "name"]).where("id", "in", runnerIds).execute();
  const release = run.release_id === null ? undefined : await db.selectFrom("releases").select(["id", "version"]).where("id", "=", run.release_id).executeTakeFirst();
  const pipeline = JSON.parse(run.pipeline) as PipelineShape;
  return {
    id: run.id,
    service: serviceName,
    number: run.number,
    state: run.state as RunState,
    trigger: run.trigger as Trigger,
    branch: run.branch,
    sha: run.sha,
    message: run.message,
    author: run.author,
    triggered_by: run.triggered_by,
    reason: run.reason,
    release: release ?? null,
    created_at: iso(run.created_at),
    started_at: isoOrNull(run.started_at),
    finished_at: isoOrNull(run.finished_at),
    jobs: jobs.map((row) => toRunJob(row, pipeline, new Map(runners.map((r) => [r.id, r.name])))),
  };
}

export async function listRunRows(db: Kysely<Database>, tenantId: string, filter: { serviceId?: string; branch?: string | undefined; before?: number | undefined; limit: number }): Promise<PipelineRunsTable[]> {
  let query = db.selectFrom("pipeline_runs").selectAll().where("tenant_id", "=", tenantId);
  if (filter.serviceId) query = query.where("service_id", "=", filter.serviceId);
  if (filter.branch) query = query.where("branch", "=", filter.branch);
  if (filter.before !== undefined) query = query.where("number", "<", filter.before);
  return query.orderBy("created_at", "desc").orderBy("number", "desc").limit(filter.limit).execute();
}
