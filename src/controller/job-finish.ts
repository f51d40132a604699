// A runner's finished attempt: the server, not the runner, decides what it means. Test results
// are classified over the attempts (a test that failed and then passed on the same commit is
// flaky; one that failed every time is not), quarantined failures are forgiven, flaky tests
// may be quarantined automatically, and the packaging job's artifact becomes the run's release
// — only when every other job of the run succeeded — which an environment with `auto` deploys.
// Everything an attempt changes is written in one transaction with a compare-and-set on the
// job's attempt, so a report sent twice (a retry after a lost answer) counts once.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { BlobStore } from "../artifacts/blob-store.ts";
import { manifestOf } from "../artifacts/manifest.ts";
import { SlipwayError } from "../core/errors.ts";
import { afterAttempt, type RetryCause } from "../core/pipeline/run.ts";
import type { Pipeline } from "../core/pipeline/schema.ts";
import { renderVersion } from "../core/pipeline/version.ts";
import { classifyAttempts, quarantineDecision, testJobVerdict, type ClassifiedTest, type JobVerdict } from "../core/testing/flaky.ts";
import type { TestResult } from "../core/testing/junit.ts";
import type { TestSummary } from "../contracts/pipelines.ts";
import type { JobFinish, ReportedTest } from "../contracts/runner.ts";
import type { ActorContext } from "../store/audit.ts";
import type { Changes } from "../store/changes.ts";
import { createDeployment } from "../store/deployments.ts";
import { appendSystemLog } from "../store/pipeline-jobs.ts";
import { jobsOfRun, transitionJob } from "../store/pipeline-runs.ts";
import { insertRelease } from "../store/releases.ts";
import type { Database, PipelineJobsTable, PipelineRunsTable } from "../store/schema.ts";
import { getService } from "../store/services.ts";
import { earlierFailures, quarantineTest, quarantinedTests, recentOutcomes, recordTestBatch, type TestRecord } from "../store/test-results.ts";
import { inTransaction } from "../store/transaction.ts";

export interface JobFinishDeps {
  db: Kysely<Database>;
  changes: Changes;
  blobs: BlobStore;
  logger: Pick<Logger, "info" | "warn" | "error">;
}

const toTestResult = (t: ReportedTest): TestResult => ({
  id: t.id,
  name: t.name,
  durationMs: t.duration_ms,
  status: t.status,
  ...(t.classname !== null ? { classname: t.classname } : {}),
  ...(t.file !== null ? { file: t.file } : {}),
  ...(t.message !== null ? { message: t.message } : {}),
});

interface Outcome {
  state: "succeeded" | "failed" | "cancelled";
  reason: string | null;
  tests?: { classified: Map<string, ClassifiedTest>; verdict: JobVerdict; quarantined: Set<string> };
}

/** What the attempt amounts to, before any write: the steps' result and the tests' verdict. */
async function judge(db: Kysely<Database>, run: PipelineRunsTable, job: PipelineJobsTable, body: JobFinish): Promise<Outcome> {
  if (body.outcome === "cancelled") return { state: "cancelled", reason: body.reason ?? "cancelled" };
  const stepFailed = body.steps.find((s) => s.state === "failed");
  if (!body.tests) return { state: body.outcome, reason: body.reason ?? (stepFailed ? `step '${stepFailed.name}' failed (exit ${stepFailed.exit_code ?? "?"})` : null) };
  const classified = classifyAttempts(body.tests.attempts.map((attempt) => attempt.map(toTestResult)));
  // A test that failed in an earlier attempt of this job (a retried job: the same commit) and
  // passes now is flaky too.
  for (const id of await earlierFailures(db, run.id, job.id)) {
    const test = classified.get(id);
    if (test && test.outcome === "passed") classified.set(id, { ...test, outcome: "flaky" });
  }
  const quarantined = await quarantinedTests(db, run.service_id);
  const lastExit = body.tests.command_exit_codes.at(-1) ?? 1;
  const verdict = testJobVerdict(classified, quarantined, lastExit === 0, body.tests.reports_found);
  if (stepFailed) return { state: "failed", reason: body.reason ?? `step '${stepFailed.name}' failed (exit ${stepFailed.exit_code ?? "?"})`, tests: { classified, verdict, quarantined } };
  return { state: verdict.passed ? "succeeded" : "failed", reason: verdict.reason, tests: { classified, verdict, quarantined } };
}

