// The analyzing phase of a stage: the hosts switched so far run the new release while the
// controller judges their metrics against the baseline's (the hosts still on the previous
// release) and reports what it found with every look. The machine applies the verdict with the
// graduated response the settings ask for: rollback, pause (a person decides), or warn (record it
// and go on). Hosts switched by this deployment that turn unhealthy or crash during the window
// fail it too, whatever the metrics say.
import { formatDuration } from "../manifest/duration.ts";
import { beginRollback, enterStage, names, unchanged } from "./machine.ts";
import { stagesOf } from "./stages.ts";
import type { AnalysisReport, DeploymentSnapshot, HostView, Progress, StepResult } from "./types.ts";

export function observeAnalysis(d: DeploymentSnapshot, progress: Progress, now: number, hosts: HostView[], report: AnalysisReport | undefined): StepResult {
  const window = progress.analysis!;
  const stage = stagesOf(progress)[window.stage]!;
  const sick = unhealthySwitchedHosts(d, progress, hosts);
  if (sick.length > 0) {
    const why = `during the analysis of ${stage.label}: ${sick.map(({ id, why }) => `${names(progress, [id])} ${why}`).join("; ")}`;
    return respond(d, progress, now, hosts, d.settings.on_failure, why);
  }
  const final = now >= window.until;
  const current = report && report.windowStartedAt === window.startedAt ? report : undefined;
  if (!d.settings.analysis) {
    // No metrics to judge: the stage is watched for its time, and healthy hosts pass it.
    if (!final) return unchanged(d);
    return enterStage(d, progress, window.stage + 1, now, hosts, `${stage.label} watched for ${formatDuration(stage.analyze)}: every host healthy`);
  }
  if (current?.outcome === "fail") return respond(d, progress, now, hosts, current.response, `analysis of ${stage.label} failed: ${current.reason}`);
  if (final && current?.outcome === "pass") return enterStage(d, progress, window.stage + 1, now, hosts, `analysis of ${stage.label} passed: ${current.reason}`);
  if (final && current?.outcome === "inconclusive") return respond(d, progress, now, hosts, current.response, `analysis of ${stage.label} inconclusive: ${current.reason}`);
  if (current && current.reason !== window.lastReason) {
    window.lastReason = current.reason;
    return { state: "running", progress, effects: [] };
  }
  return unchanged(d);
}

function respond(d: DeploymentSnapshot, progress: Progress, now: number, hosts: HostView[], response: "rollback" | "pause" | "warn", why: string): StepResult {
  if (response === "rollback") return beginRollback({ ...d, progress }, now, why);
  if (response === "pause") {
    progress.pausedReason = `${why}; waiting for a person to resume (go on) or roll back`;
    return { state: "paused", progress, effects: [], reason: progress.pausedReason };
  }
  progress.warnings = [...(progress.warnings ?? []), { at: now, reason: why }];
  return enterStage(d, progress, progress.analysis!.stage + 1, now, hosts, `warning: ${why}; going on (on_failure: warn)`);
}

/** Hosts this deployment switched and saw healthy that now report a failure of the new release. */
function unhealthySwitchedHosts(d: DeploymentSnapshot, progress: Progress, hosts: HostView[]): { id: string; why: string }[] {
  const views = new Map(hosts.map((h) => [h.id, h]));
  const found: { id: string; why: string }[] = [];
  for (const [id, host] of Object.entries(progress.hosts)) {
    const view = views.get(id);
    if (host.status !== "healthy" || !view?.reachable || view.actualReleaseId !== d.releaseId) continue;
    if (view.processState === "crashloop" || view.processState === "failed") found.push({ id, why: view.processState === "crashloop" ? "is crash-looping" : `failed: ${view.error ?? "process failed"}` });
    else if (view.health === "unhealthy") found.push({ id, why: `turned unhealthy: ${view.error ?? "health check failing"}` });
  }
  return found;
}
