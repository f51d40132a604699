// The runner's job executor against a real HTTP server speaking the runner protocol
// (test/support/fake-runner-server.ts) and real git repositories: checkout, steps with their
// environment and working directories, failure, timeouts, cancellation, logs through a failing
// server, JUnit tests with re-runs of failed files, kept paths, inputs and the release artifact.
// Also a runner-only agent: its registration, a claimed job, and a stop that cancels a job; and
// a slot that runs its next job while the last one's finish is still on its way.
import assert from "node:assert/strict";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { list } from "tar";
import { ServerHttp } from "../../src/agent/client.ts";
import { Agent } from "../../src/agent/main.ts";
import { isSameLiveProcess } from "../../src/agent/proc.ts";
import { RunnerClient } from "../../src/agent/runner/client.ts";
import { JobExecution } from "../../src/agent/runner/job.ts";
import { WorkspaceSlot } from "../../src/agent/runner/slot.ts";
import { MirrorLocks, runnerLayout } from "../../src/agent/runner/workspace.ts";
import type { RunnerJob } from "../../src/contracts/runner.ts";
import { runnerJob, startFakeRunnerServer, type FakeRunnerServer } from "../support/fake-runner-server.ts";
import { commit, createRepo, runGit, tempDir } from "../support/git.ts";
import { waitFor } from "../support/wait.ts";
import { silentLogger } from "./helpers.ts";

const SECRET = "pa55-w0rd-very-secret";

let root: string;
let repo: string;
let sha: string;
let fake: FakeRunnerServer;
let client: RunnerClient;
const locks = new MirrorLocks();
let slot: WorkspaceSlot;
let jobCount = 0;

const step = (run: string, extra: Partial<RunnerJob["steps"][number]> = {}): RunnerJob["steps"][number] => ({ name: run.slice(0, 20), run, env: {}, timeout_ms: 30_000, working_directory: null, ...extra });

function job(overrides: Partial<RunnerJob> = {}): RunnerJob {
  jobCount += 1;
  return runnerJob({ id: `job-${jobCount}`, repository_url: repo, sha, ...overrides });
}

async function runJob(spec: RunnerJob, during?: (execution: JobExecution) => Promise<void>) {
  const execution = new JobExecution(spec, {
    server: client,
    hostId: () => "host-1",
    layout: runnerLayout(join(root, "data")),
    locks,
    slot,
    logger: silentLogger(),
    baseEnv: { ...process.env, SLIPWAY_TOKEN: "the-agent-token" },
    killGraceMs: 200,
    logs: { flushIntervalMs: 20, retryDelayMs: { initial: 10, max: 50 } },
  });
  const running = execution.run();
  await during?.(execution);
  const finish = await running;
  assert.deepEqual(fake.finished.get(spec.id), finish, "what run() resolves with is what the server got");
  return finish;
}

const linesOf = (jobId: string, stepIndex?: number) => (fake.lines.get(jobId) ?? []).filter((l) => stepIndex === undefined || l.step === stepIndex);
const textOf = (jobId: string, stepIndex?: number) => linesOf(jobId, stepIndex).map((l) => l.text);

before(async () => {
  root = await tempDir("slipway-runner-test-");
  slot = new WorkspaceSlot(join(root, "data", "runner", "workspaces", "slot-1"));
  repo = await createRepo(join(root, "repo"));
  sha = await commit(
    repo,
    {
      "slipway.yaml": "name: shop\n",
      "app/hello.txt": "hello from app\n",
      "app/slipway.yaml": "not the manifest\n",
      "app/VERSION": "1.2.0\n",
      "app/dist/a.js": "console.log('a')\n",
      "app/dist/sub/b.js": "console.log('b')\n",
      "suite/test/ok.test.mjs": 'import { test } from "node:test";\ntest("fine", () => {});\n',
      "suite/test/broken.test.mjs": 'import { test } from "node:test";\ntest("always", () => { throw new Error("broken"); });\n',
      "suite/test/flaky.test.mjs":
        'import { test } from "node:test";\nimport { existsSync, writeFileSync } from "node:fs";\ntest("sometimes", () => {\n  if (!existsSync(process.env.MARKER)) { writeFileSync(process.env.MARKER, "1"); throw new Error("fails the first time"); }\n});\n',
    },
    "the service",
  );
  await runGit(repo, "tag", "v1.2.0");
  fake = await startFakeRunnerServer();
  client = new RunnerClient(new ServerHttp({ server: fake.url, token: fake.token }));
});

