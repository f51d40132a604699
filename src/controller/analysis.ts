// The controller's looks at a canary: every `analysis.interval` while a deployment is analyzing
// a stage, it asks the metric source for the evidence of the window so far — the canary (hosts
// this deployment switched) and the baseline (hosts of the environment still on the previous
// release, over the same window) — has the judge rule on each metric, records the look, and
// hands the machine a report with the response the settings ask for.
//
// It keeps only which look it took last (in memory): after a restart it simply looks again, and
// a look is written once whatever happens (analysis_looks ignores a repeat).
import type { Logger } from "pino";
import type { Kysely } from "kysely";
import { judgeMetric, combineVerdicts } from "../core/analysis/judge.ts";
import type { AnalysisSection } from "../core/analysis/spec.ts";
import type { MetricVerdict } from "../core/analysis/types.ts";
import type { AnalysisReport, DeploymentSnapshot } from "../core/rollout/types.ts";
import type { MetricSource } from "../metrics/source.ts";
import { recordLooks, type AnalysisLookRow } from "../store/analysis.ts";
import type { Changes } from "../store/changes.ts";
import type { DeploymentRow } from "../store/deployments.ts";
import type { Database, HostsTable } from "../store/schema.ts";

export interface AnalystDeps {
  db: Kysely<Database>;
  logger: Pick<Logger, "warn" | "debug">;
  /** The metric source an analysis section names (the scraped samples, or a Prometheus server). */
  sourceFor: (analysis: AnalysisSection) => Pick<MetricSource, "evidence">;
  /** Told of every look recorded, so that a deployment's page redraws its charts as looks arrive. */
  changes?: Pick<Changes, "tenantChanged">;
}

const SEVERITY = { warn: 0, pause: 1, rollback: 2 } as const;
type Response = keyof typeof SEVERITY;

export class CanaryAnalyst {
  readonly #deps: AnalystDeps;
  readonly #last = new Map<string, { window: number; at: number; final: boolean; report?: AnalysisReport }>();

  constructor(deps: AnalystDeps) {
    this.#deps = deps;
  }

  /** A report on the deployment's analysis window when a look is due, else undefined. */
  async look(row: DeploymentRow, d: DeploymentSnapshot, hosts: HostsTable[], now: number): Promise<AnalysisReport | undefined> {
    const progress = d.progress;
    const window = progress?.analysis;
    const analysis = d.settings.analysis;
    if (d.state !== "running" || progress?.phase !== "analyzing" || !window || !analysis) return undefined;
    const final = now >= window.until;
    const last = this.#last.get(row.id);
    const same = last?.window === window.startedAt ? last : undefined;
    // Between looks the last report is repeated: the machine ignores what it has already applied,
    // and a transition that lost a race is simply made again.
    if (final ? same?.final : now - (same?.at ?? window.startedAt) < analysis.interval) return same?.report;
    this.#last.set(row.id, { window: window.startedAt, at: now, final });
    const report = await this.#judge(row, d, hosts, now, final);
    this.#last.set(row.id, { window: window.startedAt, at: now, final, report });
    return report;
  }

  async #judge(row: DeploymentRow, d: DeploymentSnapshot, hosts: HostsTable[], now: number, final: boolean): Promise<AnalysisReport> {
    const progress = d.progress!;
    const window = progress.analysis!;
    const analysis = d.settings.analysis!;

    const byId = new Map(hosts.map((h) => [h.id, h]));
    const side = (ids: string[]) => ids.map((id) => byId.get(id)).filter((h) => h !== undefined).map((h) => ({ id: h.id, name: h.name, address: h.address }));
    const entries = Object.entries(progress.hosts);
    const canary = side(entries.filter(([, h]) => h.status === "healthy").map(([id]) => id));
    // The baseline: hosts the deployment has not reached yet, still meant to run what they ran.
    const baseline = side(entries.filter(([, h]) => h.status === "pending" && h.previousReleaseId !== null).map(([id]) => id));
    const query = { tenantId: row.tenant_id, serviceId: row.service_id, from: window.startedAt, to: now };
    let verdicts: MetricVerdict[];
    try {
      const source = this.#deps.sourceFor(analysis);
      verdicts = await Promise.all(
        analysis.metrics.map(async (metric) => {
          const [c, b] = await Promise.all([source.evidence(metric, { ...query, hosts: canary }), baseline.length ? source.evidence(metric, { ...query, hosts: baseline }) : null]);
          return judgeMetric(metric, analysis, c, b, { final });
        }),
      );
    } catch (error) {
      this.#deps.logger.warn({ err: error, deployment: row.id }, "could not read the canary's metrics");
      const reason = `metrics could not be read: ${(error as Error).message}`;
      return { windowStartedAt: window.startedAt, outcome: final ? "inconclusive" : "running", response: analysis.on_inconclusive, reason };
    }
    await recordLooks(this.#deps.db, verdicts.map((v) => lookRow(row, window.stage, window.startedAt, now, final, v)));
    this.#deps.changes?.tenantChanged({ tenantId: row.tenant_id, kind: "deployment", id: row.id });
    const combined = combineVerdicts(verdicts);
    return { windowStartedAt: window.startedAt, outcome: combined.outcome, response: responseTo(combined.outcome, analysis, verdicts), reason: combined.reason };
  }

  /** Forgets a deployment that finished. */
  forget(deploymentId: string): void {
    this.#last.delete(deploymentId);
  }
}

/** What a failure does: the strictest response among the failed metrics; an inconclusive end, the analysis' own. */
function responseTo(outcome: string, analysis: AnalysisSection, verdicts: MetricVerdict[]): Response {
  if (outcome !== "fail") return analysis.on_inconclusive;
  const specs = new Map(analysis.metrics.map((m) => [m.name, m]));
  return verdicts
    .filter((v) => v.outcome === "fail")
    .map((v) => specs.get(v.metric)?.on_failure ?? analysis.on_failure)
    .reduce<Response>((worst, r) => (SEVERITY[r] > SEVERITY[worst] ? r : worst), "warn");
}

function lookRow(row: DeploymentRow, stage: number, windowStartedAt: number, at: number, final: boolean, v: MetricVerdict): AnalysisLookRow {
  return {
    deployment_id: row.id,
    tenant_id: row.tenant_id,
    stage,
    window_started_at: windowStartedAt,
    metric: v.metric,
    at,
    final: final ? 1 : 0,
    outcome: v.outcome,
    rule: v.rule,
    canary_value: v.canary.value,
    canary_samples: v.canary.samples,
    baseline_value: v.baseline?.value ?? null,
    baseline_samples: v.baseline?.samples ?? null,
    difference: v.difference?.estimate ?? null,
    difference_low: finiteOrNull(v.difference?.low),
    difference_high: finiteOrNull(v.difference?.high),
    allowed: v.allowed,
    reason: v.reason,
  };
}

const finiteOrNull = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);
