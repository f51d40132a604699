// Converging one service on a host, with real artifacts, real processes and a real HTTP
// service, but no Slipway server: artifacts come from memory.
import assert from "node:assert/strict";
import { readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DesiredService } from "../../src/contracts/agent.ts";
import { LogShipper, type LogLine } from "../../src/agent/log-shipper.ts";
import { ServiceReconciler } from "../../src/agent/reconcile.ts";
import { ReleaseCache } from "../../src/agent/release-cache.ts";
import type { RestartPolicy } from "../../src/agent/restart-policy.ts";
import { parseManifest } from "../../src/core/manifest/parse.ts";
import { buildArtifact, FIXTURE_SERVICE_DIR } from "../support/artifact.ts";
import { waitFor } from "../support/wait.ts";
import { freePort, getJson, hostRelease, MemoryArtifacts, serviceProcesses, silentLogger, tempDir } from "./helpers.ts";

const ADDRESS = "127.0.0.41";
const FAST: RestartPolicy = { initialDelayMs: 50, maxDelayMs: 400, resetAfterMs: 60_000, crashLoopRestarts: 5, crashLoopWindowMs: 120_000 };
let dir: { path: string; remove: () => Promise<void> };
let port: number;
const artifacts = new MemoryArtifacts();
const shipped: LogLine[] = [];
const reconcilers: ServiceReconciler[] = [];

const yaml = (extra = "") => `
run:
  start: node server.js
  port: PORT
  health: { http: /healthz, interval: 100ms, timeout: 500ms, start_period: 5s }
  stop_timeout: 2s
${extra}`;

async function release(version: string, extraYaml = "", files: Record<string, string> = {}) {
  const text = yaml(extraYaml).replace("PORT", String(port));
  const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, text, { VERSION: version, ...files });
  artifacts.add(artifact);
  return hostRelease(`rel_${version}`, version, artifact, JSON.parse(JSON.stringify(parseManifest(text))));
}

function reconciler(): ServiceReconciler {
  const logger = silentLogger();
  const r = new ServiceReconciler("web", {
    dataDir: dir.path,
    address: ADDRESS,
    hostName: "host-1",
    baseEnv: { PATH: process.env.PATH },
    releases: new ReleaseCache({ source: artifacts, downloadsDir: join(dir.path, "downloads"), now: Date.now, logger }),
    now: Date.now,
    logger,
    restartPolicy: FAST,
    shipper: new LogShipper({ logger, flushIntervalMs: 20, send: async (lines) => shipped.push(...lines) }),
    onChange: () => undefined,
    protectedVersions: () => new Set(),
    pollIntervalMs: 100,
    retry: { initialMs: 60_000, maxMs: 60_000 },
  });
  reconcilers.push(r);
  return r;
}

const desired = (r: Awaited<ReturnType<typeof release>> | null): DesiredService => ({ service_id: "svc_web", service: "web", release: r, keep_releases: 3 });
const actual = (r: ServiceReconciler) => r.process.actual("svc_web", r.attemptedReleaseId, r.attemptError);
const served = () => getJson(`http://${ADDRESS}:${port}/`);
/** What the service answers once it answers with `version` (it takes a moment to listen). */
const servedVersion = (version: string) => waitFor(async () => ((await served()).version === version ? served() : undefined), { what: `version ${version} served` });

before(async () => {
  dir = await tempDir();
  port = await freePort(ADDRESS);
});
after(async () => {
  for (const r of reconcilers) await r.shutdown(true);
  await dir.remove();
});