after(async () => {
  await fake.close();
  const { rm } = await import("node:fs/promises");
  await rm(root, { recursive: true, force: true });
});

describe("runner job execution", () => {
  it("checks out the commit and runs the steps in order, each with its environment and working directory, secrets masked", async () => {
    const spec = job({
      env: { FROM_JOB: "job", PASSWORD: SECRET },
      secrets: [SECRET],
      steps: [
        step("pwd; cat hello.txt", { name: "where", working_directory: "app" }),
        step('echo "$CI $SLIPWAY $SLIPWAY_RUN_NUMBER $SLIPWAY_SHA $SLIPWAY_BRANCH $SLIPWAY_JOB $SLIPWAY_SHARD_INDEX/$SLIPWAY_SHARD_TOTAL"; echo "job=$FROM_JOB step=$FROM_STEP token=${SLIPWAY_TOKEN:-none}"', {
          name: "env",
          env: { FROM_STEP: "step", FROM_JOB: "overridden" },
        }),
        step('printf "the password is %s\\n" "$PASSWORD"', { name: "secret" }),
      ],
    });
    const finish = await runJob(spec);
    assert.equal(finish.outcome, "succeeded", finish.reason ?? "");
    assert.deepEqual(
      finish.steps.map((s) => [s.name, s.state, s.exit_code]),
      [
        ["where", "succeeded", 0],
        ["env", "succeeded", 0],
        ["secret", "succeeded", 0],
      ],
    );
    assert.ok(finish.steps.every((s) => s.started_at !== null && s.finished_at !== null && s.finished_at >= s.started_at));
    const workspace = slot.dir;
    assert.deepEqual(textOf(spec.id, 0), [join(workspace, "app"), "hello from app"]);
    assert.deepEqual(textOf(spec.id, 1), [`true true 7 ${sha} main build 0/1`, "job=overridden step=step token=none"]);
    assert.deepEqual(textOf(spec.id, 2), ["the password is ***"]);
    assert.ok(!JSON.stringify(fake.lines.get(spec.id)).includes(SECRET));
    assert.ok(textOf(spec.id, -1).includes(`checked out ${sha}`));
    assert.ok(linesOf(spec.id, -1).every((l) => l.stream === "system"));
  });

  it("reports a running step while it runs, and every step's end in /finish", async () => {
    const marker = join(root, "go-on");
    const spec = job({ heartbeat_interval_ms: 60_000, steps: [step("echo first", { name: "first" }), step(`while [ ! -e ${marker} ]; do sleep 0.02; done`, { name: "waits" }), step("echo last", { name: "last" })] });
    const finish = await runJob(spec, async () => {
      await waitFor(() => (fake.statuses.get(spec.id) ?? []).some((s) => s.steps[0]?.state === "succeeded" && s.steps[1]?.state === "running"), { what: "a status saying the second step runs" });
      await writeFile(marker, "");
    });
    assert.equal(finish.outcome, "succeeded", finish.reason ?? "");
    assert.deepEqual(
      finish.steps.map((s) => [s.name, s.state]),
      [
        ["first", "succeeded"],
        ["waits", "succeeded"],
        ["last", "succeeded"],
      ],
    );
  });

  it("fails the job at a failing step and skips the steps after it", async () => {
    const spec = job({ steps: [step("echo a"), step("echo boom >&2; exit 3", { name: "breaks" }), step("echo never")] });
    const finish = await runJob(spec);
    assert.equal(finish.outcome, "failed");
    assert.match(finish.reason ?? "", /step 'breaks' failed with exit code 3/);
    assert.deepEqual(
      finish.steps.map((s) => s.state),
      ["succeeded", "failed", "skipped"],
    );
    assert.deepEqual(linesOf(spec.id, 1).map((l) => [l.stream, l.text]), [["stderr", "boom"]]);
    assert.deepEqual(textOf(spec.id, 2), []);
  });

  it("kills a step past its timeout with everything it started, and fails the job", async () => {
    const pidFile = join(root, "timeout.pid");
    const spec = job({ steps: [step(`sleep 30 & echo $! > ${pidFile}; wait`, { name: "slow", timeout_ms: 300 }), step("echo never")] });
    const finish = await runJob(spec);
    assert.equal(finish.outcome, "failed");
    assert.match(finish.reason ?? "", /step 'slow' timed out after 0.3 s/);
    assert.deepEqual(
      finish.steps.map((s) => s.state),
      ["failed", "skipped"],
    );
    const child = Number(await readFile(pidFile, "utf8"));
    await waitFor(() => !isSameLiveProcess(child, null), { what: "the step's background process to be killed", timeoutMs: 5000 });
  });

  it("stops the running step when the server says the job was cancelled, and reports it cancelled", async () => {
    const spec = job({ heartbeat_interval_ms: 100, steps: [step("echo started; sleep 30", { name: "long" }), step("echo never")] });
    const finish = await runJob(spec, async () => {
      await waitFor(() => textOf(spec.id, 0).includes("started"), { what: "the step to start" });
      fake.cancel(spec.id);
    });
    assert.equal(finish.outcome, "cancelled");
    assert.deepEqual(
      finish.steps.map((s) => s.state),
      ["cancelled", "skipped"],
    );
  });

  it("delivers every log line in order although the server fails log requests for a while", async () => {
    fake.failLogs(3);
    const before = fake.logRequests.failed;
    const spec = job({ steps: [step("seq 1 3000")] });
    const finish = await runJob(spec);
    assert.equal(finish.outcome, "succeeded");
    assert.deepEqual(
      textOf(spec.id, 0),
      Array.from({ length: 3000 }, (_, i) => String(i + 1)),
    );
    assert.equal(fake.logRequests.failed - before, 3);
  });

  it("runs the tests, re-runs the files of failed tests, and reports every attempt with the files' timings", async () => {
    const marker = join(root, "flaky-marker");
    const files = ["suite/test/broken.test.mjs", "suite/test/flaky.test.mjs", "suite/test/ok.test.mjs"];
    const spec = job({
      tests: {
        command: `"${process.execPath}" --test --test-reporter=junit --test-reporter-destination=junit.xml --test-reporter=spec --test-reporter-destination=stdout {files}`,
        files,
        reports: ["junit*.xml"],
        retries: 2,
        working_directory: "suite",
        env: { MARKER: marker },
        timeout_ms: 60_000,
        quarantined: [],
      },
    });
    const finish = await runJob(spec);
    assert.equal(finish.outcome, "failed", "the last attempt's command failed");
    const tests = finish.tests;
    assert.ok(tests, JSON.stringify(fake.lines.get(spec.id)));
    assert.equal(tests.reports_found, true);
    assert.deepEqual(tests.command_exit_codes, [1, 1, 1]);
    const summary = tests.attempts.map((attempt) => attempt.map((t) => `${t.file}::${t.name}=${t.status}`).sort());
    assert.deepEqual(summary, [
      ["suite/test/broken.test.mjs::always=failed", "suite/test/flaky.test.mjs::sometimes=failed", "suite/test/ok.test.mjs::fine=passed"],
      ["suite/test/broken.test.mjs::always=failed", "suite/test/flaky.test.mjs::sometimes=passed"],
      ["suite/test/broken.test.mjs::always=failed"],
    ]);
    assert.deepEqual(Object.keys(tests.file_timings).sort(), files);
    assert.ok(Object.values(tests.file_timings).every((ms) => ms >= 0));
    assert.deepEqual(finish.steps, [], "the tests are not a step: the server's verdict decides what failed tests mean");
    assert.ok(linesOf(spec.id, 0).some((l) => l.stream === "stdout" && l.text.includes("✖ always")), "the tests' output is logged as the step after the job's steps");
    assert.ok(textOf(spec.id, -1).some((t) => t.startsWith("re-running 2 files of failed tests (retry 1 of 2)")));
    assert.ok(textOf(spec.id, -1).some((t) => t.startsWith("re-running 1 file of failed tests (retry 2 of 2)")));
  });

  it("uploads the kept paths and a deterministic release artifact with slipway.yaml at its root, and a later job unpacks the kept paths", async () => {
    const build = () =>
      job({
        steps: [step("mkdir -p build && echo built > build/out.txt")],
        artifacts: ["build/**"],
        package: { files: ["dist", "VERSION", "slipway.yaml"], working_directory: "app" },
      });
    const first = await runJob(build());
    assert.equal(first.outcome, "succeeded", first.reason ?? "");
    assert.ok(first.kept && first.package);
    assert.equal(first.package.git_describe, "v1.2.0");
    const artifact = fake.artifacts.get(first.package.sha256);
    assert.ok(artifact);
    assert.equal(artifact.length, first.package.size);
    const artifactPath = join(root, "package.tar.gz");
    await writeFile(artifactPath, artifact);
    const entries: string[] = [];
    const manifest: string[] = [];
    await list({ file: artifactPath, onReadEntry: (entry) => (entries.push(entry.path), entry.path === "slipway.yaml" ? entry.on("data", (c: Buffer) => manifest.push(c.toString())) : entry.resume()) });
    assert.deepEqual(entries, ["VERSION", "dist/a.js", "dist/sub/b.js", "slipway.yaml"]);
    assert.equal(manifest.join(""), "name: shop\n", "the repository root's slipway.yaml, not the working directory's");

    const second = await runJob(build());
    assert.equal(second.package?.sha256, first.package.sha256, "the same files give the same release artifact");
    assert.equal(second.kept?.sha256, first.kept.sha256);

    const consumer = job({ inputs: [{ job: "build", sha256: first.kept.sha256 }], steps: [step("cat build/out.txt")] });
    const third = await runJob(consumer);
    assert.equal(third.outcome, "succeeded", third.reason ?? "");
    assert.deepEqual(textOf(consumer.id, 0), ["built"]);
  });

  it("fails the job, naming the glob, when a package.files glob matches nothing", async () => {
    const spec = job({ steps: [step("echo built")], package: { files: ["dist/**", "build/**", "VERSION", "missing.txt"], working_directory: "app" } });
    const finish = await runJob(spec);
    assert.equal(finish.outcome, "failed");
    assert.equal(finish.reason, 'package.files: "build/**", "missing.txt" match no file in app');
    assert.equal(finish.package, null, "nothing was uploaded as a release");
  });

  it("logs a tests-only shard's test command, stdout and stderr, as the job's step 1", async () => {
    const spec = job({
      shard: { index: 1, total: 2 },
      tests: {
        command: `echo "running {files}"; echo "a warning" >&2; "${process.execPath}" --test --test-reporter=junit --test-reporter-destination=junit.xml {files}`,
        files: ["suite/test/ok.test.mjs"],
        reports: ["junit.xml"],
        retries: 0,
        working_directory: "suite",
        env: {},
        timeout_ms: 60_000,
        quarantined: [],
      },
    });
    const finish = await runJob(spec);
    assert.equal(finish.outcome, "succeeded", finish.reason ?? "");
    assert.deepEqual(finish.steps, []);
    assert.deepEqual(
      linesOf(spec.id, 0).map((l) => [l.stream, l.text]),
      [
        ["stdout", "running test/ok.test.mjs"],
        ["stderr", "a warning"],
      ],
    );
    assert.ok(textOf(spec.id, -1).some((t) => t.includes("(shard 2 of 2)")));
    assert.deepEqual(new Set(linesOf(spec.id).map((l) => l.step)), new Set([-1, 0]), "every line is the runner's or the tests command's");
  });

  it("fails the job with a clear reason when the commit is not in the repository", async () => {
    const spec = job({ sha: "0123456789abcdef0123456789abcdef01234567", steps: [step("echo never")] });
    const finish = await runJob(spec);
    assert.equal(finish.outcome, "failed");
    assert.match(finish.reason ?? "", /checkout failed: commit 0123456789abcdef0123456789abcdef01234567 is not in/);
    assert.deepEqual(
      finish.steps.map((s) => s.state),
      ["skipped"],
    );
  });
});

