// The dashboard in a real browser: a real server with a service, releases, three hosts that
// speak the agent protocol (played by this test, so each step of a rollout happens when the
// test says), and Debian's Chromium driven by playwright-core. The page must show what is live
// where, every host's release and health, the deploy log, and a new deployment's per-host
// progress as it happens, without a reload.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { WEB_DIST_DIR } from "../../src/server/static.ts";
import { apiClient, type Api } from "../support/api.ts";
import { FIXTURE_SERVICE_DIR, buildArtifact } from "../support/artifact.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { waitFor } from "../support/wait.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = "/tmp/slipway-dashboard.png";
const ROOT = join(import.meta.dirname, "..", "..");

const MANIFEST = `
run:
  start: node server.js
  port: 8080
  health: { http: /healthz }
deploy:
  batch_size: 1
  max_unavailable: 1
  health_timeout: 5m
`;

let t: TestServer;
let agent: Api;
let alice: Api;
let bob: Api;
let browser: Browser;
let page: Page;
/** The hosts this test plays the agent for: what each last reported, sent again as a heartbeat. */
interface PlayedHost {
  id: string;
  generation: number;
  services: object[];
  onDisk: string[];
  reports: Promise<void>;
}
const hosts = new Map<string, PlayedHost>();
let heartbeat: ReturnType<typeof setInterval> | undefined;

/** Sends the host's state; one report at a time per host, so they arrive in order. */
function report(host: PlayedHost): Promise<void> {
  host.reports = host.reports.then(async () => {
    const reported = await agent("POST", "/api/v1/agent/report", { body: { host_id: host.id, generation: host.generation, services: host.services } });
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
  });
  return host.reports;
}

/** Plays the agent on `name`: reads its desired state and reports it reached, running and healthy (or as told). */
async function converge(name: string, state: { health?: "healthy" | "unhealthy"; error?: string; restarts?: number } = {}): Promise<void> {
  const host = hosts.get(name)!;
  const desired = (await agent("GET", `/api/v1/agent/desired?host_id=${host.id}&after=-1&timeout_ms=0`)).body;
  host.generation = desired.generation;
  host.services = desired.services.map((s: any) => {
    if (s.release && !host.onDisk.includes(s.release.id)) host.onDisk.unshift(s.release.id);
    return { service_id: s.service_id, release_id: s.release?.id ?? null, process_state: "running", health: state.health ?? "healthy", restarts: state.restarts ?? 0, error: state.error ?? null, port: 8080, releases_on_disk: [...host.onDisk] };
  });
  await report(host);
}

