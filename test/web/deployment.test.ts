// The deployment page in a real browser: a real server, three real agents running the demo
// service (examples/demo/server.js, which serves /metrics and fails DEMO_ERROR_RATE of its
// requests), traffic sent by this test, the agents scraping the service's metrics, and Debian's
// Chromium driven by playwright-core. A good release is followed on its page while its canary
// is analyzed — stages, a countdown, charts filling look by look, the verdict that passed it —
// then resumed from the page at its pause and promoted; a release whose error ratio rises from
// 0% to 5% is rolled back, and its page says why, with the numbers behind the decision.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { TrafficGenerator } from "../../src/up/traffic.ts";
import { decisionOf, formatDifference, formatValue, seriesOf, stageOfHosts, windowSpan } from "../../web/src/lib/canary.ts";
import { canaryManifest, uploadRelease } from "../support/canary.ts";
import { Fleet } from "../support/fleet.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { CHROMIUM, buildDashboard, textOf } from "../support/browser.ts";
import { waitFor } from "../support/wait.ts";

const SCREENSHOTS = { analyzing: "/tmp/slipway-deployment-analyzing.png", paused: "/tmp/slipway-deployment-paused.png", rolledBack: "/tmp/slipway-deployment-rolled-back.png" };
const ROOT = join(import.meta.dirname, "..", "..");
const DEMO_DIR = join(ROOT, "examples", "demo");
const PORT = 20_000 + Math.floor(Math.random() * 20_000);

let t: TestServer;
let fleet: Fleet;
let traffic: TrafficGenerator;
let service: string;
let browser: Browser;
let page: Page;

/**
 * The demo service with an error rate, as a canary: one host analyzed for 8 s (at 120 requests a
 * second a 5% error ratio is caught after about 400 requests, in 4 s or so), a pause until a person resumes,
 * the rest, and a 3 s bake. The latency metric is there to be charted in ms; it allows 250 ms.
 */
/**
 * One host analyzed for 8 s (at 120 requests a second a 5% error ratio is caught after about 400
 * requests, in 4 s or so), a pause until a person resumes, the rest, and a 3 s bake; the p95
 * latency is there to be charted in ms.
 */
const release = (version: string, errorRate: number) =>
  uploadRelease(t.api, "shop", service, version, canaryManifest({ port: PORT, errorRate, steps: "[{ hosts: 1, analyze: 8s }, { pause: until_resumed }, { percent: 100 }]", bake: "3s", minSamples: 50, maxDifference: "1%", latency: true }));