describe("runner-only agent", () => {
  it("registers with the roles its flags give", () => {
    const roles = (runner?: { slots: number; only: boolean }) =>
      new Agent({ server: fake.url, token: fake.token, name: "a", labels: {}, address: "127.0.0.1", dataDir: join(root, "unused"), stopServicesOnExit: false, runner }, { logger: silentLogger() }).roles;
    assert.deepEqual(roles(), ["host"]);
    assert.deepEqual(roles({ slots: 1, only: false }), ["host", "runner"]);
    assert.deepEqual(roles({ slots: 1, only: true }), ["runner"]);
  });

  it("registers as a runner, runs a claimed job, and cancels a running job when stopped past its grace", async () => {
    const agent = new Agent(
      { server: fake.url, token: fake.token, name: "runner-1", labels: { os: "linux" }, address: "127.0.0.1", dataDir: join(root, "agent"), stopServicesOnExit: false, runner: { slots: 1, only: true, stopGraceMs: 300 } },
      { logger: silentLogger() },
    );
    const registrations = fake.registrations.length;
    const workspaces = join(root, "agent", "runner", "workspaces");
    await mkdir(join(workspaces, "job-from-an-older-version"), { recursive: true });
    try {
      await agent.start();
      assert.deepEqual(fake.registrations.at(-1)?.roles, ["runner"]);
      const quick = job({ steps: [step("echo hi")] });
      fake.queue(quick);
      assert.equal((await fake.waitForFinish(quick.id)).outcome, "succeeded");
      assert.deepEqual(await readdir(workspaces), ["slot-1"], "one workspace per slot; older ones removed");
      const slow = job({ steps: [step("echo started; sleep 30")] });
      fake.queue(slow);
      await waitFor(() => textOf(slow.id, 0).includes("started"), { what: "the slow job to start" });
    } finally {
      await agent.stop();
    }
    // The fake server has no desired-state route: a runner-only agent polling it would be told
    // its host is unknown, and would register again.
    assert.equal(fake.registrations.length, registrations + 1, "registered once, and never polled for a desired state");
    const cancelled = fake.finished.get(`job-${jobCount}`);
    assert.equal(cancelled?.outcome, "cancelled");
    assert.match(cancelled?.reason ?? "", /the runner is stopping/);
  });
});

