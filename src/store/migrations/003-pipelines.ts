// Pipelines: runs and their jobs (one row per shard and attempt state), step logs, test results
// with per-file timings and quarantine, service variables, each service's last seen branch heads
// and schedule fires, and the outbox of git refs to push after deployments. Hosts gain roles
// (an agent can be a deployment target, a runner, or both); releases remember the run and the
// commit's author.
import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.ts";

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const serial = (name: string) =>
    (table: ReturnType<Kysely<unknown>["schema"]["createTable"]>) =>
      table.addColumn(name, dialect === "postgres" ? "bigserial" : "integer", (c) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()));

  await db.schema.alterTable("hosts").addColumn("roles", "text", (c) => c.notNull().defaultTo('["host"]')).execute();
  await db.schema.alterTable("releases").addColumn("pipeline_run_id", "text").execute();
  await db.schema.alterTable("releases").addColumn("author", "text").execute();
  await db.schema.alterTable("services").addColumn("webhook_secret", "text").execute();
  await db.schema.alterTable("services").addColumn("run_counter", "integer", (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable("pipeline_runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("service_id", "text", (c) => c.notNull().references("services.id"))
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("branch", "text")
    .addColumn("sha", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("author", "text", (c) => c.notNull())
    .addColumn("triggered_by", "text", (c) => c.notNull())
    .addColumn("pipeline", "text", (c) => c.notNull())
    .addColumn("git_describe", "text")
    .addColumn("reason", "text")
    .addColumn("release_id", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint("pipeline_runs_number", ["service_id", "number"])
    .execute();
  await db.schema.createIndex("pipeline_runs_state").on("pipeline_runs").columns(["state"]).execute();
  await db.schema.createIndex("pipeline_runs_branch").on("pipeline_runs").columns(["service_id", "branch", "state"]).execute();
  await db.schema.createIndex("pipeline_runs_tenant").on("pipeline_runs").columns(["tenant_id", "created_at"]).execute();

  await db.schema
    .createTable("pipeline_jobs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull().references("pipeline_runs.id"))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("job_key", "text", (c) => c.notNull())
    .addColumn("shard_index", "integer", (c) => c.notNull())
    .addColumn("shard_total", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull())
    .addColumn("test_files", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("attempt", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("retry_when", "text", (c) => c.notNull())
    .addColumn("runner_id", "text")
    .addColumn("steps", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("tests", "text")
    .addColumn("kept_sha256", "text")
    .addColumn("reason", "text")
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("queued_at", "bigint")
    .addColumn("claimed_at", "bigint")
    .addColumn("heartbeat_at", "bigint")
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .addColumn("log_seq", "integer", (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint("pipeline_jobs_shard", ["run_id", "job_key", "shard_index"])
    .execute();
  await db.schema.createIndex("pipeline_jobs_state").on("pipeline_jobs").columns(["state", "queued_at"]).execute();

  await serial("id")(db.schema.createTable("job_logs"))
    .addColumn("job_id", "text", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("step", "integer", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("text", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("job_logs_seq").on("job_logs").columns(["job_id", "seq"]).unique().execute();

  await serial("id")(db.schema.createTable("test_results"))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("job_id", "text", (c) => c.notNull())
    .addColumn("sha", "text", (c) => c.notNull())
    .addColumn("test_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("classname", "text")
    .addColumn("file", "text")
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("quarantined", "integer", (c) => c.notNull())
    .addColumn("duration_ms", "real", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("message", "text")
    .addColumn("at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("test_results_history").on("test_results").columns(["service_id", "test_id", "at"]).execute();
  await db.schema.createIndex("test_results_run").on("test_results").columns(["run_id"]).execute();

  await db.schema
    .createTable("test_file_timings")
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("file", "text", (c) => c.notNull())
    .addColumn("duration_ms", "real", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("test_file_timings_pk", ["service_id", "file"])
    .execute();

  await db.schema
    .createTable("test_quarantine")
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("test_id", "text", (c) => c.notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("automatic", "integer", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("test_quarantine_pk", ["service_id", "test_id"])
    .execute();

  await db.schema
    .createTable("service_variables")
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("secret", "integer", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("service_variables_pk", ["service_id", "name"])
    .execute();

  await db.schema
    .createTable("service_git_state")
    .addColumn("service_id", "text", (c) => c.primaryKey())
    .addColumn("heads", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("polled_at", "bigint")
    .addColumn("error", "text")
    .addColumn("schedule_fired", "text", (c) => c.notNull().defaultTo("{}"))
    .execute();

  await db.schema
    .createTable("git_ref_updates")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("deployment_id", "text", (c) => c.notNull())
    .addColumn("sha", "text", (c) => c.notNull())
    .addColumn("refs", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("done_at", "bigint")
    .execute();
}
