// The runner protocol (see contracts/runner.ts): claim a job (long-poll), report its status and
// logs while it runs, and finish it.
import { z } from "zod";
import { JobAck, JobFinish, JobLogs, JobStatus, RunnerClaim, RunnerClaimed, type RunnerJob } from "../../contracts/runner.ts";
import { finishJob } from "../../controller/job-finish.ts";
import { notFound } from "../../core/errors.ts";
import { runnerMatches, transitiveNeeds } from "../../core/pipeline/dag.ts";
import { maskSecrets } from "../../core/pipeline/mask.ts";
import type { Job, Pipeline } from "../../core/pipeline/schema.ts";
import { HEARTBEAT_INTERVAL_MS } from "../../core/hosts/reachability.ts";
import { appendJobLogs, claimJob, recordStatus } from "../../store/pipeline-jobs.ts";
import type { Database, PipelineJobsTable } from "../../store/schema.ts";
import { quarantinedTests } from "../../store/test-results.ts";
import { jobVariables } from "../../store/variables.ts";
import type { Kysely } from "kysely";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses } from "./responses.ts";

const JobParams = z.object({ id: z.string().min(1).max(200) });
/** A runner rereads the queue this often while it waits, for jobs queued by another replica. */
const CLAIM_RECHECK_MS = 1_000;

/** Everything a runner needs to run a claimed job, from the run's pipeline and the service. */
async function runnerJob(db: Kysely<Database>, row: PipelineJobsTable): Promise<RunnerJob> {
  const run = await db.selectFrom("pipeline_runs").innerJoin("services", "services.id", "pipeline_runs.service_id").selectAll("pipeline_runs").select(["services.name as service_name", "services.repository_url"]).where("pipeline_runs.id", "=", row.run_id).executeTakeFirstOrThrow();
  const pipeline = JSON.parse(run.pipeline) as Pipeline;
  const spec = pipeline.jobs[row.job_key] as Job;
  const variables = await jobVariables(db, run.service_id);
  // What every job before it kept (its needs, and theirs), as a later stage sees earlier ones' artifacts.
  const before = [...transitiveNeeds(pipeline.jobs, row.job_key)];
  const needed = before.length === 0 ? [] : await db.selectFrom("pipeline_jobs").select(["job_key", "kept_sha256"]).where("run_id", "=", run.id).where("job_key", "in", before).where("kept_sha256", "is not", null).orderBy("job_key").orderBy("shard_index").execute();
  const quarantined = spec.tests ? [...(await quarantinedTests(db, run.service_id))] : [];
  return {
    id: row.id,
    run_id: run.id,
    run_number: run.number,
    attempt: row.attempt,
    service: run.service_name,
    job: row.job_key,
    shard: row.shard_total > 1 ? { index: row.shard_index, total: row.shard_total } : null,
    repository_url: run.repository_url,
    sha: run.sha,
    branch: run.branch,
    env: { ...variables.env, ...pipeline.env, ...spec.env },
    secrets: variables.secrets,
    steps: spec.steps.map((step, index) => ({ name: step.name ?? `step ${index + 1}`, run: step.run, env: step.env, timeout_ms: step.timeout, working_directory: step.working_directory ?? null })),
    tests: spec.tests
      ? { command: spec.tests.command, files: JSON.parse(row.test_files) as string[], reports: spec.tests.reports, retries: spec.tests.retries, working_directory: spec.tests.working_directory ?? null, env: spec.tests.env, timeout_ms: spec.tests.timeout, quarantined }
      : null,
    package: spec.package ? { files: spec.package.files, working_directory: spec.package.working_directory ?? null } : null,
    artifacts: spec.artifacts,
    inputs: needed.map((n) => ({ job: n.job_key, sha256: n.kept_sha256! })),
    timeout_ms: spec.timeout,
    heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
  };
}