describe("service reconciler", () => {
  let agent: ServiceReconciler;
  let v1: Awaited<ReturnType<typeof release>>;
  let v2: Awaited<ReturnType<typeof release>>;

  it("downloads, unpacks, switches to and starts a release, which becomes healthy", async () => {
    v1 = await release("1.0.0");
    agent = reconciler();
    agent.setDesired(desired(v1));
    await agent.whenIdle();
    await servedVersion("1.0.0");
    assert.equal(await readlink(join(dir.path, "services/web/current")), "releases/1.0.0");
    await waitFor(async () => (await actual(agent)).health === "healthy", { what: "healthy" });
    const state = await actual(agent);
    assert.deepEqual([state.release_id, state.process_state, state.port, state.error], ["rel_1.0.0", "running", port, null]);
    const body = await served();
    assert.deepEqual([body.release, body.service], ["1.0.0", "web"]);
    assert.equal(body.cwd, join(dir.path, "services/web/releases/1.0.0"));
    await waitFor(() => shipped.some((l) => l.line.includes("listening on")), { what: "the service's stdout shipped" });
  });

  it("does nothing when asked again for the release it already runs", async () => {
    const { pid } = await actual(agent);
    const requests = artifacts.requests;
    agent.setDesired({ ...desired(v1), keep_releases: 4 });
    await agent.whenIdle();
    assert.equal((await actual(agent)).pid, pid);
    assert.equal(artifacts.requests, requests);
  });

  it("switches to a new release, then back to the previous one without downloading it again", async () => {
    v2 = await release("2.0.0");
    agent.setDesired(desired(v2));
    await agent.whenIdle();
    await servedVersion("2.0.0");
    const requests = artifacts.requests;
    agent.setDesired(desired(v1));
    await agent.whenIdle();
    await servedVersion("1.0.0");
    assert.equal(artifacts.requests, requests, "a rollback is a symlink flip");
    assert.deepEqual((await actual(agent)).releases_on_disk, ["rel_2.0.0", "rel_1.0.0"]);
    assert.equal(serviceProcesses(join(dir.path, "services/web")).length, 1);
  });

  it("keeps the current release running when the new one's before_switch hook fails", async () => {
    const bad = await release("3.0.0", "hooks: { before_switch: ./prepare.sh }", { "prepare.sh": "#!/bin/sh\necho cannot prepare >&2\nexit 4\n" });
    agent.setDesired(desired(bad));
    await agent.whenIdle();
    const state = await actual(agent);
    assert.equal(state.release_id, "rel_1.0.0");
    assert.equal(state.attempted_release_id, "rel_3.0.0");
    assert.match(state.error ?? "", /before_switch hook failed with exit code 4: cannot prepare/);
    assert.equal((await served()).version, "1.0.0");
  });

  it("adopts the running process after an agent restart instead of starting a second one", async () => {
    agent.setDesired(desired(v1));
    await agent.whenIdle();
    const before = await actual(agent);
    await agent.shutdown(false);
    const restarted = reconciler();
    await restarted.resume();
    await restarted.whenIdle();
    const after = await actual(restarted);
    assert.equal(after.pid, before.pid);
    assert.equal(after.release_id, "rel_1.0.0");
    assert.deepEqual(serviceProcesses(join(dir.path, "services/web")), [before.pid]);
    restarted.setDesired(desired(v1));
    await restarted.whenIdle();
    assert.equal((await actual(restarted)).pid, before.pid);
    agent = restarted;
  });

  it("starts the current release again after a restart that finds its process gone, before hearing from the server", async () => {
    const { pid } = await actual(agent);
    await agent.shutdown(false);
    process.kill(-pid!, "SIGKILL");
    await waitFor(() => serviceProcesses(join(dir.path, "services/web")).length === 0, { what: "the process to die" });
    const restarted = reconciler();
    await restarted.resume(); // no setDesired: the server is unreachable
    await restarted.whenIdle();
    await servedVersion("1.0.0");
    const state = await actual(restarted);
    assert.notEqual(state.pid, pid);
    assert.deepEqual(serviceProcesses(join(dir.path, "services/web")), [state.pid]);
    agent = restarted;
  });

  it("reports a release whose process keeps crashing as a crash loop", async () => {
    const text = yaml().replace("PORT", String(port)).replace("stop_timeout: 2s", "stop_timeout: 2s\n  env: { CRASH_AFTER_MS: 50 }");
    const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, text, { VERSION: "5.0.0" });
    artifacts.add(artifact);
    const crashing = hostRelease("rel_5.0.0", "5.0.0", artifact, JSON.parse(JSON.stringify(parseManifest(text))));
    agent.setDesired(desired(crashing));
    await agent.whenIdle();
    const state = await waitFor(async () => {
      const s = await actual(agent);
      return s.process_state === "crashloop" && s;
    }, { timeoutMs: 10_000, what: "a crash loop" });
    assert.equal(state.health, "unhealthy");
    assert.match(state.error ?? "", /crash loop: restarted \d+ times; last: exited with code 3/);
  });

  it("stops the service and removes current when the release is no longer desired", async () => {
    agent.setDesired(desired(null));
    await agent.whenIdle();
    const state = await actual(agent);
    assert.deepEqual([state.release_id, state.process_state, state.pid], [null, "stopped", null]);
    await assert.rejects(readlink(join(dir.path, "services/web/current")), /ENOENT/);
    assert.deepEqual(serviceProcesses(join(dir.path, "services/web")), []);
    assert.ok((await readFile(join(dir.path, "services/web/shared/logs/stdout.log"), "utf8")).includes("stopping on SIGTERM"));
  });
});
