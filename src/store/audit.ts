// The append-only audit log. Every change is written with its audit entry in one transaction,
// so a committed change always has its entry and a rolled-back one never does.
import type { Kysely } from "kysely";
import type { AuditEntry } from "../contracts/audit.ts";
import { iso } from "./ids.ts";
import type { Database } from "./schema.ts";

/** Who is acting, from where, and when: passed to every store function that changes something. */
export interface ActorContext {
  tenantId: string;
  userId: string | null;
  actorName: string;
  requestId: string | null;
  ip: string | null;
  now: number;
}

export async function recordAudit(
  db: Kysely<Database>,
  actor: ActorContext,
  action: string,
  target: { type: string; id: string },
  details: Record<string, unknown> = {},
): Promise<void> {
  await db
    .insertInto("audit_log")
    .values({
      tenant_id: actor.tenantId,
      actor_id: actor.userId,
      actor_name: actor.actorName,
      action,
      target_type: target.type,
      target_id: target.id,
      details: JSON.stringify(details),
      request_id: actor.requestId,
      ip: actor.ip,
      created_at: actor.now,
    })
    .execute();
}

export async function listAudit(
  db: Kysely<Database>,
  tenantId: string,
  query: { limit: number; before?: number | undefined; action?: string | undefined },
): Promise<AuditEntry[]> {
  let select = db.selectFrom("audit_log").selectAll().where("tenant_id", "=", tenantId);
  if (query.before !== undefined) select = select.where("id", "<", query.before);
  if (query.action !== undefined) select = select.where("action", "=", query.action);
  const rows = await select.orderBy("id", "desc").limit(query.limit).execute();
  return rows.map((row) => ({
    id: Number(row.id),
    actor: row.actor_name,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
    request_id: row.request_id,
    ip: row.ip,
    created_at: iso(row.created_at),
  }));
}
