// Agent reports committed in groups (src/store/report-writer.ts), through the real route on a
// real store (SQLite, or PostgreSQL with SLIPWAY_TEST_DATABASE_URL): forty hosts reporting at
// once each get their answer and their state recorded; a report of an unknown host among them
// gets its 404 and costs the others nothing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AgentReport } from "../../src/contracts/agent.ts";
import { ReportWriter } from "../../src/store/report-writer.ts";
import { apiClient, type Api } from "../support/api.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let t: TestServer;
let agent: Api;
let service = "";
const hosts: string[] = [];

const report = (hostId: string, health: "healthy" | "unhealthy") => ({
  host_id: hostId,
  generation: 0,
  services: [{ service_id: service, release_id: null, process_state: "running", health }],
  tasks: [],
});

before(async () => {
  t = await startTestServer();
  agent = apiClient(t.url, (await t.api("POST", "/api/v1/tokens", { body: { name: "agents", kind: "agent" } })).body.token);
  service = (await t.api("POST", "/api/v1/services", { body: { name: "shop", repository_url: "https://git.example.com/shop.git" } })).body.id;
  for (let i = 1; i <= 40; i++) hosts.push((await agent("POST", "/api/v1/agent/register", { body: { name: `web-${i}`, address: `10.0.0.${i}` } })).body.host.id);
});
after(() => t?.stop());

const healthOf = async () => {
  const rows = await t.server.store.db.selectFrom("host_services").select(["host_id", "health"]).where("service_id", "=", service).execute();
  return new Map(rows.map((r) => [r.host_id, r.health]));
};

describe("agent reports committed in groups", () => {
  it("answers forty hosts reporting at once, each with its state recorded", async () => {
    const answers = await Promise.all(hosts.map((id, i) => agent("POST", "/api/v1/agent/report", { body: report(id, i % 2 ? "healthy" : "unhealthy") })));
    assert.deepEqual(answers.map((a) => a.status), hosts.map(() => 200));
    assert.ok(answers.every((a) => Number.isInteger(a.body.generation)));
    const health = await healthOf();
    assert.deepEqual(hosts.map((id) => health.get(id)), hosts.map((_, i) => (i % 2 ? "healthy" : "unhealthy")));
  });

  it("gives an unknown host's report its 404 and records the others of its group", async () => {
    const answers = await Promise.all([...hosts.slice(0, 10).map((id) => agent("POST", "/api/v1/agent/report", { body: report(id, "healthy") })), agent("POST", "/api/v1/agent/report", { body: report("hst_nobody", "healthy") })]);
    assert.deepEqual(answers.map((a) => a.status), [...hosts.slice(0, 10).map(() => 200), 404]);
    const health = await healthOf();
    assert.deepEqual(hosts.slice(0, 10).map((id) => health.get(id)), hosts.slice(0, 10).map(() => "healthy"));
  });

  it("writes what arrives together in one transaction, one group at a time", async () => {
    const writer = new ReportWriter(t.server.store.db);
    const tenantId = (await t.api("GET", "/api/v1/whoami")).body.tenant.id as string;
    let transactions = 0;
    const original = t.server.store.db.transaction.bind(t.server.store.db);
    t.server.store.db.transaction = () => {
      transactions++;
      return original();
    };
    try {
      const generations = await Promise.all(hosts.map((id) => writer.record(tenantId, AgentReport.parse(report(id, "healthy")), Date.now())));
      assert.equal(generations.length, hosts.length);
      assert.equal(transactions, 1, "forty reports of one tick, one transaction");
    } finally {
      t.server.store.db.transaction = original;
    }
  });
});
