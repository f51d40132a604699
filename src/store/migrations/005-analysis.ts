// Canary analysis: every look the controller takes at a deployment's metrics, one row per metric,
// with the numbers behind its verdict, so the dashboard and the CLI can draw and explain it.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("analysis_looks")
    .addColumn("deployment_id", "text", (c) => c.notNull().references("deployments.id"))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("stage", "integer", (c) => c.notNull())
    .addColumn("window_started_at", "bigint", (c) => c.notNull())
    .addColumn("metric", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("final", "integer", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("rule", "text", (c) => c.notNull())
    .addColumn("canary_value", "real")
    .addColumn("canary_samples", "real", (c) => c.notNull())
    .addColumn("baseline_value", "real")
    .addColumn("baseline_samples", "real")
    .addColumn("difference", "real")
    .addColumn("difference_low", "real")
    .addColumn("difference_high", "real")
    .addColumn("allowed", "real", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("analysis_looks_pk", ["deployment_id", "window_started_at", "metric", "at"])
    .execute();
}
