// The real `slipway agent`, as a child process, against a real server on SQLite or PostgreSQL:
// it converges a host to the desired release of a real HTTP service, rolls back without a
// download, refuses a tampered artifact, reports a crash loop, and survives kill -9 in the
// middle of a deployment without ever running the service twice.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BlobStore } from "../../src/artifacts/blob-store.ts";
import { tailLogs } from "../../src/store/host-logs.ts";
import { hostStatesOfService, setDesiredRelease } from "../../src/store/host-state.ts";
import { buildArtifact, FIXTURE_SERVICE_DIR } from "../support/artifact.ts";
import { spawnJsonLineProcess, type ChildHandle } from "../support/process.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { waitFor } from "../support/wait.ts";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { freePort, getJson, serviceProcesses, tempDir, ToggleProxy } from "./helpers.ts";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const ADDRESS = `127.0.${randomInt(1, 250)}.${randomInt(2, 250)}`;

let t: TestServer;
let dir: { path: string; remove: () => Promise<void> };
let port: number;
let agentToken: string;
let tenantId: string;
let serviceId: string;
let hostId: string;
let agent: ChildHandle<{ host_id: string }>;
/** The agent reaches the server through this, so that a test can take the server away. */
let proxy: ToggleProxy;
const releases: Record<string, { id: string; sha256: string }> = {};
const serviceDir = () => join(dir.path, "services", "web");

const yaml = (extra = "") => `
run:
  start: node server.js
  port: PORT
  health: { http: /healthz, interval: 200ms, timeout: 1s, start_period: 10s }
  stop_timeout: 3s
${extra}
deploy: { keep_releases: 3 }
`;

async function createRelease(version: string, extraYaml = "", options: { tamper?: boolean } = {}): Promise<void> {
  const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, yaml(extraYaml).replace("PORT", String(port)), { VERSION: version });
  assert.equal((await t.api("PUT", "/api/v1/artifacts", { body: artifact.bytes })).status, 201);
  const created = await t.api("POST", "/api/v1/services/web/releases", { body: { version, artifact_sha256: artifact.sha256 } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  releases[version] = { id: created.body.id, sha256: artifact.sha256 };
  if (options.tamper) {
    // Someone changes the stored bytes after the release was recorded: same size, other content.
    const handle = await open(new BlobStore(join(t.database.dataDir, "artifacts"), 0).pathOf(artifact.sha256), "r+");
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, 200);
    await handle.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, 200);
    await handle.close();
  }
}

const agentArgs = (extraArgs: string[], dataDir = dir.path) => [
  ...[CLI, "agent", "--server", `http://127.0.0.1:${proxy.port}`, "--name", "host-1", "--labels", "role=web,region=test", "--address", ADDRESS, "--data-dir", dataDir],
  ...["--json", "--log-level", "info", "--restart-delay-ms", "100", "--max-restart-delay-ms", "400", ...extraArgs],
];
const agentEnv = (token: string) => ({ ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SLIPWAY_"))), SLIPWAY_TOKEN: token });

function startAgent(extraArgs: string[] = ["--stop-services-on-exit"]): Promise<ChildHandle<{ host_id: string }>> {
  return spawnJsonLineProcess(agentArgs(extraArgs), { env: agentEnv(agentToken), what: "slipway agent" });
}

/** The `{"error": ...}` line a command run with --json prints on stderr when it fails. */
const errorLine = (stderr: string): { code: string; message: string } => JSON.parse(stderr.split("\n").find((line) => line.startsWith('{"error"')) ?? "{}").error ?? {};

/** Runs an agent that is expected to give up at once; its exit code and stderr. */
async function failingAgent(token: string, dataDir = dir.path): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(process.execPath, agentArgs([], dataDir), { env: agentEnv(token), timeout: 15_000 });
    return { code: 0, stderr: "" };
  } catch (error) {
    return { code: (error as { code: number }).code, stderr: (error as { stderr: string }).stderr };
  }
}

const desire = (version: string | null) =>
  setDesiredRelease(t.server.store.db, { tenantId, serviceId, hostIds: [hostId], releaseId: version === null ? null : releases[version]!.id, deploymentId: null, now: Date.now() });

async function actual() {
  const [row] = await hostStatesOfService(t.server.store.db, serviceId);
  assert.ok(row);
  return { ...row, releases_on_disk: JSON.parse(row.releases_on_disk) as string[] };
}

