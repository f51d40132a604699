// Hosts of an environment with their state for one service, as the status views show them.
import type { Kysely } from "kysely";
import type { HostServiceState } from "../contracts/deployments.ts";
import { isReachable } from "../core/hosts/reachability.ts";
import { matchesSelector } from "../core/hosts/selector.ts";
import { isoOrNull } from "./ids.ts";
import type { Database } from "./schema.ts";

export async function hostServiceStates(db: Kysely<Database>, tenantId: string, serviceId: string, selector: Record<string, string>, now: number): Promise<HostServiceState[]> {
  const rows = await db
    .selectFrom("hosts")
    .leftJoin("host_services", (join) => join.onRef("host_services.host_id", "=", "hosts.id").on("host_services.service_id", "=", serviceId))
    .leftJoin("releases as desired", "desired.id", "host_services.desired_release_id")
    .leftJoin("releases as actual", "actual.id", "host_services.actual_release_id")
    .select([
      "hosts.id",
      "hosts.name",
      "hosts.address",
      "hosts.labels",
      "hosts.last_heartbeat_at",
      "desired.version as desired_version",
      "actual.version as actual_version",
      "host_services.process_state",
      "host_services.health",
      "host_services.restarts",
      "host_services.error",
      "host_services.port",
      "host_services.releases_on_disk",
      "host_services.reported_at",
    ])
    .where("hosts.tenant_id", "=", tenantId)
    .orderBy("hosts.name")
    .execute();
  const versions = new Map((await db.selectFrom("releases").select(["id", "version"]).where("service_id", "=", serviceId).execute()).map((r) => [r.id, r.version]));
  return rows
    .map((row) => ({ row, labels: JSON.parse(row.labels) as Record<string, string> }))
    .filter(({ labels }) => matchesSelector(labels, selector))
    .map(({ row, labels }) => ({
      id: row.id,
      name: row.name,
      address: row.address,
      labels,
      reachable: isReachable(row.last_heartbeat_at, now),
      desired_version: row.desired_version ?? null,
      actual_version: row.actual_version ?? null,
      process_state: row.process_state ?? "unknown",
      health: row.health ?? "unknown",
      restarts: row.restarts ?? 0,
      error: row.error ?? null,
      port: row.port ?? null,
      releases_on_disk: (JSON.parse(row.releases_on_disk ?? "[]") as string[]).map((id) => versions.get(id) ?? id),
      reported_at: isoOrNull(row.reported_at ?? null),
    }));
}
