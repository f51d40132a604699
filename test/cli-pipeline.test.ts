// `slipway pipeline`, `tests`, `variable` and `webhook-secret` as real child processes against a
// real server (SQLite, or PostgreSQL with SLIPWAY_TEST_DATABASE_URL), a real git repository and
// a real runner agent. The `main` branch's jobs need a runner label no runner has, so its runs
// stay queued (to list, show, follow and cancel them); the `ci` branch's run on the runner, so
// their logs are followed while they are written, their tests counted and quarantined.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CLI, type CliResult } from "./support/cli.ts";
import { Fleet } from "./support/fleet.ts";
import { commit, createRepo, headOf, runGit, tempDir } from "./support/git.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { waitFor } from "./support/wait.ts";

const SECRET = "s3cr3t-api-key-value";

// Job keys sorted by name (compile, package, test) are not in the order of their needs
// (compile, test, package): `show` and `logs` must follow the needs.
//
// The compile job's second step waits for `gate` to exist: the test opens it once `logs --follow`
// has shown the first step's lines, which proves they were shown while the job was running.
const pipelineOn = (label: string, gate: string) => `run: { start: node -e 0 }
on: { push: false }
jobs:
  package:
    needs: [test]
    runs_on: [${label}]
    package: { files: [VERSION], version: "2.0.{run_number}" }
  compile:
    runs_on: [${label}]
    steps:
      - name: greet
        run: echo "hello from compile" && echo "a warning" >&2
      - name: stamp
        run: while [ ! -e ${gate} ]; do sleep 0.05; done; echo "$SLIPWAY_RUN_NUMBER" > VERSION && echo "the key is $API_KEY"
      - name: count
        run: seq 1 2500
    artifacts: [VERSION]
  test:
    needs: [compile]
    runs_on: [${label}]
    parallelism: 2
    tests:
      files: "test/*.test.js"
      command: node --test --test-reporter=junit --test-reporter-destination=junit.xml --test-reporter=tap --test-reporter-destination=stdout {files}
      reports: [junit.xml]
      retries: 2
`;

const passing = (name: string) => `import { test } from "node:test";\ntest("${name} works", () => {});\n`;
const flakyTest = (marker: string) =>
  `import { test } from "node:test";\nimport { existsSync, writeFileSync } from "node:fs";\ntest("sometimes fails", () => {\n  if (!existsSync(${JSON.stringify(marker)})) { writeFileSync(${JSON.stringify(marker)}, "1"); throw new Error("first time"); }\n});\n`;

let t: TestServer;
let fleet: Fleet;
let root: string;
let repo: string;
let configDir: string;
let gate: string;

interface Running {
  /** Resolves once stdout matches `pattern`, with the match. */
  output(pattern: RegExp): Promise<RegExpExecArray>;
  done: Promise<CliResult>;
}

/** `slipway args...` as the bootstrap admin, running: its output can be waited for as it comes. */
function start(args: string[], options: { input?: string } = {}): Running {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SLIPWAY_")));
  const env = { ...inherited, SLIPWAY_CONFIG_DIR: configDir, SLIPWAY_SERVER: t.url, SLIPWAY_TOKEN: t.adminToken };
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.end(options.input ?? "");
  let stdout = "";
  let stderr = "";
  let exited = false;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      exited = true;
      resolve({ code, stdout, stderr });
    });
  });
  const output = (pattern: RegExp) =>
    waitFor(
      () => {
        const match = pattern.exec(stdout);
        if (!match && exited) throw new Error(`slipway ${args.join(" ")} exited without printing ${pattern}:\n${stdout}\n${stderr}`);
        return match ?? undefined;
      },
      { what: `${pattern} from slipway ${args.join(" ")}`, timeoutMs: 30_000 },
    );
  return { output, done };
}

const slipway = (...args: string[]): Promise<CliResult> => start(args).done;

function ok(result: CliResult): CliResult {
  assert.equal(result.code, 0, `slipway failed:\n${result.stdout}\n${result.stderr}`);
  return result;
}

