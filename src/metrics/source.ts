// Where the canary judge's numbers come from. A metric source answers, for one side of a
// comparison (the canary hosts, or the baseline hosts) and one time interval, with the evidence
// of that interval (core/analysis/types.ts):
//
//   scrape      the samples agents scraped from run.metrics and the server stored (scraped.ts)
//   prometheus  an existing Prometheus server, over its HTTP API (prometheus.ts)
//
// Both read the same deploy.analysis metrics: a selector is matched against scraped samples, or
// sent as PromQL with a matcher that keeps the side's hosts.
import type { Kysely } from "kysely";
import type { AnalysisSection, MetricSpec } from "../core/analysis/spec.ts";
import type { Evidence } from "../core/analysis/types.ts";
import type { Database } from "../store/schema.ts";
import { PrometheusSource } from "./prometheus.ts";
import { ScrapedSource } from "./scraped.ts";

export interface MetricHost {
  id: string;
  name: string;
  /** The host's address, as its agent registered it; Prometheus' host label is matched against it. */
  address: string;
  /** The service's port: a Prometheus instance label `address:port` then has to name this port. */
  port?: number;
}

export interface MetricQuery {
  tenantId: string;
  serviceId: string;
  /** One side's hosts. */
  hosts: MetricHost[];
  /** The interval [from, to), epoch milliseconds. */
  from: number;
  to: number;
}

/** The evidence of one step, dated at the step's end. */
export interface EvidencePoint {
  at: number;
  evidence: Evidence;
}

export interface MetricSource {
  /** The evidence of [from, to) for the query's hosts. */
  evidence(metric: MetricSpec, query: MetricQuery): Promise<Evidence>;
  /** The evidence of each `stepMs` of [from, to), for charts. */
  series(metric: MetricSpec, query: MetricQuery, stepMs: number): Promise<EvidencePoint[]>;
}

export interface MetricSourceDeps {
  /** The store the scraped samples are in. */
  db: Kysely<Database>;
  /** For the Prometheus source; the global fetch by default. */
  fetch?: typeof fetch;
}

/** The source an analysis section names: its `provider`. */
export function metricSourceFor(analysis: Pick<AnalysisSection, "provider" | "prometheus">, deps: MetricSourceDeps): MetricSource {
  switch (analysis.provider) {
    case "scrape":
      return new ScrapedSource({ db: deps.db });
    case "prometheus":
      if (!analysis.prometheus) throw new Error("provider: prometheus needs prometheus settings (the schema checks this)");
      return new PrometheusSource(analysis.prometheus, deps.fetch ? { fetch: deps.fetch } : {});
  }
}
