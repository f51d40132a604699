import assert from "node:assert/strict";
import { test } from "node:test";
import { expectedVersion, startDemo } from "./start-demo.js";

test("GET / names the service, its packaged version, the host and a message", async (t) => {
  const demo = await startDemo(t);
  const response = await demo.get("/");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type"), /^application\/json/);
  const body = await response.json();
  assert.equal(body.service, "demo");
  assert.equal(body.version, expectedVersion());
  assert.equal(body.host, "test-host");
  assert.equal(typeof body.pid, "number");
  assert.equal(typeof body.message, "string");
  assert.ok(body.message.length > 0);
});

test("answers 404 to an unknown path and 405 to anything but GET", async (t) => {
  const demo = await startDemo(t);
  assert.equal((await demo.get("/nowhere")).status, 404);
  assert.equal((await demo.get("/", { method: "POST" })).status, 405);
});
