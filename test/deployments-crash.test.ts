// Kill -9 the server at several moments of a deployment: it resumes from where it was, the
// migration runs exactly once, no host is switched twice, and the deployment's history and the
// audit log hold each step exactly once.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { apiClient, type Api } from "./support/api.ts";
import { FIXTURE_SERVICE_DIR, buildArtifact } from "./support/artifact.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { Fleet, served } from "./support/fleet.ts";
import { startServerProcess, type ServerProcess } from "./support/process.ts";
import { waitFor } from "./support/wait.ts";
import { freePort } from "./agent/helpers.ts";

const SERVICE_PORT = 20_000 + Math.floor(Math.random() * 20_000);
let database: TestDatabase;
let server: ServerProcess;
let serverPort: number;
let fleet: Fleet;
let api: Api;
let adminToken: string;
const migrateLog = () => join(database.dataDir, "migrations.log");

const manifest = () => `
run:
  start: node server.js
  port: ${SERVICE_PORT}
  env: { MIGRATE_LOG: "${migrateLog()}" }
  health: { http: /healthz, interval: 200ms, timeout: 1s, start_period: 5s }
hooks:
  migrate: echo "migrated $SLIPWAY_RELEASE" >> "$MIGRATE_LOG"
deploy:
  batch_size: 1
  max_unavailable: 1
  pause_between_batches: 700ms
  health_timeout: 30s
`;

async function startServer(): Promise<void> {
  server = await startServerProcess({ dataDir: database.dataDir, databaseUrl: database.databaseUrl, extraArgs: ["--port", String(serverPort)] });
  adminToken ??= server.adminToken!;
  api = apiClient(server.url, adminToken);
}

before(async () => {
  database = await createTestDatabase();
  serverPort = await freePort();
  await startServer();
  const agentToken = (await api("POST", "/api/v1/tokens", { body: { name: "fleet", kind: "agent" } })).body.token;
  await api("POST", "/api/v1/services", { body: { name: "shop", repository_url: "https://git.example.com/shop.git", environments: [{ name: "production" }] } });
  for (const version of ["1.0.0", "2.0.0"]) {
    const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, manifest(), { VERSION: version });
    await api("PUT", "/api/v1/artifacts", { body: artifact.bytes });
    assert.equal((await api("POST", "/api/v1/services/shop/releases", { body: { version, artifact_sha256: artifact.sha256 } })).status, 201);
  }
  fleet = new Fleet(server.url, agentToken);
  await fleet.start(3, { prefix: "node", firstOctet: 71, labels: () => ({ role: "web" }) });
});

after(async () => {
  await fleet?.stop();
  await server?.kill("SIGKILL");
  await database?.drop();
});

const eventsOf = async (id: string) => (await api("GET", `/api/v1/deployments/${id}`)).body.events as { seq: number; reason: string; to: string }[];

describe("a deployment through server crashes", () => {
  it("resumes after kill -9 at several points and does every step exactly once", async () => {
    const first = await api("POST", "/api/v1/services/shop/deployments", { body: { version: "1.0.0", environment: "production" } });
    await waitFor(async () => (await api("GET", `/api/v1/deployments/${first.body.id}`)).body.state === "succeeded", { timeoutMs: 60_000, what: "1.0.0 live" });
    const pidsBefore = await Promise.all(fleet.hosts.map((h) => served(h.address, SERVICE_PORT)));

    const created = await api("POST", "/api/v1/services/shop/deployments", { body: { version: "2.0.0", environment: "production" } });
    const id = created.body.id;
    // Kill when the history reaches these lengths: queued, migrating, mid-rollout, waiting between batches.
    for (const eventsSeen of (process.env.KILLS ?? "1,2,3,5").split(",").filter(Boolean).map(Number)) {
      await waitFor(async () => (await eventsOf(id)).length >= eventsSeen || undefined, { timeoutMs: 60_000, what: `${eventsSeen} events` });
      await server.kill("SIGKILL");
      await startServer();
    }
    const done = await waitFor(
      async () => {
        const d = (await api("GET", `/api/v1/deployments/${id}`)).body;
        return ["succeeded", "failed", "rolled_back", "paused"].includes(d.state) ? d : undefined;
      },
      { timeoutMs: 90_000, what: "2.0.0 to finish" },
    );
    assert.equal(done.state, "succeeded", JSON.stringify(done.events, null, 1));

    // History: consecutive, and each batch started exactly once.
    assert.deepEqual(done.events.map((e: any) => e.seq), done.events.map((_: unknown, i: number) => i + 1));
    for (const batch of [1, 2, 3]) assert.equal(done.events.filter((e: any) => new RegExp(`batch ${batch} of 3`).test(e.reason)).length, 1, JSON.stringify(done.events, null, 1));

    // The migration ran once, before any host switched.
    assert.deepEqual((await readFile(migrateLog(), "utf8")).trim().split("\n"), ["migrated 1.0.0", "migrated 2.0.0"], "one migration for each release");

    // Audit: each transition once.
    const audit = (await api("GET", "/api/v1/audit?limit=500")).body.items.filter((e: any) => e.target_id === id);
    const actions = audit.map((e: any) => e.action).sort();
    assert.deepEqual(actions, ["deployment.create", "deployment.migrating", "deployment.running", "deployment.succeeded"]);

    // No host switched twice: each host's service started once for 2.0.0, still the same process.
    // A probe that times out on a loaded machine says nothing; the host must answer within the deadline.
    const pidsAfter = await Promise.all(fleet.hosts.map((h) => waitFor(() => served(h.address, SERVICE_PORT), { what: `${h.name} to answer` })));
    for (const [i, after] of pidsAfter.entries()) {
      assert.equal(after?.version, "2.0.0");
      assert.notEqual(after?.pid, pidsBefore[i]?.pid);
    }
    await waitFor(
      async () => {
        for (const host of fleet.hosts) {
          const hostId = (await api("GET", `/api/v1/hosts/${host.name}`)).body.id;
          const lines = (await api("GET", `/api/v1/hosts/${hostId}/services/shop/logs?limit=2000`)).body.items.map((l: any) => l.line);
          if (lines.filter((l: string) => /listening on .* version 2\.0\.0/.test(l)).length !== 1) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, what: "each host's log to show 2.0.0 starting exactly once" },
    );
  });
});
