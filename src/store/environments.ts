// What each environment of a service has live, as an append-only history: the live release is
// the newest entry, the previous one the newest before it with a different release.
import type { Kysely } from "kysely";
import { iso } from "./ids.ts";
import type { Database } from "./schema.ts";

export interface LiveEntry {
  id: string;
  version: string;
  since: string;
  deployment_id: string;
  deployed_by: string;
}

export interface LiveAndPrevious {
  live: LiveEntry | null;
  previous: LiveEntry | null;
}

export async function liveAndPrevious(db: Kysely<Database>, serviceId: string, environment: string): Promise<LiveAndPrevious> {
  const rows = await db
    .selectFrom("environment_history")
    .innerJoin("releases", "releases.id", "environment_history.release_id")
    .innerJoin("deployments", "deployments.id", "environment_history.deployment_id")
    .select(["releases.id", "releases.version", "environment_history.at", "environment_history.deployment_id", "deployments.created_by"])
    .where("environment_history.service_id", "=", serviceId)
    .where("environment_history.environment", "=", environment)
    .orderBy("environment_history.id", "desc")
    .limit(50)
    .execute();
  const toEntry = (row: (typeof rows)[number]): LiveEntry => ({ id: row.id, version: row.version, since: iso(row.at), deployment_id: row.deployment_id, deployed_by: row.created_by });
  const [first, ...rest] = rows;
  if (!first) return { live: null, previous: null };
  const before = rest.find((row) => row.id !== first.id);
  return { live: toEntry(first), previous: before ? toEntry(before) : null };
}

export async function recordLive(db: Kysely<Database>, entry: { tenantId: string; serviceId: string; environment: string; releaseId: string; deploymentId: string; now: number }): Promise<void> {
  await db
    .insertInto("environment_history")
    .values({ tenant_id: entry.tenantId, service_id: entry.serviceId, environment: entry.environment, release_id: entry.releaseId, deployment_id: entry.deploymentId, at: entry.now })
    .onConflict((oc) => oc.column("deployment_id").doNothing())
    .execute();
}
