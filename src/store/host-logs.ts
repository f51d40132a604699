// Service log lines shipped by agents, kept per host and service up to a bounded number of
// lines (the agent keeps the full rotated files on the host).
import type { Kysely } from "kysely";
import type { LogBatch } from "../contracts/agent.ts";
import { notFound } from "../core/errors.ts";
import type { Database } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

export const LOG_LINES_KEPT = 2_000;

export async function appendLogs(db: Kysely<Database>, tenantId: string, batch: LogBatch): Promise<number> {
  return inTransaction(db, async (trx) => {
    const host = await trx.selectFrom("hosts").select("id").where("tenant_id", "=", tenantId).where("id", "=", batch.host_id).executeTakeFirst();
    if (!host) throw notFound("host", batch.host_id);
    const owned = new Set((await trx.selectFrom("services").select("id").where("tenant_id", "=", tenantId).execute()).map((s) => s.id));
    const rows = batch.lines.filter((l) => owned.has(l.service_id)).map((l) => ({ tenant_id: tenantId, host_id: host.id, service_id: l.service_id, stream: l.stream, line: l.line, at: l.at }));
    for (let i = 0; i < rows.length; i += 500) await trx.insertInto("host_logs").values(rows.slice(i, i + 500)).execute();
    for (const serviceId of new Set(rows.map((r) => r.service_id))) {
      const cutoff = await trx
        .selectFrom("host_logs")
        .select("id")
        .where("host_id", "=", host.id)
        .where("service_id", "=", serviceId)
        .orderBy("id", "desc")
        .offset(LOG_LINES_KEPT)
        .limit(1)
        .executeTakeFirst();
      if (cutoff) await trx.deleteFrom("host_logs").where("host_id", "=", host.id).where("service_id", "=", serviceId).where("id", "<=", cutoff.id).execute();
    }
    return rows.length;
  });
}

export interface LogLine {
  id: number;
  stream: string;
  line: string;
  at: number;
}

/** The last `limit` lines (or those after `afterId`, for following), oldest first. */
export async function tailLogs(db: Kysely<Database>, tenantId: string, hostId: string, serviceId: string, options: { limit: number; afterId?: number | undefined }): Promise<LogLine[]> {
  let query = db.selectFrom("host_logs").select(["id", "stream", "line", "at"]).where("tenant_id", "=", tenantId).where("host_id", "=", hostId).where("service_id", "=", serviceId);
  if (options.afterId !== undefined) query = query.where("id", ">", options.afterId);
  const rows = await query.orderBy("id", "desc").limit(options.limit).execute();
  return rows.reverse().map((r) => ({ ...r, id: Number(r.id) }));
}
