// Metrics scraped by agents: one row per scrape of a service on a host, its samples as compact
// JSON ([name, labels, value] triples, see core/metrics/exposition.ts). Read by service and time
// (the canary judge and the dashboard), deleted by time (retention).
import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.ts";

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  await db.schema
    .createTable("metric_scrapes")
    .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (c) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("release_id", "text")
    .addColumn("scraped_at", "bigint", (c) => c.notNull())
    .addColumn("samples", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("metric_scrapes_service_time").on("metric_scrapes").columns(["service_id", "scraped_at"]).execute();
  await db.schema.createIndex("metric_scrapes_time").on("metric_scrapes").columns(["scraped_at"]).execute();
}