/** Waits until the agent reports `version` running and healthy and the service answers with it. */
async function converged(version: string, timeoutMs = 20_000) {
  const state = await waitFor(
    async () => {
      const s = await actual();
      return s.actual_release_id === releases[version]!.id && s.health === "healthy" && s.attempted_release_id === null && s;
    },
    { timeoutMs, what: `${version} reported running and healthy\n${agent.stderrTail()}` },
  );
  assert.equal((await getJson(`http://${ADDRESS}:${port}/`)).version, version);
  return state;
}

const markerOf = async (version: string) => JSON.parse(await readFile(join(serviceDir(), "releases", version, ".slipway-release.json"), "utf8"));

before(async () => {
  t = await startTestServer();
  proxy = new ToggleProxy({ host: "127.0.0.1", port: Number(new URL(t.url).port) });
  await proxy.start();
  dir = await tempDir();
  port = await freePort(ADDRESS);
  tenantId = (await t.api("GET", "/api/v1/whoami")).body.tenant.id;
  agentToken = (await t.api("POST", "/api/v1/tokens", { body: { name: "host-1", kind: "agent" } })).body.token;
  serviceId = (await t.api("POST", "/api/v1/services", { body: { name: "web", repository_url: "https://git.example.com/web.git" } })).body.id;
  await createRelease("1.0.0");
  await createRelease("2.0.0");
  agent = await startAgent();
  hostId = agent.summary.host_id;
});

after(async () => {
  await agent?.kill("SIGKILL");
  for (const pgid of serviceProcesses(serviceDir())) process.kill(-pgid, "SIGKILL");
  await proxy?.stop();
  await t?.stop();
  await dir?.remove();
});

