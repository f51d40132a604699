// `slipway deploy`, `rollback`, `deployment` and `status` as real child processes, against a real
// server (SQLite, or PostgreSQL with SLIPWAY_TEST_DATABASE_URL) and three real agents serving a
// real HTTP service on their own loopback addresses.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Deployment } from "../src/contracts/deployments.ts";
import { ProgressView, failureReason, followDeployment, type DeploymentSource } from "../src/cli/progress.ts";
import { FIXTURE_SERVICE_DIR, buildArtifact } from "./support/artifact.ts";
import { Fleet, served } from "./support/fleet.ts";
import { runSlipway, type CliResult } from "./support/cli.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { waitFor } from "./support/wait.ts";

const PORT = 20_000 + Math.floor(Math.random() * 20_000);
const FIRST_OCTET = 150 + Math.floor(Math.random() * 80);

let t: TestServer;
let fleet: Fleet;
let configDir: string;

/** `slipway args...` as the bootstrap admin, with none of the caller's SLIPWAY_* variables. */
function slipway(...args: string[]): Promise<CliResult> {
  return runSlipway(args, { env: { SLIPWAY_CONFIG_DIR: configDir, SLIPWAY_SERVER: t.url, SLIPWAY_TOKEN: t.adminToken } });
}

function ok(result: CliResult): CliResult {
  assert.equal(result.code, 0, `slipway failed:\n${result.stdout}\n${result.stderr}`);
  return result;
}

const manifest = (env: Record<string, string> = {}) => `
run:
  start: node server.js
  port: ${PORT}
  env: ${JSON.stringify(env)}
  health: { http: /healthz, interval: 200ms, timeout: 1s, start_period: 2s, unhealthy_threshold: 2 }
deploy:
  batch_size: 1
  max_unavailable: 1
  health_timeout: 20s
`;

