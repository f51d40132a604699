// Per-host desired and actual state of each service. Slipway writes the desired release; the
// agent reports the actual one. Every change to a host's desired state raises its generation,
// which is what an agent's long-poll waits on.
import type { Kysely } from "kysely";
import { notFound } from "../core/errors.ts";
import type { ActualService, AgentReport, DesiredState, HostRelease, TaskReport } from "../contracts/agent.ts";
import { parseStoredManifest } from "../core/manifest/stored.ts";
import type { Database, HostServicesTable, ReleasesTable } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

export interface DesiredChange {
  tenantId: string;
  serviceId: string;
  hostIds: string[];
  releaseId: string | null;
  deploymentId: string | null;
  now: number;
}

/**
 * Points hosts at a release (or at nothing). Hosts already pointed there are left alone, so
 * their generation does not move and their agents are not woken. Returns the hosts changed.
 */
export async function setDesiredRelease(db: Kysely<Database>, change: DesiredChange): Promise<string[]> {
  if (change.hostIds.length === 0) return [];
  return inTransaction(db, async (trx) => {
    const existing = await trx.selectFrom("host_services").select(["host_id", "desired_release_id"]).where("service_id", "=", change.serviceId).where("host_id", "in", change.hostIds).execute();
    const current = new Map(existing.map((row) => [row.host_id, row.desired_release_id]));
    const changed = change.hostIds.filter((id) => !current.has(id) || current.get(id) !== change.releaseId);
    for (const hostId of changed) {
      if (current.has(hostId)) {
        await trx
          .updateTable("host_services")
          .set({ desired_release_id: change.releaseId, desired_deployment_id: change.deploymentId, desired_at: change.now })
          .where("host_id", "=", hostId)
          .where("service_id", "=", change.serviceId)
          .execute();
      } else {
        await trx
          .insertInto("host_services")
          .values({ host_id: hostId, service_id: change.serviceId, tenant_id: change.tenantId, desired_release_id: change.releaseId, desired_deployment_id: change.deploymentId, desired_at: change.now, releases_on_disk: "[]", process_state: "unknown", health: "unknown", restarts: 0 })
          .execute();
      }
    }
    if (changed.length > 0) await bumpGeneration(trx, changed);
    return changed;
  });
}

export async function bumpGeneration(db: Kysely<Database>, hostIds: string[]): Promise<void> {
  await db
    .updateTable("hosts")
    .set((eb) => ({ desired_generation: eb("desired_generation", "+", 1) }))
    .where("id", "in", hostIds)
    .execute();
}

export const toHostRelease = (row: Pick<ReleasesTable, "id" | "version" | "artifact_sha256" | "artifact_size" | "manifest">): HostRelease => ({
  id: row.id,
  version: row.version,
  artifact_sha256: row.artifact_sha256,
  artifact_size: row.artifact_size,
  manifest: row.manifest === null ? null : (JSON.parse(row.manifest) as unknown),
});

function keepReleasesOf(manifest: string | null): number {
  if (manifest === null) return 5;
  try {
    return parseStoredManifest(JSON.parse(manifest)).deploy.keep_releases;
  } catch {
    return 5;
  }
}

