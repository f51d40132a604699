// The manifest as the desired state carries it (already parsed, durations in ms) validates to
// exactly what the server parsed: a duration is never read as seconds a second time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifestOf } from "../../src/agent/manifest.ts";
import { parseManifest } from "../../src/core/manifest/parse.ts";

const yaml = `
run:
  start: node server.js
  port: 8080
  health: { http: /healthz, interval: 2s, timeout: 500ms, start_period: 1m }
  stop_timeout: 7
hooks: { migrate: ./migrate.sh, timeout: 90s }
deploy:
  pause_between_batches: 30s
  strategy: canary
  canary: { steps: [{ hosts: 1, analyze: 90s }, { pause: 10m }, { pause: until_resumed }, { percent: 100 }], bake: 2m }
  wave_analyze: 1m
  analysis:
    provider: prometheus
    prometheus: { url: "http://prom:9090", timeout: 3s }
    interval: 15s
    metrics: [{ name: p95, quantile: { histogram: lat_seconds, q: 0.95 }, max_difference: 250ms }]
  environments: { production: { health_timeout: 5m, canary: { steps: [{ percent: 10, analyze: 5m }] }, analysis: { interval: 20s, metrics: [{ name: m, value: { query: x } }] } } }
`;

const release = (manifest: unknown) => ({ id: "rel_1", version: "1.0.0", artifact_sha256: "a".repeat(64), artifact_size: 1, manifest });

describe("release manifests on the agent", () => {
  it("validates the server's parsed manifest to the same values, durations still in milliseconds", () => {
    const server = parseManifest(yaml, "slipway.yaml");
    const onTheWire = JSON.parse(JSON.stringify(server));
    const agent = manifestOf(release(onTheWire));
    assert.deepEqual(agent, server);
    assert.equal(agent.run.health?.interval, 2000);
    assert.equal(agent.run.stop_timeout, 7000);
    assert.equal(agent.deploy.environments.production?.health_timeout, 300_000);
    assert.deepEqual(agent.deploy.canary.steps.map((step) => step.analyze ?? step.pause), [90_000, 600_000, "until_resumed", undefined]);
    assert.deepEqual([agent.deploy.analysis?.interval, agent.deploy.analysis?.prometheus?.timeout, agent.deploy.environments.production?.analysis?.interval], [15_000, 3_000, 20_000]);
  });

  it("refuses a release without a manifest or with an invalid one, naming the field", () => {
    assert.throws(() => manifestOf(release(null)), /has no slipway.yaml/);
    assert.throws(() => manifestOf(release({ run: { start: "x", port: "eighty" } })), /invalid slipway.yaml: run.port/);
  });
});
