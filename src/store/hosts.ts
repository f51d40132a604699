// Hosts, registered by their agents. Registering again under the same name updates the address
// and labels (an agent restarted elsewhere keeps its identity); heartbeats only touch the time.
import type { Kysely } from "kysely";
import { notFound } from "../core/errors.ts";
import { isReachable } from "../core/hosts/reachability.ts";
import { matchesSelector, type LabelMap } from "../core/hosts/selector.ts";
import type { Host, HostRegister, HostRole } from "../contracts/hosts.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { iso, newId } from "./ids.ts";
import { inTransaction } from "./transaction.ts";
import type { Database, HostsTable } from "./schema.ts";

export const toHost = (row: HostsTable, now: number): Host => ({
  id: row.id,
  name: row.name,
  address: row.address,
  labels: JSON.parse(row.labels) as Record<string, string>,
  registered_at: iso(row.registered_at),
  last_heartbeat_at: iso(row.last_heartbeat_at),
  reachable: isReachable(row.last_heartbeat_at, now),
  agent_version: row.agent_version,
  roles: JSON.parse(row.roles) as HostRole[],
});

export async function registerHost(db: Kysely<Database>, actor: ActorContext, input: HostRegister & { agentVersion?: string; roles?: HostRole[] }): Promise<Host> {
  return inTransaction(db, async (trx) => {
    const labels = JSON.stringify(input.labels);
    const roles = JSON.stringify(input.roles ?? ["host"]);
    const existing = await trx.selectFrom("hosts").selectAll().where("tenant_id", "=", actor.tenantId).where("name", "=", input.name).executeTakeFirst();
    if (existing) {
      const changed = existing.address !== input.address || existing.labels !== labels || existing.roles !== roles;
      const row = { ...existing, address: input.address, labels, roles, last_heartbeat_at: actor.now, agent_version: input.agentVersion ?? existing.agent_version };
      await trx.updateTable("hosts").set({ address: row.address, labels: row.labels, roles, last_heartbeat_at: actor.now, agent_version: row.agent_version }).where("id", "=", existing.id).execute();
      if (changed) await recordAudit(trx, actor, "host.update", { type: "host", id: existing.id }, { address: input.address, labels: input.labels, roles: input.roles ?? ["host"] });
      return toHost(row, actor.now);
    }
    const row: HostsTable = {
      id: newId("hst", actor.now),
      tenant_id: actor.tenantId,
      name: input.name,
      address: input.address,
      labels,
      registered_at: actor.now,
      last_heartbeat_at: actor.now,
      desired_generation: 0,
      agent_version: input.agentVersion ?? null,
      roles,
    };
    const inserted = await trx.insertInto("hosts").values(row).onConflict((oc) => oc.columns(["tenant_id", "name"]).doNothing()).executeTakeFirst();
    // Another replica registered the same name between our read and insert: theirs stands.
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return getHost(trx, actor.tenantId, input.name, actor.now);
    await recordAudit(trx, actor, "host.register", { type: "host", id: row.id }, { name: input.name, address: input.address, labels: input.labels, roles: input.roles ?? ["host"] });
    return toHost(row, actor.now);
  });
}

export async function heartbeat(db: Kysely<Database>, tenantId: string, hostId: string, now: number): Promise<Host> {
  const result = await db.updateTable("hosts").set({ last_heartbeat_at: now }).where("tenant_id", "=", tenantId).where("id", "=", hostId).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw notFound("host", hostId);
  return getHost(db, tenantId, hostId, now);
}

export async function getHost(db: Kysely<Database>, tenantId: string, nameOrId: string, now: number): Promise<Host> {
  const row = await db
    .selectFrom("hosts")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where((eb) => eb.or([eb("id", "=", nameOrId), eb("name", "=", nameOrId)]))
    .executeTakeFirst();
  if (!row) throw notFound("host", nameOrId);
  return toHost(row, now);
}

export async function listHosts(db: Kysely<Database>, tenantId: string, now: number, selector: LabelMap = {}): Promise<Host[]> {
  const rows = await db.selectFrom("hosts").selectAll().where("tenant_id", "=", tenantId).orderBy("name").execute();
  return rows.map((row) => toHost(row, now)).filter((host) => matchesSelector(host.labels, selector));
}
