// The dashboard's pipeline and tests pages in a real browser: a real server, a real git
// repository with a slipway.yaml, two real runner agents (`slipway agent --runner-only`), and
// Debian's Chromium driven by playwright-core. A run started with the page's own button is
// followed live: the graph of its jobs, each job's steps, its log while the runner writes it
// (held at a gate the test opens), then the test results. A run no runner can take stays
// queued and is cancelled from the page; the runs list follows runs of other people without a
// reload; the tests page quarantines a flaky test and releases it again.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { GRAPH, layoutJobs, nodeHeight, type GraphJob } from "../../web/src/lib/dag-layout.ts";
import { FIXTURE_SERVICE_DIR } from "../support/artifact.ts";
import { Fleet } from "../support/fleet.ts";
import { commit, createRepo, runGit, tempDir } from "../support/git.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { CHROMIUM, buildDashboard, textOf } from "../support/browser.ts";
import { waitFor } from "../support/wait.ts";

// What the pages looked like, for a person to check: a run following its log, the same run
// finished, the runs list, the tests page.
const SCREENSHOTS = { running: "/tmp/slipway-pipeline-running.png", run: "/tmp/slipway-pipeline-run.png", runs: "/tmp/slipway-pipelines.png", tests: "/tmp/slipway-tests.png" };
const LOG_LINES = 6_000;

let t: TestServer;
let fleet: Fleet;
let scratch: string;
let repo: string;
let gate: string;
let browser: Browser;
let page: Page;

/** main: build (a long log, then a step held until the test opens the gate), tests split in two shards, a release. */
const pipeline = (gatePath: string, flakyMarker: string) => ({
  "slipway.yaml": `run:
  start: node server.js
  port: 18670
  health: { http: /healthz }
jobs:
  build:
    name: Build
    steps:
      - name: count
        run: seq 1 ${LOG_LINES}
      - name: wait for the gate
        run: echo "waiting for the gate"; while [ ! -e ${JSON.stringify(gatePath)} ]; do sleep 0.05; done; echo "through the gate" >&2
  test:
    needs: [build]
    parallelism: 2
    tests:
      files: "test/*.test.js"
      command: node --test --test-reporter=junit --test-reporter-destination=junit.xml {files}
      reports: [junit.xml]
      retries: 1
  release:
    needs: [test]
    package:
      files: [server.js, package.json]
      version: "1.0.{run_number}"
`,
  "test/a.test.js": `import { test } from "node:test";\ntest("adds up", () => {});\n`,
  "test/b.test.js": `import { test } from "node:test";\ntest("takes its time", async () => { await new Promise((r) => setTimeout(r, 150)); });\n`,
  "test/c.test.js": `import { test } from "node:test";\nimport { existsSync, writeFileSync } from "node:fs";\ntest("sometimes fails", () => {\n  if (!existsSync(${JSON.stringify(flakyMarker)})) { writeFileSync(${JSON.stringify(flakyMarker)}, "1"); throw new Error("failed the first time"); }\n});\n`,
});

/** The gpu branch: its first job needs a runner label no runner has, so its runs stay queued. */
const GPU_PIPELINE = `jobs:
  compile:
    runs_on: [gpu]
    steps:
      - run: echo never
  check:
    needs: [compile]
    steps:
      - run: echo never either
`;




async function classOf(locator: Locator, tone: string, what: string, timeoutMs = 15_000): Promise<void> {
  let last: string | null = null;
  await waitFor(async () => (last = await locator.getAttribute("class"))?.split(" ").includes(tone), { timeoutMs, intervalMs: 50, what }).catch((error: unknown) => {
    throw new Error(`${what}: expected class ${tone}, has ${last}`, { cause: error });
  });
}

/** The translate(x,y) of an SVG group. */
async function positionOf(locator: Locator): Promise<{ x: number; y: number }> {
  const match = /translate\(([-\d.]+),([-\d.]+)\)/.exec((await locator.getAttribute("transform")) ?? "");
  assert.ok(match, "the node has a position");
  return { x: Number(match[1]), y: Number(match[2]) };
}

