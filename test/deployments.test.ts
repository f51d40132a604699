// Deployments end to end: a real server, four real agents on their own loopback addresses, a
// real service, real artifacts. Rolling deployments, automatic rollback on a failing health
// check, environment rollback with no download, and routing around a host that goes away.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Api } from "./support/api.ts";
import { FIXTURE_SERVICE_DIR, buildArtifact } from "./support/artifact.ts";
import { settledDeployment } from "./support/deployments.ts";
import { Fleet, served } from "./support/fleet.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { waitFor } from "./support/wait.ts";

const PORT = 20_000 + Math.floor(Math.random() * 20_000);
let t: TestServer;
let fleet: Fleet;
let api: Api;

const manifest = (env: Record<string, string> = {}) => `
run:
  start: node server.js
  port: ${PORT}
  env: ${JSON.stringify(env)}
  health: { http: /healthz, interval: 200ms, timeout: 1s, start_period: 3s, unhealthy_threshold: 2 }
deploy:
  batch_size: 2
  max_unavailable: 2
  health_timeout: 20s
`;

async function release(version: string, env: Record<string, string> = {}): Promise<void> {
  const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, manifest(env), { VERSION: version });
  assert.equal((await api("PUT", "/api/v1/artifacts", { body: artifact.bytes })).status, 201);
  const created = await api("POST", "/api/v1/services/shop/releases", { body: { version, artifact_sha256: artifact.sha256 } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}

async function deploy(version: string, environment = "production"): Promise<any> {
  const created = await api("POST", "/api/v1/services/shop/deployments", { body: { version, environment } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return finished(created.body.id);
}

const finished = (id: string): Promise<any> => settledDeployment(api, id);

const versionsServed = async (hosts = fleet.hosts) => Promise.all(hosts.map(async (h) => (await served(h.address, PORT))?.version ?? "down"));

before(async () => {
  t = await startTestServer();
  api = t.api;
  const agentToken = (await api("POST", "/api/v1/tokens", { body: { name: "fleet", kind: "agent" } })).body.token;
  await api("POST", "/api/v1/services", { body: { name: "shop", repository_url: "https://git.example.com/shop.git", environments: [{ name: "production", selector: { role: "web" } }] } });
  fleet = new Fleet(t.url, agentToken);
  await fleet.start(4, { prefix: "web", firstOctet: 61, labels: (i) => ({ role: "web", region: i < 2 ? "eu" : "us" }) });
  for (const version of ["1.0.0", "2.0.0", "3.0.0"]) await release(version);
  await release("4.0.0-bad", { FAIL_HEALTH: "1" });
});

after(async () => {
  await fleet?.stop();
  await t?.stop();
});

describe("deployments", () => {
  it("rolls a release out to every host in batches and records it as live", async () => {
    const d = await deploy("1.0.0");
    assert.equal(d.state, "succeeded", JSON.stringify(d.events));
    assert.deepEqual(await versionsServed(), ["1.0.0", "1.0.0", "1.0.0", "1.0.0"]);
    assert.equal(d.batches, 2);
    assert.deepEqual(d.hosts.map((h: any) => [h.name, h.batch, h.status]), [["web-1", 0, "healthy"], ["web-2", 0, "healthy"], ["web-3", 1, "healthy"], ["web-4", 1, "healthy"]]);
    const second = await deploy("2.0.0");
    assert.equal(second.state, "succeeded");
    assert.equal(second.previous_release.version, "1.0.0");
    const status = (await api("GET", "/api/v1/services/shop/status")).body.environments[0];
    assert.deepEqual([status.live.version, status.previous.version], ["2.0.0", "1.0.0"]);
    assert.ok(status.hosts.every((h: any) => h.actual_version === "2.0.0" && h.health === "healthy"));
  });

  it("rolls back automatically when the first batch fails its health check, and every host serves the previous release", async () => {
    const d = await deploy("4.0.0-bad");
    assert.equal(d.state, "rolled_back", JSON.stringify(d.events, null, 1));
    assert.match(d.reason, /batch 1 failed|every changed host is back/);
    assert.ok(d.events.some((e: any) => /batch 1 failed \(.*health/.test(e.reason)), JSON.stringify(d.events, null, 1));
    assert.deepEqual(d.hosts.filter((h: any) => h.batch === 1).map((h: any) => h.status), ["pending", "pending"], "the second batch was never touched");
    await waitFor(async () => (await versionsServed()).every((v) => v === "2.0.0"), { what: "every host on 2.0.0 again" });
    const status = (await api("GET", "/api/v1/services/shop/status")).body.environments[0];
    assert.equal(status.live.version, "2.0.0");
  });

  it("rolls an environment back to the previous live release in seconds, with no download", async () => {
    const before = (await api("GET", "/api/v1/services/shop/status")).body.environments[0];
    assert.ok(before.hosts.every((h: any) => h.releases_on_disk.includes("1.0.0")), "1.0.0 is still unpacked on every host");
    const started = Date.now();
    const created = await api("POST", "/api/v1/services/shop/environments/production/rollback");
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.kind, "rollback");
    const d = await finished(created.body.id);
    assert.equal(d.state, "succeeded", JSON.stringify(d.events));
    assert.ok(Date.now() - started < 15_000, `rollback took ${Date.now() - started} ms`);
    assert.deepEqual(await versionsServed(), ["1.0.0", "1.0.0", "1.0.0", "1.0.0"]);
  });

  it("skips a host that stops heartbeating and lets it converge when it returns", async () => {
    const gone = fleet.host("web-4");
    await fleet.stopAgent(gone, "SIGKILL");
    await waitFor(async () => (await api("GET", `/api/v1/hosts/${gone.name}`)).body.reachable === false, { timeoutMs: 20_000, what: "web-4 to be unreachable" });
    const d = await deploy("3.0.0");
    assert.equal(d.state, "succeeded", JSON.stringify(d.events));
    const skipped = d.hosts.find((h: any) => h.name === "web-4");
    assert.equal(skipped.status, "skipped");
    assert.match(d.reason, /skipped/);
    await fleet.startAgent(gone);
    await waitFor(async () => (await served(gone.address, PORT))?.version === "3.0.0", { timeoutMs: 30_000, what: "web-4 to converge to 3.0.0" });
  });

  it("refuses to deploy a version that does not exist or to an unknown environment, naming the field", async () => {
    const missing = await api("POST", "/api/v1/services/shop/deployments", { body: { version: "9.9.9", environment: "production" } });
    assert.equal(missing.status, 404);
    const env = await api("POST", "/api/v1/services/shop/deployments", { body: { version: "1.0.0", environment: "moon" } });
    assert.equal(env.status, 400);
    assert.equal(env.body.error.details[0].field, "environment");
  });
});