function failed(result: CliResult, pattern: RegExp): CliResult {
  assert.equal(result.code, 1, `slipway should have failed:\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, pattern);
  return result;
}

const json = (result: CliResult): any => JSON.parse(ok(result).stdout);

before(async () => {
  t = await startTestServer({ pollIntervalMs: 200 });
  root = await tempDir("slipway-cli-pipeline-");
  configDir = await mkdtemp(join(tmpdir(), "slipway-cli-pipeline-config-"));
  repo = await createRepo(join(root, "repo"));
  gate = join(root, "gate");
  const files = { "test/a.test.js": passing("a"), "test/b.test.js": passing("b") };
  await commit(repo, { ...files, "slipway.yaml": pipelineOn("gpu", gate) }, "a pipeline no runner can take");
  await runGit(repo, "checkout", "--quiet", "-b", "ci");
  await commit(repo, { ...files, "test/c.test.js": flakyTest(join(root, "failed-once")), "slipway.yaml": pipelineOn("ci", gate) }, "a pipeline for the ci runner");
  await runGit(repo, "checkout", "--quiet", "main");
  const created = await t.api("POST", "/api/v1/services", { body: { name: "web", repository_url: repo } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const agentToken = (await t.api("POST", "/api/v1/tokens", { body: { name: "runners", kind: "agent" } })).body.token;
  fleet = new Fleet(t.url, agentToken);
  await fleet.start(1, { prefix: "ci", firstOctet: 90, labels: () => ({ ci: "yes" }), args: ["--runner-only"] });
});

after(async () => {
  await fleet?.stop();
  await t?.stop();
  if (root) await rm(root, { recursive: true, force: true });
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

describe("slipway pipeline run, list, show and cancel", () => {
  it("run starts a run of the branch's head and prints its number and id", async () => {
    const text = ok(await slipway("pipeline", "run", "web"));
    assert.match(text.stdout, /^Started Run #1 of web \(run_\w+\): main at [0-9a-f]{12}, queued\.$/m);
    assert.match(text.stdout, /slipway pipeline show run_\w+ --follow/);

    const run = json(await slipway("pipeline", "run", "web", "--branch", "main", "--sha", (await headOf(repo, "main")).slice(0, 10), "--json"));
    assert.equal(run.number, 2);
    assert.equal(run.state, "queued");
    assert.equal(run.trigger, "manual");
    assert.equal(run.sha, await headOf(repo, "main"));
    assert.equal(run.triggered_by, "admin");
  });

  it("run refuses a branch the repository does not have, starting nothing", async () => {
    failed(await slipway("pipeline", "run", "web", "--branch", "nope"), /^error: the repository has no branch 'nope'/);
    failed(await slipway("pipeline", "run", "nothere"), /^error: service 'nothere' not found/);
    assert.equal(json(await slipway("pipeline", "list", "web", "--json")).length, 2);
  });

  it("list shows the runs newest first, for one service or all, by branch, with a limit", async () => {
    const text = ok(await slipway("pipeline", "list", "web")).stdout.split("\n");
    assert.match(text[0]!, /^#\s+SERVICE\s+BRANCH\s+SHA\s+STATE\s+TRIGGER\s+AUTHOR\s+STARTED\s+DURATION\s+RELEASE$/);
    assert.match(text[1]!, /^2\s+web\s+main\s+[0-9a-f]{12}\s+queued\s+manual\s+Ada Lovelace\s+-\s+-\s+-$/);
    assert.deepEqual(json(await slipway("pipeline", "list", "--json")).map((r: any) => r.number), [2, 1]);
    assert.deepEqual(json(await slipway("pipeline", "list", "web", "--limit", "1", "--json")).map((r: any) => r.number), [2]);
    assert.match(ok(await slipway("pipeline", "list", "web", "--branch", "ci")).stdout, /^No runs of web on ci yet\.$/m);
    failed(await slipway("pipeline", "list", "--limit", "0"), /--limit '0' is not a number from 1 to 200/);
  });

  it("show lists the jobs in the order of their needs, with shards, by id or as SERVICE#NUMBER", async () => {
    const [latest] = json(await slipway("pipeline", "list", "web", "--json"));
    const text = ok(await slipway("pipeline", "show", "web#2")).stdout;
    assert.match(text, new RegExp(`^Run #2 of web \\(${latest.id}\\)$`, "m"));
    assert.match(text, /^State:\s+queued$/m);
    assert.match(text, /^Author:\s+Ada Lovelace <ada@example\.com>$/m);
    assert.match(text, /^Trigger:\s+manual, by admin$/m);
    const jobs = text.split("\n").filter((line) => /^[·○→✓✗⊘-] /.test(line));
    assert.deepEqual(
      jobs.map((line) => line.split(/\s{2,}/).slice(0, 3)),
      [
        ["○ compile", "-", "queued"],
        ["· test (1/2)", "compile", "pending"],
        ["· test (2/2)", "compile", "pending"],
        ["· package", "test", "pending"],
      ],
    );
    const shown = json(await slipway("pipeline", "show", latest.id, "--json"));
    assert.equal(shown.id, latest.id);
    assert.equal(shown.jobs.length, 4);
    failed(await slipway("pipeline", "show", "web#9"), /pipeline run 'web#9' not found/);
  });

  it("show --follow prints each change until the run ends; cancel cancels a run once", async () => {
    const [latest] = json(await slipway("pipeline", "list", "web", "--json"));
    const following = start(["pipeline", "show", latest.id, "--follow"]);
    await following.output(/run #2: queued\n/);
    const cancelled = ok(await slipway("pipeline", "cancel", "web#2"));
    assert.match(cancelled.stdout, /^Run #2 of web cancelled: cancelled by admin\.$/m);
    const followed = ok(await following.done);
    assert.doesNotMatch(followed.stdout, /\x1b\[/, "not a terminal: plain lines");
    assert.match(followed.stdout, new RegExp(`^Run #2 of web \\(${latest.id}\\): main at [0-9a-f]{12}: a pipeline no runner can take, manual by admin$`, "m"));
    assert.match(followed.stdout, /^\d\d:\d\d:\d\d {2}compile: queued$/m);
    assert.match(followed.stdout, /^\d\d:\d\d:\d\d {2}compile: queued -> cancelled: cancelled by admin/m);
    assert.match(followed.stdout, /^\d\d:\d\d:\d\d {2}run #2: queued -> cancelled: cancelled by admin$/m);

    const again = json(await slipway("pipeline", "cancel", latest.id, "--json"));
    assert.equal(again.state, "cancelled");
    assert.match(ok(await slipway("pipeline", "cancel", latest.id)).stdout, /^Run #2 of web had already been cancelled; nothing to cancel\.$/m);
    assert.ok(json(await slipway("pipeline", "show", latest.id, "--json")).jobs.every((j: any) => j.state === "cancelled"));
  });

  it("run --follow exits non-zero, naming the reason, when the run does not succeed", async () => {
    const following = start(["pipeline", "run", "web", "--follow"]);
    const [, id] = await following.output(/^Run #3 of web \((run_\w+)\)/m);
    assert.equal((await t.api("POST", `/api/v1/runs/${id}/cancel`)).status, 200);
    const result = failed(await following.done, /^error: run #3 of web cancelled: cancelled by admin$/m);
    assert.match(result.stdout, /run #3: queued -> cancelled/);
  });

  it("logs of a run that never ran are empty, and --follow ends at once; an unknown job is named", async () => {
    assert.equal(ok(await slipway("pipeline", "logs", "web#3")).stdout, "");
    assert.equal(ok(await slipway("pipeline", "logs", "web#3", "test", "--follow", "--json")).stdout, "");
    const unknown = failed(await slipway("pipeline", "logs", "web#3", "tests"), /^error: run #3 of web has no job 'tests'$/m);
    assert.match(unknown.stderr, /JOB: one of compile, test, package, or a job id/);
  });
});

describe("slipway variable", () => {
  it("sets plain and secret variables (a value from stdin), lists them without secrets, and unsets them", async () => {
    assert.match(ok(await slipway("variable", "set", "web", "GREETING", "hello world")).stdout, /^Set GREETING for the pipeline of web\.$/m);
    const secret = ok(await start(["variable", "set", "web", "API_KEY", "-", "--secret"], { input: `${SECRET}\n` }).done);
    assert.match(secret.stdout, /Set API_KEY for the pipeline of web \(secret: masked in logs, never shown again\)/);
    assert.doesNotMatch(secret.stdout, new RegExp(SECRET));
    const listed = ok(await slipway("variable", "list", "web")).stdout;
    assert.match(listed, /^API_KEY\s+\S+ \S+\s+\(secret\)$/m);
    assert.match(listed, /^GREETING\s+\S+ \S+\s+hello world$/m);
    assert.doesNotMatch(listed, new RegExp(SECRET));
    assert.deepEqual(
      json(await slipway("variable", "list", "web", "--json")).map((v: any) => [v.name, v.secret, v.value]),
      [
        ["API_KEY", true, null],
        ["GREETING", false, "hello world"],
      ],
    );
    failed(await slipway("variable", "set", "web", "9LIVES", "x"), /variable names are letters, digits and _/);
    assert.match(ok(await slipway("variable", "unset", "web", "GREETING")).stdout, /^Removed GREETING from the pipeline variables of web\.$/m);
    failed(await slipway("variable", "unset", "web", "GREETING"), /^error: .*GREETING.* not found/);
    assert.deepEqual(json(await slipway("variable", "list", "web", "--json")).map((v: any) => v.name), ["API_KEY"]);
  });
});

describe("slipway pipeline with a runner", () => {
  let runId: string;

  it("logs --follow prints every job's lines as they are written, in order, with secrets masked", async () => {
    const run = start(["pipeline", "run", "web", "--branch", "ci", "--follow"]);
    [, runId = ""] = await run.output(/^Run #4 of web \((run_\w+)\)/m);
    const logs = start(["pipeline", "logs", runId, "--follow"]);
    await logs.output(/^compile {4}\| {3}hello from compile$/m);
    await writeFile(gate, "");
    const [followed, watched] = await Promise.all([logs.done, run.done.then(ok)]);
    assert.match(watched.stdout, /^Run #4 of web succeeded: release 2\.0\.4\.$/m);
    assert.match(watched.stdout, /run #4: running -> succeeded: every job succeeded; release 2\.0\.4$/m);
    const text = ok(followed).stdout;
    const width = "test (1/2)".length;
    const prefix = (name: string) => `${name.padEnd(width)} | `;
    const lines = text.split("\n");
    const at = (start: string) => {
      const index = lines.findIndex((line) => line.startsWith(start));
      assert.ok(index >= 0, `no line starting ${JSON.stringify(start)} in:\n${text}`);
      return index;
    };
    assert.ok(at(`${prefix("compile")}# step 1: greet`) < at(`${prefix("compile")}  hello from compile`));
    assert.ok(at(`${prefix("compile")}! a warning`) < at(`${prefix("compile")}# step 2: stamp`));
    at(`${prefix("compile")}  the key is ***`);
    assert.doesNotMatch(text, new RegExp(SECRET));
    for (const shard of ["test (1/2)", "test (2/2)"]) assert.ok(at(`${prefix(shard)}# step 1: tests`) < at(`${prefix(shard)}# job succeeded`));
    assert.ok(lines.some((line) => line.startsWith(`${prefix("test (1/2)")}  ok `)) && lines.some((line) => line.startsWith(`${prefix("test (2/2)")}  ok `)), text);
    assert.equal(lines.filter((line) => /^test \(\d\/2\) \| # re-running 1 file of failed tests \(retry 1 of 2\): test\/c\.test\.js$/.test(line)).length, 1);
    assert.ok(lines.some((line) => line.startsWith(`${prefix("package")}# `)), text);
  });

  it("logs without --follow reads one job (every shard of it) a page at a time, as text or JSON lines", async () => {
    const compile = ok(await slipway("pipeline", "logs", runId, "compile")).stdout;
    assert.match(compile, /^# step 1: greet\n {2}hello from compile\n! a warning\n# step 2: stamp\n {2}the key is \*\*\*\n# step 3: count\n/m);
    // 2,500 lines are three pages of 1,000: all of them, once each, in order.
    const counted = compile.split("\n").filter((line) => /^ {2}\d+$/.test(line));
    assert.deepEqual(counted, Array.from({ length: 2500 }, (_, i) => `  ${i + 1}`));
    const tests = ok(await slipway("pipeline", "logs", runId, "test", "--json")).stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual([...new Set(tests.map((line: any) => line.name))], ["test (1/2)", "test (2/2)"], "shard 1 whole, then shard 2");
    assert.ok(tests.every((line: any) => line.key === "test" && typeof line.seq === "number" && ["stdout", "stderr", "system"].includes(line.stream)));
  });

  it("show has the jobs' runners, attempts, times and tests, and names the flaky test", async () => {
    const text = ok(await slipway("pipeline", "show", runId)).stdout;
    assert.match(text, /^State:\s+succeeded: every job succeeded$/m);
    assert.match(text, /^Release:\s+2\.0\.4 \(rel_\w+\)$/m);
    assert.match(text, /^Tests:\s+2 passed, 1 flaky$/m);
    assert.match(text, /^✓ compile\s+-\s+succeeded\s+ci-1\s+1\/1\s+\d+ s\s+-\s+-$/m);
    assert.match(text, /^Flaky tests \(failed, then passed on a re-run\):\n {2}test\/c\.test\.js::sometimes fails {2}\[test \(\d\/2\)\]/m);
  });

  it("tests lists the service's tests by history; quarantine, quarantined and release manage the quarantine", async () => {
    const flakiest = json(await slipway("tests", "web", "--sort", "flakiest", "--json"));
    assert.equal(flakiest[0].test_id, "test/c.test.js::sometimes fails");
    assert.ok(flakiest[0].flakes >= 1);
    assert.match(ok(await slipway("tests", "web")).stdout, /^MEAN\s+LAST\s+RUNS\s+FAILED\s+FLAKY\s+FLAKE RATE\s+QUARANTINED\s+LAST RUN\s+TEST$/m);
    failed(await slipway("tests", "web", "--sort", "oldest"), /unknown --sort 'oldest'/);

    const id = "test/c.test.js::sometimes fails";
    const quarantined = json(await slipway("tests", "quarantine", "web", id, "--reason", "races on the clock", "--json"));
    assert.deepEqual([quarantined.test_id, quarantined.reason, quarantined.automatic, quarantined.created_by], [id, "races on the clock", false, "admin"]);
    assert.match(ok(await slipway("tests", "quarantined", "web")).stdout, /^\S+ \S+\s+admin\s+races on the clock\s+test\/c\.test\.js::sometimes fails$/m);
    assert.equal(json(await slipway("tests", "web", "--sort", "flakiest", "--json"))[0].quarantined, true);
    assert.match(ok(await slipway("tests", "release", "web", id)).stdout, /^Released test\/c\.test\.js::sometimes fails of web from quarantine/m);
    failed(await slipway("tests", "release", "web", id), /not found/);
    assert.match(ok(await slipway("tests", "quarantined", "web")).stdout, /^No tests of web are in quarantine\.$/m);
  });
});

describe("slipway webhook-secret", () => {
  it("prints the secret once and each provider's URL, which accepts a push signed with that secret", async () => {
    const text = ok(await slipway("webhook-secret", "web")).stdout;
    assert.match(text, /shown only this once/);
    const created = json(await slipway("webhook-secret", "web", "--json"));
    assert.match(created.secret, /^[0-9a-f]{48}$/);
    assert.ok(!text.includes(created.secret), "a second secret replaced the first");
    for (const provider of ["github", "gitlab", "gitea", "generic"]) assert.equal(created.urls[provider], `${t.url}${created.url_path.replace("{provider}", provider)}`);

    const body = JSON.stringify({ repository: repo, ref: "refs/heads/main", after: await headOf(repo, "main"), pusher: "ada" });
    const sign = (secret: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    const post = (secret: string) => fetch(created.urls.generic, { method: "POST", headers: { "content-type": "application/json", "x-slipway-signature": sign(secret) }, body });
    assert.equal((await post("not-the-secret")).status, 401);
    assert.ok([200, 202].includes((await post(created.secret)).status));
  });
});