describe("slipway agent", () => {
  it("registers the host with its labels and address", async () => {
    const hosts = await t.api("GET", "/api/v1/hosts");
    const host = hosts.body.items.find((h: any) => h.id === hostId);
    assert.deepEqual([host.name, host.address, host.labels], ["host-1", ADDRESS, { role: "web", region: "test" }]);
  });

  it("runs the desired release on the host's address, reports it healthy and ships its logs", async () => {
    await desire("1.0.0");
    const state = await converged("1.0.0");
    assert.deepEqual([state.process_state, state.port, state.error, state.restarts], ["running", port, null, 0]);
    assert.deepEqual(serviceProcesses(serviceDir()), [state.pid]);
    await waitFor(async () => (await tailLogs(t.server.store.db, tenantId, hostId, serviceId, { limit: 50 })).some((l) => l.line.includes(`listening on ${ADDRESS}:${port} version 1.0.0`)), {
      what: "the service's stdout on the server",
    });
  });

  it("switches to a new release, and back to the previous one with no download", async () => {
    await desire("2.0.0");
    const v2 = await converged("2.0.0");
    assert.deepEqual(v2.releases_on_disk.sort(), [releases["1.0.0"]!.id, releases["2.0.0"]!.id].sort());
    const unpacked = (await markerOf("1.0.0")).unpacked_at;
    const started = Date.now();
    await desire("1.0.0");
    await converged("1.0.0");
    const rollbackMs = Date.now() - started;
    assert.equal((await markerOf("1.0.0")).unpacked_at, unpacked, "1.0.0 was not fetched or unpacked again");
    assert.ok(rollbackMs < 5000, `rollback took ${rollbackMs} ms`);
    assert.equal(serviceProcesses(serviceDir()).length, 1);
  });

  it("refuses a tampered artifact, says why, and keeps the current release serving", async () => {
    await createRelease("3.0.0", "", { tamper: true });
    await desire("3.0.0");
    const state = await waitFor(async () => {
      const s = await actual();
      return s.error !== null && s;
    }, { what: `the refusal\n${agent.stderrTail()}` });
    assert.match(state.error ?? "", new RegExp(`^artifact checksum mismatch: expected ${releases["3.0.0"]!.sha256}, got [0-9a-f]{64}$`));
    assert.equal(state.attempted_release_id, releases["3.0.0"]!.id);
    assert.equal(state.actual_release_id, releases["1.0.0"]!.id);
    assert.equal(state.health, "healthy");
    await assert.rejects(stat(join(serviceDir(), "releases", "3.0.0")), /ENOENT/);
    assert.equal((await getJson(`http://${ADDRESS}:${port}/`)).version, "1.0.0");
  });

  it("reports a release that keeps crashing as a crash loop, and recovers when moved back", async () => {
    await createRelease("4.0.0", "  env: { CRASH_AFTER_MS: 300 }");
    await desire("4.0.0");
    const state = await waitFor(async () => {
      const s = await actual();
      return s.process_state === "crashloop" && s;
    }, { timeoutMs: 20_000, what: `a crash loop\n${agent.stderrTail()}` });
    assert.equal(state.actual_release_id, releases["4.0.0"]!.id);
    assert.equal(state.health, "unhealthy");
    assert.ok(state.restarts >= 5);
    assert.match(state.error ?? "", /crash loop: restarted \d+ times; last: exited with code 3/);
    await desire("1.0.0");
    const back = await converged("1.0.0");
    assert.deepEqual([back.process_state, back.restarts, back.error], ["running", 0, null]);
  });

  it("keeps its services running while the server is unreachable, and catches up when it returns", async () => {
    const before = await converged("1.0.0");
    await proxy.stop();
    await desire("2.0.0");
    await waitFor(() => agent.stderrTail().includes("could not reach the server"), { what: "the agent to notice" });
    assert.equal(agent.child.exitCode, null, "the agent is still running");
    assert.equal((await getJson(`http://${ADDRESS}:${port}/`)).pid !== undefined, true);
    assert.equal((await actual()).actual_release_id, releases["1.0.0"]!.id);
    await proxy.start();
    const after = await converged("2.0.0", 30_000);
    assert.notEqual(after.pid, before.pid);
    await desire("1.0.0");
    await converged("1.0.0");
  });

  it("refuses to share its data dir with a running agent", async () => {
    const second = await failingAgent(agentToken);
    assert.equal(second.code, 1);
    assert.equal(errorLine(second.stderr).code, "conflict");
    assert.match(errorLine(second.stderr).message, /^another agent \(pid \d+\) is using the data dir /);
  });

  it("exits with a clear error when the server refuses its token", async () => {
    const elsewhere = await tempDir();
    const refused = await failingAgent("slw_not-a-real-token", elsewhere.path);
    await elsewhere.remove();
    assert.equal(refused.code, 1);
    assert.equal(errorLine(refused.stderr).code, "unauthenticated");
    assert.match(errorLine(refused.stderr).message, /^POST \/api\/v1\/agent\/register: 401 unauthenticated: the token is unknown/);
  });

  it("converges after kill -9 in the middle of a deployment, without ever running two copies", async () => {
    const hookStarted = join(serviceDir(), "shared", "before-switch-started");
    await createRelease("5.0.0", `hooks: { before_switch: "touch ${hookStarted} && sleep 1" }`);
    const before = await converged("1.0.0");
    await desire("5.0.0");
    await waitFor(() => stat(hookStarted).then(() => true), { what: "the before_switch hook to start" });
    await agent.kill("SIGKILL");
    assert.equal((await getJson(`http://${ADDRESS}:${port}/`)).pid !== undefined, true, "the service outlives its agent");
    assert.deepEqual(serviceProcesses(serviceDir()), [before.pid]);

    agent = await startAgent([]);
    const after = await converged("5.0.0");
    assert.deepEqual(serviceProcesses(serviceDir()), [after.pid]);
    assert.notEqual(after.pid, before.pid);
  });

  it("adopts the running service after a restart instead of starting another", async () => {
    const before = await converged("5.0.0");
    await agent.kill("SIGKILL");
    agent = await startAgent([]);
    // The restarted agent reports again (a new heartbeat) with the same process.
    const reportedAt = before.reported_at ?? 0;
    const after = await waitFor(async () => {
      const s = await actual();
      return (s.reported_at ?? 0) > reportedAt && s.actual_release_id === releases["5.0.0"]!.id && s.health === "healthy" && s;
    }, { what: "a report from the restarted agent" });
    assert.equal(after.pid, before.pid);
    assert.equal(after.restarts, 0);
    assert.deepEqual(serviceProcesses(serviceDir()), [before.pid]);
  });

  it("leaves the services running when it exits on SIGTERM, and stops them with --stop-services-on-exit", async () => {
    const running = await converged("5.0.0");
    assert.deepEqual(await agent.kill("SIGTERM"), { code: 0, signal: null });
    assert.deepEqual(serviceProcesses(serviceDir()), [running.pid]);
    agent = await startAgent(["--stop-services-on-exit"]);
    await converged("5.0.0");
    assert.deepEqual(await agent.kill("SIGTERM"), { code: 0, signal: null });
    assert.deepEqual(serviceProcesses(serviceDir()), []);
    assert.equal((await actual()).process_state, "stopped");
  });
});
