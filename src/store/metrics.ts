// Scraped metrics: one row per scrape of a service's run.metrics on a host, kept for a bounded
// time (METRICS_RETENTION_MS by default; the server deletes older rows periodically). The canary
// judge reads them per service, hosts and time interval (metrics/scraped.ts).
import type { Kysely } from "kysely";
import type { MetricsBatch } from "../contracts/agent.ts";
import { notFound } from "../core/errors.ts";
import { fromWire, type WireSample } from "../core/metrics/exposition.ts";
import type { Scrape } from "../core/metrics/series.ts";
import type { Database } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

export const METRICS_RETENTION_MS = 6 * 3_600_000;

/** Stores an agent's scrapes; those of services outside the tenant are dropped. Returns how many were stored. */
export async function recordScrapes(db: Kysely<Database>, tenantId: string, batch: MetricsBatch): Promise<number> {
  return inTransaction(db, async (trx) => {
    const host = await trx.selectFrom("hosts").select("id").where("tenant_id", "=", tenantId).where("id", "=", batch.host_id).executeTakeFirst();
    if (!host) throw notFound("host", batch.host_id);
    const serviceIds = [...new Set(batch.scrapes.map((s) => s.service_id))];
    if (serviceIds.length === 0) return 0;
    const owned = new Set((await trx.selectFrom("services").select("id").where("tenant_id", "=", tenantId).where("id", "in", serviceIds).execute()).map((s) => s.id));
    const rows = batch.scrapes
      .filter((s) => owned.has(s.service_id))
      .map((s) => ({ tenant_id: tenantId, service_id: s.service_id, host_id: host.id, release_id: s.release_id, scraped_at: s.scraped_at, samples: JSON.stringify(s.samples) }));
    for (let i = 0; i < rows.length; i += 100) await trx.insertInto("metric_scrapes").values(rows.slice(i, i + 100)).execute();
    return rows.length;
  });
}

export interface ScrapeQuery {
  tenantId: string;
  serviceId: string;
  hostIds: readonly string[];
  from: number;
  to: number;
  /** Also give each host's last scrape in [from - lookbackMs, from): the starting point of its counters. */
  lookbackMs?: number;
}

/** The scrapes of a service on these hosts with from <= scraped_at < to (and each host's starting point), oldest first. */
export async function readScrapes(db: Kysely<Database>, query: ScrapeQuery): Promise<Scrape[]> {
  if (query.hostIds.length === 0 || query.to <= query.from) return [];
  const rows = await db
    .selectFrom("metric_scrapes")
    .select(["host_id", "release_id", "scraped_at", "samples"])
    .where("tenant_id", "=", query.tenantId)
    .where("service_id", "=", query.serviceId)
    .where("host_id", "in", [...query.hostIds])
    .where("scraped_at", ">=", query.from - (query.lookbackMs ?? 0))
    .where("scraped_at", "<", query.to)
    .orderBy("scraped_at")
    .orderBy("id")
    .execute();
  // Before `from`, only each host's last scrape matters: skip parsing the others.
  const lastBefore = new Map<string, number>();
  rows.forEach((r, i) => {
    if (Number(r.scraped_at) < query.from) lastBefore.set(r.host_id, i);
  });
  const kept = rows.filter((r, i) => Number(r.scraped_at) >= query.from || lastBefore.get(r.host_id) === i);
  return kept.map((r) => ({ host: r.host_id, at: Number(r.scraped_at), release: r.release_id, samples: fromWire(JSON.parse(r.samples) as WireSample[]) }));
}

/**
 * Deletes the scrapes taken before `cutoff`, a few thousand rows per statement so that a large
 * backlog never holds one long lock. Returns how many were deleted.
 */
export async function deleteScrapesBefore(db: Kysely<Database>, cutoff: number, batch = 5000): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await db
      .deleteFrom("metric_scrapes")
      .where("id", "in", (qb) => qb.selectFrom("metric_scrapes").select("id").where("scraped_at", "<", cutoff).limit(batch))
      .executeTakeFirst();
    const count = Number(result.numDeletedRows);
    deleted += count;
    if (count < batch) return deleted;
  }
}
