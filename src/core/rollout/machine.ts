// The deployment state machine. Pure: the controller passes in what it observed and the time,
// and persists what comes back (state, progress and effects in one compare-and-set write).
//
//   queued ──start──▶ migrating ──migration ok──▶ running ──last batch healthy──▶ succeeded
//     │                  │ migration failed ─────────────────────────────────────▶ failed
//     │                  └─cancel/rollback─▶ cancelled          (no host was changed)
//     └─cancel─▶ cancelled
//   running ──host failed, on_failure: rollback──▶ rolling_back ──hosts back──▶ rolled_back
//   running ──host failed, on_failure: pause / too many unreachable──▶ paused
//   paused ──resume──▶ running        paused ──rollback/cancel──▶ rolling_back
//   running ──rollback/cancel (by a person)──▶ rolling_back
//   rolling_back ──not back within health_timeout──▶ failed
//
// A deployment goes through stages (stages.ts): canary steps, region waves, pauses and the bake.
// After a stage's hosts are healthy it may analyze them (analysis.ts) before the next starts:
//   running/switching ──stage healthy, analyze──▶ running/analyzing ──window passed──▶ next stage
//   running/analyzing ──fail or inconclusive──▶ rolling_back | paused | (warn: next stage)
//   a pause step: running/holding until its time is over, or paused until a person resumes.
//
// Hosts of a batch are switched together by setting their desired release; a host that stops
// heartbeating is skipped (its desired release stays, so it converges when it returns) up to
// `max_unreachable`, past which the deployment pauses for a person.
import { formatDuration } from "../manifest/duration.ts";
import { observeAnalysis } from "./analysis.ts";
import { resolveLimit } from "./plan.ts";
import { planStages, stagesOf, type Stage } from "./stages.ts";
import type { AnalysisReport, DeploymentEvent, DeploymentSnapshot, Effect, HostProgress, HostView, Progress, StepResult } from "./types.ts";

export const unchanged = (d: DeploymentSnapshot): StepResult => ({ state: d.state, progress: d.progress, effects: [] });

export function step(d: DeploymentSnapshot, event: DeploymentEvent): StepResult {
  switch (d.state) {
    case "queued":
      if (event.type === "start") return start(d, event.now, event.hosts);
      if (event.type === "cancel" || event.type === "rollback") return { state: "cancelled", progress: d.progress, effects: [], reason: `${event.reason} (by ${event.by}) before it started` };
      return unchanged(d);
    case "migrating":
      if (event.type === "observe") return observeMigration(d, event.now, event.hosts, event.migration);
      if (event.type === "cancel" || event.type === "rollback") return { state: "cancelled", progress: d.progress, effects: [], reason: `${event.reason} (by ${event.by}) during the migration; no host was changed` };
      return unchanged(d);
    case "running":
      if (event.type === "observe") return observeRunning(d, event.now, event.hosts, event.analysis);
      if (event.type === "cancel" || event.type === "rollback") return beginRollback(d, event.now, `${event.reason} (by ${event.by})`);
      return unchanged(d);
    case "paused":
      if (event.type === "resume") return resume(d, event.now, event.by);
      if (event.type === "cancel" || event.type === "rollback") return beginRollback(d, event.now, `${event.reason} (by ${event.by})`);
      return unchanged(d);
    case "rolling_back":
      if (event.type === "observe") return observeRollback(d, event.now, event.hosts);
      return unchanged(d);
    case "succeeded":
    case "failed":
    case "rolled_back":
    case "cancelled":
      return unchanged(d);
  }
}

function start(d: DeploymentSnapshot, now: number, hosts: HostView[]): StepResult {
  if (hosts.length === 0) return { state: "failed", progress: null, effects: [], reason: "no hosts match the environment's selector" };
  const { batches, stages } = planStages(
    hosts.map((h) => ({ id: h.id, region: h.region })),
    d.settings,
    d.kind,
  );
  const progress: Progress = {
    batches,
    batch: 0,
    phase: "switching",
    stages,
    stage: 0,
    batchStartedAt: now,
    hosts: Object.fromEntries(hosts.map((h) => [h.id, { status: "pending", previousReleaseId: h.desiredReleaseId, ...(h.name ? { name: h.name } : {}) } satisfies HostProgress])),
  };
  if (d.hasMigration && d.kind === "deploy") {
    const runner = hosts.find((h) => h.reachable);
    if (!runner) return { state: "failed", progress, effects: [], reason: "no reachable host to run the migration on" };
    progress.migration = { hostId: runner.id, status: "pending", startedAt: now };
    return { state: "migrating", progress, effects: [{ type: "run_migration", hostId: runner.id }], reason: `running the migration on ${runner.name ?? runner.id}` };
  }
  return enterStage(d, progress, 0, now, hosts, describePlan(stages, batches.length));
}

