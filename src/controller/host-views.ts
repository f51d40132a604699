// What the deployment machine sees of hosts: built from the hosts table (reachability) and each
// host's desired/actual state for the service.
import type { Kysely } from "kysely";
import { isReachable } from "../core/hosts/reachability.ts";
import { matchesSelector } from "../core/hosts/selector.ts";
import type { HostView } from "../core/rollout/types.ts";
import type { Database, HostServicesTable, HostsTable } from "../store/schema.ts";

export function toHostView(host: HostsTable, state: HostServicesTable | undefined, targetReleaseId: string, now: number): HostView {
  // A failure the agent reports concerns the release it was working on; a failure of some other
  // release (an earlier, rolled-back attempt) says nothing about this deployment.
  const concernsTarget = state !== undefined && (state.attempted_release_id === targetReleaseId || state.actual_release_id === targetReleaseId);
  const processState = (state?.process_state ?? "unknown") as HostView["processState"];
  return {
    id: host.id,
    name: host.name,
    region: regionOf(host) || undefined,
    reachable: isReachable(host.last_heartbeat_at, now),
    desiredReleaseId: state?.desired_release_id ?? null,
    actualReleaseId: state?.actual_release_id ?? null,
    health: (state?.health ?? "unknown") as HostView["health"],
    processState: concernsTarget || (processState !== "failed" && processState !== "crashloop") ? processState : "unknown",
    error: concernsTarget ? (state?.error ?? undefined) : undefined,
    reportedAt: state?.reported_at ?? undefined,
  };
}

/** The hosts an environment selects, in rollout order: grouped by region, then by name. Runner-only agents are never deployment targets. */
export async function selectEnvironmentHosts(db: Kysely<Database>, tenantId: string, selector: Record<string, string>): Promise<HostsTable[]> {
  const rows = await db.selectFrom("hosts").selectAll().where("tenant_id", "=", tenantId).execute();
  return rows
    .filter((row) => (JSON.parse(row.roles) as string[]).includes("host"))
    .filter((row) => matchesSelector(JSON.parse(row.labels) as Record<string, string>, selector))
    .sort((a, b) => regionOf(a).localeCompare(regionOf(b)) || a.name.localeCompare(b.name, undefined, { numeric: true }));
}

const regionOf = (row: HostsTable) => (JSON.parse(row.labels) as Record<string, string>).region ?? "";

export async function hostViews(db: Kysely<Database>, hosts: HostsTable[], serviceId: string, targetReleaseId: string, now: number): Promise<HostView[]> {
  if (hosts.length === 0) return [];
  const states = await db.selectFrom("host_services").selectAll().where("service_id", "=", serviceId).where("host_id", "in", hosts.map((h) => h.id)).execute();
  const byHost = new Map(states.map((s) => [s.host_id, s]));
  return hosts.map((host) => toHostView(host, byHost.get(host.id), targetReleaseId, now));
}

export async function hostsById(db: Kysely<Database>, ids: string[]): Promise<HostsTable[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("hosts").selectAll().where("id", "in", ids).execute();
}
