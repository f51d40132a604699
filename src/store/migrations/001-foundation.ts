// Tenants, users and their roles, API tokens, services, hosts, artifacts, releases, audit log.
import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.ts";

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const time = "bigint";
  await db.schema
    .createTable("tenants")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("created_at", time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("email", "text")
    .addColumn("system_admin", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("memberships")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addPrimaryKeyConstraint("memberships_pk", ["tenant_id", "user_id", "role"])
    .execute();
  await db.schema.createIndex("memberships_user").on("memberships").columns(["user_id"]).execute();

  await db.schema
    .createTable("api_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("expires_at", time)
    .addColumn("last_used_at", time)
    .addColumn("revoked_at", time)
    .execute();
  await db.schema.createIndex("api_tokens_tenant").on("api_tokens").columns(["tenant_id", "user_id"]).execute();

  await db.schema
    .createTable("services")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("repository_url", "text", (c) => c.notNull())
    .addColumn("environments", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("updated_at", time, (c) => c.notNull())
    .addColumn("revision", "integer", (c) => c.notNull())
    .addUniqueConstraint("services_tenant_name", ["tenant_id", "name"])
    .execute();

  await db.schema
    .createTable("hosts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull())
    .addColumn("registered_at", time, (c) => c.notNull())
    .addColumn("last_heartbeat_at", time, (c) => c.notNull())
    .addUniqueConstraint("hosts_tenant_name", ["tenant_id", "name"])
    .execute();

  await db.schema
    .createTable("artifacts")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addPrimaryKeyConstraint("artifacts_pk", ["tenant_id", "sha256"])
    .execute();

  await db.schema
    .createTable("releases")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("service_id", "text", (c) => c.notNull().references("services.id"))
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("git_sha", "text")
    .addColumn("artifact_sha256", "text", (c) => c.notNull())
    .addColumn("artifact_size", "bigint", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addUniqueConstraint("releases_service_version", ["service_id", "version"])
    .addForeignKeyConstraint("releases_artifact", ["tenant_id", "artifact_sha256"], "artifacts", ["tenant_id", "sha256"])
    .execute();
  await db.schema.createIndex("releases_service_created").on("releases").columns(["service_id", "created_at"]).execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (c) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn("tenant_id", "text")
    .addColumn("actor_id", "text")
    .addColumn("actor_name", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target_type", "text", (c) => c.notNull())
    .addColumn("target_id", "text", (c) => c.notNull())
    .addColumn("details", "text", (c) => c.notNull())
    .addColumn("request_id", "text")
    .addColumn("ip", "text")
    .addColumn("created_at", time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("audit_log_tenant").on("audit_log").columns(["tenant_id", "id"]).execute();
}
