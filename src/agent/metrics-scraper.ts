// Scrapes the services' Prometheus endpoints and ships the samples to the server
// (POST /api/v1/agent/metrics), for the canary judge's scrape provider.
//
//   every tick (250 ms): for each running service whose release has run.metrics and a port,
//     when its metrics_interval has passed: GET http://<address>:<port><run.metrics> -> parse ->
//     keep the series its deploy.analysis metrics read (all of them without an analysis), at most
//     1,000 -> buffer
//   every second, or once a batch is full: send the buffer in batches of about 1 MiB.
//
// Scraping and shipping run on their own timers: nothing here ever waits in the way of
// reconciling. While the server is unreachable the scrapes wait in a bounded buffer (oldest
// dropped first, and counted); a batch the server refuses for good (4xx) is dropped.
import { z } from "zod";
import { MAX_SERIES_PER_SCRAPE, type MetricScrape } from "../contracts/agent.ts";
import { MetricSpec } from "../core/analysis/spec.ts";
import { parseExposition, toWire } from "../core/metrics/exposition.ts";
import { matchesSelector, type SeriesSelector } from "../core/metrics/selector.ts";
import { selectorsOf } from "../core/metrics/series.ts";
import type { ServiceManifest } from "../core/manifest/schema.ts";
import { AgentHttpError, isTransient, type ServerHttp } from "./client.ts";
import { send, text } from "./http.ts";
import type { Logger } from "./logger.ts";

export interface MetricTarget {
  serviceId: string;
  service: string;
  releaseId: string;
  url: string;
  intervalMs: number;
  /** The series to keep; undefined keeps every series (up to the cap). */
  keep: readonly SeriesSelector[] | undefined;
}

export interface MetricsScraperOptions {
  targets: () => Iterable<MetricTarget>;
  send: (scrapes: MetricScrape[]) => Promise<unknown>;
  logger: Logger;
  now: () => number;
  tickMs?: number;
  flushIntervalMs?: number;
  /** A batch is sent once this many bytes of scrapes wait, and carries about this much at most. */
  batchBytes?: number;
  /** Past this, the oldest scrapes are dropped. */
  maxBufferedBytes?: number;
}

