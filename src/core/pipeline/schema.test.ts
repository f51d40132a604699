// The pipeline part of slipway.yaml as the parser reads it: defaults, the shapes people write,
// and errors that name the exact line and column, including the checks across jobs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SlipwayError } from "../errors.ts";
import { keysAt, parseManifest, parseSlipwayFile } from "../manifest/parse.ts";
import { ServiceManifest, SlipwayFile } from "../manifest/schema.ts";

function errorOf(text: string): SlipwayError {
  try {
    parseSlipwayFile(text);
  } catch (error) {
    if (error instanceof SlipwayError) return error;
    throw error;
  }
  throw new Error("expected slipway.yaml to be refused");
}

const fieldsOf = (text: string) => errorOf(text).details.map((d) => `${d.field}: ${d.message}`);

const FULL = `
run:
  start: node server.js
on:
  push: { branches: [main, "release/**"] }
  schedule: ["0 3 * * *", { cron: "0 6 * * MON", branch: develop, timezone: Europe/Paris }]
env: { NODE_ENV: test, WORKERS: 2 }
quarantine: { flake_rate: 0.1 }
jobs:
  build:
    runs_on: { os: linux }
    steps:
      - run: npm ci
      - { name: compile, run: npm run build, timeout: 5m, env: { CI: true }, working_directory: app }
    artifacts: [dist/**]
  test:
    needs: build
    parallelism: 4
    retry: 1
    tests:
      files: "test/**/*.test.js"
      command: node --test {files}
  release:
    needs: [test]
    package:
      files: [dist/**, package.json]
      version: "1.0.{run_number}"
`;