/** Deploys as `who` and plays every host of the environment until the deployment succeeds. */
async function deployAndConverge(who: Api, version: string, environment: string, names: string[]): Promise<void> {
  const created = await who("POST", "/api/v1/services/shop/deployments", { body: { version, environment } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor(
    async () => {
      for (const name of names) await converge(name);
      const d = (await t.api("GET", `/api/v1/deployments/${created.body.id}`)).body;
      assert.notEqual(d.state, "failed", JSON.stringify(d.events));
      return d.state === "succeeded";
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `${version} to be live in ${environment}` },
  );
}

/** Waits until the element's visible text matches; fails with the text it last saw. */
async function textOf(locator: Locator, pattern: RegExp, what: string): Promise<string> {
  let last = "";
  try {
    return await waitFor(
      async () => {
        last = (await locator.count()) ? await locator.first().innerText() : "(not on the page)";
        return pattern.test(last) ? last : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, what },
    );
  } catch (error) {
    throw new Error(`${what}: expected ${pattern}, the page shows: ${last}`, { cause: error });
  }
}

const env = (name: string) => page.locator(`[data-service="shop"] [data-environment="${name}"]`);
const hostRow = (environment: string, host: string) => env(environment).locator(`tr[data-host="${host}"]`);
const deployLog = () => page.locator('section[aria-label="deploy log"]');
const deployingNow = () => page.locator('section[aria-label="deploying now"]');

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the dashboard tests need Chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
  }
  if (!existsSync(join(WEB_DIST_DIR, "index.html"))) {
    const built = spawnSync(process.execPath, [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "web", "--logLevel", "warn"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(built.status, 0, `npm run build:web failed:\n${built.stdout}${built.stderr}`);
  }
  t = await startTestServer();
  const token = async (name: string, body: object) => (await t.api("POST", "/api/v1/tokens", { body: { name, ...body } })).body.token as string;
  agent = apiClient(t.url, await token("agents", { kind: "agent" }));
  for (const name of ["alice", "bob"]) {
    const user = await t.api("POST", "/api/v1/users", { body: { name, roles: ["deployer"] } });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const api = apiClient(t.url, await token(`${name} laptop`, { user_id: user.body.id }));
    if (name === "alice") alice = api;
    else bob = api;
  }

  const service = await t.api("POST", "/api/v1/services", {
    body: { name: "shop", repository_url: "https://git.example.com/shop.git", environments: [{ name: "staging", selector: { env: "staging" } }, { name: "production", selector: { env: "production" } }] },
  });
  assert.equal(service.status, 201, JSON.stringify(service.body));
  for (const version of ["1.0.0", "1.1.0"]) {
    const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, MANIFEST, { VERSION: version });
    assert.equal((await t.api("PUT", "/api/v1/artifacts", { body: artifact.bytes })).status, 201);
    const release = await t.api("POST", "/api/v1/services/shop/releases", { body: { version, artifact_sha256: artifact.sha256, git_sha: "4f2a9c1" } });
    assert.equal(release.status, 201, JSON.stringify(release.body));
  }
  for (const [name, address, labels] of [
    ["stage-1", "10.0.1.11", { env: "staging", region: "eu" }],
    ["web-1", "10.0.2.21", { env: "production", region: "eu", role: "web" }],
    ["web-2", "10.0.2.22", { env: "production", region: "eu", role: "web" }],
  ] as const) {
    const registered = await agent("POST", "/api/v1/agent/register", { body: { name, address, labels, version: "0.1.0" } });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    hosts.set(name, { id: registered.body.host.id, generation: 0, services: [], onDisk: [], reports: Promise.resolve() });
  }
  // A real agent reports every couple of seconds; a host that stops counts as unreachable.
  heartbeat = setInterval(() => hosts.forEach((host) => void report(host).catch(() => undefined)), 2_000);

  await deployAndConverge(alice, "1.0.0", "staging", ["stage-1"]);
  await deployAndConverge(alice, "1.0.0", "production", ["web-1", "web-2"]);
  await deployAndConverge(bob, "1.1.0", "staging", ["stage-1"]);
  await converge("stage-1", { health: "unhealthy", error: "health check GET /healthz answered 503 three times", restarts: 2 });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
});

after(async () => {
  clearInterval(heartbeat);
  await Promise.allSettled([...hosts.values()].map((h) => h.reports));
  await browser?.close();
  await t?.stop();
});

