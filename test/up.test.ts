// `slipway up --demo` as a real process: the server in it, four real host agents and two runner
// agents, a real git repository in the data dir, and traffic to every host. Three commits to it,
// and nothing else, must take the demo through its pipeline (tests split across both runners) to
// releases deployed to staging and production (a canary judged by the scraped metrics); the
// third, a bad release, must be rolled back by the production canary by itself. Then SIGTERM
// must leave nothing running. A second start on the same data dir skips what exists, commits
// nothing, and brings the same fleet back.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { DEMO_BAD_ERROR_RATE } from "../src/up/demo-repo.ts";
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

/** The JSON line `up --json` prints once the demo is done. */
interface DemoSummary {
  demo: {
    service: string;
    version: string;
    environment: string;
    urls: string[];
    seconds: number;
    run_url: string;
    rolled_back: { version: string; environment: string; state: string; reason: string; hosts: string[]; deployment_id: string; deployment_url: string } | null;
  };
}

interface Up extends ChildHandle<UpSummary> {
  /** Everything up wrote on stderr (its progress, with --json). */
  output(): string;
  /** The demo's JSON line, once printed. */
  demo(): DemoSummary | undefined;
}

const V1 = "1.0.1";
const V2 = "1.0.2";
const V3 = "1.0.3";

let work: string;
let dataDir: string;

async function startUp(): Promise<Up> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SLIPWAY_")));
  const args = [CLI, "up", "--demo", "--hosts", "4", "--port", "0", "--json", "--data-dir", dataDir, "--demo-port", String(DEMO_PORT), "--log-level", "warn"];
  const handle = await spawnJsonLineProcess<UpSummary>(args, { env, timeoutMs: 60_000, what: "slipway up" });
  // What it wrote before its summary line (a replaced agent, say), then everything after.
  let output = handle.stderrTail() + "\n";
  handle.child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let demo: DemoSummary | undefined;
  createInterface({ input: handle.child.stdout! }).on("line", (line) => {
    if (line.startsWith('{"demo"')) demo = JSON.parse(line) as DemoSummary;
  });
  return { ...handle, output: () => output, demo: () => demo };
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

