// Scraped metrics in the store (SQLite, or PostgreSQL with SLIPWAY_TEST_DATABASE_URL): what the
// agents' route stores, per tenant; reading a service's scrapes by hosts and time with each
// host's starting point; retention; and the scrape provider's evidence from the stored rows.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MetricSpec } from "../../src/core/analysis/spec.ts";
import { MetricsRetention } from "../../src/metrics/retention.ts";
import { ScrapedSource } from "../../src/metrics/scraped.ts";
import { metricSourceFor } from "../../src/metrics/source.ts";
import { PrometheusSource } from "../../src/metrics/prometheus.ts";
import { deleteScrapesBefore, readScrapes, recordScrapes } from "../../src/store/metrics.ts";
import { apiClient, type Api } from "../support/api.ts";
import { createTenantWithAdmin, startTestServer, type TestServer } from "../support/server.ts";

let t: TestServer;
let agent: Api;
const ids = { tenant: "", service: "", other: "", host1: "", host2: "", foreignHost: "" };
const T0 = 1_800_000_000_000;

const scrape = (serviceId: string, at: number, ok: number, errors: number, release = "rel_1") => ({
  service_id: serviceId,
  release_id: release,
  scraped_at: at,
  samples: [
    ["req_total", { status: "200" }, ok],
    ["req_total", { status: "500" }, errors],
    ["temp", {}, "NaN"],
  ] as [string, Record<string, string>, number | "NaN"][],
});

before(async () => {
  t = await startTestServer();
  agent = apiClient(t.url, (await t.api("POST", "/api/v1/tokens", { body: { name: "agents", kind: "agent" } })).body.token);
  ids.tenant = (await t.api("GET", "/api/v1/whoami")).body.tenant.id;
  ids.service = (await t.api("POST", "/api/v1/services", { body: { name: "shop", repository_url: "https://git.example.com/shop.git" } })).body.id;
  ids.other = (await t.api("POST", "/api/v1/services", { body: { name: "other", repository_url: "https://git.example.com/other.git" } })).body.id;
  ids.host1 = (await agent("POST", "/api/v1/agent/register", { body: { name: "web-1", address: "10.0.0.1" } })).body.host.id;
  ids.host2 = (await agent("POST", "/api/v1/agent/register", { body: { name: "web-2", address: "10.0.0.2" } })).body.host.id;
  const beta = apiClient(t.url, await createTenantWithAdmin(t, "beta"));
  const betaAgent = apiClient(t.url, (await beta("POST", "/api/v1/tokens", { body: { name: "b", kind: "agent" } })).body.token);
  ids.foreignHost = (await betaAgent("POST", "/api/v1/agent/register", { body: { name: "web-1", address: "10.9.0.1" } })).body.host.id;
});
after(() => t?.stop());

