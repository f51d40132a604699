// Scraped metrics end to end: two real agents run the demo service (run.metrics: /metrics), scrape
// it every metrics_interval and ship the samples; the server stores them; the scrape provider
// gives the canary judge exactly what the services served; retention deletes old scrapes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MetricSpec } from "../src/core/analysis/spec.ts";
import { MetricsRetention } from "../src/metrics/retention.ts";
import { ScrapedSource } from "../src/metrics/scraped.ts";
import type { MetricHost } from "../src/metrics/source.ts";
import { loadServerConfig } from "../src/server/config.ts";
import { readScrapes } from "../src/store/metrics.ts";
import type { Api } from "./support/api.ts";
import { buildArtifact } from "./support/artifact.ts";
import { Fleet } from "./support/fleet.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { waitFor } from "./support/wait.ts";

const DEMO_DIR = join(import.meta.dirname, "..", "examples", "demo");
const PORT = 20_000 + Math.floor(Math.random() * 20_000);
const WARM_UP = 4; // requests to GET / before the measured ones; the fourth is a 500
const SERVED = 40; // measured requests per host; every fourth is a 500

let t: TestServer;
let api: Api;
let fleet: Fleet;
let tenantId: string;
let serviceId: string;
let releaseId: string;
let hosts: MetricHost[];
let source: ScrapedSource;

const manifest = `
run:
  start: node server.js
  port: ${PORT}
  metrics: /metrics
  metrics_interval: 300ms
  env: { DEMO_ERROR_RATE: "0.25" }
  health: { http: /healthz, interval: 200ms, timeout: 1s, start_period: 5s }
deploy:
  strategy: all_at_once
  health_timeout: 30s
`;

const errorRatio = MetricSpec.parse({ name: "error ratio", ratio: { numerator: 'demo_requests_total{route="/",status=~"5.."}', denominator: 'demo_requests_total{route="/"}' } });
const latency = MetricSpec.parse({ name: "latency", quantile: { histogram: 'demo_request_duration_seconds{route="/"}', q: 0.95 } });
const requests = MetricSpec.parse({ name: "requests", value: { query: 'demo_requests_total{route="/"}' } });

async function get(h: MetricHost, path: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await (await fetch(`http://${h.address}:${PORT}${path}`)).arrayBuffer();
}

/** The stored scrapes of a host since `from`. */
const scrapesOf = (h: MetricHost, from: number) => readScrapes(t.server.store.db, { tenantId, serviceId, hostIds: [h.id], from, to: Date.now() + 60_000 });

/** GET / answered by a host, as its last stored scrape says. */
async function rootRequests(h: MetricHost, from = 0): Promise<{ total: number; at: number } | undefined> {
  const last = (await scrapesOf(h, from)).at(-1);
  if (!last) return undefined;
  const total = last.samples.filter((s) => s.name === "demo_requests_total" && s.labels.route === "/").reduce((sum, s) => sum + s.value, 0);
  return { total, at: last.at };
}

before(async () => {
  t = await startTestServer();
  api = t.api;
  tenantId = (await api("GET", "/api/v1/whoami")).body.tenant.id;
  const agentToken = (await api("POST", "/api/v1/tokens", { body: { name: "fleet", kind: "agent" } })).body.token;
  serviceId = (await api("POST", "/api/v1/services", { body: { name: "demo", repository_url: "https://git.example.com/demo.git", environments: [{ name: "production", selector: { role: "metrics" } }] } })).body.id;
  fleet = new Fleet(t.url, agentToken);
  await fleet.start(2, { prefix: "metrics", firstOctet: 101, labels: () => ({ role: "metrics" }) });
  hosts = fleet.hosts.map((h) => ({ id: h.agent!.summary.host_id, name: h.name, address: h.address }));
  const artifact = await buildArtifact(DEMO_DIR, manifest, { VERSION: "1.0.0" });
  assert.equal((await api("PUT", "/api/v1/artifacts", { body: artifact.bytes })).status, 201);
  releaseId = (await api("POST", "/api/v1/services/demo/releases", { body: { version: "1.0.0", artifact_sha256: artifact.sha256 } })).body.id;
  const deployment = await api("POST", "/api/v1/services/demo/deployments", { body: { version: "1.0.0", environment: "production" } });
  assert.equal(deployment.status, 201, JSON.stringify(deployment.body));
  await waitFor(async () => (await api("GET", `/api/v1/deployments/${deployment.body.id}`)).body.state === "succeeded", { timeoutMs: 60_000, what: "the demo deployed" });
  source = new ScrapedSource({ db: t.server.store.db });
});

