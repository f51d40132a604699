// Operations endpoints and the error contract: health, readiness, metrics, OpenAPI, and errors
// that never leak a stack trace.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/server.ts";

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.stop());

describe("operations", () => {
  it("answers /healthz and /readyz without a token", async () => {
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    const ready = await fetch(`${t.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json())).store, t.database.dialect);
  });

  it("counts requests and their latency in Prometheus format at /metrics", async () => {
    await t.api("GET", "/api/v1/services");
    const text = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(text, /slipway_http_requests_total\{method="GET",route="\/api\/v1\/services",status_code="200"\} \d+/);
    assert.match(text, /slipway_http_request_duration_seconds_bucket\{le="0.01",method="GET",route="\/api\/v1\/services"/);
  });

  it("publishes an OpenAPI document describing the routes and their errors", async () => {
    const doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json());
    assert.equal(doc.openapi.startsWith("3."), true);
    assert.ok(doc.paths["/api/v1/services"].post.requestBody);
    assert.ok(doc.paths["/api/v1/services/{service}/releases"].post.responses["409"]);
  });
});

describe("errors", () => {
  it("answers an unknown route with a JSON 404", async () => {
    const response = await t.api("GET", "/api/v1/nothing-here");
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, "not_found");
  });

  it("answers malformed JSON with 400 and no stack trace", async () => {
    const response = await fetch(`${t.url}/api/v1/services`, { method: "POST", headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" }, body: "{not json" });
    const text = await response.text();
    assert.equal(response.status, 400);
    assert.equal(JSON.parse(text).error.code, "invalid_input");
    assert.doesNotMatch(text, /at .*\.(ts|js):\d+/);
  });

  it("names a bad query parameter", async () => {
    const response = await t.api("GET", "/api/v1/audit?limit=100000");
    assert.equal(response.status, 400);
    assert.equal(response.body.error.details[0].field, "query.limit");
  });
});
