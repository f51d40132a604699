// A runner's side of a job in the store: the atomic claim, status reports (the job's heartbeat),
// and logs appended in order and read back a page at a time.
import { sql, type Kysely } from "kysely";
import type { LogLine, StepStatus } from "../contracts/pipelines.ts";
import type { JobLogs } from "../contracts/runner.ts";
import type { Database, PipelineJobsTable } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

export interface Claimant {
  tenantId: string;
  hostId: string;
  /** Whether a job's runs_on (as stored) fits this runner. */
  matches: (runsOn: unknown) => boolean;
  now: number;
}

/**
 * Takes the oldest queued job the runner fits. On PostgreSQL the candidates are read with
 * FOR UPDATE SKIP LOCKED, so concurrent claims on several replicas pass each other instead of
 * queueing on the same rows; the update is a compare-and-set on state either way, so a job is
 * never given to two runners.
 */
export async function claimJob(db: Kysely<Database>, dialect: "sqlite" | "postgres", claimant: Claimant): Promise<PipelineJobsTable | undefined> {
  return inTransaction(db, async (trx) => {
    let query = trx.selectFrom("pipeline_jobs").selectAll().where("tenant_id", "=", claimant.tenantId).where("state", "=", "queued").orderBy("queued_at").orderBy("id").limit(200);
    if (dialect === "postgres") query = query.forUpdate().skipLocked();
    const candidates = await query.execute();
    for (const job of candidates) {
      if (!claimant.matches(JSON.parse(job.labels))) continue;
      const claimed = await trx
        .updateTable("pipeline_jobs")
        .set({ state: "running", runner_id: claimant.hostId, attempt: job.attempt + 1, claimed_at: claimant.now, heartbeat_at: claimant.now, started_at: job.started_at ?? claimant.now, steps: "[]", reason: null, tests: null, kept_sha256: null })
        .where("id", "=", job.id)
        .where("state", "=", "queued")
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) > 0) return { ...job, state: "running", runner_id: claimant.hostId, attempt: job.attempt + 1, claimed_at: claimant.now, heartbeat_at: claimant.now };
    }
    return undefined;
  });
}

/** What a runner's report is about: its job, its attempt. Reports of a stale attempt change nothing. */
export interface AttemptRef {
  jobId: string;
  hostId: string;
  attempt: number;
}

/** Records a status report; answers whether the runner should stop (cancelled, or no longer its job). */
export async function recordStatus(db: Kysely<Database>, ref: AttemptRef, steps: StepStatus[], now: number): Promise<{ cancel: boolean }> {
  const set = steps.length > 0 ? { heartbeat_at: now, steps: JSON.stringify(steps) } : { heartbeat_at: now };
  const updated = await db.updateTable("pipeline_jobs").set(set).where("id", "=", ref.jobId).where("runner_id", "=", ref.hostId).where("attempt", "=", ref.attempt).where("state", "=", "running").executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return { cancel: true };
  const row = await db.selectFrom("pipeline_jobs").select("cancel_requested").where("id", "=", ref.jobId).executeTakeFirst();
  return { cancel: row?.cancel_requested === 1 };
}

/**
 * Appends log lines after the job's last one. The sequence is taken by incrementing the job's
 * counter in the same transaction, so lines from concurrent requests never share a number and
 * a page read never misses one that was committed before it.
 */
export async function appendJobLogs(db: Kysely<Database>, ref: AttemptRef, lines: JobLogs["lines"], mask: (text: string) => string): Promise<{ accepted: number; cancel: boolean }> {
  if (lines.length === 0) return { accepted: 0, cancel: false };
  return inTransaction(db, async (trx) => {
    const row = await trx
      .updateTable("pipeline_jobs")
      .set({ log_seq: sql<number>`log_seq + ${lines.length}` })
      .where("id", "=", ref.jobId)
      .where("runner_id", "=", ref.hostId)
      .where("attempt", "=", ref.attempt)
      .returning(["log_seq", "cancel_requested", "state"])
      .executeTakeFirst();
    if (!row) return { accepted: 0, cancel: true };
    const first = Number(row.log_seq) - lines.length + 1;
    await trx
      .insertInto("job_logs")
      .values(lines.map((line, i) => ({ job_id: ref.jobId, seq: first + i, attempt: ref.attempt, step: line.step, stream: line.stream, at: line.at, text: mask(line.text) })))
      .execute();
    return { accepted: lines.length, cancel: row.cancel_requested === 1 || row.state !== "running" };
  });
}

/** Appends lines the server itself writes into a job's log (retries, lost runners, verdicts). */
export async function appendSystemLog(db: Kysely<Database>, jobId: string, attempt: number, text: string, now: number): Promise<void> {
  await inTransaction(db, async (trx) => {
    const row = await trx.updateTable("pipeline_jobs").set({ log_seq: sql<number>`log_seq + 1` }).where("id", "=", jobId).returning(["log_seq"]).executeTakeFirst();
    if (!row) return;
    await trx.insertInto("job_logs").values({ job_id: jobId, seq: Number(row.log_seq), attempt, step: -1, stream: "system", at: now, text }).execute();
  });
}

export async function readJobLogs(db: Kysely<Database>, jobId: string, after: number, limit: number): Promise<LogLine[]> {
  const rows = await db.selectFrom("job_logs").select(["seq", "attempt", "step", "stream", "at", "text"]).where("job_id", "=", jobId).where("seq", ">", after).orderBy("seq").limit(limit).execute();
  return rows.map((r) => ({ ...r, stream: r.stream as LogLine["stream"] }));
}
