// Tenant isolation on every API route: a token of one tenant gets 404 for the other tenant's
// resources (never 403, which would reveal that they exist), and lists show only its own.
// The test fails if a route is added without a probe here.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { apiClient, type Api } from "../support/api.ts";
import { FIXTURE_SERVICE_DIR, buildArtifact } from "../support/artifact.ts";
import { commit, createRepo, tempDir } from "../support/git.ts";
import { createTenantWithAdmin, startTestServer, type TestServer } from "../support/server.ts";

let t: TestServer;
let asA: Api; // the default tenant's admin
let asB: Api; // admin of tenant "beta"
let bToken: string;
const a = { service: "", host: "", user: "", token: "", sha: "", deployment: "", built: "", run: "", job: "" };
let asBAgent: Api; // an agent token of tenant "beta"

before(async () => {
  t = await startTestServer();
  asA = t.api;
  // B is a different person: the admin of tenant "beta", not a system admin.
  const betaAsCreator = apiClient(t.url, await createTenantWithAdmin(t, "beta"));
  const bob = await betaAsCreator("POST", "/api/v1/users", { body: { name: "bob", roles: ["admin"] } });
  bToken = (await betaAsCreator("POST", "/api/v1/tokens", { body: { name: "bob", user_id: bob.body.id } })).body.token;
  asB = apiClient(t.url, bToken);
  const service = await asA("POST", "/api/v1/services", { body: { name: "checkout", repository_url: "https://git.example.com/checkout.git", environments: [{ name: "production" }] } });
  a.service = service.body.id;
  const bytes = Buffer.from("tenant A's artifact");
  a.sha = createHash("sha256").update(bytes).digest("hex");
  assert.equal((await asA("PUT", "/api/v1/artifacts", { body: bytes })).status, 201);
  assert.equal((await asA("POST", "/api/v1/services/checkout/releases", { body: { version: "1.0.0", artifact_sha256: a.sha } })).status, 201);
  const deployable = await buildArtifact(FIXTURE_SERVICE_DIR, "run:\n  start: node server.js\n  port: 18080\n");
  assert.equal((await asA("PUT", "/api/v1/artifacts", { body: deployable.bytes })).status, 201);
  assert.equal((await asA("POST", "/api/v1/services/checkout/releases", { body: { version: "1.1.0", artifact_sha256: deployable.sha256 } })).status, 201);
  a.host = (await asA("POST", "/api/v1/hosts", { body: { name: "web-1", address: "10.0.0.1", labels: { role: "web" } } })).body.id;
  a.user = (await asA("POST", "/api/v1/users", { body: { name: "alice", roles: ["developer"] } })).body.id;
  a.token = (await asA("POST", "/api/v1/tokens", { body: { name: "ci", user_id: a.user } })).body.id;
  const deployment = await asA("POST", "/api/v1/services/checkout/deployments", { body: { version: "1.1.0", environment: "production" } });
  assert.equal(deployment.status, 201, JSON.stringify(deployment.body));
  a.deployment = deployment.body.id;
  // A service built from a real repository, with a run whose job waits for a runner.
  const repo = await tempDir();
  await createRepo(repo);
  await commit(repo, { "slipway.yaml": "jobs:\n  build:\n    steps:\n      - run: echo built\n" }, "a pipeline");
  a.built = (await asA("POST", "/api/v1/services", { body: { name: "built", repository_url: repo } })).body.id;
  const run = await asA("POST", "/api/v1/services/built/runs", { body: {} });
  assert.equal(run.status, 201, JSON.stringify(run.body));
  [a.run, a.job] = [run.body.id, run.body.jobs[0].id];
  asBAgent = apiClient(t.url, (await asB("POST", "/api/v1/tokens", { body: { name: "beta runner", kind: "agent" } })).body.token);
});
after(() => t.stop());

type Probe = { method: string; path: () => string; body?: () => unknown; expect: (status: number, body: any) => void; as?: () => Api };

const notFound = (status: number) => assert.equal(status, 404);
const emptyOrOwn = (status: number, body: any) => {
  assert.equal(status, 200);
  const text = JSON.stringify(body);
  for (const secret of [a.service, a.host, a.user, a.token, "alice", a.sha, "1.0.0"]) assert.ok(!text.includes(secret), `B's list must not show A's ${secret}`);
};

