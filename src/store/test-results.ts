// Test results per run and their history per service: the timings that split the next run's
// shards, each test's recent outcomes (its flake rate), the quarantine list, and the tests
// page's statistics.
import type { Kysely } from "kysely";
import { notFound } from "../core/errors.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { iso } from "./ids.ts";
import type { Database } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

export type TestOutcome = "passed" | "failed" | "flaky" | "skipped";

export interface TestRecord {
  testId: string;
  name: string;
  classname: string | null;
  file: string | null;
  outcome: TestOutcome;
  quarantined: boolean;
  durationMs: number;
  attempts: number;
  message: string | null;
}

export interface TestBatch {
  tenantId: string;
  serviceId: string;
  runId: string;
  jobId: string;
  sha: string;
  now: number;
  tests: TestRecord[];
  /** Measured duration of each test file, ms: the newest timing wins. */
  fileTimings: Record<string, number>;
}

const CHUNK = 500;

export async function recordTestBatch(db: Kysely<Database>, batch: TestBatch): Promise<void> {
  for (let i = 0; i < batch.tests.length; i += CHUNK) {
    const rows = batch.tests.slice(i, i + CHUNK).map((t) => ({
      tenant_id: batch.tenantId,
      service_id: batch.serviceId,
      run_id: batch.runId,
      job_id: batch.jobId,
      sha: batch.sha,
      test_id: t.testId,
      name: t.name,
      classname: t.classname,
      file: t.file,
      outcome: t.outcome,
      quarantined: t.quarantined ? 1 : 0,
      duration_ms: t.durationMs,
      attempts: t.attempts,
      message: t.message,
      at: batch.now,
    }));
    await db.insertInto("test_results").values(rows).execute();
  }
  const timings = Object.entries(batch.fileTimings);
  for (let i = 0; i < timings.length; i += CHUNK) {
    await db
      .insertInto("test_file_timings")
      .values(timings.slice(i, i + CHUNK).map(([file, ms]) => ({ service_id: batch.serviceId, file, duration_ms: ms, updated_at: batch.now })))
      .onConflict((oc) => oc.columns(["service_id", "file"]).doUpdateSet((eb) => ({ duration_ms: eb.ref("excluded.duration_ms"), updated_at: eb.ref("excluded.updated_at") })))
      .execute();
  }
}

export async function fileTimings(db: Kysely<Database>, serviceId: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom("test_file_timings").select(["file", "duration_ms"]).where("service_id", "=", serviceId).execute();
  return new Map(rows.map((r) => [r.file, Number(r.duration_ms)]));
}

/** Outcomes of earlier runs of the same tests on the same commit (a retried job is a rerun). */
export async function earlierFailures(db: Kysely<Database>, runId: string, jobId: string): Promise<Set<string>> {
  const rows = await db.selectFrom("test_results").select("test_id").where("run_id", "=", runId).where("job_id", "=", jobId).where("outcome", "=", "failed").execute();
  return new Set(rows.map((r) => r.test_id));
}

/** The most recent outcomes of each test, newest first. */
export async function recentOutcomes(db: Kysely<Database>, serviceId: string, testIds: string[], window: number): Promise<Map<string, TestOutcome[]>> {
  const history = new Map<string, TestOutcome[]>();
  for (let i = 0; i < testIds.length; i += CHUNK) {
    const rows = await db
      .selectFrom("test_results")
      .select(["test_id", "outcome"])
      .where("service_id", "=", serviceId)
      .where("test_id", "in", testIds.slice(i, i + CHUNK))
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .execute();
    for (const row of rows) {
      const list = history.get(row.test_id) ?? [];
      if (list.length < window) list.push(row.outcome as TestOutcome);
      history.set(row.test_id, list);
    }
  }
  return history;
}

export async function quarantinedTests(db: Kysely<Database>, serviceId: string): Promise<Set<string>> {
  const rows = await db.selectFrom("test_quarantine").select("test_id").where("service_id", "=", serviceId).execute();
  return new Set(rows.map((r) => r.test_id));
}

export async function quarantineTest(db: Kysely<Database>, actor: ActorContext, serviceId: string, testId: string, reason: string, automatic: boolean): Promise<void> {
  await inTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto("test_quarantine")
      .values({ service_id: serviceId, test_id: testId, tenant_id: actor.tenantId, reason, automatic: automatic ? 1 : 0, created_by: actor.actorName, created_at: actor.now })
      .onConflict((oc) => oc.columns(["service_id", "test_id"]).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) await recordAudit(trx, actor, "test.quarantine", { type: "test", id: testId }, { service_id: serviceId, reason, automatic });
  });
}

