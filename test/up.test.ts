// `slipway up --demo` as a real process: the server in it, four real host agents and two runner
// agents, and a real git repository in the data dir. Two commits to it, and nothing else, must
// take the demo through its pipeline (tests split across both runners) to releases deployed to
// staging and production; then SIGTERM must leave nothing running. A second start on the same
// data dir skips what exists, commits nothing, and brings the same fleet back.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { served } from "./support/fleet.ts";
import { runGit } from "./support/git.ts";
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
  runners: { name: string; labels: Record<string, string> }[];
}

const V1 = "1.0.1";
const V2 = "1.0.2";

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

const demoRepo = () => join(dataDir, "demo-repo");

describe("slipway up", () => {
  it("starts the server, four hosts and two runners, takes two commits of the demo through its pipeline to production, and leaves nothing running after SIGTERM", async () => {
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
      assert.deepEqual(summary.runners.map((r) => r.name), ["runner-1", "runner-2"]);
      await waitFor(() => answers(summary, (env) => env === "production", V2), { timeoutMs: 120_000, intervalMs: 250, what: `production to answer ${V2}\n${up.stderrTail()}` });
      const ready = Date.now() - started;
      assert.ok(await answers(summary, (env) => env === "staging", V2), `staging runs ${V2} too`);
      const answer = await served("127.0.0.3", DEMO_PORT);
      assert.match((answer as any).message, /v2, shipped by a git push/, "the second commit's change is what production answers");
      // The hosts answer as soon as they switch; the deployment records the release as live once the last is healthy.
      await waitFor(() => up.stderrTail().includes("Demo ready"), { timeoutMs: 30_000, what: `the demo to be done\n${up.stderrTail()}` });
      const status = await api(summary, "/services/demo/status");
      assert.deepEqual(status.environments.map((e: any) => [e.name, e.live?.version, e.previous?.version]), [["staging", V2, V1], ["production", V2, V1]]);

      // Two commits in the repository, each built by a run its push started, with the tests split across both runners.
      assert.equal(await runGit(demoRepo(), "rev-list", "--count", "main"), "2");
      const shas = (await runGit(demoRepo(), "rev-list", "--reverse", "main")).split("\n");
      const runs = (await api(summary, "/services/demo/runs")).items.reverse();
      assert.deepEqual(runs.map((r: any) => [r.sha, r.trigger, r.state, r.release?.version]), [[shas[0], "push", "succeeded", V1], [shas[1], "push", "succeeded", V2]]);
      for (const summaryOfRun of runs) {
        const run = await api(summary, `/runs/${summaryOfRun.id}`);
        const shards = run.jobs.filter((j: any) => j.key === "test");
        assert.deepEqual(shards.map((j: any) => j.runner).sort(), ["runner-1", "runner-2"], `run #${run.number}: one test shard on each runner`);
        const tests = await api(summary, `/runs/${run.id}/tests`);
        assert.ok(tests.items.length >= 8, `run #${run.number} recorded the demo's tests`);
        assert.deepEqual([...new Set(tests.items.map((t: any) => t.outcome))], ["passed"]);
      }
      const deployments = (await api(summary, "/deployments?limit=50")).items;
      assert.deepEqual(deployments.map((d: any) => [d.environment, d.release?.version ?? d.version, d.state]).reverse(), [
        ["staging", V1, "succeeded"],
        ["production", V1, "succeeded"],
        ["staging", V2, "succeeded"],
        ["production", V2, "succeeded"],
      ]);
      assert.match(up.stderrTail(), new RegExp(`${summary.url}/runs/${runs[1].id}`), "the run's dashboard page is printed");

      const metrics = await (await fetch(`http://${summary.hosts[1]!.address}:${DEMO_PORT}/metrics`)).text();
      assert.match(metrics, new RegExp(`^demo_requests_total\\{route="/healthz",status="200",version="${V2}"\\} \\d+$`, "m"));
      assert.match(metrics, new RegExp(`^demo_request_duration_seconds_bucket\\{route="/",le="\\+Inf",version="${V2}"\\} \\d+$`, "m"));
      assert.ok(ready < 120_000, `production answered ${V2} after ${ready} ms`);
      assert.ok(leftovers().length >= 10, "four host agents and their services, and two runners, run meanwhile");
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
      await waitFor(() => answers(summary, () => true, V2), { timeoutMs: 60_000, intervalMs: 250, what: `every host to answer ${V2} again\n${up.stderrTail()}` });
      assert.equal(JSON.parse(await readFile(join(dataDir, "up.json"), "utf8")).agent_token, agentToken);
      const hosts = await api(summary, "/hosts");
      assert.deepEqual(hosts.items.map((h: any) => h.name).sort(), ["local-1", "local-2", "local-3", "local-4", "runner-1", "runner-2"], "the hosts and runners registered again under their names, not as new ones");
      await waitFor(() => up.stderrTail().includes("Demo ready"), { timeoutMs: 30_000, what: `the demo to be done\n${up.stderrTail()}` });
      assert.match(up.stderrTail(), /Run #2 of demo \([0-9a-f]{12}\) already succeeded: release 1\.0\.2; skipped/);
      assert.match(up.stderrTail(), /demo 1\.0\.2 was already deployed to production; skipped/);
      assert.equal(await runGit(demoRepo(), "rev-list", "--count", "main"), "2", "no commit made again");
      assert.equal((await api(summary, "/services/demo/runs")).items.length, 2, "no run started again");
      const log = await api(summary, "/deployments?limit=50");
      assert.equal(log.items.length, 4, "the demo's four deployments, none repeated");
      const releases = await api(summary, "/services/demo/releases");
      assert.deepEqual(releases.items.map((r: any) => r.version).sort(), [V1, V2]);
    } finally {
      assert.deepEqual(await up.kill("SIGTERM"), { code: 0, signal: null }, up.stderrTail());
    }
    assert.deepEqual(leftovers(), []);
  });

  it("after a kill -9 of slipway up, the next start takes over its orphaned agents and adopts their services", async () => {
    const first = await startUp();
    await waitFor(() => answers(first.summary, () => true, V2), { timeoutMs: 60_000, intervalMs: 250, what: `every host to answer ${V2}\n${first.stderrTail()}` });
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
