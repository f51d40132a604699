// Health checks: the threshold logic (pure, time passed in) and real probes against a real HTTP
// server and real commands.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { HealthMonitor, initialHealth, observeProbe, probeCommand, probeHttp, probeInterval, type HealthState } from "../../src/agent/health.ts";
import { HealthCheck } from "../../src/core/manifest/schema.ts";
import { waitFor } from "../support/wait.ts";

const check = HealthCheck.parse({ http: "/healthz", interval: "50ms", timeout: "200ms", healthy_threshold: 2, unhealthy_threshold: 3, start_period: "1s" });
const ok = { ok: true, detail: "HTTP 200" };
const bad = { ok: false, detail: "HTTP 500" };
const run = (results: { ok: boolean; detail: string }[], times: number[], state: HealthState = initialHealth(0)) =>
  results.reduce((s, r, i) => observeProbe(check, s, r, times[i]!), state);

describe("probe interval", () => {
  it("probes a new process every start_interval until it is first healthy, then every interval", () => {
    const slow = HealthCheck.parse({ http: "/healthz", interval: "10s", start_interval: "100ms" });
    assert.equal(probeInterval(slow, initialHealth(0)), 100);
    assert.equal(probeInterval(slow, { everHealthy: true }), 10_000);
    assert.equal(probeInterval(HealthCheck.parse({ http: "/healthz", interval: "50ms" }), initialHealth(0)), 50, "never slower than interval");
    assert.equal(HealthCheck.parse({ http: "/healthz" }).start_interval, 250);
  });
});

describe("health thresholds", () => {
  it("becomes healthy only after healthy_threshold passes in a row", () => {
    assert.equal(run([ok], [10]).health, "unknown");
    assert.equal(run([ok, bad, ok], [10, 20, 30]).health, "unknown");
    assert.equal(run([ok, ok], [10, 20]).health, "healthy");
  });

  it("does not count failures inside the start period against a process that was never healthy", () => {
    assert.equal(run([bad, bad, bad, bad, bad], [100, 200, 300, 400, 500]).health, "unknown");
  });

  it("calls a process unhealthy once the start period is over without it ever being healthy", () => {
    assert.equal(run([bad, bad], [500, 1000]).health, "unhealthy");
  });

  it("calls a healthy process unhealthy only after unhealthy_threshold failures in a row", () => {
    const healthy = run([ok, ok], [10, 20]);
    assert.equal(run([bad, bad], [30, 40], healthy).health, "healthy");
    assert.equal(run([bad, bad, ok, bad, bad], [30, 40, 50, 60, 70], healthy).health, "healthy");
    const unhealthy = run([bad, bad, bad], [30, 40, 50], healthy);
    assert.equal(unhealthy.health, "unhealthy");
    assert.equal(unhealthy.lastFailure, "HTTP 500");
    assert.equal(run([ok, ok], [60, 70], unhealthy).health, "healthy", "and healthy again after healthy_threshold passes");
  });
});

describe("health probes", () => {
  let server: Server;
  let failing = false;
  let slow = false;
  let base = "";
  before(async () => {
    server = createServer((req, res) => {
      if (slow) return; // never answers
      res.writeHead(failing ? 503 : 200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.3", resolve));
    base = `http://127.0.0.3:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("passes on 2xx, fails on 5xx, a timeout, and a refused connection", async () => {
    assert.equal((await probeHttp(`${base}/healthz`, 500)).ok, true);
    failing = true;
    assert.match((await probeHttp(`${base}/healthz`, 500)).detail, /HTTP 503/);
    failing = false;
    slow = true;
    const started = Date.now();
    const timedOut = await probeHttp(`${base}/healthz`, 200);
    assert.equal(timedOut.ok, false);
    assert.ok(Date.now() - started < 1500);
    slow = false;
    assert.match((await probeHttp("http://127.0.0.3:1/healthz", 500)).detail, /ECONNREFUSED/);
  });

  it("runs a command check in the given directory with the given environment, within its timeout", async () => {
    assert.equal((await probeCommand('test "$X" = yes && test "$(pwd)" = /tmp', "/tmp", { PATH: process.env.PATH, X: "yes" }, 1000)).ok, true);
    const failed = await probeCommand("echo not ready; exit 2", "/tmp", { PATH: process.env.PATH }, 1000);
    assert.match(failed.detail, /exited with 2: not ready/);
    const slowCommand = await probeCommand("sleep 5", "/tmp", { PATH: process.env.PATH }, 200);
    assert.match(slowCommand.detail, /timed out/);
  });

  it("monitors a live server: healthy, then unhealthy after consecutive failures", async () => {
    failing = false;
    const monitor = new HealthMonitor({ check, baseUrl: base, cwd: "/tmp", env: {} }, Date.now, () => undefined);
    monitor.start(0);
    try {
      await waitFor(() => monitor.state.health === "healthy", { what: "healthy" });
      failing = true;
      await waitFor(() => monitor.state.health === "unhealthy", { what: "unhealthy" });
      assert.ok(monitor.state.failures >= 3);
    } finally {
      monitor.stop();
      failing = false;
    }
  });
});
