// Pipelines as people use them: start a run by hand, list and follow runs, read a job's log a
// page at a time (or wait for more), cancel; the tests page (slowest, flakiest, quarantine);
// the service's pipeline variables; and the secret its git host signs push webhooks with.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { IdParams } from "../../contracts/common.ts";
import { LogPage, LogQuery, Quarantine, QuarantineCreate, Run, RunCreate, RunList, RunQuery, TestResultView, TestStats, TestStatsQuery, Variable, VariableParams, VariableSet, WebhookSecret } from "../../contracts/pipelines.ts";
import { ServiceParams } from "../../contracts/services.ts";
import { startRun } from "../../controller/run-start.ts";
import { isTerminalJobState, type JobState } from "../../core/pipeline/dag.ts";
import { recordAudit } from "../../store/audit.ts";
import { readJobLogs } from "../../store/pipeline-jobs.ts";
import { cancelRun, getJobRow, getRunRow, jobsOfRun, listRunRows, runView } from "../../store/pipeline-runs.ts";
import { getService } from "../../store/services.ts";
import { quarantineList, quarantineTest, releaseFromQuarantine, runTestResults, testStatistics } from "../../store/test-results.ts";
import { deleteVariable, listVariables, setVariable } from "../../store/variables.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses, listOf } from "./responses.ts";

const JobLogParams = z.object({ id: z.string().min(1).max(200), job: z.string().min(1).max(200) });
const TestParams = z.object({ service: z.string().min(1).max(200), test: z.string().min(1).max(2000) });
const LogWait = LogQuery.extend({ wait_ms: z.coerce.number().int().min(0).max(30_000).default(0).describe("when there is nothing after `after` yet, wait up to this long for more") });

