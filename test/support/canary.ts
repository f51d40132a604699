// The demo service (examples/demo) as a canary for end-to-end tests: its slipway.yaml with an
// error rate to inject, canary steps, and an analysis of its error ratio (and, if asked, its p95
// latency) from the metrics the agents scrape; and uploading it as a release.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Api } from "./api.ts";
import { buildArtifact } from "./artifact.ts";

export const DEMO_DIR = join(import.meta.dirname, "..", "..", "examples", "demo");

export interface CanaryManifest {
  port: number;
  /** DEMO_ERROR_RATE: the fraction of GET / answered 500. */
  errorRate: number;
  /** The canary steps, as YAML flow, e.g. `[{ hosts: 1, analyze: 25s }, { percent: 100 }]`. */
  steps: string;
  bake?: string;
  minSamples: number;
  /** How much worse than the baseline the canary's error ratio may be, e.g. "0.5%". */
  maxDifference: string;
  /** Also judge the p95 latency of GET / (allowing 250 ms more than the baseline). */
  latency?: boolean;
  /** More lines of the analysis section (indented by four spaces), e.g. a provider. */
  analysisExtra?: string;
}

export const canaryManifest = (o: CanaryManifest): string => `
run:
  start: node server.js
  port: ${o.port}
  env: { DEMO_ERROR_RATE: "${o.errorRate}" }
  health: { http: /healthz, interval: 1s, start_interval: 100ms, timeout: 1s, start_period: 10s }
  metrics: /metrics
  metrics_interval: 500ms
deploy:
  strategy: canary
  batch_size: 1
  max_unavailable: 1
  health_timeout: 30s
  canary:
    steps: ${o.steps}
    bake: ${o.bake ?? "0s"}
  analysis:
    interval: 1s
    min_samples: ${o.minSamples}
${o.analysisExtra ?? ""}    metrics:
      - name: error ratio
        ratio: { numerator: 'demo_requests_total{route="/",status="500"}', denominator: 'demo_requests_total{route="/"}' }
        max_difference: ${o.maxDifference}
${
  o.latency
    ? `      - name: p95 latency
        quantile: { histogram: 'demo_request_duration_seconds{route="/"}', q: 0.95 }
        max_difference: 250ms
`
    : ""
}`;

/** Uploads `dir` with this slipway.yaml and a VERSION file as release `version` of `service`. */
export async function uploadRelease(api: Api, service: string, dir: string, version: string, manifest: string): Promise<void> {
  const artifact = await buildArtifact(dir, manifest, { VERSION: version });
  assert.equal((await api("PUT", "/api/v1/artifacts", { body: artifact.bytes })).status, 201);
  const created = await api("POST", `/api/v1/services/${service}/releases`, { body: { version, artifact_sha256: artifact.sha256 } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}