describe("dashboard", () => {
  it("signs in from the URL's #token, then shows what is live where, every host's release and health, and the deploy log", async () => {
    await page.goto(`${t.url}/#token=${t.adminToken}`);
    await textOf(page.locator(".topbar"), /default[\s\S]*admin/, "the tenant and user in the top bar");
    assert.equal(new URL(page.url()).hash, "", "the token is taken out of the address bar");
    assert.equal(await page.evaluate(() => localStorage.getItem("slipway.token")), t.adminToken);

    await textOf(page.locator('[data-service="shop"] h2'), /^shop$/, "the service");
    assert.deepEqual(await page.locator('[data-service="shop"] [data-environment]').evaluateAll((els) => els.map((e) => e.getAttribute("data-environment"))), ["staging", "production"]);
    await textOf(env("staging").locator(".live"), /1\.1\.0[\s\S]*by bob/, "the release live in staging");
    await textOf(env("staging").locator(".previous"), /previous 1\.0\.0/, "the release live in staging before");
    await textOf(env("production").locator(".live"), /1\.0\.0[\s\S]*by alice/, "the release live in production");
    await textOf(env("production").locator(".env-head"), /prod[\s\S]*2\/2 healthy/, "production's healthy hosts");

    await textOf(hostRow("production", "web-1"), /web-1\s*10\.0\.2\.21\s+1\.0\.0\s+healthy\s+0/, "web-1 with its release and health");
    await textOf(hostRow("production", "web-1").locator(".badge.tone-ok"), /^healthy$/, "web-1's health in green");
    await textOf(hostRow("staging", "stage-1"), /stage-1\s*10\.0\.1\.11\s+1\.1\.0\s+unhealthy\s+2/, "stage-1 unhealthy with its restarts");
    await textOf(env("staging").locator(".host-error"), /GET \/healthz answered 503/, "stage-1's error");
    assert.equal(await hostRow("staging", "stage-1").locator(".badge.tone-bad").count(), 1, "an unhealthy host is shown in red");

    await textOf(deployLog().locator(".summary"), /^last deploy (just now|\d+ seconds? ago) by bob — 3 deploys this week by 2 people$/, "the deploy rhythm");
    const rows = await deployLog().locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].slice(1, 6).map((td) => td.textContent)));
    assert.deepEqual(rows, [
      ["shop", "1.1.0", "staging", "succeeded", "bob"],
      ["shop", "1.0.0", "production", "succeeded", "alice"],
      ["shop", "1.0.0", "staging", "succeeded", "alice"],
    ]);
    assert.equal(await deployingNow().count(), 0, "nothing is deploying");
  });

  it("shows a new deployment and its per-host progress as it happens, over the event stream, without reloading", async () => {
    await textOf(page.locator("[data-connection]"), /^live$/, "the live indicator");
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));

    const created = await bob("POST", "/api/v1/services/shop/deployments", { body: { version: "1.1.0", environment: "production" } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const progress = deployingNow().locator(`[data-deployment="${created.body.id}"]`);
    await textOf(progress, /running[\s\S]*shop[\s\S]*production[\s\S]*1\.0\.0 → 1\.1\.0[\s\S]*batch 1 of 2[\s\S]*0\/2 hosts done[\s\S]*by bob/, "the deployment in progress");
    await textOf(progress.locator('[data-host="web-1"]'), /web-1\s*switching/, "web-1 switching in batch 1");
    await textOf(progress.locator('[data-host="web-2"]'), /web-2\s*pending/, "web-2 waiting in batch 2");
    await textOf(hostRow("production", "web-1"), /1\.0\.0\s*→ 1\.1\.0/, "web-1 converging towards 1.1.0");
    await textOf(env("production").locator(".env-active"), /running[\s\S]*deploying 1\.1\.0 · batch 1\/2/, "production deploying");
    await textOf(deployLog().locator("tbody tr").first(), /1\.1\.0\s+production\s+running\s+bob/, "the deploy log's newest entry");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await converge("web-1");
    await textOf(progress.locator('[data-host="web-1"]'), /web-1\s*healthy/, "web-1 healthy");
    await textOf(progress.locator('[data-host="web-2"]'), /web-2\s*switching/, "web-2 switching in batch 2");
    await textOf(progress, /batch 2 of 2[\s\S]*1\/2 hosts done/, "the second batch");

    await converge("web-2");
    await textOf(env("production").locator(".live"), /1\.1\.0[\s\S]*by bob/, "1.1.0 live in production");
    await textOf(env("production").locator(".previous"), /previous 1\.0\.0/, "1.0.0 now the previous release");
    await textOf(deployLog().locator("tbody tr").first(), /1\.1\.0\s+production\s+succeeded\s+bob/, "the deployment succeeded in the log");
    await textOf(deployLog().locator(".summary"), /by bob — 4 deploys this week by 2 people$/, "the deploy count");
    await waitFor(async () => (await deployingNow().count()) === 0, { what: "the finished deployment to leave 'deploying now'" });
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, "the page was never reloaded");
    assert.equal(await page.locator("[data-connection]").innerText(), "live", "every change came over the event stream, not by polling");
  });

  it("polls while the event stream is down, and goes live again when it comes back", async () => {
    await page.route("**/api/v1/events", (route) => route.abort("connectionrefused"));
    await page.reload();
    await textOf(page.locator("[data-connection]"), /^polling$/, "the polling indicator");
    await textOf(hostRow("staging", "stage-1"), /\s+unhealthy\s+2$/, "stage-1 as it was before the change");
    await converge("stage-1");
    await textOf(hostRow("staging", "stage-1"), /stage-1\s*10\.0\.1\.11\s+1\.1\.0\s+healthy\s+0/, "stage-1 healthy again, read by polling");
    assert.equal(await env("staging").locator(".host-error").count(), 0, "the error is gone");
    await page.unroute("**/api/v1/events");
    await waitFor(async () => (await page.locator("[data-connection]").innerText()) === "live", { timeoutMs: 25_000, what: "the stream to reconnect" });
  });

  it("asks for a token when it has none, and opens the dashboard with the one pasted in", async () => {
    await page.getByRole("button", { name: "sign out" }).click();
    await page.reload();
    await textOf(page.locator("form"), /Paste an API token/, "the token form");
    await page.getByLabel("API token").fill("slw_not-a-real-token");
    await page.getByRole("button", { name: "Open dashboard" }).click();
    await textOf(page.locator(".notice"), /Signed out: the token is unknown, revoked or expired/, "a refused token sends you back to the form");
    await page.getByLabel("API token").fill(t.adminToken);
    await page.getByRole("button", { name: "Open dashboard" }).click();
    await textOf(page.locator('[data-service="shop"] h2'), /^shop$/, "the dashboard");
  });
});