async function release(version: string, env: Record<string, string> = {}): Promise<void> {
  const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, manifest(env), { VERSION: version });
  assert.equal((await t.api("PUT", "/api/v1/artifacts", { body: artifact.bytes })).status, 201);
  const created = await t.api("POST", "/api/v1/services/web/releases", { body: { version, artifact_sha256: artifact.sha256 } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}

const versionsServed = () => Promise.all(fleet.hosts.map(async (h) => (await served(h.address, PORT))?.version ?? "down"));

before(async () => {
  t = await startTestServer();
  configDir = await mkdtemp(join(tmpdir(), "slipway-cli-deploy-"));
  const agentToken = (await t.api("POST", "/api/v1/tokens", { body: { name: "fleet", kind: "agent" } })).body.token;
  const service = await t.api("POST", "/api/v1/services", { body: { name: "web", repository_url: "https://git.example.com/web.git", environments: [{ name: "staging", selector: { tier: "cli" } }] } });
  assert.equal(service.status, 201, JSON.stringify(service.body));
  fleet = new Fleet(t.url, agentToken);
  await fleet.start(3, { prefix: "cli", firstOctet: FIRST_OCTET, labels: () => ({ tier: "cli" }) });
  for (const version of ["1.0.0", "2.0.0"]) await release(version);
  await release("3.0.0-bad", { FAIL_HEALTH: "1" });
});

after(async () => {
  await fleet?.stop();
  await t?.stop();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

describe("slipway deploy, rollback, deployment and status", () => {
  it("deploy --wait shows the rollout batch by batch and exits 0 once every host is healthy", async () => {
    const first = ok(await slipway("deploy", "web", "1.0.0", "--env", "staging", "--wait"));
    // Not a TTY: plain lines, one per event and one per host change, and no escape codes.
    assert.doesNotMatch(first.stdout, /\x1b\[/);
    assert.match(first.stdout, /queued -> running: deploying in 3 batches; batch 1 of 3: cli-\d/);
    for (const host of fleet.hosts) assert.match(first.stdout, new RegExp(`✓ ${host.name}\\s+batch \\d/3\\s+healthy`));
    assert.match(first.stdout, /succeeded: web 1\.0\.0 is live in staging/);
    assert.deepEqual(await versionsServed(), ["1.0.0", "1.0.0", "1.0.0"]);

    const second = ok(await slipway("deploy", "web", "2.0.0", "--env", "staging", "--wait", "--strategy", "all_at_once", "--json"));
    const d = JSON.parse(second.stdout);
    assert.equal(d.state, "succeeded");
    assert.equal(d.batches, 1, "--strategy all_at_once overrides the release's rolling setting");
    assert.equal(d.previous_release.version, "1.0.0");
    assert.deepEqual(await versionsServed(), ["2.0.0", "2.0.0", "2.0.0"]);
  });

  it("deploy --wait of a release that fails its health check is rolled back and exits non-zero naming the reason", async () => {
    const result = await slipway("deploy", "web", "3.0.0-bad", "--env", "staging", "--wait");
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /^error: deployment dep_\w+ rolled back: batch 1 failed \(cli-\d: health check failing: GET http:\/\/127\.0\.0\.\d+:\d+\/healthz answered HTTP 500\)/m);
    assert.match(result.stdout, /running -> rolling back: batch 1 failed/);
    assert.match(result.stdout, /rolling back -> rolled back/);
    assert.deepEqual(await versionsServed(), ["2.0.0", "2.0.0", "2.0.0"], "every host serves the release from before");
  });

  it("deploy --wait stops at a pause with the reason and what to do; deployment rollback undoes it", async () => {
    const paused = await slipway("deploy", "web", "3.0.0-bad", "--env", "staging", "--wait", "--on-failure", "pause");
    assert.equal(paused.code, 1, paused.stdout + paused.stderr);
    const id = /deployment (dep_\w+) paused: batch 1 failed \(cli-\d: health check failing/.exec(paused.stderr)?.[1];
    assert.ok(id, paused.stderr);
    assert.match(paused.stderr, new RegExp(`slipway deployment resume ${id}`));
    const shown = ok(await slipway("deployment", "show", id));
    assert.match(shown.stdout, /State:\s+paused, batch 1\/3: batch 1 failed/);
    assert.match(shown.stdout, /✗ cli-\d\s+batch 1\/3\s+failed\s+health check failing/);

    const undone = ok(await slipway("deployment", "rollback", id, "--wait"));
    assert.match(undone.stdout, new RegExp(`Deployment ${id} rolled back`));
    await waitFor(async () => (await versionsServed()).every((v) => v === "2.0.0"), { what: "every host back on 2.0.0" });
    const again = await slipway("deployment", "resume", id);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has already rolled back/);
  });

  it("rollback returns the environment to the previous live release", async () => {
    const result = ok(await slipway("rollback", "web", "--env", "staging", "--wait"));
    assert.match(result.stdout, /rollback of web in staging to 1\.0\.0/);
    assert.match(result.stdout, /succeeded: web 1\.0\.0 is live in staging/);
    assert.deepEqual(await versionsServed(), ["1.0.0", "1.0.0", "1.0.0"]);
  });

  it("status --json shows what is live where, with each host's actual version and health", async () => {
    const status = JSON.parse(ok(await slipway("status", "web", "--json")).stdout);
    assert.equal(status.service, "web");
    const [staging] = status.environments;
    assert.equal(staging.name, "staging");
    assert.deepEqual([staging.live.version, staging.previous.version], ["1.0.0", "2.0.0"]);
    assert.equal(staging.live.deployed_by, "admin");
    assert.equal(staging.active, null);
    assert.deepEqual(staging.hosts.map((h: any) => [h.name, h.actual_version, h.health]), fleet.hosts.map((h) => [h.name, "1.0.0", "healthy"]));

    const all = JSON.parse(ok(await slipway("status", "--json")).stdout);
    assert.deepEqual(all.map((s: any) => [s.service, s.environments[0].live.version]), [["web", "1.0.0"]]);
    const text = ok(await slipway("status", "web")).stdout;
    assert.match(text, /live:\s+1\.0\.0, deployed by admin/);
    assert.match(text, /previous:\s+2\.0\.0/);
  });

  it("deployment show --follow prints progress until the deployment ends; deployment list shows the log", async () => {
    const created = JSON.parse(ok(await slipway("deploy", "web", "2.0.0", "--env", "staging", "--json")).stdout);
    assert.equal(created.state, "queued");
    const followed = ok(await slipway("deployment", "show", created.id, "--follow"));
    assert.match(followed.stdout, new RegExp(`Deployment ${created.id}: web 2\\.0\\.0 -> staging`));
    const lines = followed.stdout.split("\n");
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    assert.ok(at(/batch 1 of 3/) < at(/batch 2 of 3/) && at(/batch 2 of 3/) < at(/running -> succeeded/), followed.stdout);

    const list = JSON.parse(ok(await slipway("deployment", "list", "web", "--env", "staging", "--json")).stdout);
    assert.equal(list[0].id, created.id);
    assert.equal(list[0].state, "succeeded");
    assert.deepEqual(list.map((d: any) => d.state).sort(), ["rolled_back", "rolled_back", "succeeded", "succeeded", "succeeded", "succeeded"], JSON.stringify(list, null, 1));
    assert.match(ok(await slipway("deployment", "list", "web")).stdout, /^ID\s+ENVIRONMENT\s+VERSION\s+KIND\s+STATE/);
  });

  it("refuses bad flags and unknown versions with a clear error, starting nothing", async () => {
    const before = JSON.parse(ok(await slipway("deployment", "list", "web", "--json")).stdout).length;
    const badBatch = await slipway("deploy", "web", "1.0.0", "--env", "staging", "--batch-size", "lots");
    assert.equal(badBatch.code, 1);
    assert.match(badBatch.stderr, /--batch-size 'lots' is not a count or a percentage/);
    const badStrategy = await slipway("deploy", "web", "1.0.0", "--env", "staging", "--strategy", "blue_green");
    assert.match(badStrategy.stderr, /unknown strategy 'blue_green'/);
    const missing = await slipway("deploy", "web", "9.9.9", "--env", "staging", "--json");
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stderr).error.code, "not_found");
    const noPrevious = await slipway("rollback", "web", "--env", "nowhere");
    assert.equal(noPrevious.code, 1);
    assert.match(noPrevious.stderr, /^error: /);
    assert.equal(JSON.parse(ok(await slipway("deployment", "list", "web", "--json")).stdout).length, before);
  });
});

/** A deployment as the API shows it, moved along by `step`. */
function fakeDeployment(step: number): Deployment {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();
  const events = [
    { seq: 1, from: "", to: "queued", reason: "deployment of 2.0.0 requested", actor: "alice", at: at(0) },
    { seq: 2, from: "queued", to: "running", reason: "deploying in 2 batches; batch 1 of 2: hst_a", actor: "slipway", at: at(1) },
    { seq: 3, from: "running", to: "rolling_back", reason: "batch 1 failed (hst_a: health check failing); returning 1 host to the previous release", actor: "slipway", at: at(3) },
    { seq: 4, from: "rolling_back", to: "rolled_back", reason: "every changed host is back on its previous release", actor: "slipway", at: at(4) },
  ].slice(0, step + 1);
  const status = (["pending", "switching", "failed", "rolled_back"] as const)[step]!;
  const state = (["queued", "running", "rolling_back", "rolled_back"] as const)[step]!;
  return {
    id: "dep_1",
    service: "web",
    environment: "production",
    kind: "deploy",
    release: { id: "rel_2", version: "2.0.0" },
    previous_release: { id: "rel_1", version: "1.0.0" },
    state,
    reason: events.at(-1)!.reason,
    settings: {},
    stages: [],
    stage: null,
    analysis: null,
    warnings: [],
    batches: 2,
    batch: state === "running" ? 0 : null,
    hosts: [
      { id: "hst_a", name: "web-1", batch: 0, status, reason: step >= 2 ? "health check failing" : null, at: step > 0 ? at(step + 1) : null },
      { id: "hst_b", name: "web-2", batch: 1, status: "pending", reason: null, at: null },
    ],
    migration: null,
    created_by: "alice",
    created_at: at(0),
    started_at: at(1),
    finished_at: step === 3 ? at(4) : null,
    events,
  };
}

describe("deployment progress", () => {
  it("reads the deployment again as soon as the event stream announces a change to it", async () => {
    let step = 0;
    const source: DeploymentSource = {
      get: async () => fakeDeployment(step),
      changes: async (onChange, signal) => {
        const timer = setInterval(() => {
          step = Math.min(step + 1, 3);
          onChange({ kind: "host", id: "hst_a" });
          onChange({ kind: "deployment", id: "dep_other" });
          onChange({ kind: "deployment", id: "dep_1" });
        }, 30);
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        clearInterval(timer);
      },
    };
    const started = Date.now();
    const seen: string[] = [];
    // Were announcements ignored, the 60 s poll would be all there is, and the 5 s signal would stop it.
    const final = await followDeployment(source, "dep_1", (d) => seen.push(d.state), { pollMs: 60_000, signal: AbortSignal.timeout(5_000) });
    assert.equal(final.state, "rolled_back");
    assert.ok(Date.now() - started < 5_000, "it did not wait for the 60 s poll");
    assert.equal(seen.at(-1), "rolled_back");
  });

  it("polls when the event stream cannot be opened", async () => {
    let reads = 0;
    const source: DeploymentSource = {
      get: async () => fakeDeployment(Math.min(3, reads++)),
      changes: () => Promise.reject(new Error("blocked by a proxy")),
    };
    const final = await followDeployment(source, "dep_1", () => undefined, { pollMs: 20 });
    assert.equal(final.state, "rolled_back");
    assert.equal(reads, 4);
  });

  it("prints plain lines in time order without a terminal, and names hosts rather than ids", () => {
    let text = "";
    const view = new ProgressView({ write: (chunk: string) => (text += chunk) }, { tty: false });
    for (const step of [0, 1, 2, 3]) view.update(fakeDeployment(step));
    view.finish(fakeDeployment(3));
    assert.doesNotMatch(text, /\x1b\[|hst_/);
    const lines = text.trim().split("\n").map((line) => line.replace(/^\d\d:\d\d:\d\d {2}/, ""));
    assert.deepEqual(lines, [
      "Deployment dep_1: web 2.0.0 -> production (from 1.0.0), requested by alice",
      "queued: deployment of 2.0.0 requested (alice)",
      "queued -> running: deploying in 2 batches; batch 1 of 2: web-1",
      "→ web-1  batch 1/2  switching",
      // At the same instant, a host's outcome comes before the event it caused.
      "✗ web-1  batch 1/2  failed  health check failing",
      "running -> rolling back: batch 1 failed (web-1: health check failing); returning 1 host to the previous release",
      "↩ web-1  batch 1/2  rolled back  health check failing",
      "rolling back -> rolled back: every changed host is back on its previous release",
    ]);
    assert.equal(failureReason(fakeDeployment(3)), "batch 1 failed (web-1: health check failing); returning 1 host to the previous release");
  });

  it("redraws a live block in place on a terminal", () => {
    let text = "";
    const view = new ProgressView({ write: (chunk: string) => (text += chunk) }, { tty: true, now: () => Date.UTC(2026, 0, 1, 10, 0, 3) });
    view.update(fakeDeployment(1));
    assert.match(text, /^ {2}running, batch 1\/2 {2}\(2 s\)$/m);
    assert.match(text, /^ {4}→ web-1 {2}batch 1\/2 {2}switching$/m);
    view.update(fakeDeployment(3));
    assert.match(text, /\x1b\[3F\x1b\[J/, "the three lines of the block are erased before it is drawn again");
    assert.match(text, /^ {2}rolled back: batch 1 failed \(web-1: health check failing\)/m);
  });
});