/** One probe per route pattern, keyed as Fastify names the route. */
const PROBES: Record<string, Probe> = {
  "GET /api/v1/whoami": { method: "GET", path: () => "/api/v1/whoami", expect: (s, b) => (assert.equal(s, 200), assert.equal(b.tenant.name, "beta")) },
  "GET /api/v1/tenants": { method: "GET", path: () => "/api/v1/tenants", expect: emptyOrOwn },
  "POST /api/v1/tenants": { method: "POST", path: () => "/api/v1/tenants", body: () => ({ name: "default" }), expect: (s) => assert.equal(s, 403) },
  "GET /api/v1/users": { method: "GET", path: () => "/api/v1/users", expect: emptyOrOwn },
  "GET /api/v1/users/:id": { method: "GET", path: () => `/api/v1/users/${a.user}`, expect: notFound },
  "POST /api/v1/users": { method: "POST", path: () => "/api/v1/users", body: () => ({ name: "mallory", roles: ["viewer"] }), expect: (s, b) => (assert.equal(s, 201), assert.deepEqual(b.roles, ["viewer"])) },
  "PATCH /api/v1/users/:id": { method: "PATCH", path: () => `/api/v1/users/${a.user}`, body: () => ({ roles: ["admin"] }), expect: notFound },
  "DELETE /api/v1/users/:id": { method: "DELETE", path: () => `/api/v1/users/${a.user}`, expect: notFound },
  "GET /api/v1/tokens": { method: "GET", path: () => "/api/v1/tokens", expect: (s, b) => (assert.equal(s, 200), assert.ok(!b.items.some((x: any) => x.id === a.token))) },
  "POST /api/v1/tokens": { method: "POST", path: () => "/api/v1/tokens", body: () => ({ name: "steal", user_id: a.user }), expect: notFound },
  "DELETE /api/v1/tokens/:id": { method: "DELETE", path: () => `/api/v1/tokens/${a.token}`, expect: notFound },
  "GET /api/v1/services": { method: "GET", path: () => "/api/v1/services", expect: emptyOrOwn },
  "POST /api/v1/services": { method: "POST", path: () => "/api/v1/services", body: () => ({ name: "checkout", repository_url: "https://git.example.com/b.git" }), expect: (s) => assert.equal(s, 201) },
  "GET /api/v1/services/:service": { method: "GET", path: () => `/api/v1/services/${a.service}`, expect: notFound },
  "PATCH /api/v1/services/:service": { method: "PATCH", path: () => `/api/v1/services/${a.service}`, body: () => ({ revision: 1, repository_url: "https://evil.example.com/x.git" }), expect: notFound },
  "GET /api/v1/hosts": { method: "GET", path: () => "/api/v1/hosts", expect: emptyOrOwn },
  "GET /api/v1/hosts/:id": { method: "GET", path: () => `/api/v1/hosts/${a.host}`, expect: notFound },
  "POST /api/v1/hosts": { method: "POST", path: () => "/api/v1/hosts", body: () => ({ name: "web-1", address: "10.9.9.9" }), expect: (s, b) => (assert.equal(s, 200), assert.notEqual(b.id, a.host)) },
  "POST /api/v1/hosts/:id/heartbeat": { method: "POST", path: () => `/api/v1/hosts/${a.host}/heartbeat`, expect: notFound },
  "PUT /api/v1/artifacts": { method: "PUT", path: () => "/api/v1/artifacts", body: () => Buffer.from("beta's own bytes"), expect: (s) => assert.equal(s, 201) },
  "GET /api/v1/artifacts/:sha256": { method: "GET", path: () => `/api/v1/artifacts/${a.sha}`, expect: notFound },
  "GET /api/v1/services/:service/releases": { method: "GET", path: () => `/api/v1/services/${a.service}/releases`, expect: notFound },
  "POST /api/v1/services/:service/releases": { method: "POST", path: () => `/api/v1/services/${a.service}/releases`, body: () => ({ version: "6.6.6", artifact_sha256: a.sha }), expect: notFound },
  "GET /api/v1/services/:service/releases/:version": { method: "GET", path: () => `/api/v1/services/${a.service}/releases/1.0.0`, expect: notFound },
  "POST /api/v1/agent/register": { method: "POST", path: () => "/api/v1/agent/register", body: () => ({ name: "web-1", address: "10.9.9.8" }), expect: (s, b) => (assert.equal(s, 200), assert.notEqual(b.host.id, a.host)) },
  "GET /api/v1/agent/desired": { method: "GET", path: () => `/api/v1/agent/desired?host_id=${a.host}&timeout_ms=0`, expect: notFound },
  "POST /api/v1/agent/report": { method: "POST", path: () => "/api/v1/agent/report", body: () => ({ host_id: a.host, generation: 0 }), expect: notFound },
  "POST /api/v1/agent/logs": { method: "POST", path: () => "/api/v1/agent/logs", body: () => ({ host_id: a.host, lines: [] }), expect: notFound },
  "POST /api/v1/agent/metrics": { method: "POST", path: () => "/api/v1/agent/metrics", body: () => ({ host_id: a.host, scrapes: [{ service_id: a.service, release_id: null, scraped_at: 1, samples: [["up", {}, 1]] }] }), expect: notFound },
  "POST /api/v1/services/:service/deployments": { method: "POST", path: () => `/api/v1/services/${a.service}/deployments`, body: () => ({ version: "1.1.0", environment: "production" }), expect: notFound },
  "GET /api/v1/services/:service/deployments": { method: "GET", path: () => `/api/v1/services/${a.service}/deployments`, expect: notFound },
  "GET /api/v1/deployments/:id": { method: "GET", path: () => `/api/v1/deployments/${a.deployment}`, expect: notFound },
  "GET /api/v1/deployments/:id/analysis": { method: "GET", path: () => `/api/v1/deployments/${a.deployment}/analysis`, expect: notFound },
  "POST /api/v1/deployments/:id/resume": { method: "POST", path: () => `/api/v1/deployments/${a.deployment}/resume`, expect: notFound },
  "POST /api/v1/deployments/:id/cancel": { method: "POST", path: () => `/api/v1/deployments/${a.deployment}/cancel`, expect: notFound },
  "POST /api/v1/deployments/:id/rollback": { method: "POST", path: () => `/api/v1/deployments/${a.deployment}/rollback`, expect: notFound },
  "POST /api/v1/services/:service/environments/:environment/rollback": { method: "POST", path: () => `/api/v1/services/${a.service}/environments/production/rollback`, expect: notFound },
  "GET /api/v1/services/:service/status": { method: "GET", path: () => `/api/v1/services/${a.service}/status`, expect: notFound },
  "GET /api/v1/deployments": { method: "GET", path: () => "/api/v1/deployments", expect: emptyOrOwn },
  "GET /api/v1/hosts/:id/services/:service/logs": { method: "GET", path: () => `/api/v1/hosts/${a.host}/services/${a.service}/logs`, expect: notFound },
  "GET /api/v1/audit": { method: "GET", path: () => "/api/v1/audit", expect: emptyOrOwn },
  "POST /api/v1/services/:service/runs": { method: "POST", path: () => `/api/v1/services/${a.built}/runs`, body: () => ({}), expect: notFound },
  "GET /api/v1/services/:service/runs": { method: "GET", path: () => `/api/v1/services/${a.built}/runs`, expect: notFound },
  "GET /api/v1/runs": { method: "GET", path: () => "/api/v1/runs", expect: (s, b) => (assert.equal(s, 200), assert.deepEqual(b.items, [])) },
  "GET /api/v1/runs/:id": { method: "GET", path: () => `/api/v1/runs/${a.run}`, expect: notFound },
  "POST /api/v1/runs/:id/cancel": { method: "POST", path: () => `/api/v1/runs/${a.run}/cancel`, expect: notFound },
  "GET /api/v1/runs/:id/jobs/:job/logs": { method: "GET", path: () => `/api/v1/runs/${a.run}/jobs/${a.job}/logs`, expect: notFound },
  "GET /api/v1/runs/:id/tests": { method: "GET", path: () => `/api/v1/runs/${a.run}/tests`, expect: notFound },
  "GET /api/v1/services/:service/tests": { method: "GET", path: () => `/api/v1/services/${a.built}/tests`, expect: notFound },
  "GET /api/v1/services/:service/quarantine": { method: "GET", path: () => `/api/v1/services/${a.built}/quarantine`, expect: notFound },
  "PUT /api/v1/services/:service/quarantine/:test": { method: "PUT", path: () => `/api/v1/services/${a.built}/quarantine/some-test`, body: () => ({ reason: "x" }), expect: notFound },
  "DELETE /api/v1/services/:service/quarantine/:test": { method: "DELETE", path: () => `/api/v1/services/${a.built}/quarantine/some-test`, expect: notFound },
  "GET /api/v1/services/:service/variables": { method: "GET", path: () => `/api/v1/services/${a.built}/variables`, expect: notFound },
  "PUT /api/v1/services/:service/variables/:name": { method: "PUT", path: () => `/api/v1/services/${a.built}/variables/TOKEN`, body: () => ({ value: "x" }), expect: notFound },
  "DELETE /api/v1/services/:service/variables/:name": { method: "DELETE", path: () => `/api/v1/services/${a.built}/variables/TOKEN`, expect: notFound },
  "POST /api/v1/services/:service/webhook-secret": { method: "POST", path: () => `/api/v1/services/${a.built}/webhook-secret`, expect: notFound },
  "POST /api/v1/runner/claim": { method: "POST", path: () => "/api/v1/runner/claim", body: () => ({ host_id: a.host, wait_ms: 0 }), expect: notFound, as: () => asBAgent },
  "POST /api/v1/runner/jobs/:id/status": { method: "POST", path: () => `/api/v1/runner/jobs/${a.job}/status`, body: () => ({ host_id: a.host, attempt: 1 }), expect: notFound, as: () => asBAgent },
  "POST /api/v1/runner/jobs/:id/logs": { method: "POST", path: () => `/api/v1/runner/jobs/${a.job}/logs`, body: () => ({ host_id: a.host, attempt: 1, lines: [{ step: 0, stream: "stdout", at: 1, text: "x" }] }), expect: notFound, as: () => asBAgent },
  "POST /api/v1/runner/jobs/:id/finish": { method: "POST", path: () => `/api/v1/runner/jobs/${a.job}/finish`, body: () => ({ host_id: a.host, attempt: 1, outcome: "succeeded" }), expect: notFound, as: () => asBAgent },
  // No bearer token here: the signature is the authentication, and B cannot sign for A's service.
  "POST /api/v1/webhooks/:provider/:service": { method: "POST", path: () => `/api/v1/webhooks/github/${a.built}`, body: () => ({ ref: "refs/heads/main" }), expect: (s) => assert.equal(s, 401) },
};