/** The job, if it is this tenant's; another tenant's job is not found, as everywhere. */
async function tenantJob(db: Kysely<Database>, tenantId: string, id: string): Promise<{ run_id: string; service_id: string }> {
  const job = await db
    .selectFrom("pipeline_jobs")
    .innerJoin("pipeline_runs", "pipeline_runs.id", "pipeline_jobs.run_id")
    .select(["pipeline_jobs.run_id", "pipeline_runs.service_id"])
    .where("pipeline_jobs.id", "=", id)
    .where("pipeline_jobs.tenant_id", "=", tenantId)
    .executeTakeFirst();
  if (!job) throw notFound("job", id);
  return job;
}

export function runnerRoutes(app: TypedApp, deps: AppDeps): void {
  const { store: { db, dialect }, changes, clock, blobs } = deps;
  const tags = ["runner"];

  app.post("/runner/claim", { schema: { tags, body: RunnerClaim, response: { 200: RunnerClaimed, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "runner:work", clock());
    const host = await db.selectFrom("hosts").select(["id", "labels", "roles"]).where("tenant_id", "=", auth.tenantId).where("id", "=", request.body.host_id).executeTakeFirst();
    if (!host) throw notFound("host", request.body.host_id);
    const labels = JSON.parse(host.labels) as Record<string, string>;
    const closed = new AbortController();
    request.raw.once("close", () => closed.abort());
    const deadline = Date.now() + request.body.wait_ms;
    for (;;) {
      const now = clock();
      await db.updateTable("hosts").set({ last_heartbeat_at: now }).where("id", "=", host.id).execute();
      const claimed = await claimJob(db, dialect, { tenantId: auth.tenantId, hostId: host.id, matches: (runsOn) => runnerMatches((runsOn ?? undefined) as Job["runs_on"], labels), now });
      if (claimed) {
        changes.tenantChanged({ tenantId: auth.tenantId, kind: "run", id: claimed.run_id });
        return { job: await runnerJob(db, claimed) };
      }
      const left = deadline - Date.now();
      if (left <= 0 || closed.signal.aborted) return { job: null };
      await changes.waitForJobs(auth.tenantId, Math.min(left, CLAIM_RECHECK_MS), closed.signal);
    }
  });

  app.post("/runner/jobs/:id/status", { schema: { tags, params: JobParams, body: JobStatus, response: { 200: JobAck, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "runner:work", clock());
    const job = await tenantJob(db, auth.tenantId, request.params.id);
    const ack = await recordStatus(db, { jobId: request.params.id, hostId: request.body.host_id, attempt: request.body.attempt }, request.body.steps, clock());
    if (request.body.steps.length > 0) changes.tenantChanged({ tenantId: auth.tenantId, kind: "run", id: job.run_id });
    return ack;
  });

  app.post("/runner/jobs/:id/logs", { schema: { tags, params: JobParams, body: JobLogs, response: { 200: JobAck, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "runner:work", clock());
    const job = await tenantJob(db, auth.tenantId, request.params.id);
    // Runners mask secrets before sending; the server masks again, in case one did not.
    const { secrets } = await jobVariables(db, job.service_id);
    const result = await appendJobLogs(db, { jobId: request.params.id, hostId: request.body.host_id, attempt: request.body.attempt }, request.body.lines, (text) => maskSecrets(text, secrets));
    if (result.accepted > 0) changes.jobLogged(request.params.id);
    return { cancel: result.cancel };
  });

  // Test results of a large shard run to megabytes.
  app.post("/runner/jobs/:id/finish", { bodyLimit: 64 * 1024 * 1024, schema: { tags, params: JobParams, body: JobFinish, response: { 200: JobAck, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "runner:work", clock());
    await tenantJob(db, auth.tenantId, request.params.id);
    const result = await finishJob({ db, changes, blobs, logger: request.log }, { tenantId: auth.tenantId, jobId: request.params.id }, request.body, clock());
    return { cancel: result.cancel };
  });
}
