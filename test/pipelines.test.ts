// End to end: a push to a real git repository leads, with no other action, to a pipeline run
// on real runner agents (tests split across two of them), a tested release, and its deployment
// to staging on a real host. A test that fails once and passes on its rerun is flaky and does
// not block the release; one that always fails blocks it and is never called flaky.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURE_SERVICE_DIR } from "./support/artifact.ts";
import { Fleet, served } from "./support/fleet.ts";
import { commit, createRepo, tempDir } from "./support/git.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { waitFor } from "./support/wait.ts";

const PORT = 18650;
const SLIPWAY_YAML = `run:
  start: node server.js
  port: ${PORT}
  health: { http: /healthz, interval: 200ms }
deploy: { strategy: all_at_once }
jobs:
  build:
    steps:
      - name: stamp
        run: echo "$SLIPWAY_RUN_NUMBER" > VERSION && cat VERSION
    artifacts: [VERSION]
  test:
    needs: [build]
    parallelism: 2
    retry: 0
    tests:
      files: "test/*.test.js"
      command: node --test --test-reporter=junit --test-reporter-destination=junit.xml {files}
      reports: [junit.xml]
      retries: 2
  release:
    needs: [test]
    package:
      files: [server.js, package.json, VERSION]
      version: "1.0.{run_number}"
`;

const passing = (name: string) => `import { test } from "node:test";\ntest("${name} works", () => {});\n`;

let t: TestServer;
let fleet: Fleet;
let repo: string;
let marker: string;