describe("tenant isolation", () => {
  it("has a cross-tenant probe for every API route", () => {
    const routes = listApiRoutes(t.server.app.printRoutes({ commonPrefix: false }));
    const covered = new Set([...Object.keys(PROBES), "GET /api/v1/openapi.json", "GET /api/v1/events"]);
    const missing = routes.filter((r) => !covered.has(r));
    assert.deepEqual(missing, [], "add a probe for each new route");
  });

  for (const [route, probe] of Object.entries(PROBES)) {
    it(`keeps tenant A's data from tenant B on ${route}`, async () => {
      const response = await (probe.as?.() ?? asB)(probe.method, probe.path(), probe.body ? { body: probe.body() } : {});
      probe.expect(response.status, response.body);
    });
  }

  it("streams only the tenant's own changes on GET /api/v1/events", async () => {
    const abort = new AbortController();
    const response = await fetch(`${t.url}/api/v1/events`, { headers: { authorization: `Bearer ${bToken}` }, signal: abort.signal });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let text = "";
    const read = async (until: string) => {
      while (!text.includes(until)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await read(": connected");
    // A's change is emitted before B's; were it delivered to B, it would arrive first.
    const aHost = await asA("POST", "/api/v1/agent/register", { body: { name: "a-events", address: "10.0.0.7" } });
    const bHost = await asB("POST", "/api/v1/agent/register", { body: { name: "b-events", address: "10.0.0.8" } });
    await read(bHost.body.host.id);
    abort.abort();
    assert.ok(!text.includes(aHost.body.host.id));
  });

  it("leaves tenant A's resources untouched after every probe", async () => {
    const service = await asA("GET", "/api/v1/services/checkout");
    assert.equal(service.body.repository_url, "https://git.example.com/checkout.git");
    assert.equal(service.body.revision, 1);
    const users = await asA("GET", `/api/v1/users/${a.user}`);
    assert.deepEqual(users.body.roles, ["developer"]);
    const tokens = await asA("GET", "/api/v1/tokens");
    assert.equal(tokens.body.items.find((x: any) => x.id === a.token).revoked_at, null);
    const releases = await asA("GET", "/api/v1/services/checkout/releases");
    assert.deepEqual(releases.body.items.map((r: any) => r.version), ["1.1.0", "1.0.0"]);
    const deployment = await asA("GET", `/api/v1/deployments/${a.deployment}`);
    assert.ok(!deployment.body.events.some((e: any) => /cancel|rollback requested|resumed/.test(e.reason)), JSON.stringify(deployment.body.events));
    const host = await asA("GET", `/api/v1/hosts/${a.host}`);
    assert.equal(host.body.address, "10.0.0.1");
  });
});

/** Turns Fastify's route tree print-out into "METHOD /path" lines. */
function listApiRoutes(tree: string): string[] {
  const routes: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /(\/api\/v1\/\S*) \(([A-Z, ]+)\)/.exec(line);
    if (!match) continue;
    for (const method of match[2]!.split(", ")) if (method !== "HEAD") routes.push(`${method} ${match[1]}`);
  }
  return routes;
}