function summary(classified: Map<string, ClassifiedTest>, verdict: JobVerdict): TestSummary {
  const tests = [...classified.values()];
  return {
    passed: tests.filter((t) => t.outcome === "passed").length,
    failed: verdict.failed.length,
    flaky: tests.filter((t) => t.outcome === "flaky").length,
    skipped: tests.filter((t) => t.outcome === "skipped").length,
    quarantined_failures: verdict.quarantinedFailures.length,
  };
}

/** Records a finished attempt. Answers `cancel: true` when the report is not (or no longer) for the job's current attempt. */
export async function finishJob(deps: JobFinishDeps, ref: { tenantId: string; jobId: string }, body: JobFinish, now: number): Promise<{ cancel: boolean; state?: string }> {
  const { db } = deps;
  const job = await db.selectFrom("pipeline_jobs").selectAll().where("tenant_id", "=", ref.tenantId).where("id", "=", ref.jobId).executeTakeFirst();
  if (!job || job.state !== "running" || job.runner_id !== body.host_id || job.attempt !== body.attempt) return { cancel: true };
  const run = await db.selectFrom("pipeline_runs").selectAll().where("id", "=", job.run_id).executeTakeFirstOrThrow();
  const pipeline = JSON.parse(run.pipeline) as Pipeline;
  const spec = pipeline.jobs[job.job_key];
  let outcome = await judge(db, run, job, body);
  if (outcome.state === "succeeded" && spec?.package) outcome = await checkPackage(deps, run, job, body, outcome);

  const finalState = afterAttempt({ attempt: job.attempt, maxAttempts: job.max_attempts, retryWhen: JSON.parse(job.retry_when) as RetryCause[] }, outcome.state);
  const actor: ActorContext = { tenantId: run.tenant_id, userId: null, actorName: "pipeline", requestId: null, ip: null, now };
  let deploymentId: string | undefined;
  const applied = await inTransaction(db, async (trx) => {
    const moved = await transitionJob(
      trx,
      { id: job.id, from: "running", attempt: job.attempt },
      {
        state: finalState,
        reason: finalState === "queued" ? `${outcome.reason ?? "failed"}; retrying (attempt ${job.attempt + 1} of ${job.max_attempts})` : outcome.reason,
        steps: JSON.stringify(body.steps),
        tests: outcome.tests ? JSON.stringify(summary(outcome.tests.classified, outcome.tests.verdict)) : null,
        kept_sha256: body.kept?.sha256 ?? null,
        ...(finalState === "queued" ? { runner_id: null, queued_at: now } : { finished_at: now }),
      },
    );
    if (!moved) return false;
    if (outcome.tests) await recordTests(trx, actor, run, job, body, outcome.tests, pipeline);
    if (finalState === "succeeded" && spec?.package && body.package) deploymentId = await release(trx, deps, actor, run, body, pipeline);
    return true;
  });
  if (!applied) return { cancel: true };
  if (finalState === "queued") {
    await appendSystemLog(db, job.id, job.attempt, `attempt ${job.attempt} ${outcome.state}: ${outcome.reason ?? ""}; retrying`, now);
    deps.changes.jobsQueued(run.tenant_id);
  }
  deps.changes.jobLogged(job.id);
  deps.changes.tenantChanged({ tenantId: run.tenant_id, kind: "run", id: run.id });
  if (deploymentId) deps.changes.tenantChanged({ tenantId: run.tenant_id, kind: "deployment", id: deploymentId });
  return { cancel: false, state: finalState };
}

