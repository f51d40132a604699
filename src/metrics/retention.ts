// Bounded retention of scraped metrics: every few minutes, delete the scrapes older than the
// configured age (SLIPWAY_METRICS_RETENTION, 6 hours by default). Several server replicas may
// all run it: deleting what another replica already deleted is a no-op.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { deleteScrapesBefore } from "../store/metrics.ts";
import type { Database } from "../store/schema.ts";

export interface MetricsRetentionDeps {
  db: Kysely<Database>;
  clock: () => number;
  logger: Pick<Logger, "info" | "warn">;
  retentionMs: number;
  /** How often to delete; by default a tenth of the retention, between 10 s and 5 min. */
  intervalMs?: number;
}

export class MetricsRetention {
  readonly #deps: MetricsRetentionDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(deps: MetricsRetentionDeps) {
    this.#deps = deps;
  }

  start(): void {
    const interval = this.#deps.intervalMs ?? Math.min(300_000, Math.max(10_000, Math.floor(this.#deps.retentionMs / 10)));
    this.#timer = setInterval(() => void this.pass(), interval);
    this.#timer.unref();
    void this.pass();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Deletes what is older than the retention now; one pass at a time. Returns how many scrapes were deleted. */
  pass(): Promise<number> {
    this.#running ??= (async () => {
      try {
        const deleted = await deleteScrapesBefore(this.#deps.db, this.#deps.clock() - this.#deps.retentionMs);
        if (deleted > 0) this.#deps.logger.info({ deleted, retention_ms: this.#deps.retentionMs }, "deleted scraped metrics past their retention");
        return deleted;
      } catch (error) {
        this.#deps.logger.warn({ err: (error as Error).message }, "could not delete old scraped metrics; will try again");
        return 0;
      }
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }
}