export async function releaseFromQuarantine(db: Kysely<Database>, actor: ActorContext, serviceId: string, testId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const deleted = await trx.deleteFrom("test_quarantine").where("service_id", "=", serviceId).where("test_id", "=", testId).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw notFound("quarantined test", testId);
    await recordAudit(trx, actor, "test.unquarantine", { type: "test", id: testId }, { service_id: serviceId });
  });
}

export async function quarantineList(db: Kysely<Database>, serviceId: string) {
  const rows = await db.selectFrom("test_quarantine").selectAll().where("service_id", "=", serviceId).orderBy("created_at", "desc").execute();
  return rows.map((r) => ({ test_id: r.test_id, reason: r.reason, automatic: r.automatic === 1, created_by: r.created_by, created_at: iso(r.created_at) }));
}

export async function runTestResults(db: Kysely<Database>, runId: string) {
  const rows = await db
    .selectFrom("test_results")
    .innerJoin("pipeline_jobs", "pipeline_jobs.id", "test_results.job_id")
    .select(["test_results.test_id", "test_results.name", "test_results.classname", "test_results.file", "test_results.outcome", "test_results.quarantined", "test_results.duration_ms", "test_results.attempts", "test_results.message", "pipeline_jobs.job_key", "pipeline_jobs.shard_index", "pipeline_jobs.shard_total"])
    .where("test_results.run_id", "=", runId)
    .orderBy("test_results.id")
    .execute();
  return rows.map((r) => ({
    test_id: r.test_id,
    name: r.name,
    classname: r.classname,
    file: r.file,
    outcome: r.outcome as TestOutcome,
    quarantined: r.quarantined === 1,
    duration_ms: Number(r.duration_ms),
    attempts: r.attempts,
    message: r.message,
    job: r.shard_total > 1 ? `${r.job_key} (${r.shard_index + 1}/${r.shard_total})` : r.job_key,
  }));
}

export type StatsSort = "slowest" | "flakiest" | "failing";

/** Per-test statistics over the service's recent results (the newest `sampleRows` rows). */
export async function testStatistics(db: Kysely<Database>, serviceId: string, sort: StatsSort, limit: number, sampleRows = 50_000) {
  const rows = await db
    .selectFrom("test_results")
    .select(["test_id", "name", "file", "outcome", "duration_ms", "at"])
    .where("service_id", "=", serviceId)
    .orderBy("id", "desc")
    .limit(sampleRows)
    .execute();
  const quarantined = await quarantinedTests(db, serviceId);
  const stats = new Map<string, { test_id: string; name: string; file: string | null; runs: number; failures: number; flakes: number; totalMs: number; last_ms: number; lastAt: number }>();
  for (const row of rows) {
    let s = stats.get(row.test_id);
    if (!s) {
      s = { test_id: row.test_id, name: row.name, file: row.file, runs: 0, failures: 0, flakes: 0, totalMs: 0, last_ms: Number(row.duration_ms), lastAt: row.at };
      stats.set(row.test_id, s);
    }
    if (row.outcome === "skipped") continue;
    s.runs++;
    s.totalMs += Number(row.duration_ms);
    if (row.outcome === "failed") s.failures++;
    if (row.outcome === "flaky") s.flakes++;
  }
  const list = [...stats.values()].map((s) => ({
    test_id: s.test_id,
    name: s.name,
    file: s.file,
    runs: s.runs,
    failures: s.failures,
    flakes: s.flakes,
    flake_rate: s.runs === 0 ? 0 : s.flakes / s.runs,
    mean_ms: s.runs === 0 ? 0 : s.totalMs / s.runs,
    last_ms: s.last_ms,
    last_run_at: iso(s.lastAt),
    quarantined: quarantined.has(s.test_id),
  }));
  const order: Record<StatsSort, (a: (typeof list)[number], b: (typeof list)[number]) => number> = {
    slowest: (a, b) => b.mean_ms - a.mean_ms,
    flakiest: (a, b) => b.flake_rate - a.flake_rate || b.flakes - a.flakes,
    failing: (a, b) => b.failures - a.failures,
  };
  const filtered = sort === "flakiest" ? list.filter((s) => s.flakes > 0) : sort === "failing" ? list.filter((s) => s.failures > 0) : list;
  return filtered.sort((a, b) => order[sort](a, b) || a.test_id.localeCompare(b.test_id)).slice(0, limit);
}
