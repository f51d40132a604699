import assert from "node:assert/strict";
import { test } from "node:test";
import { startDemo } from "./start-demo.js";

test("GET /healthz answers 200 ok", async (t) => {
  const demo = await startDemo(t);
  const response = await demo.get("/healthz");
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "ok\n");
});

test("GET /healthz fails on purpose with DEMO_FAIL_HEALTH=1, while GET / still answers", async (t) => {
  const demo = await startDemo(t, { DEMO_FAIL_HEALTH: "1" });
  assert.equal((await demo.get("/healthz")).status, 500);
  assert.equal((await demo.get("/")).status, 200);
});

test("stops cleanly on SIGTERM", async (t) => {
  const demo = await startDemo(t);
  await demo.stop();
  await assert.rejects(demo.get("/healthz"));
});