interface TargetState {
  releaseId: string;
  nextAt: number;
  inFlight: boolean;
  warned: Set<string>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export class MetricsScraper {
  readonly #o: Required<MetricsScraperOptions>;
  readonly #states = new Map<string, TargetState>();
  #buffer: { scrape: MetricScrape; bytes: number }[] = [];
  #bufferedBytes = 0;
  #dropped = 0;
  #tick: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #retryAt = 0;
  #stopped = false;

  constructor(options: MetricsScraperOptions) {
    this.#o = { tickMs: 250, flushIntervalMs: 1000, batchBytes: 1024 * 1024, maxBufferedBytes: 32 * 1024 * 1024, ...options };
  }

  start(): void {
    this.#stopped = false;
    this.#tick = setInterval(() => this.#scrapeDue(), this.#o.tickMs);
    this.#flushTimer = setInterval(() => void this.flush(), this.#o.flushIntervalMs);
  }

  /** Stops scraping; what is buffered stays for a last flush(). */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#tick);
    clearInterval(this.#flushTimer);
  }

  /** Scrapes waiting to be sent. */
  get buffered(): number {
    return this.#buffer.length;
  }

  #scrapeDue(): void {
    const now = this.#o.now();
    const seen = new Set<string>();
    for (const target of this.#o.targets()) {
      seen.add(target.serviceId);
      let state = this.#states.get(target.serviceId);
      if (!state || state.releaseId !== target.releaseId) {
        state = { releaseId: target.releaseId, nextAt: now, inFlight: false, warned: state?.warned ?? new Set() };
        this.#states.set(target.serviceId, state);
      }
      if (state.inFlight || now < state.nextAt) continue;
      state.nextAt = Math.max(state.nextAt + target.intervalMs, now);
      state.inFlight = true;
      void this.scrape(target, state.warned).finally(() => (state.inFlight = false));
    }
    for (const id of this.#states.keys()) if (!seen.has(id)) this.#states.delete(id);
  }

  /** Scrapes one target now and buffers what it kept. Never throws. */
  async scrape(target: MetricTarget, warned = new Set<string>()): Promise<MetricScrape | undefined> {
    const log = this.#o.logger.child({ service: target.service });
    const warnOnce = (key: string, fields: object, message: string) => {
      if (warned.has(key)) return log.debug(fields, message);
      warned.add(key);
      log.warn(fields, message);
    };
    const scrapedAt = this.#o.now();
    let body: string;
    try {
      const response = await send(target.url, { method: "GET", headers: { accept: "text/plain;version=0.0.4;q=1,*/*;q=0.1" }, signal: AbortSignal.timeout(Math.max(1000, Math.min(target.intervalMs, 10_000))) });
      if (response.status !== 200) {
        response.body.resume();
        warnOnce(`status ${response.status}`, { url: target.url, status: response.status }, "the metrics endpoint did not answer 200");
        return undefined;
      }
      body = await text(response, MAX_BODY_BYTES);
    } catch (error) {
      log.debug({ url: target.url, err: (error as Error).message }, "could not scrape the metrics endpoint");
      return undefined;
    }
    const parsed = parseExposition(body);
    if (parsed.problems.length > 0) warnOnce("problems", { url: target.url, problems: parsed.problems.slice(0, 5) }, "some lines of the metrics endpoint could not be read");
    let samples = target.keep ? parsed.samples.filter((s) => target.keep!.some((selector) => matchesSelector(selector, s.name, s.labels))) : parsed.samples;
    if (samples.length > MAX_SERIES_PER_SCRAPE) {
      warnOnce("cap", { url: target.url, series: samples.length, kept: MAX_SERIES_PER_SCRAPE }, "the metrics endpoint serves more series than are kept");
      samples = samples.slice(0, MAX_SERIES_PER_SCRAPE);
    }
    const scrape: MetricScrape = { service_id: target.serviceId, release_id: target.releaseId, scraped_at: scrapedAt, samples: toWire(samples) };
    if (!this.#stopped) this.#push(scrape);
    return scrape;
  }

  #push(scrape: MetricScrape): void {
    const bytes = JSON.stringify(scrape).length;
    this.#buffer.push({ scrape, bytes });
    this.#bufferedBytes += bytes;
    while (this.#bufferedBytes > this.#o.maxBufferedBytes && this.#buffer.length > 1) {
      this.#bufferedBytes -= this.#buffer.shift()!.bytes;
      this.#dropped++;
    }
    if (this.#bufferedBytes >= this.#o.batchBytes) void this.flush();
  }

  /** Sends what is buffered, batch by batch; on a failure that may pass, keeps it for later. Never throws. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushNow().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #flushNow(): Promise<void> {
    if (this.#o.now() < this.#retryAt && !this.#stopped) return;
    if (this.#dropped > 0) {
      this.#o.logger.warn({ dropped: this.#dropped }, "dropped scraped metrics while the server was unreachable");
      this.#dropped = 0;
    }
    while (this.#buffer.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < this.#buffer.length && count < 500 && (count === 0 || bytes + this.#buffer[count]!.bytes <= this.#o.batchBytes)) bytes += this.#buffer[count++]!.bytes;
      const batch = this.#buffer.slice(0, count);
      try {
        await this.#o.send(batch.map((b) => b.scrape));
      } catch (error) {
        if (isTransient(error)) {
          this.#retryAt = this.#o.now() + Math.max(2000, this.#o.flushIntervalMs);
          this.#o.logger.debug({ err: (error as Error).message, scrapes: batch.length }, "could not ship scraped metrics; will retry");
          return;
        }
        this.#o.logger.warn({ err: (error as Error).message, scrapes: batch.length }, "the server refused scraped metrics; dropped them");
      }
      this.#buffer.splice(0, count);
      this.#bufferedBytes -= bytes;
    }
  }
}

/** Sends scrapes as this host; before the agent is registered, a failure that retries later. */
export function metricsSender(http: ServerHttp, hostId: () => string | undefined): (scrapes: MetricScrape[]) => Promise<unknown> {
  return (scrapes) => {
    const id = hostId();
    if (!id) return Promise.reject(new AgentHttpError("the agent is not registered yet", null));
    return http.json("POST", "/api/v1/agent/metrics", z.unknown(), { body: { host_id: id, scrapes } });
  };
}

/**
 * What a running service's release says to scrape, if anything: run.metrics on run.port, or,
 * without run.port, on the PORT the service's environment gives it (run.env, then the agent's
 * own environment, which the service inherits: hosts that share an address each get their own).
 */
export function metricTargetOf(service: { serviceId: string | null; service: string; process: { current: { release: { id: string }; manifest: ServiceManifest } | undefined; runs(releaseId: string): boolean } }, address: string, env: NodeJS.ProcessEnv = {}): MetricTarget | undefined {
  const current = service.process.current;
  if (!service.serviceId || !current) return undefined;
  const { run } = current.manifest;
  const port = run.port ?? portOf(run.env.PORT ?? env.PORT);
  if (run.metrics === undefined || port === undefined || !service.process.runs(current.release.id)) return undefined;
  const host = address.includes(":") ? `[${address}]` : address;
  return { serviceId: service.serviceId, service: service.service, releaseId: current.release.id, url: `http://${host}:${port}${run.metrics}`, intervalMs: run.metrics_interval, keep: seriesToKeep(current.manifest) };
}

function portOf(text: string | undefined): number | undefined {
  const port = Number(text);
  return text && Number.isInteger(port) && port > 0 && port <= 65535 ? port : undefined;
}

const keepCache = new WeakMap<object, readonly SeriesSelector[] | undefined>();

/**
 * The series the manifest's analyses read (deploy.analysis and each environment's), or undefined
 * (keep all) when there is no analysis or none of its metrics is a plain selector. Read
 * defensively: the manifest comes from a release that may predate or postdate this agent.
 */
export function seriesToKeep(manifest: ServiceManifest): readonly SeriesSelector[] | undefined {
  if (keepCache.has(manifest)) return keepCache.get(manifest);
  const deploy = manifest.deploy as { analysis?: unknown; environments?: Record<string, { analysis?: unknown }> };
  const analyses = [deploy.analysis, ...Object.values(deploy.environments ?? {}).map((e) => e?.analysis)];
  const selectors: SeriesSelector[] = [];
  for (const analysis of analyses) {
    const metrics = (analysis as { metrics?: unknown } | undefined)?.metrics;
    if (!Array.isArray(metrics)) continue;
    for (const raw of metrics) {
      const metric = MetricSpec.safeParse(raw);
      if (!metric.success) continue;
      try {
        selectors.push(...selectorsOf(metric.data));
      } catch {
        // a PromQL expression (prometheus provider): nothing to pick by
      }
    }
  }
  const keep = selectors.length > 0 ? selectors : undefined;
  keepCache.set(manifest, keep);
  return keep;
}
