// The looks the controller takes at a canary's metrics: written once each (a look repeated after
// a restart is ignored), read back in order for the charts and the explanations.
import type { Kysely } from "kysely";
import { kindOf } from "../core/analysis/spec.ts";
import type { RolloutSettings } from "../core/manifest/schema.ts";
import { stagesOf } from "../core/rollout/stages.ts";
import type { Progress } from "../core/rollout/types.ts";
import type { AnalysisLook, DeploymentAnalysis } from "../contracts/analysis.ts";
import { getDeploymentRow } from "./deployments.ts";
import { iso } from "./ids.ts";
import type { AnalysisLooksTable, Database } from "./schema.ts";


export type AnalysisLookRow = AnalysisLooksTable;

export async function recordLooks(db: Kysely<Database>, rows: AnalysisLookRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto("analysis_looks")
    .values(rows)
    .onConflict((oc) => oc.columns(["deployment_id", "window_started_at", "metric", "at"]).doNothing())
    .execute();
}

/** Every look of a deployment, oldest first; the caller has checked the deployment is the tenant's. */
export async function looksOf(db: Kysely<Database>, tenantId: string, deploymentId: string): Promise<AnalysisLookRow[]> {
  return db
    .selectFrom("analysis_looks")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("deployment_id", "=", deploymentId)
    .orderBy("window_started_at")
    .orderBy("at")
    .orderBy("metric")
    .execute();
}

/** A deployment's analysis as the API shows it: its metrics, and per window the looks of each. */
export async function getAnalysisView(db: Kysely<Database>, tenantId: string, deploymentId: string): Promise<DeploymentAnalysis> {
  const row = await getDeploymentRow(db, tenantId, deploymentId);
  const settings = JSON.parse(row.settings) as Partial<RolloutSettings>;
  const progress = row.progress === null ? null : (JSON.parse(row.progress) as Progress);
  const stages = progress ? stagesOf(progress) : [];
  const windows = new Map<number, DeploymentAnalysis["windows"][number]>();
  for (const look of await looksOf(db, tenantId, deploymentId)) {
    let window = windows.get(look.window_started_at);
    if (!window) windows.set(look.window_started_at, (window = { stage: look.stage, label: stages[look.stage]?.label ?? `stage ${look.stage + 1}`, started_at: iso(look.window_started_at), metrics: {} }));
    (window.metrics[look.metric] ??= []).push({
      at: iso(look.at),
      final: look.final === 1,
      outcome: look.outcome as AnalysisLook["outcome"],
      rule: look.rule,
      canary: { value: look.canary_value, samples: look.canary_samples },
      baseline: look.baseline_samples === null ? null : { value: look.baseline_value, samples: look.baseline_samples },
      difference: look.difference === null ? null : { estimate: look.difference, low: look.difference_low, high: look.difference_high },
      allowed: look.allowed,
      reason: look.reason,
    });
  }
  const analysis = settings.analysis;
  return {
    deployment: row.id,
    provider: analysis?.provider ?? null,
    alpha: analysis?.alpha ?? null,
    metrics: (analysis?.metrics ?? []).map((m) => ({ name: m.name, kind: kindOf(m), direction: m.direction })),
    windows: [...windows.values()],
  };
}