describe("scraped metrics in the store", () => {
  it("stores an agent's scrapes of its tenant's services and drops the others", async () => {
    const foreignService = "svc_of_nobody";
    const sent = await agent("POST", "/api/v1/agent/metrics", { body: { host_id: ids.host1, scrapes: [scrape(ids.service, T0, 10, 0), scrape(foreignService, T0, 1, 1)] } });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.deepEqual(sent.body, { accepted: 1 });
    const foreign = await agent("POST", "/api/v1/agent/metrics", { body: { host_id: ids.foreignHost, scrapes: [scrape(ids.service, T0, 1, 1)] } });
    assert.equal(foreign.status, 404, "another tenant's host");
    const bad = await agent("POST", "/api/v1/agent/metrics", { body: { host_id: ids.host1, scrapes: [{ ...scrape(ids.service, T0, 1, 1), samples: [["x", {}, "lots"]] }] } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /samples/);
    await assert.rejects(recordScrapes(t.server.store.db, "ten_other", { host_id: ids.host1, scrapes: [] }), /host .* not found/);
  });

  it("reads a service's scrapes by hosts and [from, to), with each host's last scrape before as its starting point", async () => {
    const db = t.server.store.db;
    await recordScrapes(db, ids.tenant, { host_id: ids.host1, scrapes: [scrape(ids.service, T0 + 10_000, 20, 1), scrape(ids.service, T0 + 20_000, 30, 1), scrape(ids.service, T0 + 30_000, 45, 3), scrape(ids.other, T0 + 20_000, 1, 1)] });
    await recordScrapes(db, ids.tenant, { host_id: ids.host2, scrapes: [scrape(ids.service, T0 + 12_000, 5, 0), scrape(ids.service, T0 + 22_000, 25, 0)] });
    const read = await readScrapes(db, { tenantId: ids.tenant, serviceId: ids.service, hostIds: [ids.host1, ids.host2], from: T0 + 15_000, to: T0 + 30_000, lookbackMs: 60_000 });
    assert.deepEqual(read.map((s) => [s.host === ids.host1 ? 1 : 2, s.at - T0]), [[1, 10_000], [2, 12_000], [1, 20_000], [2, 22_000]], "t0 is not a starting point: t0+10s is later");
    assert.deepEqual(read[0]!.samples.slice(0, 2), [{ name: "req_total", labels: { status: "200" }, value: 20 }, { name: "req_total", labels: { status: "500" }, value: 1 }]);
    assert.ok(Number.isNaN(read[0]!.samples[2]!.value));
    assert.equal(read[0]!.release, "rel_1");
    const none = await readScrapes(db, { tenantId: "ten_other", serviceId: ids.service, hostIds: [ids.host1], from: T0, to: T0 + 60_000 });
    assert.deepEqual(none, [], "another tenant reads nothing");
  });

  it("gives the canary judge the evidence of an interval from the stored scrapes", async () => {
    const source = metricSourceFor({ provider: "scrape" }, { db: t.server.store.db });
    assert.ok(source instanceof ScrapedSource);
    const metric = MetricSpec.parse({ name: "error ratio", ratio: { numerator: 'req_total{status="500"}', denominator: "req_total" } });
    const hosts = [
      { id: ids.host1, name: "web-1", address: "10.0.0.1" },
      { id: ids.host2, name: "web-2", address: "10.0.0.2" },
    ];
    const query = { tenantId: ids.tenant, serviceId: ids.service, hosts, from: T0 + 15_000, to: T0 + 35_000 };
    // web-1 from its starting point at +10s (20 ok, 1 error): +10 at +20s, +15 and 2 errors at +30s; web-2: +20 at +22s.
    assert.deepEqual(await source.evidence(metric, query), { kind: "ratio", numerator: 2, denominator: 10 + 17 + 20 });
    assert.deepEqual(await source.evidence(metric, { ...query, hosts: [hosts[1]!] }), { kind: "ratio", numerator: 0, denominator: 20 });
    assert.deepEqual(await source.series(metric, query, 10_000), [
      { at: T0 + 25_000, evidence: { kind: "ratio", numerator: 0, denominator: 30 } },
      { at: T0 + 35_000, evidence: { kind: "ratio", numerator: 2, denominator: 17 } },
    ]);
    const promql = MetricSpec.parse({ name: "cpu", value: { query: "sum(rate(x[1m]))" } });
    await assert.rejects(source.evidence(promql, query), /metric 'cpu': value.query/);
    assert.ok(metricSourceFor({ provider: "prometheus", prometheus: { url: "http://127.0.0.1:9", host_label: "instance", timeout: 1000 } }, { db: t.server.store.db }) instanceof PrometheusSource);
  });

  it("deletes the scrapes older than the retention, in batches, and keeps the rest", async () => {
    const db = t.server.store.db;
    const count = async () => Number((await db.selectFrom("metric_scrapes").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
    const before = await count();
    assert.equal(before, 7);
    assert.equal(await deleteScrapesBefore(db, T0 + 11_000, 1), 2, "T0 and T0+10s, one row per statement");
    const logged: unknown[] = [];
    const retention = new MetricsRetention({ db, clock: () => T0 + 6 * 3_600_000 + 25_000, logger: { info: (o: unknown) => logged.push(o), warn: () => undefined }, retentionMs: 6 * 3_600_000 });
    assert.equal(await retention.pass(), 4, "the scrapes before T0+25s: +12s, +20s (two services) and +22s");
    assert.equal(await count(), 1, "+30s is kept");
    assert.deepEqual(logged, [{ deleted: 4, retention_ms: 6 * 3_600_000 }]);
  });
});
