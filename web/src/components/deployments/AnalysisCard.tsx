// The canary analysis of a deployment, window by window (a stage analyzed against the baseline)
// and metric by metric: the charts of every look, and beside them the verdict in words with the
// numbers behind it — both sides' values and samples, the difference with its interval, the
// allowed degradation, and the rule that decided.
import { decisionOf, formatCount, formatDifference, formatValue, ruleText, verdictLook, windowSpan } from "../../lib/canary.ts";
import type { AnalysisLook, AnalysisSettings, AnalysisWindow, DeploymentAnalysis, MetricInfo, Stage } from "../../lib/deployments.ts";
import { duration, stamp } from "../../lib/format.ts";
import { outcomeTone } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";
import { MetricCharts } from "./MetricCharts.tsx";

export function AnalysisCard({ analysis, settings, stages, finished }: { analysis: DeploymentAnalysis | null; settings: AnalysisSettings | null; stages: Stage[]; finished: boolean }) {
  const windows = analysis?.windows ?? [];
  if (!analysis || (analysis.metrics.length === 0 && windows.length === 0)) {
    if (!stages.some((s) => s.analyze_ms > 0)) return null;
    return (
      <section className="card" aria-label="analysis">
        <header className="card-head">
          <h2>Analysis</h2>
        </header>
        <p className="empty">This deployment has no metrics to judge (no deploy.analysis in its slipway.yaml): its analyzed stages are watched for host health only.</p>
      </section>
    );
  }
  const provider = analysis.provider === "prometheus" ? "a Prometheus server" : "the agents' scrapes";
  return (
    <section className="card" aria-label="analysis">
      <header className="card-head">
        <h2>Analysis</h2>
        <span className="muted">
          {analysis.metrics.map((m) => m.name).join(", ")} · metrics from {provider}
          {settings?.interval ? ` · a look every ${duration(settings.interval)}` : ""}
          {analysis.alpha !== null ? ` · false-alarm rate ${Number((analysis.alpha * 100).toFixed(2))}%` : ""}
          {settings?.onFailure ? ` · on failure: ${settings.onFailure}` : ""}
        </span>
      </header>
      {windows.length === 0 ? (
        <p className="empty">No analysis window yet: the first starts once a canary stage's hosts are healthy.</p>
      ) : (
        windows.map((window) => <WindowView key={window.started_at} window={window} plannedMs={stages[window.stage]?.analyze_ms ?? 0} metrics={analysis.metrics} alpha={analysis.alpha} settings={settings} finished={finished} />)
      )}
    </section>
  );
}

function WindowView({ window, plannedMs, metrics, alpha, settings, finished }: { window: AnalysisWindow; plannedMs: number; metrics: MetricInfo[]; alpha: number | null; settings: AnalysisSettings | null; finished: boolean }) {
  const span = windowSpan(window);
  // The charts span the whole window as planned, so a running one shows how much is left and a
  // decided one how early it was decided.
  const timeRange: [number, number] = [span.from / 1000, Math.max(span.from + plannedMs, span.to) / 1000];
  // A window ends with its first failure (or with the deployment): metrics still running then were never decided.
  const over = span.decided || finished;
  // Metrics in the order slipway.yaml lists them; any other the window has (settings changed) after.
  const names = [...metrics.map((m) => m.name), ...Object.keys(window.metrics).filter((name) => !metrics.some((m) => m.name === name))];
  return (
    <div className="window" data-stage={window.stage}>
      <h3 className="window-head">
        <span>{window.label}</span>
        <span className="muted" title={`from ${stamp(window.started_at)}`}>
          {span.decided ? "analyzed" : "analyzing for"} {duration(span.to - span.from)} from {stamp(window.started_at).slice(11)}
        </span>
      </h3>
      {names.map((name) => {
        const info = metrics.find((m) => m.name === name) ?? { name, kind: "value" as const, direction: "lower_is_better" as const };
        return <MetricView key={name} metric={info} looks={window.metrics[name] ?? []} alpha={alpha} settings={settings} over={over} timeRange={timeRange} id={`${window.started_at}:${name}`} />;
      })}
    </div>
  );
}

function MetricView({ metric, looks, alpha, settings, over, timeRange, id }: { metric: MetricInfo; looks: AnalysisLook[]; alpha: number | null; settings: AnalysisSettings | null; over: boolean; timeRange: [number, number]; id: string }) {
  const look = verdictLook(looks);
  const decision = decisionOf(looks);
  const confidence = alpha === null ? "" : `${Number(((1 - alpha) * 100).toFixed(2))}% `;
  return (
    <article className="metric" data-metric={metric.name} data-outcome={look?.outcome ?? "none"} data-looks={looks.length}>
      {looks.length === 0 ? <p className="empty metric-charts">No look at {metric.name} yet.</p> : <MetricCharts metric={metric} looks={looks} alpha={alpha} timeRange={timeRange} id={id} />}
      <aside className="verdict">
        <div className="verdict-head">
          <strong>{metric.name}</strong>
          {look && (look.outcome !== "running" ? <Badge tone={outcomeTone(look.outcome)}>{look.outcome}</Badge> : over ? <Badge tone="idle">not decided</Badge> : <Badge tone="active">no decision yet</Badge>)}
        </div>
        {look ? (
          <>
            <p className="verdict-words">{look.reason}</p>
            <dl className="verdict-numbers">
              <dt>canary</dt>
              <dd>
                {formatValue(metric.kind, look.canary.value)} · {formatCount(look.canary.samples)} samples
              </dd>
              <dt>baseline</dt>
              <dd>{look.baseline ? `${formatValue(metric.kind, look.baseline.value)} · ${formatCount(look.baseline.samples)} samples` : "none (every host switched)"}</dd>
              <dt>difference</dt>
              <dd>
                {look.difference
                  ? `${formatDifference(metric.kind, look.difference.estimate)}, ${confidence}interval ${formatDifference(metric.kind, look.difference.low)} to ${formatDifference(metric.kind, look.difference.high)}`
                  : "—"}
              </dd>
              <dt>allowed</dt>
              <dd>
                {metric.direction === "higher_is_better" ? "down to " : "up to "}
                {formatDifference(metric.kind, metric.direction === "higher_is_better" ? -look.allowed : look.allowed)}
              </dd>
              <dt>rule</dt>
              <dd>{ruleText(look.rule, { alpha, minSamples: settings?.minSamples ?? null })}</dd>
              <dt>{decision ? "decided" : "last look"}</dt>
              <dd title={stamp(look.at)}>
                {stamp(look.at).slice(11)} · look {(decision?.index ?? looks.length - 1) + 1} of {looks.length}
              </dd>
            </dl>
          </>
        ) : (
          <p className="muted">Waiting for the first look.</p>
        )}
      </aside>
    </article>
  );
}
