// The agent's metrics scraper against a real HTTP endpoint: scrapes at the service's interval,
// keeps the series its analysis reads (or all, up to 1,000), waits in a bounded buffer while the
// server is away, drops what the server refuses, and reads the analysis defensively.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { AgentHttpError } from "../../src/agent/client.ts";
import { MetricsScraper, metricTargetOf, seriesToKeep, type MetricTarget } from "../../src/agent/metrics-scraper.ts";
import type { MetricScrape } from "../../src/contracts/agent.ts";
import { ServiceManifest } from "../../src/core/manifest/schema.ts";
import { formatSelector } from "../../src/core/metrics/selector.ts";
import { waitFor } from "../support/wait.ts";
import { freePort } from "./helpers.ts";

let server: Server;
let port: number;
let exposition = "";
let scrapesServed = 0;

before(async () => {
  port = await freePort();
  server = createServer((req, res) => {
    if (req.url !== "/metrics") return void res.writeHead(404).end();
    scrapesServed++;
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(exposition);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const logs: { level: number; msg: string; [key: string]: unknown }[] = [];
const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line)) });

const target = (overrides: Partial<MetricTarget> = {}): MetricTarget => ({ serviceId: "svc_1", service: "shop", releaseId: "rel_1", url: `http://127.0.0.1:${port}/metrics`, intervalMs: 100, keep: undefined, ...overrides });

const EXPOSITION = [
  "# TYPE req_total counter",
  'req_total{status="200"} 10',
  'req_total{status="500"} 1',
  "# TYPE lat_seconds histogram",
  'lat_seconds_bucket{le="0.1"} 3',
  'lat_seconds_bucket{le="+Inf"} 4',
  "lat_seconds_sum 0.7",
  "lat_seconds_count 4",
  "process_resident_memory_bytes 1.2e7",
  "weird_gauge NaN",
].join("\n");

const manifest = (deploy: object = {}) =>
  ServiceManifest.parse({ run: { start: "node server.js", port: 8080, metrics: "/metrics", metrics_interval: "2s" }, deploy });