function describePlan(stages: Stage[], batches: number): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : word.endsWith("h") ? "es" : "s"}`;
  if (stages.length <= 1) return `deploying in ${plural(batches, "batch")}`;
  return `deploying in ${plural(stages.length, "stage")}: ${stages.map((s) => s.label + (s.analyze > 0 && s.to > s.from ? ` (analyze ${formatDuration(s.analyze)})` : "")).join(" -> ")}`;
}

/** Starts stage `index`: its first batch, its pause, or (for the bake) its analysis; past the last, success. */
export function enterStage(d: DeploymentSnapshot, progress: Progress, index: number, now: number, hosts: HostView[], reason: string): StepResult {
  const stages = stagesOf(progress);
  progress.stage = index;
  delete progress.analysis;
  delete progress.waitUntil;
  const stage = stages[index];
  if (!stage) {
    const skipped = Object.entries(progress.hosts).filter(([, h]) => h.status === "skipped").map(([id]) => id);
    const notes = [skipped.length ? `skipped ${names(progress, skipped)} (they converge when they return)` : "", progress.warnings?.length ? `${progress.warnings.length} warning${progress.warnings.length === 1 ? "" : "s"} recorded` : ""].filter(Boolean);
    return { state: "succeeded", progress, effects: [{ type: "record_live", releaseId: d.releaseId }], reason: `${reason}; all ${stages.length > 1 ? "stages" : "batches"} healthy${notes.length ? `; ${notes.join("; ")}` : ""}` };
  }
  progress.batch = Math.max(0, stage.from - 1);
  if (stage.pause === null) {
    progress.phase = "holding";
    progress.pausedReason = `${stage.label}: waiting for a person to resume`;
    return { state: "paused", progress, effects: [], reason: `${reason}; ${progress.pausedReason}` };
  }
  if (stage.pause !== undefined) {
    progress.phase = "holding";
    progress.waitUntil = now + stage.pause;
    return { state: "running", progress, effects: [], reason: `${reason}; ${stage.label}` };
  }
  if (stage.from === stage.to) return startAnalysis(progress, index, now, reason);
  return startBatch(d, progress, stage.from, now, hosts, stages.length > 1 ? `${reason}; ${stage.label}` : reason);
}

function startAnalysis(progress: Progress, index: number, now: number, reason: string): StepResult {
  const stage = stagesOf(progress)[index]!;
  progress.phase = "analyzing";
  progress.analysis = { stage: index, startedAt: now, until: now + stage.analyze };
  return { state: "running", progress, effects: [], reason: `${reason}; analyzing ${stage.label} for ${formatDuration(stage.analyze)}` };
}

/** After a batch is healthy, or a wait is over: the stage's next batch, its analysis, or the next stage. */
function advance(d: DeploymentSnapshot, progress: Progress, now: number, hosts: HostView[], reason: string): StepResult {
  const stages = stagesOf(progress);
  const index = progress.stage ?? 0;
  const stage = stages[index]!;
  if (progress.batch + 1 < stage.to) return startBatch(d, progress, progress.batch + 1, now, hosts, reason);
  if (stage.analyze > 0 && progress.phase === "switching") return startAnalysis(progress, index, now, reason);
  return enterStage(d, progress, index + 1, now, hosts, reason);
}

function observeMigration(d: DeploymentSnapshot, now: number, hosts: HostView[], migration: { status: string; reason?: string } | undefined): StepResult {
  const progress = clone(d.progress!);
  const m = progress.migration!;
  if (migration?.status === "succeeded") {
    m.status = "succeeded";
    return startBatch(d, progress, 0, now, hosts, "migration succeeded");
  }
  if (migration?.status === "failed") {
    m.status = "failed";
    m.reason = migration.reason;
    return { state: "failed", progress, effects: [], reason: `migration failed on ${nameOf(progress, m.hostId)}: ${migration.reason ?? "no reason given"}; no host was changed` };
  }
  const runner = hosts.find((h) => h.id === m.hostId);
  if (!runner?.reachable) {
    m.status = "failed";
    m.reason = "host unreachable";
    return { state: "failed", progress, effects: [], reason: `migration host ${nameOf(progress, m.hostId)} stopped heartbeating; no host was changed` };
  }
  return unchanged(d);
}

function startBatch(d: DeploymentSnapshot, progress: Progress, index: number, now: number, hosts: HostView[], reason: string): StepResult {
  const views = new Map(hosts.map((h) => [h.id, h]));
  const batch = progress.batches[index] ?? [];
  progress.batch = index;
  progress.phase = "switching";
  progress.batchStartedAt = now;
  delete progress.waitUntil;
  for (const id of batch) {
    const host = progress.hosts[id]!;
    const reachable = views.get(id)?.reachable ?? false;
    Object.assign(host, reachable ? { status: "switching", at: now } : { status: "skipped", reason: "unreachable when its batch started", at: now });
  }
  const effects: Effect[] = batch.length > 0 ? [{ type: "set_desired", hostIds: [...batch], releaseId: d.releaseId }] : [];
  const result: StepResult = { state: "running", progress, effects, reason: `${reason}; batch ${index + 1} of ${progress.batches.length}: ${names(progress, batch)}` };
  return pauseIfTooManySkipped(d, result) ?? result;
}

function observeRunning(d: DeploymentSnapshot, now: number, hosts: HostView[], report: AnalysisReport | undefined): StepResult {
  const progress = clone(d.progress!);
  if (progress.phase === "waiting" || progress.phase === "holding") {
    if (now < (progress.waitUntil ?? Infinity)) return unchanged(d);
    if (progress.phase === "holding") {
      const stage = stagesOf(progress)[progress.stage ?? 0];
      return enterStage(d, progress, (progress.stage ?? 0) + 1, now, hosts, stage?.pause !== undefined ? `${stage.label}: over` : "going on");
    }
    return advance(d, progress, now, hosts, "pause between batches over");
  }
  if (progress.phase === "analyzing") return observeAnalysis(d, progress, now, hosts, report);
  const views = new Map(hosts.map((h) => [h.id, h]));
  const batch = progress.batches[progress.batch] ?? [];
  let changed = false;
  for (const id of batch) {
    const host = progress.hosts[id]!;
    if (host.status !== "switching") continue;
    const verdict = judgeHost(d, views.get(id), now - progress.batchStartedAt, host.at ?? progress.batchStartedAt);
    if (verdict) {
      Object.assign(host, verdict, { at: now });
      changed = true;
    }
  }
  const failed = batch.filter((id) => progress.hosts[id]!.status === "failed");
  if (failed.length > 0) {
    const why = failed.map((id) => `${nameOf(progress, id)}: ${progress.hosts[id]!.reason}`).join("; ");
    if (d.settings.on_failure === "rollback") return beginRollback({ ...d, progress }, now, `batch ${progress.batch + 1} failed (${why})`);
    progress.pausedReason = `batch ${progress.batch + 1} failed (${why})`;
    return { state: "paused", progress, effects: [], reason: progress.pausedReason };
  }
  const skippedResult = pauseIfTooManySkipped(d, { state: "running", progress, effects: [] });
  if (skippedResult) return skippedResult;
  const done = batch.every((id) => ["healthy", "skipped"].includes(progress.hosts[id]!.status));
  if (!done) return changed ? { state: "running", progress, effects: [] } : unchanged(d);
  if (d.settings.pause_between_batches > 0 && aBatchFollows(progress)) {
    progress.phase = "waiting";
    progress.waitUntil = now + d.settings.pause_between_batches;
    return { state: "running", progress, effects: [], reason: `batch ${progress.batch + 1} healthy; pausing ${formatDuration(d.settings.pause_between_batches)} before the next` };
  }
  return advance(d, progress, now, hosts, `batch ${progress.batch + 1} healthy`);
}

/** Whether the next thing after the current batch is another batch (which pause_between_batches precedes). */
function aBatchFollows(progress: Progress): boolean {
  const stages = stagesOf(progress);
  const stage = stages[progress.stage ?? 0]!;
  if (progress.batch < stage.to - 1) return true;
  const next = stages[(progress.stage ?? 0) + 1];
  return stage.analyze === 0 && next !== undefined && next.to > next.from;
}

/** The new status of a switching host, or undefined while it is still on its way. */
function judgeHost(d: DeploymentSnapshot, view: HostView | undefined, elapsed: number, switchedAt: number): Pick<HostProgress, "status" | "reason"> | undefined {
  if (!view) return { status: "skipped", reason: "no longer registered" };
  if (!view.reachable) return { status: "skipped", reason: "stopped heartbeating" };
  const onTarget = view.actualReleaseId === d.releaseId;
  if (onTarget && view.health === "healthy" && view.processState === "running") return { status: "healthy" };
  const fresh = view.reportedAt === undefined || view.reportedAt >= switchedAt;
  if (!fresh) return elapsed > d.settings.health_timeout ? { status: "failed", reason: `no report from the host for ${formatDuration(d.settings.health_timeout)}` } : undefined;
  if (view.processState === "failed" || view.processState === "crashloop") return { status: "failed", reason: view.error ?? (view.processState === "crashloop" ? "crash loop" : "failed to start") };
  if (onTarget && view.health === "unhealthy") return { status: "failed", reason: view.error ?? "health check failing" };
  if (elapsed > d.settings.health_timeout) return { status: "failed", reason: `not healthy after ${formatDuration(d.settings.health_timeout)}` };
  return undefined;
}

function pauseIfTooManySkipped(d: DeploymentSnapshot, result: StepResult): StepResult | undefined {
  const progress = result.progress!;
  const total = Object.keys(progress.hosts).length;
  const skipped = Object.values(progress.hosts).filter((h) => h.status === "skipped").length;
  const allowed = resolveLimit(d.settings.max_unreachable, total);
  if (skipped <= Math.max(allowed, progress.acceptedSkips ?? 0)) return undefined;
  progress.pausedReason = `${skipped} hosts unreachable, more than the ${allowed} allowed (max_unreachable)`;
  return { state: "paused", progress, effects: result.effects, reason: progress.pausedReason };
}

function resume(d: DeploymentSnapshot, now: number, by: string): StepResult {
  const progress = clone(d.progress!);
  if (progress.phase === "analyzing" || progress.phase === "holding") {
    // A person accepts what paused it (a failed or inconclusive analysis, a pause step): the
    // next pass goes on to the next stage.
    const what = progress.phase === "holding" ? "the pause" : `the analysis of ${stagesOf(progress)[progress.stage ?? 0]?.label ?? "the stage"}`;
    progress.phase = "holding";
    progress.waitUntil = now;
    delete progress.pausedReason;
    return { state: "running", progress, effects: [], reason: `resumed by ${by}: ${what} accepted` };
  }
  const batch = progress.batches[progress.batch] ?? [];
  const retried = batch.filter((id) => progress.hosts[id]!.status === "failed");
  for (const id of retried) Object.assign(progress.hosts[id]!, { status: "switching", at: now, reason: undefined });
  progress.acceptedSkips = Object.values(progress.hosts).filter((h) => h.status === "skipped").length;
  progress.batchStartedAt = now;
  delete progress.pausedReason;
  const note = retried.length ? `; checking ${names(progress, retried)} again` : "";
  return { state: "running", progress, effects: [], reason: `resumed by ${by}${note}` };
}

export function beginRollback(d: DeploymentSnapshot, now: number, reason: string): StepResult {
  const progress = clone(d.progress!);
  const touched = Object.entries(progress.hosts).filter(([, h]) => h.status !== "pending");
  if (touched.length === 0) return { state: "rolled_back", progress, effects: [], reason: `${reason}; no host had been changed` };
  const byTarget = new Map<string | null, string[]>();
  for (const [id, host] of touched) {
    host.status = "rolling_back";
    host.at = now;
    byTarget.set(host.previousReleaseId, [...(byTarget.get(host.previousReleaseId) ?? []), id]);
  }
  progress.rollbackStartedAt = now;
  const effects: Effect[] = [...byTarget].map(([releaseId, hostIds]) => ({ type: "set_desired", hostIds, releaseId }));
  return { state: "rolling_back", progress, effects, reason: `${reason}; returning ${touched.length} host${touched.length === 1 ? "" : "s"} to the previous release` };
}

function observeRollback(d: DeploymentSnapshot, now: number, hosts: HostView[]): StepResult {
  const progress = clone(d.progress!);
  const views = new Map(hosts.map((h) => [h.id, h]));
  let changed = false;
  for (const [id, host] of Object.entries(progress.hosts)) {
    if (host.status !== "rolling_back") continue;
    const view = views.get(id);
    const back =
      !view || !view.reachable
        ? "unreachable; it converges when it returns"
        : view.actualReleaseId === host.previousReleaseId && (host.previousReleaseId === null || view.health === "healthy")
          ? "back on the previous release"
          : undefined;
    if (back) {
      Object.assign(host, { status: "rolled_back", reason: back, at: now });
      changed = true;
    }
  }
  const pending = Object.entries(progress.hosts).filter(([, h]) => h.status === "rolling_back").map(([id]) => id);
  if (pending.length === 0) return { state: "rolled_back", progress, effects: [], reason: "every changed host is back on its previous release" };
  if (now - (progress.rollbackStartedAt ?? now) > d.settings.health_timeout) {
    return { state: "failed", progress, effects: [], reason: `rollback did not finish within ${formatDuration(d.settings.health_timeout)} on ${names(progress, pending)}` };
  }
  return changed ? { state: "rolling_back", progress, effects: [] } : unchanged(d);
}

export const nameOf = (progress: Progress, id: string): string => progress.hosts[id]?.name ?? id;
export const names = (progress: Progress, ids: string[]): string => ids.map((id) => nameOf(progress, id)).join(", ");

const clone = <T>(value: T): T => structuredClone(value);