async function startDeployment(version: string, rollout: Record<string, unknown> = {}): Promise<string> {
  const created = await t.api("POST", "/api/v1/services/shop/deployments", { body: { version, environment: "production", rollout } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id as string;
}




/** Waits until an attribute satisfies `accept`; fails with the value it last saw. */
async function attributeOf(locator: Locator, name: string, accept: (value: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  let last: string | null = null;
  try {
    return await waitFor(async () => ((last = (await locator.count()) ? await locator.first().getAttribute(name) : null) !== null && accept(last) ? last : undefined), { timeoutMs, intervalMs: 50, what });
  } catch (error) {
    throw new Error(`${what}: ${name} is ${last}`, { cause: error });
  }
}

const header = () => page.locator('section[aria-label="deployment"]');
const step = (index: number) => page.locator(`li[data-stage="${index}"]`);
const metric = (name: string) => page.locator(`section[aria-label="analysis"] article[data-metric="${name}"]`).first();
const eventRows = () => page.locator('section[aria-label="events"] tbody tr');
const stageStatuses = () => page.locator("li[data-stage]").evaluateAll((steps) => steps.map((s) => s.getAttribute("data-status")));
const hostRow = (name: string) => page.locator(`section[aria-label="hosts"] tr[data-host="${name}"]`);

/** How many pixels of a canvas are painted: a chart with data draws lines, not only a blank plot. */
const paintedPixels = (canvas: Locator) =>
  canvas.evaluate((element) => {
    const c = element as HTMLCanvasElement;
    const pixels = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
    return painted;
  });

describe("deployment page", () => {
  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`the dashboard tests need Chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
    buildDashboard();
    // Only the demo's server and package.json, whatever else its folder holds.
    service = await mkdtemp(join(tmpdir(), "slipway-web-deployment-"));
    for (const file of ["server.js", "package.json"]) await copyFile(join(DEMO_DIR, file), join(service, file));

    t = await startTestServer();
    const agentToken = (await t.api("POST", "/api/v1/tokens", { body: { name: "fleet", kind: "agent" } })).body.token;
    const created = await t.api("POST", "/api/v1/services", { body: { name: "shop", repository_url: "https://git.example.com/shop.git", environments: [{ name: "production", selector: { role: "web" } }] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    fleet = new Fleet(t.url, agentToken);
    await fleet.start(3, { prefix: "web", firstOctet: 121, labels: () => ({ role: "web" }) });
    await release("1.0.0", 0);
    await release("2.0.0", 0);
    await release("3.0.0", 0.05);
    traffic = new TrafficGenerator({ targets: () => fleet.hosts.map((h) => `http://${h.address}:${PORT}/`), rate: 120 });
    await traffic.start();
    // The first release goes everywhere at once: there is nothing to compare it with.
    const first = await startDeployment("1.0.0", { strategy: "all_at_once" });
    await waitFor(async () => (await t.api("GET", `/api/v1/deployments/${first}`)).body.state === "succeeded", { timeoutMs: 60_000, what: "1.0.0 on every host" });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
  });

  after(async () => {
    traffic?.stop();
    await browser?.close();
    await fleet?.stop();
    await t?.stop();
    if (service) await rm(service, { recursive: true, force: true });
  });

  it("follows a canary live while it is analyzed, waits at its pause for the Resume button, and promotes it to every host", async () => {
    const id = await startDeployment("2.0.0");
    await page.goto(`${t.url}/deployments/${id}#token=${t.adminToken}`);
    // A reload would lose this: the page must change in place.
    await page.evaluate(() => Object.assign(window, { stillTheSamePage: true }));

    await textOf(header(), /shop → production 1\.0\.0 → 2\.0\.0 canary/, "the header: service, environment, previous and new release, strategy");
    await textOf(header(), /by admin created (just now|\d+ seconds? ago)/, "who started it and when");
    assert.deepEqual(await page.locator("li[data-stage] .step-label").allInnerTexts(), ["canary: 1 host", "pause until resumed", "all hosts", "bake 3s"], "one step per stage, in order");

    // The canary step is analyzed for 8 s: long enough to watch it.
    await textOf(step(0), /analyzing canary: 1 host 1 host · analyze 8s \d+s left/, "the canary stage analyzing, counting down", 60_000);
    await textOf(step(1), /pending pause until resumed until a person resumes/, "the pause, pending");
    await textOf(header(), /Roll back Cancel/, "the buttons of a running deployment");
    await textOf(header(), /analysis now: waiting for/, "what the analysis says right now");
    await textOf(hostRow("web-1"), /web-1 .*1\. canary: 1 host 1 healthy 2\.0\.0 healthy/, "the canary host: its stage, batch, status and release");
    await textOf(hostRow("web-2"), /web-2 .*3\. all hosts 2 pending 1\.0\.0 healthy/, "a baseline host, still on the previous release");

    // The charts fill as the controller looks: more looks arrive without a reload.
    const errors = metric("error ratio");
    const firstLooks = Number(await attributeOf(errors, "data-looks", (n) => Number(n) >= 1, "a first look at the error ratio", 30_000));
    await attributeOf(errors, "data-looks", (n) => Number(n) > firstLooks, "another look, live");
    assert.equal(await errors.locator("canvas").count(), 2, "the values chart and the difference chart");
    assert.ok(Number(await errors.locator(".uplot-box").first().getAttribute("data-points")) > firstLooks, "the chart has the new looks as points");
    assert.ok((await paintedPixels(errors.locator("canvas").first())) > 500, "the values chart draws its lines");
    await textOf(errors.locator(".chart-title").first(), /canary vs baseline \(%\)/, "ratios are charted in %");
    await textOf(metric("p95 latency").locator(".chart-title").first(), /canary vs baseline \(ms\)/, "latencies are charted in ms");
    await page.screenshot({ path: SCREENSHOTS.analyzing, fullPage: true });

    // At the end of its window the canary passes, and the deployment waits for a person.
    await attributeOf(header(), "data-state", (s) => s === "paused", "the deployment paused after its canary passed", 60_000);
    await attributeOf(errors, "data-outcome", (o) => o === "pass", "the error ratio passed");
    await textOf(errors.locator(".verdict-words"), /^error ratio 0% vs 0% on baseline: within 1 point with 95% confidence after [\d,]+ requests on the canary$/, "the passing verdict in words");
    await textOf(header(), /analysis of canary: 1 host passed.*waiting for a person to resume/, "why it waits");
    assert.deepEqual(await stageStatuses(), ["done", "paused", "pending", "pending"]);
    await textOf(step(0), /analyzed \d+s of 8s/, "how long the canary was analyzed");
    await page.screenshot({ path: SCREENSHOTS.paused, fullPage: true });

    await header().getByRole("button", { name: "Resume" }).click();
    await attributeOf(header(), "data-state", (s) => s === "succeeded", "the deployment promoted to every host", 90_000);
    assert.deepEqual(await stageStatuses(), ["done", "done", "done", "done"]);
    assert.equal(await header().locator("button").count(), 0, "nothing to do to a finished deployment");
    await textOf(eventRows().filter({ hasText: "resumed by admin" }), /paused → running resumed by admin/, "who resumed it");
    // The bake analyzed the release on every host, with no baseline left to compare with.
    await textOf(page.locator('.window[data-stage="3"] article[data-metric="error ratio"] .verdict-words'), /error ratio 0% after [\d,]+ requests on the canary \(no baseline to compare with\)/, "the bake's verdict");
    for (const name of ["web-1", "web-2", "web-3"]) await textOf(hostRow(name), /healthy 2\.0\.0 healthy/, `${name} on 2.0.0`);
    assert.equal(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage), true, "the page changed in place, without a reload");
  });

  it("explains the rollback of a bad canary: the failed verdict in words, its numbers, the decision on the charts and the event", async () => {
    const id = await startDeployment("3.0.0");
    await page.goto(`${t.url}/deployments/${id}`);
    const errors = metric("error ratio");
    await attributeOf(errors, "data-outcome", (o) => o === "fail", "the error ratio failed", 60_000);
    await textOf(errors.locator(".verdict-words"), /^error ratio \d+(\.\d+)?% vs 0% on baseline; the difference exceeds 1 point with 95% confidence after [\d,]+ requests on the canary$/, "the verdict in words");
    await textOf(
      errors.locator(".verdict-numbers"),
      /canary [\d.]+% · [\d,]+ samples baseline 0% · [\d,]+ samples difference \+[\d.]+ points, 95% interval \+[\d.]+ points? to \+[\d.]+ points allowed up to \+1 point rule sequential test.* decided \d\d:\d\d:\d\d · look \d+ of \d+/,
      "the numbers behind it",
    );
    await attributeOf(header(), "data-state", (s) => s === "rolled_back", "the deployment rolled back", 60_000);
    await textOf(header(), /rolled back shop → production 2\.0\.0 → 3\.0\.0/, "the header's state");
    await textOf(header().locator(".decision-reason"), /^rolling back at \d\d:\d\d:\d\d because analysis of canary: 1 host failed: error ratio/, "why it rolled back, in the header");
    await textOf(metric("p95 latency").locator(".verdict-head"), /^p95 latency not decided$/, "a metric the failure left undecided");
    assert.deepEqual(await stageStatuses(), ["failed", "skipped", "skipped", "skipped"]);
    await textOf(step(0), /analyzed \d+s of 8s/, "how long the canary was analyzed before the decision");
    assert.equal(await errors.locator("canvas").count(), 2, "the charts of the failed window");
    await textOf(eventRows().filter({ hasText: "analysis of canary: 1 host failed" }), /running → rolling back analysis of canary: 1 host failed: error ratio .* the difference exceeds 1 point with 95% confidence .* slipway/, "the event that rolled it back, with its reason");
    await textOf(hostRow("web-1"), /rolled back 2\.0\.0/, "the canary host back on 2.0.0");
    await textOf(hostRow("web-2"), /3\. all hosts 2 pending 2\.0\.0/, "a host of a later stage, never touched");
    await page.screenshot({ path: SCREENSHOTS.rolledBack, fullPage: true });
  });

  it("is opened from the overview's deploy log", async () => {
    await page.goto(`${t.url}/`);
    const row = page.locator('section[aria-label="deploy log"] tbody tr').first();
    await textOf(row, /3\.0\.0/, "the newest deployment first");
    await row.getByRole("link", { name: "3.0.0" }).click();
    await page.waitForURL(/\/deployments\/[^/]+$/);
    await textOf(header(), /rolled back shop → production 2\.0\.0 → 3\.0\.0/, "the deployment's page");
  });
});

