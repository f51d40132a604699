// Release manifests, per-host desired and actual state, agent tasks and logs, deployments with
// their transition history, and each environment's history of live releases.
import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.ts";

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const serial = (name: string) =>
    (table: ReturnType<Kysely<unknown>["schema"]["createTable"]>) =>
      table.addColumn(name, dialect === "postgres" ? "bigserial" : "integer", (c) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()));

  await db.schema.alterTable("releases").addColumn("manifest", "text").execute();
  await db.schema.alterTable("hosts").addColumn("desired_generation", "integer", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("hosts").addColumn("agent_version", "text").execute();

  await db.schema
    .createTable("host_services")
    .addColumn("host_id", "text", (c) => c.notNull().references("hosts.id"))
    .addColumn("service_id", "text", (c) => c.notNull().references("services.id"))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("desired_release_id", "text")
    .addColumn("desired_deployment_id", "text")
    .addColumn("desired_at", "bigint", (c) => c.notNull())
    .addColumn("actual_release_id", "text")
    .addColumn("attempted_release_id", "text")
    .addColumn("process_state", "text", (c) => c.notNull().defaultTo("unknown"))
    .addColumn("health", "text", (c) => c.notNull().defaultTo("unknown"))
    .addColumn("restarts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("pid", "integer")
    .addColumn("port", "integer")
    .addColumn("releases_on_disk", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("reported_at", "bigint")
    .addPrimaryKeyConstraint("host_services_pk", ["host_id", "service_id"])
    .execute();
  await db.schema.createIndex("host_services_service").on("host_services").columns(["service_id"]).execute();

  await db.schema
    .createTable("deployments")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("service_id", "text", (c) => c.notNull().references("services.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("release_id", "text", (c) => c.notNull().references("releases.id"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("settings", "text", (c) => c.notNull())
    .addColumn("has_migration", "integer", (c) => c.notNull())
    .addColumn("progress", "text")
    .addColumn("reason", "text")
    .addColumn("previous_release_id", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "bigint")
    .execute();
  await db.schema.createIndex("deployments_queue").on("deployments").columns(["service_id", "environment", "state"]).execute();
  await db.schema.createIndex("deployments_tenant_created").on("deployments").columns(["tenant_id", "created_at"]).execute();
  await db.schema.createIndex("deployments_state").on("deployments").columns(["state"]).execute();

  await serial("id")(db.schema.createTable("deployment_events"))
    .addColumn("deployment_id", "text", (c) => c.notNull().references("deployments.id"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("from_state", "text", (c) => c.notNull())
    .addColumn("to_state", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("deployment_events_seq", ["deployment_id", "seq"])
    .execute();

  await serial("id")(db.schema.createTable("environment_history"))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("service_id", "text", (c) => c.notNull().references("services.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("release_id", "text", (c) => c.notNull().references("releases.id"))
    .addColumn("deployment_id", "text", (c) => c.notNull().references("deployments.id"))
    .addColumn("at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("environment_history_deployment", ["deployment_id"])
    .execute();
  await db.schema.createIndex("environment_history_env").on("environment_history").columns(["service_id", "environment", "id"]).execute();

  await db.schema
    .createTable("agent_tasks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("host_id", "text", (c) => c.notNull().references("hosts.id"))
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("deployment_id", "text", (c) => c.notNull().references("deployments.id"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("release_id", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("output", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .addUniqueConstraint("agent_tasks_once", ["deployment_id", "kind"])
    .execute();
  await db.schema.createIndex("agent_tasks_host").on("agent_tasks").columns(["host_id", "status"]).execute();

  await serial("id")(db.schema.createTable("host_logs"))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("line", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("host_logs_host_service").on("host_logs").columns(["host_id", "service_id", "id"]).execute();
}
