// The prometheus provider against a real Prometheus (Debian's package) scraping two real demo
// services on their own loopback addresses: the evidence it gives is what the services served,
// per host and summed over hosts; bad PromQL and an unreachable Prometheus give clear errors.
//
// Prometheus' increase() extrapolates to the window's edges; a window whose edges are one host's
// own sample times is not extrapolated, so for that host the counts must be exact.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MetricSpec, PrometheusSettings } from "../src/core/analysis/spec.ts";
import { SlipwayError } from "../src/core/errors.ts";
import { parseExposition } from "../src/core/metrics/exposition.ts";
import { PrometheusSource } from "../src/metrics/prometheus.ts";
import type { MetricHost } from "../src/metrics/source.ts";
import { freePort, skipWithoutPrometheus, startPrometheus, type RunningPrometheus } from "./support/prometheus.ts";
import { waitFor } from "./support/wait.ts";

const skip = skipWithoutPrometheus();
const DEMO = join(import.meta.dirname, "..", "examples", "demo", "server.js");
const A: MetricHost = { id: "host_a", name: "web-a", address: "127.0.0.71" };
const B: MetricHost = { id: "host_b", name: "web-b", address: "127.0.0.72" };
/** Requests to GET / before the measured traffic (A's fourth is a 500: that series exists before), and in it. */
const warmUp = { a: 4, b: 1 };
const served = { a: { ok: 40, errors: 0 }, b: { ok: 30, errors: 0 } };

let port: number;
let prometheus: RunningPrometheus;
const services: ChildProcess[] = [];
let source: PrometheusSource;
/** A's sample times just before and just after the traffic; the bucket counts A served to GET / in between. */
const window = { from: 0, to: 0, bothTo: 0, flatFrom: 0, flatTo: 0 };
let bucketsServed: number[] = [];

const metric = (spec: object) => MetricSpec.parse({ name: "m", ...spec });
const errorRatio = metric({ name: "error ratio", ratio: { numerator: 'demo_requests_total{route="/",status=~"5.."}', denominator: 'demo_requests_total{route="/"}' } });
const latency = metric({ name: "latency", quantile: { histogram: 'demo_request_duration_seconds{route="/"}', q: 0.95 } });
const url = (h: MetricHost) => `http://${h.address}:${port}`;

function startDemo(host: MetricHost, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [DEMO], { env: { ...process.env, PORT: String(port), BIND_ADDRESS: host.address, ...env }, stdio: "ignore" });
  services.push(child);
  return child;
}

async function get(h: MetricHost, path: string, times: number): Promise<{ errors: number }> {
  let errors = 0;
  for (let i = 0; i < times; i++) {
    const response = await fetch(url(h) + path);
    await response.arrayBuffer();
    if (response.status >= 500) errors++;
  }
  return { errors };
}

/** Cumulative bucket counts of GET / as the service itself serves them, by bound. */
async function bucketsOf(h: MetricHost): Promise<number[]> {
  const parsed = parseExposition(await (await fetch(`${url(h)}/metrics`)).text());
  return parsed.samples.filter((s) => s.name === "demo_request_duration_seconds_bucket" && s.labels.route === "/").map((s) => s.value);
}

const countOf = (samples: [number, number][], value: number) => samples.filter(([, v]) => v === value);