export async function getDesiredState(db: Kysely<Database>, tenantId: string, hostId: string): Promise<DesiredState> {
  const host = await db.selectFrom("hosts").select(["id", "desired_generation"]).where("tenant_id", "=", tenantId).where("id", "=", hostId).executeTakeFirst();
  if (!host) throw notFound("host", hostId);
  const rows = await db
    .selectFrom("host_services")
    .innerJoin("services", "services.id", "host_services.service_id")
    .leftJoin("releases", "releases.id", "host_services.desired_release_id")
    .select(["host_services.service_id", "services.name as service", "releases.id", "releases.version", "releases.artifact_sha256", "releases.artifact_size", "releases.manifest"])
    .where("host_services.host_id", "=", hostId)
    .execute();
  const tasks = await db
    .selectFrom("agent_tasks")
    .innerJoin("services", "services.id", "agent_tasks.service_id")
    .innerJoin("releases", "releases.id", "agent_tasks.release_id")
    .select(["agent_tasks.id as task_id", "agent_tasks.kind", "agent_tasks.service_id", "agent_tasks.deployment_id", "services.name as service", "releases.id", "releases.version", "releases.artifact_sha256", "releases.artifact_size", "releases.manifest"])
    .where("agent_tasks.host_id", "=", hostId)
    .where("agent_tasks.status", "in", ["pending", "running"])
    .execute();
  return {
    host_id: host.id,
    generation: host.desired_generation,
    services: rows.map((row) => ({
      service_id: row.service_id,
      service: row.service,
      release: row.id === null ? null : toHostRelease({ id: row.id, version: row.version!, artifact_sha256: row.artifact_sha256!, artifact_size: row.artifact_size!, manifest: row.manifest }),
      keep_releases: keepReleasesOf(row.manifest),
    })),
    tasks: tasks.map((row) => ({ id: row.task_id, kind: "migrate" as const, service_id: row.service_id, service: row.service, deployment_id: row.deployment_id, release: toHostRelease(row) })),
  };
}

/** Records an agent's report: its heartbeat, each service's actual state, its tasks' progress. */
export async function recordReport(db: Kysely<Database>, tenantId: string, report: AgentReport, now: number): Promise<number> {
  return inTransaction(db, async (trx) => {
    const host = await trx.selectFrom("hosts").select(["id", "desired_generation"]).where("tenant_id", "=", tenantId).where("id", "=", report.host_id).executeTakeFirst();
    if (!host) throw notFound("host", report.host_id);
    await trx.updateTable("hosts").set({ last_heartbeat_at: now }).where("id", "=", host.id).execute();
    for (const service of report.services) await recordActual(trx, tenantId, host.id, service, now);
    for (const task of report.tasks) await recordTask(trx, host.id, task, now);
    return host.desired_generation;
  });
}

async function recordActual(db: Kysely<Database>, tenantId: string, hostId: string, s: ActualService, now: number): Promise<void> {
  const owned = await db.selectFrom("services").select("id").where("tenant_id", "=", tenantId).where("id", "=", s.service_id).executeTakeFirst();
  if (!owned) return;
  const actual = {
    actual_release_id: s.release_id,
    attempted_release_id: s.attempted_release_id,
    process_state: s.process_state,
    health: s.health,
    restarts: s.restarts,
    error: s.error,
    pid: s.pid,
    port: s.port,
    releases_on_disk: JSON.stringify(s.releases_on_disk),
    reported_at: now,
  };
  const updated = await db.updateTable("host_services").set(actual).where("host_id", "=", hostId).where("service_id", "=", s.service_id).executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    await db
      .insertInto("host_services")
      .values({ host_id: hostId, service_id: s.service_id, tenant_id: tenantId, desired_release_id: null, desired_deployment_id: null, desired_at: now, ...actual })
      .onConflict((oc) => oc.columns(["host_id", "service_id"]).doUpdateSet(actual))
      .execute();
  }
}

async function recordTask(db: Kysely<Database>, hostId: string, task: TaskReport, now: number): Promise<void> {
  const finished = task.status === "succeeded" || task.status === "failed";
  await db
    .updateTable("agent_tasks")
    .set({ status: task.status, output: task.output, finished_at: finished ? now : null })
    .where("id", "=", task.id)
    .where("host_id", "=", hostId)
    .where("status", "in", ["pending", "running"])
    .execute();
}

export type HostServiceRow = HostServicesTable;

/** Every host's state for one service: what the controller compares with a deployment's plan. */
export async function hostStatesOfService(db: Kysely<Database>, serviceId: string): Promise<HostServiceRow[]> {
  return db.selectFrom("host_services").selectAll().where("service_id", "=", serviceId).execute();
}