const runHead = () => page.locator('section[aria-label="run"]');
const node = (key: string) => page.locator(`g[data-job-key="${key}"]`);
const jobPanel = () => page.locator('section[aria-label="job"]');
const log = () => page.locator('[role="log"]');
const runRow = (number: number, service = "shop") => page.locator('section[aria-label="pipeline runs"] tbody tr').filter({ has: page.locator("td", { hasText: new RegExp(`^${service}$`) }) }).filter({ hasText: `#${number}` });

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the dashboard tests need Chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
  }
  buildDashboard();
  scratch = await tempDir("slipway-web-pipelines-");
  gate = join(scratch, "gate");
  repo = await createRepo(join(scratch, "repo"));
  const server = await readFile(join(FIXTURE_SERVICE_DIR, "server.js"), "utf8");
  const pkg = await readFile(join(FIXTURE_SERVICE_DIR, "package.json"), "utf8");
  await commit(repo, { "server.js": server, "package.json": pkg, ...pipeline(gate, join(scratch, "failed-once")) }, "Add a pipeline");
  await runGit(repo, "checkout", "--quiet", "-b", "gpu");
  await commit(repo, { "slipway.yaml": GPU_PIPELINE }, "Compile on a GPU runner");
  await runGit(repo, "checkout", "--quiet", "main");

  t = await startTestServer({ pollIntervalMs: 200 });
  for (const name of ["shop", "api"]) {
    const created = await t.api("POST", "/api/v1/services", { body: { name, repository_url: repo, environments: [{ name: "staging", selector: { env: "staging" } }] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  // The first poll records the branches as they are: no push starts a run in this test.
  await waitFor(async () => (await t.server.store.db.selectFrom("service_git_state").select("service_id").execute()).length >= 2, { what: "the first poll of both services" });
  const agentToken = (await t.api("POST", "/api/v1/tokens", { body: { name: "runners", kind: "agent" } })).body.token;
  fleet = new Fleet(t.url, agentToken);
  await fleet.start(2, { prefix: "runner", firstOctet: 90, labels: () => ({ os: "linux" }), args: ["--runner-only"] });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
});

after(async () => {
  await browser?.close();
  await fleet?.stop();
  await t?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("pipelines page", () => {
  it("starts a run with its Run pipeline button and follows it live: the jobs' graph, steps, the log as it is written, the release and the test results", async () => {
    await page.goto(`${t.url}/pipelines#token=${t.adminToken}`);
    await textOf(page.locator(".nav a.current"), /^Pipelines$/, "the Pipelines entry of the navigation, current");
    await textOf(page.locator('section[aria-label="pipeline runs"]'), /No runs yet/, "no runs yet");
    const shopRow = page.locator('section[aria-label="services"] tr[data-service="shop"]');
    await shopRow.getByRole("button", { name: "Run pipeline" }).click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split("/")[2]!);

    await textOf(runHead(), /shop #1 main [0-9a-f]{7} (Cancel run )?Add a pipeline by Ada Lovelace <ada@example\.com> started by hand · admin created (just now|\d+ seconds? ago)/, "the run's header");
    assert.equal(await node("build").locator("xpath=..").locator("g[data-job-key]").count(), 3, "one node per job");
    assert.equal(await node("test").locator("g[data-job]").count(), 2, "the test job's two shards in its node");
    await textOf(node("test"), /test .* 2 shards.*1\/2.*2\/2/, "the test node with its shards");
    assert.equal(await page.locator('path[data-edge="build->test"]').count(), 1, "an edge from build to test");
    assert.equal(await page.locator('path[data-edge="test->release"]').count(), 1, "an edge from test to release");
    assert.equal(await page.locator("path[data-edge]").count(), 2, "no other edge");
    const [build, test, release] = await Promise.all(["build", "test", "release"].map((key) => positionOf(node(key))));
    assert.ok(build!.x < test!.x && test!.x < release!.x, "one column per dependency depth, left to right");

    // The build job is selected first (nothing failed, it runs first), and its log is followed.
    await classOf(node("build"), "selected", "the build job selected");
    await textOf(jobPanel().locator("h2"), /^Build$/, "the build job's panel");
    await textOf(log(), /waiting for the gate$/, "the log as the runner writes it", 60_000);
    await classOf(node("build"), "tone-active", "the build node running");
    assert.equal(await log().getAttribute("data-done"), "false", "the log is still being followed");
    await textOf(jobPanel().locator(".log-status"), /earlier lines are not shown.*following…/, "the note about the lines not kept");
    const shown = await log().locator(".log-line").count();
    assert.ok(shown <= 5_000 && shown > 4_000, `the page keeps the last 5,000 lines (${shown})`);
    await textOf(jobPanel().locator('tr[data-step="0"]'), /^1 count succeeded \S+ 0$/, "the first step done, exit 0");
    await textOf(jobPanel().locator('tr[data-step="1"]'), /^2 wait for the gate running/, "the second step running");
    await textOf(node("build"), /Build running \d/, "the running build job with its duration");

    await page.screenshot({ path: SCREENSHOTS.running });
    await writeFile(gate, "open\n");
    await textOf(log().locator(".log-line.stderr"), /^through the gate$/, "stderr in its own colour, as it comes");
    await waitFor(async () => (await log().getAttribute("data-done")) === "true", { what: "the end of the log" });
    await textOf(jobPanel().locator('tr[data-step="1"]'), /succeeded \S+ 0$/, "the second step done");

    await textOf(runHead().locator(".badge"), /^succeeded$/, "the run succeeded", 120_000);
    await textOf(runHead().locator(".run-release"), /released 1\.0\.1 — see where shop is live/, "the release the run made");
    assert.equal(await runHead().locator(".run-release a").getAttribute("href"), "/services/shop");
    assert.equal((await t.api("GET", `/api/v1/runs/${runId}`)).body.release.version, "1.0.1", "the release the API has");
    assert.equal(await runHead().getByRole("button", { name: "Cancel run" }).count(), 0, "nothing to cancel once finished");
    for (const key of ["build", "test", "release"]) await classOf(node(key), "tone-ok", `${key} succeeded`);

    // The second shard, chosen in the graph, shows its own steps and test files.
    await node("test").locator("g[data-job]").nth(1).click();
    await textOf(jobPanel().locator("h2"), /^test \(2\/2\)$/, "the second shard's panel");
    assert.match(new URL(page.url()).search, /^\?job=/, "the selection is in the address");
    await textOf(jobPanel().locator(".test-files summary"), /1 test file in this shard|2 test files in this shard/, "the shard's test files");
    await waitFor(async () => (await log().getAttribute("data-done")) === "true", { what: "the shard's whole log" });

    const results = page.locator('section[aria-label="test results"]');
    await textOf(results.locator(".card-head"), /2 passed · 0 failed · 1 flaky · 0 skipped/, "the run's test summary");
    const flaky = results.locator("tbody tr[data-test]").first();
    await textOf(flaky, /^flaky ▸ ?sometimes fails test\/c\.test\.js test \([12]\/2\) 2 \d+ms quarantine$/, "the flaky test first, run twice");
    await flaky.click();
    await textOf(results.locator(".test-message"), /failed the first time/, "the flaky test's message, expanded");
    assert.equal(await flaky.getByRole("button", { name: "quarantine" }).count(), 1, "a flaky test can be quarantined from here");
    await page.screenshot({ path: SCREENSHOTS.run, fullPage: true });
  });

  it("cancels a run that waits for a runner, and lists runs of every service live, filtered by service", async () => {
    await page.getByRole("link", { name: "Pipelines" }).click();
    await textOf(runRow(1), /^succeeded #1 shop main [0-9a-f]{7} Add a pipeline Ada Lovelace manual .* \S+$/, "the finished run in the list");
    assert.equal(await runRow(1).locator(".strip-cell.tone-ok").count(), 3, "its three jobs succeeded");

    const shopRow = page.locator('section[aria-label="services"] tr[data-service="shop"]');
    await shopRow.getByLabel("branch to run shop on").fill("gpu");
    await shopRow.getByRole("button", { name: "Run pipeline" }).click();
    await page.waitForURL(/\/runs\//);
    await textOf(runHead(), /queued shop #2 gpu .*Compile on a GPU runner/, "a run on the gpu branch, queued");
    await textOf(node("compile"), /compile queued/, "its first job queued: no runner has the gpu label");
    await textOf(node("check"), /check pending —/, "the job after it pending, not started");
    await textOf(log(), /Waiting for output…/, "no output yet");
    await runHead().getByRole("button", { name: "Cancel run" }).click();
    await textOf(runHead().locator(".badge"), /^cancelled$/, "the run cancelled");
    await textOf(runHead().locator(".run-reason"), /cancelled by admin/, "who cancelled it");
    await textOf(node("compile"), /compile cancelled/, "the queued job cancelled");
    await waitFor(async () => (await log().getAttribute("data-done")) === "true", { what: "the cancelled job's log to end" });
    await textOf(log(), /No output\./, "a job that never ran has no output");
    assert.equal(await runHead().getByRole("button", { name: "Cancel run" }).count(), 0);

    // Someone else starts a run of another service: the list shows it without a reload.
    await page.getByRole("link", { name: "Pipelines" }).click();
    await textOf(runRow(2), /^cancelled #2 shop gpu/, "the cancelled run in the list");
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    const started = await t.api("POST", "/api/v1/services/api/runs", { body: { branch: "gpu" } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    await textOf(runRow(1, "api"), /^queued #1 api gpu/, "the other service's run, as it starts");
    await textOf(page.locator('section[aria-label="services"] tr[data-service="api"]'), /queued #1/, "its service's latest run");
    assert.equal((await t.api("POST", `/api/v1/runs/${started.body.id}/cancel`)).status, 200);
    await textOf(runRow(1, "api"), /^cancelled #1 api/, "the run cancelled elsewhere");
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, "the page was never reloaded");
    assert.deepEqual(await page.locator('section[aria-label="pipeline runs"] tbody tr td:nth-child(3)').allTextContents(), ["api", "shop", "shop"], "newest first");
    await page.screenshot({ path: SCREENSHOTS.runs, fullPage: true });

    await page.locator('section[aria-label="services"] tr[data-service="shop"] a.service-name').click();
    await page.waitForURL(/\/pipelines\/shop$/);
    await waitFor(async () => (await page.locator('section[aria-label="pipeline runs"] tbody tr').count()) === 2, { what: "the list filtered to shop" });
    assert.deepEqual(await page.locator('section[aria-label="pipeline runs"] tbody tr td:nth-child(3)').allTextContents(), ["shop", "shop"]);
    assert.equal(await page.locator('section[aria-label="services"] tr[data-service]').count(), 1, "only shop's row");
    await runRow(1).locator("td.message-cell").click();
    await page.waitForURL(/\/runs\//);
    await textOf(runHead(), /shop #1 main/, "a row opens its run");
  });
});

describe("tests page", () => {
  it("shows the slowest and flakiest tests as bars, and quarantines a flaky test and releases it again", async () => {
    await page.getByRole("link", { name: "Tests" }).click();
    await page.waitForURL(/\/tests\/[^/]+$/);
    await page.locator('nav[aria-label="services"]').getByRole("link", { name: "shop", exact: true }).click();
    await page.waitForURL(/\/tests\/shop$/);

    const slowest = page.locator('section[aria-label="slowest tests"]');
    await textOf(slowest.locator("tbody tr").first(), /^takes its time test\/b\.test\.js \d+m?s \d+m?s 1 /, "the slowest test first");
    assert.equal(await slowest.locator("tbody tr").count(), 3);
    assert.equal(await slowest.locator(".bar-fill").first().evaluate((e) => (e as HTMLElement).style.width), "100%", "the slowest test's bar is the longest");

    const flakiest = page.locator('section[aria-label="flakiest tests"]');
    const row = flakiest.locator("tbody tr");
    await textOf(row, /^sometimes fails test\/c\.test\.js 100% 1 1 /, "the flaky test with its flake rate");
    assert.equal(await row.count(), 1, "only the flaky test");
    assert.equal(await row.locator(".bar-fill").evaluate((e) => (e as HTMLElement).style.width), "100%");
    await textOf(page.locator('section[aria-label="failing tests"]'), /No failing tests/, "no test failing for good");

    await row.getByRole("button", { name: "quarantine" }).click();
    await row.getByLabel("reason for the quarantine").fill("flaky since #1");
    await row.getByRole("button", { name: "Quarantine" }).click();
    const quarantine = page.locator('section[aria-label="quarantine"]');
    await textOf(quarantine.locator("tbody tr"), /sometimes fails.* flaky since #1 admin just now release from quarantine$/, "the test in quarantine, with why and by whom");
    await textOf(row.locator(".tag"), /^quarantined$/i, "the flaky test marked quarantined");
    await page.screenshot({ path: SCREENSHOTS.tests, fullPage: true });
    const listed = (await t.api("GET", "/api/v1/services/shop/quarantine")).body.items;
    assert.deepEqual(listed.map((q: any) => [q.reason, q.created_by, q.automatic]), [["flaky since #1", "admin", false]]);

    await quarantine.getByRole("button", { name: "release from quarantine" }).click();
    await textOf(quarantine, /No test is in quarantine/, "the quarantine emptied");
    await textOf(row.locator("td.actions"), /^quarantine$/, "the test can be quarantined again");
    assert.deepEqual((await t.api("GET", "/api/v1/services/shop/quarantine")).body.items, []);
  });
});

describe("job graph layout", () => {
  const job = (key: string, needs: string[] = [], shard: { index: number; total: number } | null = null): GraphJob => ({ id: `${key}-${shard?.index ?? 0}`, key, name: key, shard, needs, state: "pending" });

  it("puts each job one column right of its deepest need, and centres a join between what it joins", () => {
    const layout = layoutJobs([job("lint"), job("build"), job("unit", ["build"]), job("e2e", ["build"]), job("package", ["unit", "e2e", "lint"])]);
    const at = new Map(layout.nodes.map((n) => [n.key, n]));
    assert.deepEqual(["lint", "build", "unit", "e2e", "package"].map((k) => at.get(k)!.column), [0, 0, 1, 1, 2]);
    assert.deepEqual(layout.edges.map((e) => `${e.from}->${e.to}`).sort(), ["build->e2e", "build->unit", "e2e->package", "lint->package", "unit->package"]);
    const centre = (k: string) => at.get(k)!.y + at.get(k)!.height / 2;
    assert.equal(centre("package"), (centre("lint") + centre("build")) / 2, "a single node is centred in its column");
    assert.equal(layout.width, GRAPH.margin * 2 + 3 * GRAPH.nodeWidth + 2 * GRAPH.gapX);
  });

  it("orders a column by the height of what each job needs, so edges do not cross", () => {
    const layout = layoutJobs([job("a"), job("b"), job("after-b", ["b"]), job("after-a", ["a"])]);
    const y = (k: string) => layout.nodes.find((n) => n.key === k)!.y;
    assert.ok(y("a") < y("b"));
    assert.ok(y("after-a") < y("after-b"), "after-a sits level with a, above after-b");
  });

  it("stacks the shards of a job in one node, named as the job", () => {
    const shards = [0, 1, 2].map((index) => ({ ...job("test", [], { index, total: 3 }), name: `test (${index + 1}/3)` }));
    const layout = layoutJobs(shards);
    assert.equal(layout.nodes.length, 1);
    assert.equal(layout.nodes[0]!.name, "test");
    assert.equal(layout.nodes[0]!.jobs.length, 3);
    assert.equal(layout.nodes[0]!.height, nodeHeight(3));
    assert.ok(nodeHeight(3) > nodeHeight(1));
  });

  it("draws a job graph with a cycle or an unknown need without hanging", () => {
    const layout = layoutJobs([job("a", ["b"]), job("b", ["a"]), job("c", ["missing"])]);
    assert.equal(layout.nodes.length, 3);
    assert.ok(layout.edges.every((e) => e.from !== "missing"));
  });
});