before(async () => {
  if (skip) return;
  port = await freePort();
  startDemo(A, { DEMO_ERROR_RATE: "0.25" });
  startDemo(B, {});
  await waitFor(async () => (await Promise.all([A, B].map(async (h) => (await fetch(`${url(h)}/healthz`).catch(() => undefined))?.ok))).every(Boolean), { what: "the demo services", timeoutMs: 15_000 });
  // Requests first: only a series Prometheus has seen before the traffic counts all of it.
  await get(A, "/", warmUp.a);
  await get(B, "/", warmUp.b);
  prometheus = await startPrometheus({ targets: [A, B].map((h) => `${h.address}:${port}`) });
  source = new PrometheusSource(PrometheusSettings.parse({ url: prometheus.url, timeout: "5s" }));
  const routeOf = (h: MetricHost) => `demo_requests_total{route="/",status="200",instance="${h.address}:${port}"}`;
  // Two flat samples of each host before the traffic.
  const okBefore = (h: MetricHost) => (h === A ? warmUp.a - 1 : warmUp.b);
  await waitFor(async () => (await Promise.all([A, B].map(async (h) => countOf(await prometheus.samples(routeOf(h), 60_000), okBefore(h)).length >= 2))).every(Boolean), { what: "two samples of each host before the traffic", timeoutMs: 30_000 });
  const beforeBuckets = await bucketsOf(A);
  window.from = (await prometheus.samples(routeOf(A), 60_000)).at(-1)![0];
  served.a.errors = (await get(A, "/", served.a.ok)).errors;
  served.b.errors = (await get(B, "/", served.b.ok)).errors;
  bucketsServed = (await bucketsOf(A)).map((v, i) => v - beforeBuckets[i]!);
  const okA = okBefore(A) + served.a.ok - served.a.errors;
  const okB = okBefore(B) + served.b.ok;
  // The first sample of each host after all of its traffic (B's came after A's); then a sample
  // of each a second later still: from B's first one on, both are flat.
  const firstAt = async (h: MetricHost, value: number) => countOf(await prometheus.samples(routeOf(h), 60_000), value)[0]?.[0];
  window.to = await waitFor(() => firstAt(A, okA), { what: "A's traffic in Prometheus", timeoutMs: 30_000 });
  window.bothTo = Math.max(window.to, await waitFor(() => firstAt(B, okB), { what: "B's traffic in Prometheus", timeoutMs: 30_000 }));
  window.flatFrom = window.bothTo + 1;
  const sampledAfter = async (h: MetricHost, at: number) => (await prometheus.samples(routeOf(h), 60_000)).some(([t]) => t > at);
  await waitFor(async () => (await sampledAfter(A, window.bothTo + 1000)) && (await sampledAfter(B, window.bothTo + 1000)), { what: "flat samples after the traffic", timeoutMs: 30_000 });
  window.flatTo = Date.now();
});

after(async () => {
  for (const child of services) child.kill("SIGTERM");
  await prometheus?.stop();
});