/** A release needs an artifact with a runnable slipway.yaml and a run whose every other job succeeded. */
async function checkPackage(deps: JobFinishDeps, run: PipelineRunsTable, job: PipelineJobsTable, body: JobFinish, outcome: Outcome): Promise<Outcome> {
  if (!body.package) return { state: "failed", reason: "the job has a package section but the runner sent no package" };
  const others = (await jobsOfRun(deps.db, run.id)).filter((j) => j.id !== job.id && j.state !== "succeeded");
  if (others.length > 0) return { state: "failed", reason: `no release: ${others.map((j) => `${j.job_key} ${j.state}`).join(", ")} (a release needs every job, and every test, to pass)` };
  try {
    const manifest = await manifestOf(deps.blobs, body.package.sha256);
    if (!manifest) return { state: "failed", reason: "the package has no slipway.yaml with a run section at its root, so hosts could not run it" };
  } catch (error) {
    return { state: "failed", reason: error instanceof Error ? error.message : String(error) };
  }
  return outcome;
}

async function recordTests(trx: Kysely<Database>, actor: ActorContext, run: PipelineRunsTable, job: PipelineJobsTable, body: JobFinish, tests: NonNullable<Outcome["tests"]>, pipeline: Pipeline): Promise<void> {
  const records: TestRecord[] = [...tests.classified.values()].map((t) => ({
    testId: t.id,
    name: t.name,
    classname: t.classname ?? null,
    file: t.file ?? null,
    outcome: t.outcome,
    quarantined: tests.quarantined.has(t.id),
    durationMs: t.durationMs,
    attempts: t.attempts,
    message: t.message ?? null,
  }));
  await recordTestBatch(trx, { tenantId: run.tenant_id, serviceId: run.service_id, runId: run.id, jobId: job.id, sha: run.sha, now: actor.now, tests: records, fileTimings: body.tests?.file_timings ?? {} });
  const flaky = records.filter((r) => r.outcome === "flaky" && !r.quarantined).map((r) => r.testId);
  if (flaky.length === 0) return;
  const policy = pipeline.quarantine;
  const history = await recentOutcomes(trx, run.service_id, flaky, policy.window);
  for (const id of flaky) {
    // recentOutcomes is newest first; the decision reads history oldest first.
    const decision = quarantineDecision([...(history.get(id) ?? [])].reverse().map((outcome) => ({ outcome })), policy);
    if (decision.quarantine) await quarantineTest(trx, actor, run.service_id, id, `automatically: ${decision.reason}`, true);
  }
}

/** Creates the run's release and, when the first environment deploys automatically, its deployment. */
async function release(trx: Kysely<Database>, deps: JobFinishDeps, actor: ActorContext, run: PipelineRunsTable, body: JobFinish, pipeline: Pipeline): Promise<string | undefined> {
  const pkg = body.package!;
  const packageJob = Object.values(pipeline.jobs).find((j) => j.package)!;
  const version = renderVersion(packageJob.package!.version, { run_number: run.number, git_describe: pkg.git_describe ?? run.git_describe ?? undefined, short_sha: run.sha.slice(0, 7), sha: run.sha, branch: run.branch, date: run.created_at });
  const manifest = await manifestOf(deps.blobs, pkg.sha256);
  try {
    const created = await insertRelease(trx, actor, run.service_id, { version, artifact_sha256: pkg.sha256, git_sha: run.sha }, manifest, { pipelineRunId: run.id, author: run.author });
    await trx.updateTable("pipeline_runs").set({ release_id: created.id }).where("id", "=", run.id).execute();
    const service = await getService(trx, run.tenant_id, run.service_id);
    const first = service.environments[0];
    if (!first?.auto) return undefined;
    const deployment = await createDeployment(trx, actor, { service: service.id, environment: first.name, version, kind: "deploy" });
    deps.logger.info({ run: run.id, release: version, environment: first.name, deployment: deployment.id }, "new release deploys automatically");
    return deployment.id;
  } catch (error) {
    if (error instanceof SlipwayError) throw new SlipwayError(error.code, `release ${version}: ${error.message}`, { details: error.details, cause: error });
    throw error;
  }
}