describe("runner slot", () => {
  it("claims and runs its next job while the last one's finish is still on its way", async () => {
    // Between the agent and the server: holds the first job's /finish until told to let it through.
    let releaseFinish = () => {};
    const held = new Promise<void>((resolve) => (releaseFinish = resolve));
    let heldFinish = "";
    const proxy = createServer((req, res) => {
      void (async () => {
        if (heldFinish && req.url === `/api/v1/runner/jobs/${heldFinish}/finish`) await held;
        const upstream = httpRequest(new URL(req.url ?? "/", fake.url), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.once("error", () => res.destroy());
        req.pipe(upstream);
      })();
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const agent = new Agent(
      { server: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, token: fake.token, name: "runner-2", labels: { os: "linux" }, address: "127.0.0.1", dataDir: join(root, "agent-2"), stopServicesOnExit: false, runner: { slots: 1, only: true } },
      { logger: silentLogger() },
    );
    try {
      await agent.start();
      const first = job({ steps: [step("echo first")] });
      const second = job({ steps: [step("echo second")] });
      heldFinish = first.id;
      fake.queue(first);
      fake.queue(second);
      assert.equal((await fake.waitForFinish(second.id)).outcome, "succeeded");
      assert.equal(fake.finished.has(first.id), false, "the first job's finish is still held");
      releaseFinish();
      assert.equal((await fake.waitForFinish(first.id)).outcome, "succeeded");
      assert.deepEqual(textOf(first.id, 0), ["first"]);
    } finally {
      releaseFinish();
      await agent.stop();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