describe("metrics scraper", () => {
  it("scrapes every metrics_interval and ships every series with the release and the scrape time", async () => {
    exposition = EXPOSITION;
    const sent: MetricScrape[] = [];
    let now = 1_000;
    const scraper = new MetricsScraper({ targets: () => [target()], send: async (s) => void sent.push(...s), logger, now: () => now, tickMs: 20, flushIntervalMs: 50 });
    scraper.start();
    try {
      await waitFor(() => sent.length >= 1, { what: "a first scrape" });
      const served = scrapesServed;
      now += 50; // half an interval: no new scrape
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(scrapesServed, served, "not before its interval");
      now += 50;
      await waitFor(() => sent.length >= 2, { what: "a second scrape" });
      assert.deepEqual(sent[0], {
        service_id: "svc_1",
        release_id: "rel_1",
        scraped_at: 1_000,
        samples: [
          ["req_total", { status: "200" }, 10],
          ["req_total", { status: "500" }, 1],
          ["lat_seconds_bucket", { le: "0.1" }, 3],
          ["lat_seconds_bucket", { le: "+Inf" }, 4],
          ["lat_seconds_sum", {}, 0.7],
          ["lat_seconds_count", {}, 4],
          ["process_resident_memory_bytes", {}, 12_000_000],
          ["weird_gauge", {}, "NaN"],
        ],
      });
      assert.equal(sent[1]!.scraped_at, 1_100);
    } finally {
      scraper.stop();
    }
  });

  it("keeps only the series the analysis reads, and at most 1,000 series", async () => {
    exposition = EXPOSITION;
    const scraper = new MetricsScraper({ targets: () => [], send: async () => undefined, logger, now: () => 0 });
    const keep = seriesToKeep(manifest({ analysis: { metrics: [{ name: "errors", ratio: { numerator: 'req_total{status=~"5.."}', denominator: "req_total" } }, { name: "p95", quantile: { histogram: "lat_seconds", q: 0.95 } }] } }));
    const kept = await scraper.scrape(target({ keep }));
    assert.deepEqual(kept?.samples.map(([name, labels]) => [name, labels]), [["req_total", { status: "200" }], ["req_total", { status: "500" }], ["lat_seconds_bucket", { le: "0.1" }], ["lat_seconds_bucket", { le: "+Inf" }]]);

    exposition = Array.from({ length: 1500 }, (_, i) => `many{i="${i}"} ${i}`).join("\n");
    logs.length = 0;
    const capped = await scraper.scrape(target());
    assert.equal(capped?.samples.length, 1000);
    assert.ok(logs.some((l) => l.msg === "the metrics endpoint serves more series than are kept" && l.series === 1500), JSON.stringify(logs));
  });

  it("reports lines it cannot read, and ships nothing when the endpoint fails or is down", async () => {
    const sent: MetricScrape[] = [];
    const scraper = new MetricsScraper({ targets: () => [], send: async (s) => void sent.push(...s), logger, now: () => 0 });
    exposition = "good 1\nbad{ 2\n";
    logs.length = 0;
    assert.deepEqual((await scraper.scrape(target()))?.samples, [["good", {}, 1]]);
    assert.ok(logs.some((l) => l.msg === "some lines of the metrics endpoint could not be read"));
    assert.equal(await scraper.scrape(target({ url: `http://127.0.0.1:${port}/nothing` })), undefined);
    assert.ok(logs.some((l) => l.msg === "the metrics endpoint did not answer 200" && l.status === 404));
    assert.equal(await scraper.scrape(target({ url: `http://127.0.0.1:${await freePort()}/metrics` })), undefined);
    assert.equal(scraper.buffered, 1);
  });

  it("buffers while the server is unreachable, dropping the oldest past the bound, then sends in batches", async () => {
    exposition = 'req_total{status="200"} 1';
    let up = false;
    const batches: MetricScrape[][] = [];
    const send = async (scrapes: MetricScrape[]) => {
      if (!up) throw new AgentHttpError("POST /api/v1/agent/metrics: ECONNREFUSED", null);
      batches.push(scrapes);
    };
    let now = 0;
    logs.length = 0;
    const scraper = new MetricsScraper({ targets: () => [], send, logger, now: () => now, maxBufferedBytes: 2000, batchBytes: 500 });
    for (let i = 0; i < 30; i++) {
      now = i * 1000;
      await scraper.scrape(target());
      await scraper.flush();
    }
    const size = JSON.stringify({ service_id: "svc_1", release_id: "rel_1", scraped_at: 29_000, samples: [["req_total", { status: "200" }, 1]] }).length;
    assert.equal(scraper.buffered, Math.floor(2000 / size), "bounded: the oldest were dropped");
    up = true;
    now = 60_000;
    await scraper.flush();
    assert.equal(scraper.buffered, 0);
    const sent = batches.flat();
    assert.equal(sent.at(-1)!.scraped_at, 29_000, "the newest were kept");
    assert.ok(batches.every((b) => JSON.stringify(b).length <= 500 + 10 * b.length), "batches of about batchBytes");
    assert.ok(batches.length > 1);
    const dropped = logs.filter((l) => l.msg === "dropped scraped metrics while the server was unreachable").reduce((sum, l) => sum + (l.dropped as number), 0);
    assert.equal(dropped, 30 - sent.length, "every dropped scrape was counted in a warning");
  });

  it("drops a batch the server refuses for good, and goes on", async () => {
    const refused = new MetricsScraper({ targets: () => [], send: () => Promise.reject(new AgentHttpError("400 invalid_input", 400)), logger, now: () => 0 });
    exposition = "x 1";
    await refused.scrape(target());
    await refused.flush();
    assert.equal(refused.buffered, 0);
  });

  it("scrapes a running service whose release has run.metrics and a port, with what its analyses read", () => {
    const running = (m: ServiceManifest, runs = true) => ({ serviceId: "svc_1", service: "shop", process: { current: { release: { id: "rel_9" }, manifest: m }, runs: () => runs } });
    const plain = manifest();
    assert.deepEqual(metricTargetOf(running(plain), "10.0.0.5"), { serviceId: "svc_1", service: "shop", releaseId: "rel_9", url: "http://10.0.0.5:8080/metrics", intervalMs: 2000, keep: undefined });
    assert.equal(metricTargetOf(running(plain), "::1")?.url, "http://[::1]:8080/metrics");
    assert.equal(metricTargetOf(running(plain, false), "10.0.0.5"), undefined, "not while it does not run");
    assert.equal(metricTargetOf(running(ServiceManifest.parse({ run: { start: "x", port: 1 } })), "10.0.0.5"), undefined, "no run.metrics");
    assert.equal(metricTargetOf(running(ServiceManifest.parse({ run: { start: "x", metrics: "/m" } })), "10.0.0.5"), undefined, "no port");
    assert.equal(metricTargetOf(running(ServiceManifest.parse({ run: { start: "x", metrics: "/m" } })), "127.0.0.1", { PORT: "7312" })?.url, "http://127.0.0.1:7312/m", "without run.port, the PORT the service inherits from the agent");
    assert.equal(metricTargetOf(running(ServiceManifest.parse({ run: { start: "x", metrics: "/m", env: { PORT: 9000 } } })), "127.0.0.1", { PORT: "7312" })?.url, "http://127.0.0.1:9000/m", "run.env's PORT before the agent's");
    assert.equal(metricTargetOf(running(ServiceManifest.parse({ run: { start: "x", metrics: "/m" } })), "127.0.0.1", { PORT: "http" }), undefined, "a PORT that is no port");
    const withAnalyses = manifest({
      analysis: { metrics: [{ name: "mem", value: { query: "process_resident_memory_bytes" } }, { name: "cpu", value: { query: "sum(rate(cpu[1m]))" } }] },
      environments: { production: { analysis: { metrics: [{ name: "errors", ratio: { numerator: 'req_total{status="500"}', denominator: "req_total" } }] } } },
    });
    assert.deepEqual(seriesToKeep(withAnalyses)?.map(formatSelector), ["process_resident_memory_bytes", 'req_total{status="500"}', "req_total"]);
    const onlyPromql = manifest({ analysis: { provider: "prometheus", prometheus: { url: "http://prom:9090" }, metrics: [{ name: "cpu", value: { query: "sum(rate(cpu[1m]))" } }] } });
    assert.equal(seriesToKeep(onlyPromql), undefined, "nothing to pick by: keep all");
    assert.equal(seriesToKeep({ ...plain, deploy: { ...plain.deploy, analysis: { metrics: "nonsense" } } as never }), undefined);
  });
});