describe("slipway.yaml pipeline", () => {
  it("reads a full pipeline beside the runtime part, with every default filled in", () => {
    const { manifest, pipeline } = parseSlipwayFile(FULL);
    assert.equal(manifest?.run.start, "node server.js");
    assert.ok(pipeline);
    assert.deepEqual(pipeline.on.push, { branches: ["main", "release/**"] });
    assert.deepEqual(pipeline.on.schedule, [{ cron: "0 3 * * *" }, { cron: "0 6 * * MON", branch: "develop", timezone: "Europe/Paris" }]);
    assert.equal(pipeline.on.manual, true);
    assert.deepEqual(pipeline.env, { NODE_ENV: "test", WORKERS: "2" });
    assert.deepEqual(pipeline.quarantine, { auto: true, flake_rate: 0.1, min_runs: 5, window: 50 });
    assert.deepEqual(Object.keys(pipeline.jobs), ["build", "test", "release"]);
    const { build, test, release } = pipeline.jobs;
    assert.deepEqual(build?.steps[1], { name: "compile", run: "npm run build", timeout: 300_000, env: { CI: "true" }, working_directory: "app" });
    assert.equal(build?.steps[0]?.timeout, 3_600_000);
    assert.deepEqual(test?.needs, ["build"]);
    assert.deepEqual(test?.retry, { max: 1, when: ["failure", "runner_lost"] });
    assert.deepEqual(test?.tests?.files, ["test/**/*.test.js"]);
    assert.equal(test?.tests?.retries, 2);
    assert.equal(release?.package?.version, "1.0.{run_number}");
  });

  it("reads a file with only a pipeline, and defaults the triggers to pushes of any branch and manual runs", () => {
    const { manifest, pipeline } = parseSlipwayFile("jobs:\n  build:\n    steps: [{ run: make }]\n");
    assert.equal(manifest, undefined);
    assert.deepEqual(pipeline?.on, { push: { branches: ["**"] }, manual: true, schedule: [], supersede: true });
  });

  it("reads a file with only the runtime part as having no pipeline", () => {
    const parsed = parseSlipwayFile("run: { start: ./app }\n");
    assert.equal(parsed.pipeline, undefined);
    assert.equal(parsed.manifest?.run.start, "./app");
  });

  it("turns `push: false` off and `push: true` into every branch", () => {
    const push = (value: string) => parseSlipwayFile(`on: { push: ${value} }\njobs: { a: { steps: [{ run: x }] } }\n`).pipeline?.on.push;
    assert.equal(push("false"), null);
    assert.deepEqual(push("true"), { branches: ["**"] });
  });

  it("suggests the key that was meant for misspelt keys anywhere in jobs, at their line and column", () => {
    const text = [
      "jobs:", //                                       1
      "  build:", //                                    2
      "    run_on: [linux]", //                         3
      "    steps:", //                                  4
      "      - run: make", //                           5
      "        timout: 5m", //                          6
      "  test:", //                                     7
      "    need: [build]", //                           8
      "    retry: { max: 1, wen: [failure] }", //       9
      "    tests: { files: x, comand: 'x {files}', command: 'x {files}' }", // 10
      "  release: { needs: test, package: { files: [x], verison: '1' } }", // 11
      "on: { push: { branchs: [main] }, schedule: [{ cron: '@daily', timzone: UTC }] }", // 12
      "quarantine: { flake-rate: 0.1 }", //             13
    ].join("\n");
    assert.deepEqual(fieldsOf(text), [
      "slipway.yaml:3:5 jobs.build.run_on: unknown key 'run_on' (did you mean 'runs_on'?)",
      "slipway.yaml:6:9 jobs.build.steps.0.timout: unknown key 'timout' (did you mean 'timeout'?)",
      "slipway.yaml:8:5 jobs.test.need: unknown key 'need' (did you mean 'needs'?)",
      "slipway.yaml:9:22 jobs.test.retry.wen: unknown key 'wen' (did you mean 'when'?)",
      "slipway.yaml:10:24 jobs.test.tests.comand: unknown key 'comand' (did you mean 'command'?)",
      "slipway.yaml:11:50 jobs.release.package.verison: unknown key 'verison' (did you mean 'version'?)",
      "slipway.yaml:12:15 on.push.branchs: unknown key 'branchs' (did you mean 'branches'?)",
      "slipway.yaml:12:63 on.schedule.0.timzone: unknown key 'timzone' (did you mean 'timezone'?)",
      "slipway.yaml:13:15 quarantine.flake-rate: unknown key 'flake-rate' (did you mean 'flake_rate'?)",
    ]);
  });

  it("knows the keys at every level of the pipeline through unions, records, arrays and refinements", () => {
    for (const schema of [SlipwayFile, ServiceManifest]) {
      assert.ok(keysAt(schema, ["jobs", "any"]).includes("runs_on"));
      assert.ok(keysAt(schema, ["jobs", "any", "steps", 3]).includes("working_directory"));
      assert.deepEqual(keysAt(schema, ["jobs", "any", "retry"]), ["max", "when"]);
      assert.deepEqual(keysAt(schema, ["on", "push"]), ["branches"]);
      assert.deepEqual(keysAt(schema, ["on", "schedule", 0]), ["cron", "branch", "timezone"]);
      assert.ok(keysAt(schema, []).includes("quarantine"));
    }
  });

  it("says what a wrong value of a union should have been", () => {
    assert.deepEqual(fieldsOf("jobs:\n  a:\n    steps: [{ run: x }]\n    retry: { max: many }\n"), ["slipway.yaml:4:19 jobs.a.retry.max: Invalid input: expected number, received string"]);
    assert.deepEqual(fieldsOf("jobs:\n  a:\n    steps: [{ run: x }]\n    retry: often\n"), ["slipway.yaml:4:12 jobs.a.retry: expected a number or an object"]);
  });

  it("names the line of a bad cron expression, time zone or version template", () => {
    const text = [
      "on:",
      "  schedule:",
      "    - '61 * * * *'",
      "    - { cron: '* * * * * *' }",
      "    - { cron: '@daily', timezone: Mars/Olympus }",
      "jobs:",
      "  release:",
      "    package: { files: [dist], version: '{run_numbr}' }",
    ].join("\n");
    const errors = errorOf(text).details;
    assert.deepEqual(
      errors.map((e) => e.field),
      ["slipway.yaml:3:7 on.schedule.0", "slipway.yaml:4:15 on.schedule.1.cron", "slipway.yaml:5:35 on.schedule.2.timezone", "slipway.yaml:8:40 jobs.release.package.version"],
    );
    assert.match(errors[0]!.message, /'61 \* \* \* \*' is not a cron expression \(.*minute.*\)/);
    assert.match(errors[1]!.message, /five fields/);
    assert.match(errors[2]!.message, /'Mars\/Olympus' is not a time zone/);
    assert.match(errors[3]!.message, /unknown placeholder \{run_numbr\}/);
  });

  it("refuses a job with nothing to do, and parallelism without tests", () => {
    assert.deepEqual(fieldsOf("jobs:\n  a: { runs_on: [linux] }\n"), ["slipway.yaml:2:6 jobs.a: a job needs steps, tests or package"]);
    assert.deepEqual(fieldsOf("jobs:\n  a:\n    steps: [{ run: x }]\n    parallelism: 3\n"), ["slipway.yaml:4:18 jobs.a.parallelism: parallelism splits tests: give a tests section"]);
  });

  it("names the job and the missing need, with a did-you-mean, at the need's position", () => {
    const text = "jobs:\n  build:\n    steps: [{ run: make }]\n  test:\n    needs: [biuld, lint]\n    steps: [{ run: make test }]\n";
    assert.deepEqual(fieldsOf(text), [
      "slipway.yaml:5:13 jobs.test.needs.0: job 'test' needs 'biuld', which is not a job (did you mean 'build'?)",
      "slipway.yaml:5:20 jobs.test.needs.1: job 'test' needs 'lint', which is not a job",
    ]);
  });

  it("names a cycle of needs, starting from its first job", () => {
    const text = "jobs:\n  build:\n    needs: [test]\n    steps: [{ run: make }]\n  test:\n    needs: build\n    steps: [{ run: make test }]\n  self:\n    needs: [self]\n    steps: [{ run: x }]\n";
    assert.deepEqual(fieldsOf(text), [
      "slipway.yaml:3:13 jobs.build.needs.0: jobs need each other in a cycle: build -> test -> build (each needs the next), so none of them could start",
      "slipway.yaml:9:13 jobs.self.needs.0: jobs need each other in a cycle: self -> self (each needs the next), so none of them could start",
    ]);
  });

  it("refuses a second packaging job and a release that does not need every job with tests", () => {
    const text = [
      "jobs:",
      "  unit: { tests: { files: a, command: 'x {files}' } }",
      "  e2e: { tests: { files: b, command: 'x {files}' } }",
      "  release:",
      "    needs: [unit]",
      "    package: { files: [dist] }",
      "  extra:",
      "    needs: [release, e2e]",
      "    package: { files: [dist] }",
    ].join("\n");
    assert.deepEqual(fieldsOf(text), [
      "slipway.yaml:5:12 jobs.release.needs: job 'release' packages the release but does not need 'e2e', which runs tests: add 'e2e' to its needs (directly or through another job), so no release skips the tests",
      "slipway.yaml:9:14 jobs.extra.package: only one job may package the release, and 'release' already does",
    ]);
  });

  it("accepts a release that needs the tests through another job", () => {
    const text = "jobs:\n  test: { tests: { files: a, command: 'x {files}' } }\n  build: { needs: test, steps: [{ run: make }] }\n  release: { needs: build, package: { files: [dist] } }\n";
    assert.ok(parseSlipwayFile(text).pipeline);
  });

  it("refuses pipeline keys without jobs, an empty jobs map, and a file that defines nothing", () => {
    assert.deepEqual(fieldsOf("run: { start: x }\non: { manual: true }\n"), ["slipway.yaml:2:5 on: 'on' belongs to the pipeline, which has no jobs: add jobs"]);
    assert.match(fieldsOf("run: { start: x }\nenv: { A: b }\n")[0]!, /^slipway.yaml:2:6 env: .*a service's own variables go under run.env/);
    assert.deepEqual(fieldsOf("run: { start: x }\njobs: {}\n"), ["slipway.yaml:2:7 jobs: a pipeline needs at least one job"]);
    assert.deepEqual(fieldsOf("deploy: { batch_size: 1 }\njobs: { a: { steps: [{ run: x }] } }\n"), ["slipway.yaml:1:9 deploy: deploy needs run: how the service starts on a host"]);
    assert.deepEqual(fieldsOf("# nothing yet\n"), ["slipway.yaml:1:1 (top level): nothing is defined: give run (how the service runs), jobs (its pipeline), or both"]);
  });

  it("refuses job ids that are not names", () => {
    assert.deepEqual(fieldsOf("jobs:\n  'build it': { steps: [{ run: x }] }\n"), [
      "slipway.yaml:2:3 jobs.build it: 'build it' is not a valid key here: a job id is letters, digits, _ and -, starting with a letter or _",
    ]);
  });
});

describe("a release's manifest", () => {
  it("accepts and checks the pipeline keys of the same file but keeps only the runtime part", () => {
    const manifest = parseManifest(FULL);
    assert.deepEqual(Object.keys(manifest), ["run", "hooks", "deploy"]);
    assert.equal(manifest.run.start, "node server.js");
    assert.deepEqual(parseSlipwayFile(FULL).manifest, manifest);
  });

  it("still requires run, and refuses a broken pipeline", () => {
    assert.throws(() => parseManifest("jobs:\n  a: { steps: [{ run: x }] }\n"), (e: SlipwayError) => e.details[0]?.field === "slipway.yaml:1:1 run");
    assert.throws(() => parseManifest("run: { start: x }\njobs:\n  a: { needs: b, steps: [{ run: x }] }\n"), /job 'a' needs 'b', which is not a job/);
  });
});
