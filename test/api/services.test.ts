// Services: validation that names the field, uniqueness per tenant, and updates that quote
// the revision they were made against.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/server.ts";

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.stop());

const repo = "https://git.example.com/shop.git";

describe("services", () => {
  it("creates a service with environments in order and marks production ones", async () => {
    const created = await t.api("POST", "/api/v1/services", {
      body: { name: "shop", repository_url: repo, environments: [{ name: "staging" }, { name: "production", selector: { role: "web", region: "eu" } }] },
    });
    assert.equal(created.status, 201);
    assert.deepEqual(
      created.body.environments.map((e: any) => [e.name, e.production]),
      [["staging", false], ["production", true]],
    );
    const shown = await t.api("GET", "/api/v1/services/shop");
    assert.deepEqual(shown.body, created.body);
    assert.deepEqual((await t.api("GET", `/api/v1/services/${created.body.id}`)).body.name, "shop");
    assert.deepEqual((await t.api("GET", "/api/v1/services")).body.items.map((s: any) => s.name), ["shop"]);
  });

  it("names every invalid field and stores nothing", async () => {
    const bad = await t.api("POST", "/api/v1/services", {
      body: { name: "Not Valid", repository_url: "nowhere", environments: [{ name: "qa" }, { name: "qa", selector: { "bad key!": "x" } }], colour: "blue" },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "invalid_input");
    const fields = bad.body.error.details.map((d: any) => d.field).sort();
    assert.ok(fields.includes("name"), fields.join());
    assert.ok(fields.includes("repository_url"), fields.join());
    assert.ok(fields.some((f: string) => f.startsWith("environments.1")), fields.join());
    assert.ok(bad.body.error.details.some((d: any) => /colour/.test(d.message)), "unknown keys are named");
    assert.equal((await t.api("GET", "/api/v1/services")).body.items.length, 1);
  });

  it("refuses a second service of the same name with 409", async () => {
    const again = await t.api("POST", "/api/v1/services", { body: { name: "shop", repository_url: repo } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, "conflict");
  });

  it("applies an update made against the current revision and refuses a stale one", async () => {
    const first = await t.api("PATCH", "/api/v1/services/shop", { body: { revision: 1, environments: [{ name: "staging" }] } });
    assert.equal(first.status, 200);
    assert.equal(first.body.revision, 2);
    const stale = await t.api("PATCH", "/api/v1/services/shop", { body: { revision: 1, repository_url: "https://git.example.com/other.git" } });
    assert.equal(stale.status, 409);
    assert.match(stale.body.error.message, /revision 1/);
    const now = await t.api("GET", "/api/v1/services/shop");
    assert.equal(now.body.repository_url, repo);
    assert.deepEqual(now.body.environments.map((e: any) => e.name), ["staging"]);
  });

  it("writes an audit entry for each change, with the request id", async () => {
    const response = await t.api("POST", "/api/v1/services", { body: { name: "audited", repository_url: repo }, headers: { "x-request-id": "req-audit-1" } });
    assert.equal(response.headers.get("x-request-id"), "req-audit-1");
    const audit = await t.api("GET", "/api/v1/audit?action=service.create");
    const entry = audit.body.items.find((e: any) => e.target_id === response.body.id);
    assert.equal(entry.request_id, "req-audit-1");
    assert.equal(entry.actor, "admin");
    assert.equal(entry.details.name, "audited");
  });
});

describe("hosts", () => {
  it("registers a host, updates it on re-registration and selects by labels", async () => {
    const first = await t.api("POST", "/api/v1/hosts", { body: { name: "web-eu-1", address: "127.0.0.2", labels: { region: "eu", role: "web" } } });
    await t.api("POST", "/api/v1/hosts", { body: { name: "web-us-1", address: "127.0.0.3", labels: { region: "us", role: "web" } } });
    const again = await t.api("POST", "/api/v1/hosts", { body: { name: "web-eu-1", address: "127.0.0.9", labels: { region: "eu", role: "web" } } });
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.address, "127.0.0.9");
    const eu = await t.api("GET", "/api/v1/hosts?selector=region=eu,role=web");
    assert.deepEqual(eu.body.items.map((h: any) => h.name), ["web-eu-1"]);
    const bad = await t.api("GET", "/api/v1/hosts?selector=region");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].field, "query.selector");
    const beat = await t.api("POST", `/api/v1/hosts/${first.body.id}/heartbeat`);
    assert.equal(beat.status, 200);
  });
});
