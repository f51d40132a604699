import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseManifest } from "./parse.ts";
import { parseStoredManifest } from "./stored.ts";

describe("stored manifests", () => {
  it("read back exactly as they were parsed, durations included", () => {
    const parsed = parseManifest("run:\n  start: x\n  health: { http: /h, interval: 2s }\n  stop_timeout: 3\ndeploy:\n  pause_between_batches: 1m\n");
    const again = parseStoredManifest(JSON.parse(JSON.stringify(parsed)));
    assert.deepEqual(again, parsed);
    assert.equal(again.run.health?.interval, 2000);
    assert.equal(again.run.stop_timeout, 3000);
  });

  it("keeps every duration of a canary with analysis, a pause until resumed and thresholds in seconds", () => {
    const parsed = parseManifest(`
run:
  start: x
  port: 8080
  health: { http: /h, interval: 2s, start_interval: 100ms, timeout: 1s, start_period: 10s }
  metrics: /metrics
  metrics_interval: 500ms
hooks: { migrate: ./m.sh, timeout: 5m }
deploy:
  strategy: canary
  health_timeout: 30s
  wave_analyze: 90s
  regions: [eu, us]
  canary:
    steps: [{ hosts: 1, analyze: 25s }, { pause: 10m }, { percent: 50, analyze: 1m }, { pause: until_resumed }]
    bake: 1h
  analysis:
    provider: prometheus
    prometheus: { url: "http://prom:9090", timeout: 3s }
    interval: 5s
    metrics:
      - { name: p95, quantile: { histogram: h, q: 0.95 }, max: 250ms, max_difference: 20ms }
`);
    const again = parseStoredManifest(JSON.parse(JSON.stringify(parsed)));
    assert.deepEqual(again, parsed);
    assert.deepEqual(
      again.deploy.canary.steps.map((s) => s.analyze ?? s.pause),
      [25_000, 600_000, 60_000, "until_resumed"],
    );
    assert.deepEqual([again.run.metrics_interval, again.deploy.analysis?.interval, again.deploy.analysis?.prometheus?.timeout, again.deploy.canary.bake], [500, 5000, 3000, 3_600_000]);
    assert.deepEqual([again.deploy.analysis?.metrics[0]?.max, again.deploy.analysis?.metrics[0]?.max_difference], [0.25, 0.02]);
  });
});