describe("prometheus metric source", { skip }, () => {
  it("gives a host's error ratio as the counts it served", async () => {
    assert.equal(served.a.errors, 10, "the demo answers every fourth GET / with a 500");
    const evidence = await source.evidence(errorRatio, { tenantId: "t", serviceId: "s", hosts: [A], from: window.from - 1, to: window.to });
    assert.deepEqual(evidence, { kind: "ratio", numerator: served.a.errors, denominator: served.a.ok }, prometheus.logTail());
  });

  it("sums the hosts of a side, and keeps other hosts out", async () => {
    // B's samples are not A's: increase() extrapolates B's part, by at most 2 scrape intervals in the window.
    const query = { tenantId: "t", serviceId: "s", hosts: [A, B], from: window.from - 1500, to: window.bothTo + 1500 };
    const evidence = await source.evidence(errorRatio, query);
    assert.equal(evidence.kind, "ratio");
    const total = served.a.ok + served.b.ok;
    const factor = (query.to - query.from) / (query.to - query.from - 2200);
    assert.ok(evidence.denominator >= total && evidence.denominator <= Math.ceil(total * factor), `${evidence.denominator} requests for ${total} served`);
    assert.ok(evidence.numerator >= 10 && evidence.numerator <= Math.ceil(10 * factor), `${evidence.numerator} errors for 10 served`);
    const other = await source.evidence(errorRatio, { ...query, hosts: [{ id: "x", name: "x", address: "127.0.0.7" }] });
    assert.deepEqual(other, { kind: "ratio", numerator: 0, denominator: 0 }, "127.0.0.7 is neither 127.0.0.71 nor 127.0.0.72");
  });

  it("gives a histogram's per-bucket counts as the service served them", async () => {
    const evidence = await source.evidence(latency, { tenantId: "t", serviceId: "s", hosts: [A], from: window.from - 1, to: window.to });
    assert.equal(evidence.kind, "quantile");
    assert.deepEqual(evidence.bounds, [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, Infinity]);
    const perBucket = bucketsServed.map((c, i) => c - (i > 0 ? bucketsServed[i - 1]! : 0));
    assert.deepEqual(evidence.counts, perBucket);
    assert.equal(evidence.counts.reduce((s, c) => s + c, 0), served.a.ok);
  });

  it("gives one value per host, in the side's order: a gauge, a rate, or any PromQL that keeps the host label", async () => {
    const flat = { tenantId: "t", serviceId: "s", hosts: [B, A], from: window.flatFrom, to: window.flatTo };
    const requests = metric({ value: { query: 'demo_requests_total{route="/"}' } });
    const totals = [warmUp.b + served.b.ok, warmUp.a + served.a.ok];
    assert.deepEqual(await source.evidence(requests, flat), { kind: "value", values: totals });
    const promql = metric({ value: { query: 'sum by (instance) (demo_requests_total{route="/"})' } });
    assert.deepEqual(await source.evidence(promql, flat), { kind: "value", values: totals });
    const rate = metric({ value: { query: 'demo_requests_total{route="/"}', rate: true } });
    const evidence = await source.evidence(rate, { ...flat, hosts: [A], from: window.from - 1, to: window.to });
    assert.equal(evidence.kind, "value");
    const expected = served.a.ok / ((window.to - window.from) / 1000);
    assert.ok(Math.abs(evidence.values[0]! - expected) < 1e-6 * expected, `${evidence.values[0]} per second, ${expected} served`);
  });

  it("gives evidence per step for charts", async () => {
    const points = await source.series(errorRatio, { tenantId: "t", serviceId: "s", hosts: [A], from: window.flatFrom, to: window.flatFrom + 2000 }, 1000);
    assert.deepEqual(points.map((p) => p.at), [window.flatFrom + 1000, window.flatFrom + 2000]);
    assert.deepEqual(points.map((p) => p.evidence), [{ kind: "ratio", numerator: 0, denominator: 0 }, { kind: "ratio", numerator: 0, denominator: 0 }], "nothing was served then");
  });

  it("refuses bad PromQL with a clear error naming the metric and the query", async () => {
    const bad = metric({ name: "broken", value: { query: "sum(rate(demo_requests_total[1m]" } });
    await assert.rejects(source.evidence(bad, { tenantId: "t", serviceId: "s", hosts: [A], from: window.from, to: window.to }), (error: unknown) => {
      assert.ok(error instanceof SlipwayError);
      assert.equal(error.code, "invalid_input");
      assert.match(error.message, /^metric 'broken': Prometheus at http:\/\/127\.0\.0\.1:\d+ refused the query: bad_data: .*parse error/);
      assert.match(error.message, /\(query: avg_over_time\(\(sum\(rate\(demo_requests_total\[1m\]\)\[\d+ms:1000ms\]\)\)$/);
      return true;
    });
    const unlabelled = metric({ name: "total", value: { query: "sum(demo_requests_total)" } });
    await assert.rejects(source.evidence(unlabelled, { tenantId: "t", serviceId: "s", hosts: [A], from: window.flatFrom, to: window.flatTo }), /metric 'total': the results of the query have no 'instance' label/);
  });

  it("(the test Prometheus) follows its targets as a test changes them", async () => {
    const scraped = async () => ((await prometheus.query("up")).result as { metric: { instance: string } }[]).map((r) => r.metric.instance).sort();
    await prometheus.setTargets([`${A.address}:${port}`]);
    await waitFor(async () => (await scraped()).join() === `${A.address}:${port}`, { what: "B no longer scraped", timeoutMs: 20_000 });
    await prometheus.setTargets([A, B].map((h) => `${h.address}:${port}`));
    await waitFor(async () => (await scraped()).length === 2, { what: "B scraped again", timeoutMs: 20_000 });
  });

  it("says so clearly when Prometheus cannot be reached", async () => {
    const gone = new PrometheusSource(PrometheusSettings.parse({ url: `http://127.0.0.1:${await freePort()}`, timeout: "2s" }));
    await assert.rejects(gone.evidence(errorRatio, { tenantId: "t", serviceId: "s", hosts: [A], from: 0, to: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof SlipwayError);
      assert.equal(error.code, "unavailable");
      assert.match(error.message, /^metric 'error ratio': Prometheus at http:\/\/127\.0\.0\.1:\d+ could not be reached \(ECONNREFUSED\) \(query: sum\(increase\(/);
      return true;
    });
  });
});

describe("prometheus queries", () => {
  const settings = PrometheusSettings.parse({ url: "http://prom.example:9090", host_label: "host" });

  it("writes PromQL limited to the side's hosts, by address with its port or any", () => {
    const plan = new PrometheusSource(settings).plan(errorRatio, [{ id: "a", name: "a", address: "10.0.0.7", port: 8080 }, { id: "b", name: "b", address: "::1" }], 30_000);
    const hosts = 'host=~"(?:10\\\\.0\\\\.0\\\\.7(:8080)?)|(?:::1|\\\\[::1\\\\](:[0-9]+)?)"';
    assert.deepEqual(plan, {
      kind: "ratio",
      numerator: `sum(increase(demo_requests_total{route="/",status=~"5..",${hosts}}[30000ms]))`,
      denominator: `sum(increase(demo_requests_total{route="/",${hosts}}[30000ms]))`,
    });
    assert.deepEqual(new PrometheusSource(settings).plan(latency, [{ id: "a", name: "a", address: "10.0.0.7" }], 5000), {
      kind: "quantile",
      buckets: 'sum by (le) (increase(demo_request_duration_seconds_bucket{route="/",host=~"(?:10\\\\.0\\\\.0\\\\.7(:[0-9]+)?)"}[5000ms]))',
    });
  });

  it("sends the URL's credentials as basic auth, never shows them, and says when the answer is not Prometheus'", async () => {
    const seen: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      seen.push(req);
      if (req.url === "/prom/api/v1/query") res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>");
      // anything else: never answer (a timeout)
    });
    const proxyPort = await freePort();
    await new Promise<void>((resolve) => server.listen(proxyPort, "127.0.0.1", resolve));
    try {
      const source = new PrometheusSource(PrometheusSettings.parse({ url: `http://ops:s3cret@127.0.0.1:${proxyPort}/prom`, timeout: "300ms" }));
      const query = { tenantId: "t", serviceId: "s", hosts: [A], from: 0, to: 10_000 };
      await assert.rejects(source.evidence(errorRatio, query), (error: unknown) => {
        assert.ok(error instanceof SlipwayError && error.code === "unavailable");
        assert.match(error.message, new RegExp(`^metric 'error ratio': Prometheus at http://127\\.0\\.0\\.1:${proxyPort}/prom answered 502 Bad Gateway without a Prometheus API body: <html>bad gateway</html>`));
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      });
      assert.equal(seen[0]!.headers.authorization, `Basic ${Buffer.from("ops:s3cret").toString("base64")}`);
      const silent = new PrometheusSource(PrometheusSettings.parse({ url: `http://127.0.0.1:${proxyPort}/other`, timeout: "300ms" }));
      await assert.rejects(silent.evidence(errorRatio, query), /could not be reached \(no answer within 300 ms\)/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
