import assert from "node:assert/strict";
import { test } from "node:test";
import { runUntilExit, startDemo } from "./start-demo.js";

test("DEMO_ERROR_RATE answers exactly that fraction of GET / with 500, spread evenly, and counts them", async (t) => {
  const demo = await startDemo(t, { DEMO_ERROR_RATE: "0.25" });
  const statuses = [];
  for (let i = 0; i < 20; i++) {
    const response = await demo.get("/");
    await response.text();
    statuses.push(response.status);
  }
  assert.deepEqual(statuses.map((s, i) => (s === 500 ? i + 1 : 0)).filter(Boolean), [4, 8, 12, 16, 20]);
  assert.equal((await demo.get("/healthz")).status, 200, "the health check is not affected");
  const metrics = await (await demo.get("/metrics")).text();
  assert.match(metrics, /^demo_requests_total\{route="\/",status="500",version="[^"]+"\} 5$/m);
  assert.match(metrics, /^demo_requests_total\{route="\/",status="200",version="[^"]+"\} 15$/m);
});

test("DEMO_ERROR_RATE=1 fails every GET / and says why", async (t) => {
  const demo = await startDemo(t, { DEMO_ERROR_RATE: "1" });
  const response = await demo.get("/");
  assert.equal(response.status, 500);
  assert.match((await response.json()).error, /DEMO_ERROR_RATE=1/);
});

test("DEMO_LATENCY_MS delays GET / by at least that long, and the histogram sees it", async (t) => {
  const demo = await startDemo(t, { DEMO_LATENCY_MS: "120" });
  const started = performance.now();
  await (await demo.get("/")).text();
  assert.ok(performance.now() - started >= 120);
  const metrics = await (await demo.get("/metrics")).text();
  assert.match(metrics, /^demo_request_duration_seconds_bucket\{route="\/",le="0\.1",version="[^"]+"\} 0$/m);
  assert.match(metrics, /^demo_request_duration_seconds_bucket\{route="\/",le="0\.25",version="[^"]+"\} 1$/m);
});

test("an injected fault out of range stops the service at start, naming the variable", async () => {
  for (const [name, value] of [["DEMO_ERROR_RATE", "1.5"], ["DEMO_ERROR_RATE", "lots"], ["DEMO_LATENCY_MS", "-5"]]) {
    const { code, stderr } = await runUntilExit({ [name]: value });
    assert.equal(code, 2);
    assert.match(stderr, new RegExp(`${name} must be a number`));
  }
});