after(async () => {
  await fleet?.stop();
  await t?.stop();
});

describe("scraped metrics", () => {
  let from = 0;
  let to = 0;

  it("reach the store from every host, with the release that served them", async () => {
    for (const h of hosts) await get(h, "/", WARM_UP);
    // The warm-up counted in a stored scrape of each host: the starting point of what follows.
    await waitFor(async () => (await Promise.all(hosts.map(async (h) => (await rootRequests(h))?.total === WARM_UP))).every(Boolean), { timeoutMs: 20_000, what: "the warm-up in the store" });
    const stored = await scrapesOf(hosts[0]!, 0);
    assert.ok(stored.every((s) => s.release === releaseId));
    assert.ok(stored.some((s) => s.samples.some((x) => x.name === "demo_request_duration_seconds_bucket" && x.labels.le === "+Inf")), "histogram buckets are kept");
    const times = stored.map((s) => s.at);
    assert.ok(times.every((at, i) => i === 0 || at > times[i - 1]!), "one scrape at a time");
  });

  it("give the canary judge exactly what the hosts served over an interval", async () => {
    from = Date.now();
    for (const h of hosts) await get(h, "/", SERVED);
    for (const h of hosts) await get(h, "/nothing-here", 3); // another route: counted by neither metric
    const finals = await waitFor(async () => {
      const seen = await Promise.all(hosts.map((h) => rootRequests(h, from)));
      return seen.every((s) => s?.total === WARM_UP + SERVED) ? seen : undefined;
    }, { timeoutMs: 20_000, what: "the traffic in the store" });
    to = Math.max(...finals.map((s) => s!.at)) + 1;
    const query = { tenantId, serviceId, hosts, from, to };
    assert.deepEqual(await source.evidence(errorRatio, query), { kind: "ratio", numerator: 2 * (SERVED / 4), denominator: 2 * SERVED });
    assert.deepEqual(await source.evidence(errorRatio, { ...query, hosts: [hosts[1]!] }), { kind: "ratio", numerator: SERVED / 4, denominator: SERVED });
    const histogram = await source.evidence(latency, query);
    assert.equal(histogram.kind, "quantile");
    assert.deepEqual(histogram.bounds, [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, Infinity]);
    assert.equal(histogram.counts.reduce((sum, c) => sum + c, 0), 2 * SERVED);
    // The steps of the interval add up to the interval.
    const steps = await source.series(errorRatio, query, 1000);
    assert.equal(steps.reduce((sum, s) => sum + (s.evidence.kind === "ratio" ? s.evidence.denominator : 0), 0), 2 * SERVED);
  });

  it("give a gauge's value per host", async () => {
    const flatFrom = to;
    await waitFor(async () => (await Promise.all(hosts.map(async (h) => (await scrapesOf(h, flatFrom)).length >= 2))).every(Boolean), { what: "two more scrapes of each host" });
    const evidence = await source.evidence(requests, { tenantId, serviceId, hosts, from: flatFrom, to: Date.now() });
    assert.deepEqual(evidence, { kind: "value", values: [WARM_UP + SERVED, WARM_UP + SERVED] });
  });

  it("are deleted once older than the retention", async () => {
    assert.equal(loadServerConfig({}, { SLIPWAY_METRICS_RETENTION: "90m" }).metricsRetentionMs, 5_400_000);
    assert.equal(loadServerConfig({}, {}).metricsRetentionMs, 6 * 3_600_000);
    assert.throws(() => loadServerConfig({}, { SLIPWAY_METRICS_RETENTION: "forever" }), /metricsRetentionMs: 'forever' is not a positive duration/);
    const sixHoursLater = to + 6 * 3_600_000;
    const retention = new MetricsRetention({ db: t.server.store.db, clock: () => sixHoursLater, logger: { info: () => undefined, warn: () => undefined }, retentionMs: 6 * 3_600_000 });
    const deleted = await retention.pass();
    assert.ok(deleted > 0);
    const left = await readScrapes(t.server.store.db, { tenantId, serviceId, hostIds: hosts.map((h) => h.id), from: 0, to: Date.now() + 60_000 });
    assert.ok(left.every((s) => s.at >= to), "nothing older than the retention is left");
    assert.ok(left.length > 0, "the newer scrapes are kept");
    assert.deepEqual(await source.evidence(errorRatio, { tenantId, serviceId, hosts, from, to }), { kind: "ratio", numerator: 0, denominator: 0 }, "the deleted interval has no evidence");
  });
});
