// Deployments as durable state machines. A deployment row holds its state, a version that
// every transition compare-and-sets, and its progress; each transition appends an event and
// applies the machine's effects (hosts' desired releases, the migration task, the live record)
// and its audit entry in the same transaction, so each happens exactly once.
import { afterDeploymentSucceeded } from "./delivery.ts";
import type { Kysely } from "kysely";
import { CannotTransitionError, invalidInput, notFound } from "../core/errors.ts";
import { rolloutFor, type RolloutOverride, type RolloutSettings } from "../core/manifest/schema.ts";
import { parseStoredManifest } from "../core/manifest/stored.ts";
import { stageStatuses, stagesOf } from "../core/rollout/stages.ts";
import { isTerminal, type DeploymentState, type Effect, type Progress, type StepResult } from "../core/rollout/types.ts";
import type { Deployment, DeploymentSummary } from "../contracts/deployments.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { recordLive } from "./environments.ts";
import { setDesiredRelease } from "./host-state.ts";
import { iso, isoOrNull, newId } from "./ids.ts";
import type { Database, DeploymentsTable } from "./schema.ts";
import { getService } from "./services.ts";
import { inTransaction } from "./transaction.ts";

export interface DeploymentRow extends DeploymentsTable {
  service_name: string;
  release_version: string;
  previous_version: string | null;
}

export interface NewDeployment {
  service: string;
  environment: string;
  version: string;
  kind: "deploy" | "rollback";
  rollout?: RolloutOverride | undefined;
}

/** Queues a deployment of a release (by version) to an environment. */
export async function createDeployment(db: Kysely<Database>, actor: ActorContext, input: NewDeployment): Promise<DeploymentRow> {
  return inTransaction(db, async (trx) => {
    const service = await getService(trx, actor.tenantId, input.service);
    if (!service.environments.some((env) => env.name === input.environment)) {
      throw invalidInput(`service ${service.name} has no environment '${input.environment}' (it has ${service.environments.map((e) => e.name).join(", ") || "none"})`, [{ field: "environment", message: "not an environment of this service" }]);
    }
    const release = await trx.selectFrom("releases").selectAll().where("service_id", "=", service.id).where("version", "=", input.version).executeTakeFirst();
    if (!release) throw notFound("release", `${service.name}@${input.version}`);
    if (release.manifest === null) {
      throw invalidInput(`release ${input.version} has no slipway.yaml in its artifact, so hosts cannot run it`, [{ field: "version", message: "the artifact must be a .tar.gz with slipway.yaml at its root" }]);
    }
    const manifest = parseStoredManifest(JSON.parse(release.manifest));
    const settings: RolloutSettings =
      input.kind === "rollback" ? { ...rolloutFor(manifest.deploy, input.environment, input.rollout), strategy: "all_at_once", on_failure: "pause" } : rolloutFor(manifest.deploy, input.environment, input.rollout);
    const row: DeploymentsTable = {
      id: newId("dep", actor.now),
      tenant_id: actor.tenantId,
      service_id: service.id,
      environment: input.environment,
      release_id: release.id,
      kind: input.kind,
      state: "queued",
      version: 1,
      settings: JSON.stringify(settings),
      has_migration: input.kind === "deploy" && manifest.hooks.migrate !== undefined ? 1 : 0,
      progress: null,
      reason: null,
      previous_release_id: null,
      created_by: actor.actorName,
      created_at: actor.now,
      started_at: null,
      finished_at: null,
      lease_owner: null,
      lease_until: null,
    };
    await trx.insertInto("deployments").values(row).execute();
    const reason = input.kind === "rollback" ? `rollback to ${release.version} requested` : `deployment of ${release.version} requested`;
    await trx.insertInto("deployment_events").values({ deployment_id: row.id, seq: 1, from_state: "", to_state: "queued", reason, actor: actor.actorName, at: actor.now }).execute();
    await recordAudit(trx, actor, `deployment.${input.kind === "rollback" ? "rollback" : "create"}`, { type: "deployment", id: row.id }, { service: service.name, environment: input.environment, version: release.version });
    return { ...row, service_name: service.name, release_version: release.version, previous_version: null };
  });
}

const baseQuery = (db: Kysely<Database>) =>
  db
    .selectFrom("deployments")
    .innerJoin("services", "services.id", "deployments.service_id")
    .innerJoin("releases", "releases.id", "deployments.release_id")
    .leftJoin("releases as previous", "previous.id", "deployments.previous_release_id")
    .selectAll("deployments")
    .select(["services.name as service_name", "releases.version as release_version", "previous.version as previous_version"]);

export async function getDeploymentRow(db: Kysely<Database>, tenantId: string, id: string): Promise<DeploymentRow> {
  const row = await baseQuery(db).where("deployments.tenant_id", "=", tenantId).where("deployments.id", "=", id).executeTakeFirst();
  if (!row) throw notFound("deployment", id);
  return row;
}

