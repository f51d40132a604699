// `slipway up --demo` as a real process: the server in it, four real agent processes, the demo
// service built, released and deployed to staging and production; then SIGTERM must leave nothing
// running. A second start on the same data dir skips what exists and brings the same fleet back.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { served } from "./support/fleet.ts";
import { spawnJsonLineProcess, type ChildHandle } from "./support/process.ts";
import { waitFor } from "./support/wait.ts";

const CLI = join(import.meta.dirname, "..", "src", "cli", "main.ts");
const DEMO_PORT = 20_000 + Math.floor(Math.random() * 20_000);

interface UpSummary {
  url: string;
  dashboard_url: string;
  admin_token: string;
  data_dir: string;
  hosts: { name: string; address: string; labels: Record<string, string>; demo_url: string }[];
}

let work: string;
let dataDir: string;

function startUp(): Promise<ChildHandle<UpSummary>> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SLIPWAY_")));
  const args = [CLI, "up", "--demo", "--hosts", "4", "--port", "0", "--json", "--data-dir", dataDir, "--demo-port", String(DEMO_PORT), "--log-level", "warn"];
  return spawnJsonLineProcess<UpSummary>(args, { env, timeoutMs: 60_000, what: "slipway up" });
}

/** Processes that belong to this data dir: agents (by their command line) and services (by the agent's marker). */
function leftovers(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      const state = /\) (\w)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1];
      if (state === "Z") continue;
      if (cmdline.includes(dataDir) || environ.includes(`SLIPWAY_SERVICE_DIR=${dataDir}`)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

const answers = async (summary: UpSummary, hostsOf: (env: string) => boolean, version: string) => {
  const hosts = summary.hosts.filter((h) => hostsOf(h.labels.env ?? ""));
  const versions = await Promise.all(hosts.map(async (h) => (await served(h.address, DEMO_PORT))?.version));
  return hosts.length > 0 && versions.every((v) => v === version);
};

const api = async (summary: UpSummary, path: string) => {
  const response = await fetch(`${summary.url}/api/v1${path}`, { headers: { authorization: `Bearer ${summary.admin_token}` } });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return response.json();
};

before(async () => {
  work = await mkdtemp(join(tmpdir(), "slipway-up-"));
  dataDir = join(work, "data");
});

after(async () => {
  // A failed test may leave agents or services of a killed `up` behind: never outlive the test.
  for (const line of dataDir ? leftovers() : []) {
    try {
      process.kill(Number(line.split(":")[0]), "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe("slipway up", () => {
  it("starts the server and four hosts, deploys the demo to production, and leaves nothing running after SIGTERM", async () => {
    const started = Date.now();
    const up = await startUp();
    try {
      const { summary } = up;
      assert.match(summary.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(new URL(summary.url).port, "0");
      assert.equal(summary.dashboard_url, `${summary.url}/#token=${summary.admin_token}`);
      assert.deepEqual(summary.hosts.map((h) => [h.name, h.address, h.labels.env, h.labels.region]), [
        ["local-1", "127.0.0.2", "staging", "eu"],
        ["local-2", "127.0.0.3", "production", "us"],
        ["local-3", "127.0.0.4", "production", "eu"],
        ["local-4", "127.0.0.5", "production", "us"],
      ]);
      await waitFor(() => answers(summary, (env) => env === "production", "2.0.0"), { timeoutMs: 120_000, intervalMs: 250, what: `production to answer 2.0.0\n${up.stderrTail()}` });
      const ready = Date.now() - started;
      assert.ok(await answers(summary, (env) => env === "staging", "2.0.0"), "staging runs 2.0.0 too");
      // The hosts answer as soon as they switch; the deployment records 2.0.0 as live once the last is healthy.
      await waitFor(() => up.stderrTail().includes("Demo ready"), { timeoutMs: 30_000, what: `the demo to be done\n${up.stderrTail()}` });
      const status = await api(summary, "/services/demo/status");
      assert.deepEqual(status.environments.map((e: any) => [e.name, e.live?.version, e.previous?.version]), [["staging", "2.0.0", "1.0.0"], ["production", "2.0.0", "1.0.0"]]);
      const metrics = await (await fetch(`http://${summary.hosts[1]!.address}:${DEMO_PORT}/metrics`)).text();
      assert.match(metrics, /^demo_requests_total\{route="\/healthz",status="200",version="2\.0\.0"\} \d+$/m);
      assert.match(metrics, /^demo_request_duration_seconds_bucket\{route="\/",le="\+Inf",version="2\.0\.0"\} \d+$/m);
      assert.ok(ready < 120_000, `production answered 2.0.0 after ${ready} ms`);
      assert.ok(leftovers().length >= 8, "four agents and their services run meanwhile");
      const session = await stat(join(dataDir, "up.json"));
      assert.equal(session.mode & 0o777, 0o600, "up.json holds the agent token: owner only");
    } finally {
      const exit = await up.kill("SIGTERM");
      assert.deepEqual(exit, { code: 0, signal: null }, up.stderrTail());
    }
    assert.deepEqual(leftovers(), [], "no agent or service outlives slipway up");
    await assert.rejects(fetch(up.summary.url), "the server is closed");
    assert.equal(await served("127.0.0.3", DEMO_PORT), undefined);
    await assert.rejects(stat(join(dataDir, "up.lock")), "the lock is released");
  });

  it("starts again on the same data dir: the same hosts and agent token, a new admin token, the demo skipped", async () => {
    const agentToken = JSON.parse(await readFile(join(dataDir, "up.json"), "utf8")).agent_token;
    const up = await startUp();
    try {
      const { summary } = up;
      // Services come back with their agents; nothing is deployed again.
      await waitFor(() => answers(summary, () => true, "2.0.0"), { timeoutMs: 60_000, intervalMs: 250, what: `every host to answer 2.0.0 again\n${up.stderrTail()}` });
      assert.equal(JSON.parse(await readFile(join(dataDir, "up.json"), "utf8")).agent_token, agentToken);
      const hosts = await api(summary, "/hosts");
      assert.deepEqual(hosts.items.map((h: any) => h.name).sort(), ["local-1", "local-2", "local-3", "local-4"], "the hosts registered again under their names, not as new ones");
      await waitFor(() => up.stderrTail().includes("Demo ready"), { timeoutMs: 30_000, what: `the demo to be done\n${up.stderrTail()}` });
      assert.match(up.stderrTail(), /demo 2\.0\.0 was already deployed to production; skipped/);
      const log = await api(summary, "/deployments?limit=50");
      assert.equal(log.items.length, 4, "the demo's four deployments, none repeated");
      const releases = await api(summary, "/services/demo/releases");
      assert.deepEqual(releases.items.map((r: any) => r.version).sort(), ["1.0.0", "2.0.0"]);
    } finally {
      assert.deepEqual(await up.kill("SIGTERM"), { code: 0, signal: null }, up.stderrTail());
    }
    assert.deepEqual(leftovers(), []);
  });

  it("after a kill -9 of slipway up, the next start takes over its orphaned agents and adopts their services", async () => {
    const first = await startUp();
    await waitFor(() => answers(first.summary, () => true, "2.0.0"), { timeoutMs: 60_000, intervalMs: 250, what: `every host to answer 2.0.0\n${first.stderrTail()}` });
    const pids = await Promise.all(first.summary.hosts.map(async (h) => (await served(h.address, DEMO_PORT))?.pid));
    await first.kill("SIGKILL");
    assert.ok(leftovers().length > 0, "the agents and services outlive a killed slipway up");
    const second = await startUp();
    try {
      await waitFor(() => second.stderrTail().includes("Demo ready"), { timeoutMs: 60_000, what: `the demo to be done\n${second.stderrTail()}` });
      assert.match(second.stderrTail(), /Replacing agent pid \d+, left running on local-\d's data dir/);
      const after = await Promise.all(second.summary.hosts.map(async (h) => (await served(h.address, DEMO_PORT))?.pid));
      assert.deepEqual(after, pids, "the same service processes, adopted rather than restarted");
    } finally {
      assert.deepEqual(await second.kill("SIGTERM"), { code: 0, signal: null }, second.stderrTail());
    }
    assert.deepEqual(leftovers(), []);
  });
});
