import assert from "node:assert/strict";
import { test } from "node:test";
import { expectedVersion, startDemo } from "./start-demo.js";

test("GET /metrics counts requests by route and status, labelled with the version", async (t) => {
  const demo = await startDemo(t);
  for (let i = 0; i < 3; i++) await (await demo.get("/")).text();
  await (await demo.get("/nowhere")).text();
  const text = await (await demo.get("/metrics")).text();
  const version = expectedVersion();
  assert.match(text, new RegExp(`^demo_requests_total\\{route="/",status="200",version="${version}"\\} 3$`, "m"));
  assert.match(text, new RegExp(`^demo_requests_total\\{route="other",status="404",version="${version}"\\} 1$`, "m"));
});

test("GET /metrics has a latency histogram whose +Inf bucket counts every request", async (t) => {
  const demo = await startDemo(t);
  for (let i = 0; i < 5; i++) await (await demo.get("/")).text();
  const text = await (await demo.get("/metrics")).text();
  assert.match(text, /^# TYPE demo_request_duration_seconds histogram$/m);
  assert.match(text, /^demo_request_duration_seconds_bucket\{route="\/",le="\+Inf",version="[^"]+"\} 5$/m);
  assert.match(text, /^demo_request_duration_seconds_count\{route="\/",version="[^"]+"\} 5$/m);
});