export function pipelineRoutes(app: TypedApp, deps: AppDeps): void {
  const { store: { db }, changes, clock, gitDir } = deps;
  const tags = ["pipelines"];
  const serviceName = async (tenantId: string, serviceId: string) => (await getService(db, tenantId, serviceId)).name;

  app.post("/services/:service/runs", { schema: { tags, params: ServiceParams, body: RunCreate, response: { 201: Run, ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "pipeline:run", clock());
    const service = await getService(db, actor.tenantId, request.params.service);
    const run = await startRun({ db, changes, gitDir }, actor, { service, trigger: "manual", branch: request.body.branch, sha: request.body.sha });
    return reply.status(201).send(await runView(db, run, service.name));
  });

  app.get("/services/:service/runs", { schema: { tags, params: ServiceParams, querystring: RunQuery, response: { 200: RunList, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const service = await getService(db, auth.tenantId, request.params.service);
    const rows = await listRunRows(db, auth.tenantId, { serviceId: service.id, branch: request.query.branch, before: request.query.before, limit: request.query.limit });
    return { items: await Promise.all(rows.map(async (row) => ({ ...(await runView(db, row, service.name)) }))) };
  });

  app.get("/runs", { schema: { tags, querystring: RunQuery, response: { 200: RunList, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const rows = await listRunRows(db, auth.tenantId, { branch: request.query.branch, limit: request.query.limit });
    return { items: await Promise.all(rows.map(async (row) => runView(db, row, await serviceName(auth.tenantId, row.service_id)))) };
  });

  app.get("/runs/:id", { schema: { tags, params: IdParams, response: { 200: Run, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const run = await getRunRow(db, auth.tenantId, request.params.id);
    return runView(db, run, await serviceName(auth.tenantId, run.service_id));
  });

  app.post("/runs/:id/cancel", { schema: { tags, params: IdParams, response: { 200: Run, ...errorResponses } } }, async (request) => {
    const { actor } = authorize(request, "pipeline:run", clock());
    const run = await cancelRun(db, actor, request.params.id);
    for (const job of await jobsOfRun(db, run.id)) changes.jobLogged(job.id);
    changes.tenantChanged({ tenantId: actor.tenantId, kind: "run", id: run.id });
    return runView(db, run, await serviceName(actor.tenantId, run.service_id));
  });

  app.get("/runs/:id/jobs/:job/logs", { schema: { tags, params: JobLogParams, querystring: LogWait, response: { 200: LogPage, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const { after, limit, wait_ms: waitMs } = request.query;
    const closed = new AbortController();
    request.raw.once("close", () => closed.abort());
    const deadline = Date.now() + waitMs;
    for (;;) {
      // The job's state is read before its lines, so `done` never claims lines that came after.
      const job = await getJobRow(db, auth.tenantId, request.params.id, request.params.job);
      const finished = isTerminalJobState(job.state as JobState);
      const lines = await readJobLogs(db, job.id, after, limit);
      const next = lines.at(-1)?.seq ?? after;
      if (lines.length > 0 || finished || Date.now() >= deadline || closed.signal.aborted) {
        return { lines, next, done: finished && lines.length < limit };
      }
      await changes.waitForJobLog(job.id, Math.min(deadline - Date.now(), 1_000), closed.signal);
    }
  });

  app.get("/runs/:id/tests", { schema: { tags, params: IdParams, response: { 200: listOf(TestResultView), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const run = await getRunRow(db, auth.tenantId, request.params.id);
    return { items: await runTestResults(db, run.id) };
  });

  app.get("/services/:service/tests", { schema: { tags, params: ServiceParams, querystring: TestStatsQuery, response: { 200: listOf(TestStats), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const service = await getService(db, auth.tenantId, request.params.service);
    return { items: await testStatistics(db, service.id, request.query.sort, request.query.limit) };
  });

  app.get("/services/:service/quarantine", { schema: { tags, params: ServiceParams, response: { 200: listOf(Quarantine), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const service = await getService(db, auth.tenantId, request.params.service);
    return { items: await quarantineList(db, service.id) };
  });

  app.put("/services/:service/quarantine/:test", { schema: { tags, params: TestParams, body: QuarantineCreate, response: { 204: z.null(), ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "service:write", clock());
    const service = await getService(db, actor.tenantId, request.params.service);
    await quarantineTest(db, actor, service.id, request.params.test, request.body.reason, false);
    return reply.status(204).send(null);
  });

  app.delete("/services/:service/quarantine/:test", { schema: { tags, params: TestParams, response: { 204: z.null(), ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "service:write", clock());
    const service = await getService(db, actor.tenantId, request.params.service);
    await releaseFromQuarantine(db, actor, service.id, request.params.test);
    return reply.status(204).send(null);
  });

  app.get("/services/:service/variables", { schema: { tags, params: ServiceParams, response: { 200: listOf(Variable), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const service = await getService(db, auth.tenantId, request.params.service);
    return { items: await listVariables(db, service.id) };
  });

  app.put("/services/:service/variables/:name", { schema: { tags, params: VariableParams, body: VariableSet, response: { 200: Variable, ...errorResponses } } }, async (request) => {
    const { actor } = authorize(request, "service:write", clock());
    const service = await getService(db, actor.tenantId, request.params.service);
    return setVariable(db, actor, service.id, request.params.name, request.body.value, request.body.secret);
  });

  app.delete("/services/:service/variables/:name", { schema: { tags, params: VariableParams, response: { 204: z.null(), ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "service:write", clock());
    const service = await getService(db, actor.tenantId, request.params.service);
    await deleteVariable(db, actor, service.id, request.params.name);
    return reply.status(204).send(null);
  });

  app.post("/services/:service/webhook-secret", { schema: { tags, params: ServiceParams, response: { 201: WebhookSecret, ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "service:write", clock());
    const service = await getService(db, actor.tenantId, request.params.service);
    const secret = randomBytes(24).toString("hex");
    await db.transaction().execute(async (trx) => {
      await trx.updateTable("services").set({ webhook_secret: secret }).where("id", "=", service.id).execute();
      await recordAudit(trx, actor, "service.webhook_secret", { type: "service", id: service.id }, {});
    });
    return reply.status(201).send({ url_path: `/api/v1/webhooks/{provider}/${service.id}`, secret });
  });
}
