// The scrape provider: evidence from the samples agents scraped and the server stored
// (store/metrics.ts), computed by core/metrics/series.ts. Each host's last scrape before the
// interval is its counters' starting point, so it is read too (up to `lookbackMs` back: a
// metrics_interval longer than that loses the increase across the interval's start).
import type { Kysely } from "kysely";
import type { MetricSpec } from "../core/analysis/spec.ts";
import type { Evidence } from "../core/analysis/types.ts";
import { ScrapeSet, readsOf } from "../core/metrics/series.ts";
import { readScrapes } from "../store/metrics.ts";
import type { Database } from "../store/schema.ts";
import type { EvidencePoint, MetricQuery, MetricSource } from "./source.ts";

export const DEFAULT_LOOKBACK_MS = 60_000;

export class ScrapedSource implements MetricSource {
  readonly #db: Kysely<Database>;
  readonly #lookbackMs: number;
  readonly #reads = new Map<string, Promise<ScrapeSet>>();

  constructor(deps: { db: Kysely<Database>; lookbackMs?: number }) {
    this.#db = deps.db;
    this.#lookbackMs = deps.lookbackMs ?? DEFAULT_LOOKBACK_MS;
  }

  async evidence(metric: MetricSpec, query: MetricQuery): Promise<Evidence> {
    readsOf(metric); // a metric that is not readable from scrapes fails before any I/O
    return (await this.#scrapes(query)).evidence(metric, query.from, query.to);
  }

  async series(metric: MetricSpec, query: MetricQuery, stepMs: number): Promise<EvidencePoint[]> {
    readsOf(metric);
    return (await this.#scrapes(query)).steps(metric, query.from, query.to, stepMs);
  }

  /**
   * The scrapes of a query. The judge asks about every metric of a side at once, with the same
   * query: those asked while a read is in flight share it (and nothing is kept after, so a later
   * question sees the scrapes that arrived since).
   */
  #scrapes(query: MetricQuery): Promise<ScrapeSet> {
    const hostIds = query.hosts.map((h) => h.id);
    const key = JSON.stringify([query.tenantId, query.serviceId, hostIds, query.from, query.to]);
    let read = this.#reads.get(key);
    if (!read) {
      read = readScrapes(this.#db, { tenantId: query.tenantId, serviceId: query.serviceId, hostIds, from: query.from, to: query.to, lookbackMs: this.#lookbackMs })
        .then((scrapes) => new ScrapeSet(scrapes, hostIds))
        .finally(() => this.#reads.delete(key));
      this.#reads.set(key, read);
    }
    return read;
  }
}
