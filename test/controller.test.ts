// The deployment controller through the API, with hosts played by the test: it reads each
// host's desired state over the agent protocol and reports back what a host would. Queueing,
// pausing for a person, resuming, rolling back, and who may deploy where.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient, type Api } from "./support/api.ts";
import { FIXTURE_SERVICE_DIR, buildArtifact } from "./support/artifact.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { waitFor } from "./support/wait.ts";

let t: TestServer;
let api: Api;
let agent: Api;
const hosts: { id: string; name: string }[] = [];
/** Releases (by version) a host refuses to run healthily. */
const broken = new Set<string>();

const yaml = `run:\n  start: node server.js\n  port: 18999\ndeploy:\n  batch_size: 1\n  max_unavailable: 1\n  on_failure: pause\n  health_timeout: 30s\n`;

/** Plays every host once: run whatever is desired, healthy unless the release is broken. */
async function playHosts(): Promise<void> {
  for (const host of hosts) {
    const desired = (await agent("GET", `/api/v1/agent/desired?host_id=${host.id}&timeout_ms=0`)).body;
    const services = desired.services.map((s: any) => {
      const bad = s.release && broken.has(s.release.version);
      return { service_id: s.service_id, release_id: s.release?.id ?? null, attempted_release_id: s.release?.id ?? null, process_state: bad ? "crashloop" : "running", health: bad ? "unhealthy" : "healthy", error: bad ? "exited with code 3" : null };
    });
    await agent("POST", "/api/v1/agent/report", { body: { host_id: host.id, generation: desired.generation, services } });
  }
}

async function until(id: string, states: string[]): Promise<any> {
  return waitFor(
    async () => {
      await playHosts();
      const d = (await api("GET", `/api/v1/deployments/${id}`)).body;
      return states.includes(d.state) ? d : undefined;
    },
    { timeoutMs: 20_000, what: `deployment ${id} to reach ${states.join("|")}` },
  );
}

const deploy = async (version: string, environment = "production", as: Api = api) => as("POST", "/api/v1/services/shop/deployments", { body: { version, environment } });

before(async () => {
  t = await startTestServer();
  api = t.api;
  agent = apiClient(t.url, (await api("POST", "/api/v1/tokens", { body: { name: "hosts", kind: "agent" } })).body.token);
  await api("POST", "/api/v1/services", { body: { name: "shop", repository_url: "https://git.example.com/shop.git", environments: [{ name: "staging", selector: { env: "staging" } }, { name: "production", selector: { env: "production" } }] } });
  for (const [name, env] of [["stg-1", "staging"], ["prod-1", "production"], ["prod-2", "production"]] as const) {
    const registered = await agent("POST", "/api/v1/agent/register", { body: { name, address: "127.0.0.1", labels: { env } } });
    hosts.push({ id: registered.body.host.id, name });
  }
  for (const version of ["1", "2", "3", "4"]) {
    const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, yaml, { VERSION: version });
    await api("PUT", "/api/v1/artifacts", { body: artifact.bytes });
    await api("POST", "/api/v1/services/shop/releases", { body: { version, artifact_sha256: artifact.sha256 } });
  }
});
after(() => t.stop());

describe("deployment controller", () => {
  it("runs one deployment per service and environment at a time and queues the rest in order", async () => {
    const first = (await deploy("1")).body;
    const second = (await deploy("2")).body;
    const elsewhere = (await deploy("1", "staging")).body;
    assert.equal(second.state, "queued");
    await waitFor(async () => (await api("GET", `/api/v1/deployments/${elsewhere.id}`)).body.state !== "queued", { what: "staging to start beside production" });
    assert.equal((await api("GET", `/api/v1/deployments/${second.id}`)).body.state, "queued", "2 waits for 1");
    assert.equal((await until(first.id, ["succeeded"])).state, "succeeded");
    assert.equal((await until(second.id, ["succeeded"])).state, "succeeded");
    const status = (await api("GET", "/api/v1/services/shop/status")).body.environments.find((e: any) => e.name === "production");
    assert.deepEqual([status.live.version, status.previous.version], ["2", "1"]);
  });

  it("pauses on a failure when on_failure is pause, and a person can resume or roll back", async () => {
    broken.add("3");
    const d = (await deploy("3")).body;
    const paused = await until(d.id, ["paused"]);
    assert.match(paused.reason, /batch 1 failed \(prod-1: exited with code 3\)/);
    assert.equal((await api("POST", `/api/v1/deployments/${d.id}/cancel`)).status, 200, "cancel of a paused deployment rolls it back");
    const back = await until(d.id, ["rolled_back"]);
    assert.match(back.events.at(-2).reason, /cancelled \(by admin\)/);
    const hostStates = (await api("GET", "/api/v1/services/shop/status")).body.environments.find((e: any) => e.name === "production").hosts;
    assert.deepEqual(hostStates.map((h: any) => h.actual_version), ["2", "2"]);

    const again = (await deploy("3")).body;
    await until(again.id, ["paused"]);
    broken.delete("3");
    const resumed = await api("POST", `/api/v1/deployments/${again.id}/resume`);
    assert.equal(resumed.status, 200);
    assert.match(resumed.body.events.at(-1).reason, /resumed by admin; checking prod-1 again/);
    assert.equal((await until(again.id, ["succeeded"])).state, "succeeded");
  });

  it("refuses to resume a deployment that has finished", async () => {
    const done = (await api("GET", "/api/v1/services/shop/deployments?environment=production")).body.items.find((d: any) => d.state === "succeeded");
    const refused = await api("POST", `/api/v1/deployments/${done.id}/resume`);
    assert.equal(refused.status, 409);
  });

  it("lets a developer deploy to staging but only a deployer to production", async () => {
    const user = await api("POST", "/api/v1/users", { body: { name: "dev", roles: ["developer"] } });
    const dev = apiClient(t.url, (await api("POST", "/api/v1/tokens", { body: { name: "dev", user_id: user.body.id } })).body.token);
    const refused = await deploy("4", "production", dev);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /deploy:production/);
    assert.equal((await deploy("4", "staging", dev)).status, 201);
  });

  it("rolls production back to the previous live release, superseding what was queued", async () => {
    const queuedBehind = (await deploy("4")).body;
    const rollback = await api("POST", "/api/v1/services/shop/environments/production/rollback");
    assert.equal(rollback.status, 201, JSON.stringify(rollback.body));
    assert.equal(rollback.body.release.version, "2");
    const done = await until(rollback.body.id, ["succeeded"]);
    assert.equal(done.kind, "rollback");
    const superseded = (await api("GET", `/api/v1/deployments/${queuedBehind.id}`)).body;
    assert.equal(superseded.state, "cancelled");
    assert.match(superseded.reason, /superseded by rollback/);
    const status = (await api("GET", "/api/v1/services/shop/status")).body.environments.find((e: any) => e.name === "production");
    assert.equal(status.live.version, "2");
  });
});
