// Canary deployments end to end: a real server, four real agents running the demo service,
// real traffic, the agents scraping the service's /metrics — and then the same judged through a
// real Prometheus server scraping the hosts. A release whose error ratio goes from 1% to 5% is
// rolled back during its first canary step, by itself; a release identical to the baseline is
// promoted to every host.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TrafficGenerator } from "../src/up/traffic.ts";
import type { Api } from "./support/api.ts";
import { DEMO_DIR, canaryManifest, uploadRelease } from "./support/canary.ts";
import { settledDeployment } from "./support/deployments.ts";
import { Fleet, served } from "./support/fleet.ts";
import { skipWithoutPrometheus, startPrometheus, type RunningPrometheus } from "./support/prometheus.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { waitFor } from "./support/wait.ts";

const PORT = 20_000 + Math.floor(Math.random() * 20_000);
let t: TestServer;
let fleet: Fleet;
let api: Api;
let traffic: TrafficGenerator;
let prometheus: RunningPrometheus | undefined;

const release = (version: string, errorRate: number, analysisExtra = "") =>
  uploadRelease(api, "shop", DEMO_DIR, version, canaryManifest({ port: PORT, errorRate, steps: "[{ hosts: 1, analyze: 25s }, { percent: 100 }]", minSamples: 150, maxDifference: "0.5%", analysisExtra }));

async function deploy(version: string, rollout: Record<string, unknown> = {}): Promise<any> {
  const created = await api("POST", "/api/v1/services/shop/deployments", { body: { version, environment: "production", rollout } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return settledDeployment(api, created.body.id, 120_000);
}

before(async () => {
  t = await startTestServer();
  api = t.api;
  const agentToken = (await api("POST", "/api/v1/tokens", { body: { name: "fleet", kind: "agent" } })).body.token;
  await api("POST", "/api/v1/services", { body: { name: "shop", repository_url: "https://git.example.com/shop.git", environments: [{ name: "production", selector: { role: "web" } }] } });
  fleet = new Fleet(t.url, agentToken);
  await fleet.start(4, { prefix: "canary", firstOctet: 81, labels: () => ({ role: "web" }) });
  await release("1.0.0", 0.01);
  await release("2.0.0-bad", 0.05);
  await release("3.0.0", 0.01);
  traffic = new TrafficGenerator({ targets: () => fleet.hosts.map((h) => `http://${h.address}:${PORT}/`), rate: 40 });
  await traffic.start();
});

after(async () => {
  await prometheus?.stop();
  traffic?.stop();
  await fleet?.stop();
  await t?.stop();
});

describe("canary deployments judged by their metrics", () => {
  it("deploys the first release everywhere (nothing to compare it with)", async () => {
    const d = await deploy("1.0.0", { strategy: "all_at_once" });
    assert.equal(d.state, "succeeded", JSON.stringify(d.events));
  });

  it("rolls back a release that raises the error ratio from 1% to 5% during its first canary step", () => expectRolledBack("2.0.0-bad", "1.0.0"));

  it("promotes a release identical to the baseline to every host", () => expectPromoted("3.0.0"));
});

describe("canary deployments judged through a real Prometheus", { skip: skipWithoutPrometheus() }, () => {
  before(async () => {
    prometheus = await startPrometheus({ targets: fleet.hosts.map((h) => `${h.address}:${PORT}`), scrapeIntervalMs: 1000 });
    const extra = `    provider: prometheus\n    prometheus: { url: "${prometheus.url}", host_label: instance }\n`;
    await release("4.0.0-bad", 0.05, extra);
    await release("5.0.0", 0.01, extra);
  });

  it("rolls back the bad release during its first canary step", () => expectRolledBack("4.0.0-bad", "3.0.0"));

  it("promotes the good one", () => expectPromoted("5.0.0"));
});

async function expectRolledBack(version: string, live: string): Promise<void> {
  const d = await deploy(version);
  assert.equal(d.state, "rolled_back", JSON.stringify(d.events, null, 1));
  assert.deepEqual(
    d.stages.map((s: any) => [s.label, s.status]),
    [
      ["canary: 1 host", "failed"],
      ["all hosts", "skipped"],
    ],
  );
  assert.equal(d.hosts.filter((h: any) => h.status !== "pending").length, 1, "only the canary host was ever switched");
  const decision = d.events.find((e: any) => e.to === "rolling_back");
  assert.match(decision.reason, /analysis of canary: 1 host failed: error ratio \d+(\.\d+)?% vs \d+(\.\d+)?% on baseline; the difference exceeds 0\.5 points with 95% confidence after [\d,]+ requests/);
  const analysis = (await api("GET", `/api/v1/deployments/${d.id}/analysis`)).body;
  const looks = analysis.windows[0].metrics["error ratio"];
  const last = looks.at(-1);
  assert.equal(last.outcome, "fail");
  assert.equal(last.rule, "sequential");
  assert.ok(last.canary.value > 0.03 && last.baseline.value < 0.02, JSON.stringify(last));
  assert.ok(last.difference.low > 0.005, "the whole interval lies beyond the allowed difference");
  const windowMs = Date.parse(last.at) - Date.parse(analysis.windows[0].started_at);
  assert.ok(windowMs < 25_000, `decided before the end of the 25 s step (after ${windowMs} ms)`);
  await everyHostServes(live);
}

async function expectPromoted(version: string): Promise<void> {
  const d = await deploy(version);
  assert.equal(d.state, "succeeded", JSON.stringify(d.events, null, 1));
  const passed = d.events.find((e: any) => /analysis of canary: 1 host passed/.test(e.reason));
  assert.ok(passed, JSON.stringify(d.events, null, 1));
  assert.match(passed.reason, /error ratio \d+(\.\d+)?% vs \d+(\.\d+)?% on baseline/);
  const analysis = (await api("GET", `/api/v1/deployments/${d.id}/analysis`)).body;
  const final = analysis.windows[0].metrics["error ratio"].at(-1);
  assert.deepEqual([final.final, final.outcome], [true, "pass"]);
  assert.ok(final.canary.samples >= 150 && final.baseline.samples >= 150);
  await everyHostServes(version);
}

/** Every host answers GET / with `version` (each asked again, for a while, until it answers at all). */
async function everyHostServes(version: string): Promise<void> {
  const versions = await Promise.all(
    fleet.hosts.map((h) => waitFor(async () => (await served(h.address, PORT))?.version, { timeoutMs: 5000, intervalMs: 20, what: `${h.name} to answer GET /` })),
  );
  assert.deepEqual(versions, fleet.hosts.map(() => version));
}