/** Deployments not yet finished, oldest first, across tenants: the controller's work list. */
export async function unfinishedDeployments(db: Kysely<Database>, limit = 1000): Promise<DeploymentRow[]> {
  return baseQuery(db).where("deployments.state", "not in", ["succeeded", "failed", "rolled_back", "cancelled"]).orderBy("deployments.created_at").orderBy("deployments.id").limit(limit).execute();
}

export async function listDeploymentRows(db: Kysely<Database>, tenantId: string, filter: { serviceId?: string; environment?: string | undefined; limit: number; since?: number }): Promise<DeploymentRow[]> {
  let query = baseQuery(db).where("deployments.tenant_id", "=", tenantId);
  if (filter.serviceId) query = query.where("deployments.service_id", "=", filter.serviceId);
  if (filter.environment) query = query.where("deployments.environment", "=", filter.environment);
  if (filter.since !== undefined) query = query.where("deployments.created_at", ">=", filter.since);
  return query.orderBy("deployments.created_at", "desc").orderBy("deployments.id", "desc").limit(filter.limit).execute();
}

/**
 * Claims the right to drive a deployment for `ms`: replicas share the work, and a dead
 * replica's deployments are taken over once its lease runs out.
 */
export async function claimLease(db: Kysely<Database>, id: string, owner: string, now: number, ms: number): Promise<boolean> {
  const result = await db
    .updateTable("deployments")
    .set({ lease_owner: owner, lease_until: now + ms })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("lease_owner", "is", null), eb("lease_owner", "=", owner), eb("lease_until", "<", now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface Transition {
  row: DeploymentRow;
  result: StepResult;
  actor: string;
  now: number;
  /** Set on the first transition out of `queued`. */
  previousReleaseId?: string | null;
}

/**
 * Writes a step's outcome: compare-and-set on the row's version (a lost race throws
 * CannotTransitionError and nothing is written), then the event, the effects and the audit entry.
 * Returns the hosts whose desired state changed, so their agents can be woken.
 */
export async function applyTransition(db: Kysely<Database>, t: Transition): Promise<string[]> {
  const { row, result, now } = t;
  return inTransaction(db, async (trx) => {
    const stateChanged = result.state !== row.state;
    const updated = await trx
      .updateTable("deployments")
      .set({
        state: result.state,
        version: row.version + 1,
        progress: result.progress === null ? null : JSON.stringify(result.progress),
        reason: result.reason !== undefined && stateChanged ? result.reason : row.reason,
        started_at: row.started_at ?? (row.state === "queued" && stateChanged ? now : null),
        finished_at: isTerminal(result.state) ? now : null,
        ...(t.previousReleaseId !== undefined ? { previous_release_id: t.previousReleaseId } : {}),
      })
      .where("id", "=", row.id)
      .where("version", "=", row.version)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw new CannotTransitionError("deployment", row.id, `${row.state} (version ${row.version})`);
    if (result.reason !== undefined) {
      const last = await trx.selectFrom("deployment_events").select((eb) => eb.fn.max("seq").as("seq")).where("deployment_id", "=", row.id).executeTakeFirst();
      await trx
        .insertInto("deployment_events")
        .values({ deployment_id: row.id, seq: Number(last?.seq ?? 0) + 1, from_state: row.state, to_state: result.state, reason: result.reason, actor: t.actor, at: now })
        .execute();
    }
    const woken = await applyEffects(trx, row, result.effects, now);
    if (stateChanged && result.state === "succeeded") await afterDeploymentSucceeded(trx, row, now);
    if (stateChanged) {
      const audit: ActorContext = { tenantId: row.tenant_id, userId: null, actorName: t.actor, requestId: null, ip: null, now };
      await recordAudit(trx, audit, `deployment.${result.state}`, { type: "deployment", id: row.id }, { service: row.service_name, environment: row.environment, version: row.release_version, reason: result.reason ?? null });
    }
    return woken;
  });
}

async function applyEffects(db: Kysely<Database>, row: DeploymentRow, effects: Effect[], now: number): Promise<string[]> {
  const woken: string[] = [];
  for (const effect of effects) {
    switch (effect.type) {
      case "set_desired":
        woken.push(...(await setDesiredRelease(db, { tenantId: row.tenant_id, serviceId: row.service_id, hostIds: effect.hostIds, releaseId: effect.releaseId, deploymentId: row.id, now })));
        break;
      case "run_migration":
        await db
          .insertInto("agent_tasks")
          .values({ id: newId("tsk", now), tenant_id: row.tenant_id, host_id: effect.hostId, service_id: row.service_id, deployment_id: row.id, kind: "migrate", release_id: row.release_id, status: "pending", output: "", created_at: now, finished_at: null })
          .onConflict((oc) => oc.columns(["deployment_id", "kind"]).doNothing())
          .execute();
        await db.updateTable("hosts").set((eb) => ({ desired_generation: eb("desired_generation", "+", 1) })).where("id", "=", effect.hostId).execute();
        woken.push(effect.hostId);
        break;
      case "record_live":
        await recordLive(db, { tenantId: row.tenant_id, serviceId: row.service_id, environment: row.environment, releaseId: effect.releaseId, deploymentId: row.id, now });
        break;
    }
  }
  return woken;
}

export async function migrationStatus(db: Kysely<Database>, deploymentId: string): Promise<{ status: "pending" | "succeeded" | "failed"; reason?: string } | undefined> {
  const task = await db.selectFrom("agent_tasks").select(["status", "output"]).where("deployment_id", "=", deploymentId).where("kind", "=", "migrate").executeTakeFirst();
  if (!task) return undefined;
  if (task.status === "succeeded") return { status: "succeeded" };
  if (task.status === "failed") return { status: "failed", reason: task.output.trim().split("\n").slice(-3).join(" | ") || "the migration failed" };
  return { status: "pending" };
}

// ---- views ----

export function toSummary(row: DeploymentRow, names: Map<string, string> = new Map()): DeploymentSummary {
  const progress = row.progress === null ? null : (JSON.parse(row.progress) as Progress);
  return {
    id: row.id,
    service: row.service_name,
    environment: row.environment,
    kind: row.kind === "rollback" ? "rollback" : "deploy",
    release: { id: row.release_id, version: row.release_version },
    previous_release: row.previous_release_id && row.previous_version ? { id: row.previous_release_id, version: row.previous_version } : null,
    state: row.state as DeploymentState,
    reason: row.reason,
    batches: progress?.batches.length ?? 0,
    batch: progress && ["running", "paused"].includes(row.state) ? progress.batch : null,
    migration: progress?.migration ? { host: names.get(progress.migration.hostId) ?? progress.migration.hostId, status: progress.migration.status, reason: progress.migration.reason ?? null } : null,
    created_by: row.created_by,
    created_at: iso(row.created_at),
    started_at: isoOrNull(row.started_at),
    finished_at: isoOrNull(row.finished_at),
  };
}

export async function getDeploymentView(db: Kysely<Database>, tenantId: string, id: string): Promise<Deployment> {
  const row = await getDeploymentRow(db, tenantId, id);
  const progress = row.progress === null ? null : (JSON.parse(row.progress) as Progress);
  const hostIds = Object.keys(progress?.hosts ?? {});
  const hosts = hostIds.length ? await db.selectFrom("hosts").select(["id", "name"]).where("id", "in", hostIds).execute() : [];
  const names = new Map(hosts.map((h) => [h.id, h.name]));
  const events = await db.selectFrom("deployment_events").selectAll().where("deployment_id", "=", id).orderBy("seq").execute();
  const batchOf = new Map<string, number>();
  progress?.batches.forEach((batch, index) => batch.forEach((hostId) => batchOf.set(hostId, index)));
  return {
    ...toSummary(row, names),
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    hosts: Object.entries(progress?.hosts ?? {})
      .map(([hostId, h]) => ({ id: hostId, name: names.get(hostId) ?? hostId, batch: batchOf.get(hostId) ?? 0, status: h.status, reason: h.reason ?? null, at: h.at === undefined ? null : iso(h.at) }))
      .sort((a, b) => a.batch - b.batch || a.name.localeCompare(b.name)),
    events: events.map((e) => ({ seq: e.seq, from: e.from_state, to: e.to_state, reason: e.reason, actor: e.actor, at: iso(e.at) })),
    ...stagesView(progress, row.state as DeploymentState),
  };
}

function stagesView(progress: Progress | null, state: DeploymentState): Pick<Deployment, "stages" | "stage" | "analysis" | "warnings"> {
  if (!progress) return { stages: [], stage: null, analysis: null, warnings: [] };
  const stages = stagesOf(progress);
  const statuses = stageStatuses(stages, progress, state);
  return {
    stages: stages.map((s, i) => ({
      label: s.label,
      hosts: progress.batches.slice(s.from, s.to).reduce((n, b) => n + b.length, 0),
      analyze_ms: s.analyze,
      pause: s.pause === undefined ? null : s.pause === null ? "until_resumed" : s.pause,
      status: statuses[i]!,
    })),
    stage: isTerminal(state) ? null : (progress.stage ?? 0),
    analysis: progress.analysis && !isTerminal(state) ? { stage: progress.analysis.stage, started_at: iso(progress.analysis.startedAt), until: iso(progress.analysis.until), last_reason: progress.analysis.lastReason ?? null } : null,
    warnings: (progress.warnings ?? []).map((w) => ({ at: iso(w.at), reason: w.reason })),
  };
}