before(async () => {
  t = await startTestServer({ pollIntervalMs: 200 });
  const agentToken = (await t.api("POST", "/api/v1/tokens", { body: { name: "agents", kind: "agent" } })).body.token;
  fleet = new Fleet(t.url, agentToken);
  await fleet.start(2, { prefix: "runner", firstOctet: 60, labels: () => ({ os: "linux" }), args: ["--runner-only"] });
  await fleet.start(1, { prefix: "stage", firstOctet: 70, labels: () => ({ env: "staging" }) });
  repo = await tempDir();
  marker = join(await tempDir("slipway-flaky-"), "failed-once");
  await createRepo(repo);
  const server = await readFile(join(FIXTURE_SERVICE_DIR, "server.js"), "utf8");
  const pkg = await readFile(join(FIXTURE_SERVICE_DIR, "package.json"), "utf8");
  await commit(repo, { "server.js": server, "package.json": pkg, "README.md": "shop\n" }, "the service, before it had a pipeline");
  const created = await t.api("POST", "/api/v1/services", {
    body: { name: "shop", repository_url: repo, environments: [{ name: "staging", selector: { env: "staging" }, auto: true }, { name: "production", selector: { env: "production" } }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // The first poll records the branches as they are; only later pushes start runs.
  await waitFor(async () => (await t.server.store.db.selectFrom("service_git_state").select("service_id").executeTakeFirst()) !== undefined, { what: "the first poll" });
});

after(async () => {
  await fleet?.stop();
  await t?.stop();
});

async function runFor(sha: string): Promise<any> {
  return waitFor(async () => (await t.api("GET", "/api/v1/services/shop/runs")).body.items.find((r: any) => r.sha === sha), { what: `a run of ${sha.slice(0, 8)}`, timeoutMs: 30_000 });
}

async function finished(id: string): Promise<any> {
  return waitFor(
    async () => {
      const run = (await t.api("GET", `/api/v1/runs/${id}`)).body;
      return ["succeeded", "failed", "cancelled"].includes(run.state) ? run : undefined;
    },
    { what: `run ${id} to finish`, timeoutMs: 90_000 },
  );
}

describe("pipelines", () => {
  it("turns a push into a tested release deployed to staging, with tests split across two runners", async () => {
    const flaky = `import { test } from "node:test";\nimport { existsSync, writeFileSync } from "node:fs";\ntest("sometimes fails", () => {\n  if (!existsSync(${JSON.stringify(marker)})) { writeFileSync(${JSON.stringify(marker)}, "1"); throw new Error("first time"); }\n});\n`;
    const sha = await commit(repo, { "slipway.yaml": SLIPWAY_YAML, "test/a.test.js": passing("a"), "test/b.test.js": passing("b"), "test/c.test.js": flaky }, "add a pipeline");
    const run = await finished((await runFor(sha)).id);
    assert.equal(run.state, "succeeded", JSON.stringify(run.jobs.map((j: any) => [j.name, j.state, j.reason])));
    assert.equal(run.trigger, "push");
    const shards = run.jobs.filter((j: any) => j.key === "test");
    assert.equal(shards.length, 2);
    assert.deepEqual(shards.flatMap((j: any) => j.test_files).sort(), ["test/a.test.js", "test/b.test.js", "test/c.test.js"]);
    assert.equal(new Set(run.jobs.map((j: any) => j.runner)).size >= 1, true);

    const tests = (await t.api("GET", `/api/v1/runs/${run.id}/tests`)).body.items;
    assert.equal(tests.find((x: any) => x.name === "sometimes fails").outcome, "flaky");
    assert.equal(tests.filter((x: any) => x.outcome === "passed").length, 2);

    assert.equal(run.release.version, `1.0.${run.number}`);
    const deployment = await waitFor(async () => (await t.api("GET", "/api/v1/services/shop/deployments?environment=staging")).body.items.find((d: any) => d.state === "succeeded"), { what: "the automatic deployment to staging", timeoutMs: 60_000 });
    assert.equal(deployment.version ?? deployment.release?.version ?? run.release.version, run.release.version);
    const answer = await waitFor(() => served("127.0.0.70", PORT), { what: "staging to serve the release" });
    assert.equal(answer.version, String(run.number));
    const release = (await t.api("GET", `/api/v1/services/shop/releases/${run.release.version}`)).body;
    assert.equal(release.git_sha, sha);
    assert.equal(release.pipeline_run_id, run.id);

    const logs = (await t.api("GET", `/api/v1/runs/${run.id}/jobs/${run.jobs.find((j: any) => j.key === "build").id}/logs`)).body;
    assert.ok(logs.lines.some((l: any) => l.text.trim() === String(run.number)), JSON.stringify(logs.lines.slice(0, 20)));
    assert.equal(logs.done, true);
  });

  it("blocks the release on a test that always fails, and never calls it flaky", async () => {
    const broken = `import { test } from "node:test";\ntest("always fails", () => { throw new Error("broken"); });\n`;
    const sha = await commit(repo, { "test/d.test.js": broken }, "a broken test");
    const run = await finished((await runFor(sha)).id);
    assert.equal(run.state, "failed");
    assert.equal(run.release, null);
    assert.equal(run.jobs.find((j: any) => j.key === "release").state, "skipped");
    const tests = (await t.api("GET", `/api/v1/runs/${run.id}/tests`)).body.items;
    const result = tests.find((x: any) => x.name === "always fails");
    assert.equal(result.outcome, "failed");
    assert.equal(result.attempts, 3, "run once and rerun twice");
    const flakiest = (await t.api("GET", "/api/v1/services/shop/tests?sort=flakiest")).body.items;
    assert.ok(!flakiest.some((x: any) => x.name === "always fails"));
  });

  it("lets a quarantined test fail without blocking the release", async () => {
    const tests = (await t.api("GET", "/api/v1/services/shop/tests?sort=failing")).body.items;
    const id = tests.find((x: any) => x.name === "always fails").test_id;
    assert.equal((await t.api("PUT", `/api/v1/services/shop/quarantine/${encodeURIComponent(id)}`, { body: { reason: "known broken, ticket 42" } })).status, 204);
    const sha = await commit(repo, { "README.md": "shop, again\n" }, "a change while the test is quarantined");
    const run = await finished((await runFor(sha)).id);
    assert.equal(run.state, "succeeded", JSON.stringify(run.jobs.map((j: any) => [j.name, j.state, j.reason])));
    const result = (await t.api("GET", `/api/v1/runs/${run.id}/tests`)).body.items.find((x: any) => x.name === "always fails");
    assert.equal(result.outcome, "failed");
    assert.equal(result.quarantined, true);
    assert.ok(run.release);
  });
});
