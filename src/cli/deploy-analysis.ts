// The stages of a deployment and the verdicts of its canary analysis, as `slipway deployment
// show` prints them: each stage with its status, and per analysis window each metric's last
// look — the verdict in words, with the numbers behind it.
//
//   Stages:
//     done       canary: 1 host             analyze 2m
//     failed     canary: 25% (3 hosts)      analyze 5m
//     skipped    the rest of the hosts
//   Analysis (scrape, alpha 0.05):
//     canary: 25% (3 hosts), from 14:00:11
//       error ratio   FAIL (sequential)  error ratio 4.1% vs 0.9% on baseline; the difference exceeds ...
import type { DeploymentAnalysis } from "../contracts/analysis.ts";
import { formatDuration } from "../core/manifest/duration.ts";
import type { Deployment } from "../contracts/deployments.ts";
import { shortTime } from "./output.ts";

/** The stage lines, or nothing for a deployment of one plain stage. */
export function describeStages(d: Pick<Deployment, "stages" | "analysis" | "warnings">): string[] {
  const plain = d.stages.length <= 1 && d.stages.every((s) => s.analyze_ms === 0 && s.pause === null);
  const lines: string[] = [];
  if (!plain) {
    const width = Math.max(...d.stages.map((s) => s.label.length));
    lines.push("Stages:");
    for (const s of d.stages) {
      const what = s.pause === "until_resumed" ? "until a person resumes" : s.analyze_ms > 0 ? `analyze ${formatDuration(s.analyze_ms)}` : "";
      lines.push(`  ${s.status.padEnd(10)} ${s.label.padEnd(width)}  ${what}`.trimEnd());
    }
    if (d.analysis) lines.push(`  analyzing until ${shortTime(d.analysis.until)}${d.analysis.last_reason ? `: ${d.analysis.last_reason}` : ""}`);
  }
  if (d.warnings.length) lines.push("Warnings:", ...d.warnings.map((w) => `  ${shortTime(w.at)}  ${w.reason}`));
  return lines;
}

/** Per analysis window, each metric's latest look. */
export function describeAnalysis(a: DeploymentAnalysis): string[] {
  if (a.windows.length === 0) return [];
  const lines = [`Analysis (${a.provider ?? "?"}, alpha ${a.alpha ?? "?"}):`];
  const width = Math.max(...a.metrics.map((m) => m.name.length), 6);
  for (const w of a.windows) {
    lines.push(`  ${w.label}, from ${shortTime(w.started_at)}`);
    for (const [metric, looks] of Object.entries(w.metrics)) {
      const last = looks.at(-1);
      if (!last) continue;
      const verdict = `${last.outcome.toUpperCase()} (${last.rule.replace("_", " ")})`;
      lines.push(`    ${metric.padEnd(width)}  ${verdict.padEnd(24)} ${last.reason}`);
    }
  }
  return lines;
}

/** The stage in progress, for the live block: "stage 2 of 4, canary: 25% (3 hosts): analyzing, 3m12s left: ...". */
export function stageLine(d: Pick<Deployment, "stages" | "stage" | "analysis">, now: number): string | undefined {
  if (d.stages.length <= 1 || d.stage === null) return undefined;
  const stage = d.stages[d.stage];
  if (!stage) return undefined;
  const left = d.analysis ? Math.max(0, Date.parse(d.analysis.until) - now) : 0;
  const doing = stage.status === "analyzing" ? `analyzing, ${formatDuration(Math.ceil(left / 1000) * 1000)} left${d.analysis?.last_reason ? `: ${d.analysis.last_reason}` : ""}` : stage.status;
  return `stage ${d.stage + 1} of ${d.stages.length}, ${stage.label}: ${doing}`;
}