/** Where the demo leaves the fleet: production on the last good release, staging on the bad one. */
const fleetAsLeft = async (summary: UpSummary) => (await answers(summary, (env) => env === "production", V2)) && answers(summary, (env) => env === "staging", V3);

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
  it("starts the server, four hosts and two runners, takes three commits of the demo through its pipeline under traffic, has the production canary roll the bad third back by itself, and leaves nothing running after SIGTERM", async () => {
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
      await waitFor(() => answers(summary, (env) => env === "production", V2), { timeoutMs: 180_000, intervalMs: 250, what: `production to answer ${V2}\n${up.stderrTail()}` });
      const answer = await served("127.0.0.3", DEMO_PORT);
      assert.match((answer as any).message, /v2, shipped by a git push/, "the second commit's change is what production answers");
      const { demo } = await waitFor(() => up.demo(), { timeoutMs: 120_000, intervalMs: 250, what: `the demo to be done\n${up.stderrTail()}` });
      assert.match(up.output(), /Traffic: 20 requests a second to GET \/ on each of the 4 hosts/);
      assert.match(up.output(), /Demo done after \d+ s: production runs demo 1\.0\.2/);

      // The bad release went through staging, and the production canary rolled it back by itself.
      assert.ok(await answers(summary, (env) => env === "production", V2), `production still answers ${V2}`);
      assert.ok(await answers(summary, (env) => env === "staging", V3), `staging runs ${V3}: nothing judges it there`);
      const status = await api(summary, "/services/demo/status");
      assert.deepEqual(status.environments.map((e: any) => [e.name, e.live?.version, e.previous?.version]), [["staging", V3, V2], ["production", V2, V1]]);
      const caught = demo.rolled_back;
      assert.ok(caught, JSON.stringify(demo));
      assert.deepEqual([demo.version, caught.version, caught.environment, caught.state, caught.hosts], [V2, V3, "production", "rolled_back", ["local-3"]]);
      const rolledBack = await api(summary, `/deployments/${caught.deployment_id}`);
      assert.equal(rolledBack.state, "rolled_back");
      const decision = rolledBack.events.find((e: any) => e.to === "rolling_back");
      assert.match(decision.reason, /^analysis of all of eu failed: error ratio \d+(\.\d+)?% vs 0% on baseline; the difference exceeds 1 point with 95% confidence after [\d,]+ requests on the canary/);
      assert.ok(caught.reason.startsWith(decision.reason), caught.reason);
      assert.deepEqual(rolledBack.stages.map((st: any) => [st.label, st.status]), [["all of eu", "failed"], ["region us", "skipped"]], "the us wave never started");
      const analysis = await api(summary, `/deployments/${caught.deployment_id}/analysis`);
      const last = analysis.windows[0].metrics["error ratio"].at(-1);
      assert.deepEqual([last.outcome, last.rule, last.final], ["fail", "sequential", false], "failed during the step, before its window ended");
      assert.ok(last.canary.value > 0.05 && last.baseline.value === 0 && last.baseline.samples >= 50, JSON.stringify(last));
      const shown = `${summary.url}/deployments/${caught.deployment_id}`;
      assert.equal(caught.deployment_url, shown);
      assert.ok(up.output().includes(`The verdict, with the canary and baseline charts: ${shown}`), "the rolled-back deployment's dashboard page is printed");
      assert.ok(up.output().includes(`  Why:  ${caught.reason}`), "the verdict is printed in words");

      // Three commits in the repository, each built by a run its push started, with the tests split across both runners.
      assert.equal(await runGit(demoRepo(), "rev-list", "--count", "main"), "3");
      const shas = (await runGit(demoRepo(), "rev-list", "--reverse", "main")).split("\n");
      assert.match(await runGit(demoRepo(), "show", "HEAD:slipway.yaml"), new RegExp(`DEMO_ERROR_RATE: "${DEMO_BAD_ERROR_RATE}"`));
      const runs = (await api(summary, "/services/demo/runs")).items.reverse();
      assert.deepEqual(runs.map((r: any) => [r.sha, r.trigger, r.state, r.release?.version]), [[shas[0], "push", "succeeded", V1], [shas[1], "push", "succeeded", V2], [shas[2], "push", "succeeded", V3]]);
      for (const summaryOfRun of runs) {
        const run = await api(summary, `/runs/${summaryOfRun.id}`);
        const shards = run.jobs.filter((j: any) => j.key === "test");
        assert.deepEqual(shards.map((j: any) => j.runner).sort(), ["runner-1", "runner-2"], `run #${run.number}: one test shard on each runner`);
        const tests = await api(summary, `/runs/${run.id}/tests`);
        assert.ok(tests.items.length >= 8, `run #${run.number} recorded the demo's tests`);
        assert.deepEqual([...new Set(tests.items.map((t: any) => t.outcome))], ["passed"]);
      }
      assert.equal(demo.run_url, `${summary.url}/runs/${runs[2].id}`);
      assert.ok(up.output().includes(`${summary.url}/runs/${runs[1].id}`), "each run's dashboard page is printed");
      const deployments = (await api(summary, "/deployments?limit=50")).items;
      assert.deepEqual(deployments.map((d: any) => [d.environment, d.release?.version ?? d.version, d.state]).reverse(), [
        ["staging", V1, "succeeded"],
        ["production", V1, "succeeded"],
        ["staging", V2, "succeeded"],
        ["production", V2, "succeeded"],
        ["staging", V3, "succeeded"],
        ["production", V3, "rolled_back"],
      ]);
      // The good releases passed their canary in production, judged against the hosts still on the previous one.
      const good = await api(summary, `/deployments/${deployments[2].id}`);
      assert.ok(good.events.some((e: any) => /^analysis of all of eu passed: all 2 metrics passed/.test(e.reason)), JSON.stringify(good.events));

      const metrics = await (await fetch(`http://${summary.hosts[1]!.address}:${DEMO_PORT}/metrics`)).text();
      assert.match(metrics, new RegExp(`^demo_requests_total\\{route="/",status="200",version="${V2}"\\} \\d+$`, "m"), "the traffic reaches the hosts");
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
      await waitFor(() => fleetAsLeft(summary), { timeoutMs: 60_000, intervalMs: 250, what: `production to answer ${V2} and staging ${V3} again\n${up.stderrTail()}` });
      assert.equal(JSON.parse(await readFile(join(dataDir, "up.json"), "utf8")).agent_token, agentToken);
      const hosts = await api(summary, "/hosts");
      assert.deepEqual(hosts.items.map((h: any) => h.name).sort(), ["local-1", "local-2", "local-3", "local-4", "runner-1", "runner-2"], "the hosts and runners registered again under their names, not as new ones");
      const { demo } = await waitFor(() => up.demo(), { timeoutMs: 30_000, intervalMs: 250, what: `the demo to be done\n${up.stderrTail()}` });
      assert.deepEqual([demo.version, demo.rolled_back?.version, demo.rolled_back?.state], [V2, V3, "rolled_back"]);
      assert.match(up.output(), /Run #2 of demo \([0-9a-f]{12}\) already succeeded: release 1\.0\.2; skipped/);
      assert.match(up.output(), /demo 1\.0\.2 was already deployed to production; skipped/);
      assert.match(up.output(), /demo 1\.0\.3 was already rolled back in production; skipped/);
      assert.equal(await runGit(demoRepo(), "rev-list", "--count", "main"), "3", "no commit made again");
      assert.equal((await api(summary, "/services/demo/runs")).items.length, 3, "no run started again");
      const log = await api(summary, "/deployments?limit=50");
      assert.equal(log.items.length, 6, "the demo's six deployments, none repeated");
      const releases = await api(summary, "/services/demo/releases");
      assert.deepEqual(releases.items.map((r: any) => r.version).sort(), [V1, V2, V3]);
    } finally {
      assert.deepEqual(await up.kill("SIGTERM"), { code: 0, signal: null }, up.stderrTail());
    }
    assert.deepEqual(leftovers(), []);
  });

  it("after a kill -9 of slipway up, the next start takes over its orphaned agents and adopts their services", async () => {
    const first = await startUp();
    await waitFor(() => fleetAsLeft(first.summary), { timeoutMs: 60_000, intervalMs: 250, what: `production to answer ${V2} and staging ${V3}\n${first.stderrTail()}` });
    const pids = await Promise.all(first.summary.hosts.map(async (h) => (await served(h.address, DEMO_PORT))?.pid));
    await first.kill("SIGKILL");
    assert.ok(leftovers().length > 0, "the agents and services outlive a killed slipway up");
    const second = await startUp();
    try {
      await waitFor(() => second.demo(), { timeoutMs: 60_000, what: `the demo to be done\n${second.stderrTail()}` });
      assert.match(second.output(), /Replacing agent pid \d+, left running on local-\d's data dir/);
      const after = await Promise.all(second.summary.hosts.map(async (h) => (await served(h.address, DEMO_PORT))?.pid));
      assert.deepEqual(after, pids, "the same service processes, adopted rather than restarted");
    } finally {
      assert.deepEqual(await second.kill("SIGTERM"), { code: 0, signal: null }, second.stderrTail());
    }
    assert.deepEqual(leftovers(), []);
  });
});