describe("deployment page computations", () => {
  const look = (at: string, outcome: "running" | "pass" | "fail" | "inconclusive", canary: number | null, baseline: number | null, difference: [number, number | null, number | null] | null, allowed = 0.01) => ({
    at,
    final: false,
    outcome,
    rule: "sequential",
    canary: { value: canary, samples: 100 },
    baseline: baseline === null ? null : { value: baseline, samples: 200 },
    difference: difference && { estimate: difference[0], low: difference[1], high: difference[2] },
    allowed,
    reason: "",
  });

  it("puts each host in the stage that switches its batch", () => {
    const stages = [{ hosts: 1 }, { hosts: 0 }, { hosts: 3 }].map((s, i) => ({ ...s, label: `s${i}`, analyze_ms: 0, pause: null, status: "pending" as const }));
    const hosts = ["a", "b", "c", "d"].map((id, i) => ({ id, name: id, batch: i === 0 ? 0 : i < 3 ? 1 : 2, status: "pending" as const, reason: null, at: null }));
    const stageOf = stageOfHosts({ stages, hosts: [...hosts].reverse() });
    assert.deepEqual(["a", "b", "c", "d"].map((id) => stageOf.get(id)), [0, 2, 2, 2]);
  });

  it("charts ratios in %, latencies in ms, and the allowed line on the worse side", () => {
    const looks = [look("2026-01-01T00:00:01Z", "running", 0.05, 0.01, [0.04, null, null]), look("2026-01-01T00:00:02Z", "fail", 0.05, 0, [0.05, 0.02, 0.08])];
    const ratio = seriesOf(looks, "ratio", "lower_is_better");
    assert.deepEqual(ratio.at, [Date.parse("2026-01-01T00:00:01Z") / 1000, Date.parse("2026-01-01T00:00:02Z") / 1000]);
    assert.deepEqual([ratio.canary, ratio.baseline, ratio.low, ratio.allowed], [[5, 5], [1, 0], [null, 2], [1, 1]]);
    assert.deepEqual(seriesOf(looks, "quantile", "higher_is_better").allowed, [-10, -10], "ms, below zero when higher is better");
    assert.deepEqual(decisionOf(looks)?.index, 1);
    assert.equal(decisionOf([looks[0]!]), null, "no decision while every look runs");
    assert.deepEqual([formatValue("ratio", 0.041), formatValue("quantile", 0.2125), formatDifference("ratio", 0.01), formatDifference("ratio", -0.0032)], ["4.1%", "213 ms", "+1 point", "-0.32 points"]);
  });

  it("ends a window's analysis at its first failure, whatever the other metrics say", () => {
    const window = { stage: 0, label: "canary", started_at: "2026-01-01T00:00:00Z", metrics: { a: [look("2026-01-01T00:00:03Z", "fail", 1, 0, null)], b: [look("2026-01-01T00:00:03Z", "running", 1, 0, null), look("2026-01-01T00:00:04Z", "running", 1, 0, null)] } };
    assert.deepEqual(windowSpan(window), { from: Date.parse("2026-01-01T00:00:00Z"), to: Date.parse("2026-01-01T00:00:03Z"), decided: true });
    window.metrics.a = [look("2026-01-01T00:00:03Z", "running", 1, 0, null)];
    assert.deepEqual(windowSpan(window), { from: Date.parse("2026-01-01T00:00:00Z"), to: Date.parse("2026-01-01T00:00:04Z"), decided: false });
  });
});
