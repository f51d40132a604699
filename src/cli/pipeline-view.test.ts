import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Run, RunJob } from "../contracts/pipelines.ts";
import { RunProgressView, describeRun, formatDuration, jobsInOrder, runTestSummary } from "./pipeline-view.ts";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();

function job(key: string, overrides: Partial<RunJob> = {}): RunJob {
  return {
    id: `job_${key}${overrides.shard ? `_${overrides.shard.index}` : ""}`,
    key,
    name: overrides.shard ? `${key} (${overrides.shard.index + 1}/${overrides.shard.total})` : key,
    shard: null,
    needs: [],
    state: "pending",
    attempt: 0,
    max_attempts: 1,
    runner: null,
    steps: [],
    tests: null,
    test_files: [],
    reason: null,
    queued_at: null,
    started_at: null,
    finished_at: null,
    ...overrides,
  };
}

function run(jobs: RunJob[], overrides: Partial<Run> = {}): Run {
  return {
    id: "run_1",
    service: "web",
    number: 7,
    state: "running",
    trigger: "manual",
    branch: "main",
    sha: "4f2a9c1d0e3b4f2a9c1d0e3b4f2a9c1d0e3b4f2a",
    message: "fix the total\n\nlonger text",
    author: "Ada Lovelace <ada@example.com>",
    triggered_by: "alice",
    reason: null,
    release: null,
    created_at: at(0),
    started_at: at(1),
    finished_at: null,
    jobs,
    ...overrides,
  };
}

describe("pipeline view", () => {
  it("orders jobs by their needs, not by name, with shards in order", () => {
    const jobs = [
      job("package", { needs: ["test"] }),
      job("test", { needs: ["compile"], shard: { index: 1, total: 2 } }),
      job("compile"),
      job("test", { needs: ["compile"], shard: { index: 0, total: 2 } }),
      job("lint"),
    ];
    assert.deepEqual(
      jobsInOrder(jobs).map((j) => j.name),
      ["compile", "test (1/2)", "test (2/2)", "package", "lint"],
    );
  });

  it("keeps the jobs' own order when their needs name jobs the run does not have", () => {
    assert.deepEqual(jobsInOrder([job("b", { needs: ["gone"] }), job("a", { needs: ["b"] })]).map((j) => j.key), ["b", "a"]);
  });

  it("writes durations as people read them", () => {
    assert.deepEqual([400, 8_000, 64_000, 120_000, 3_720_000, 7_200_000].map(formatDuration), ["0 s", "8 s", "1 min 4 s", "2 min", "1 h 2 min", "2 h"]);
  });

  it("adds up the test summaries of a run's jobs", () => {
    const tests = (passed: number, failed: number) => ({ passed, failed, flaky: 1, skipped: 0, quarantined_failures: 0 });
    assert.equal(runTestSummary([job("a")]), null);
    assert.deepEqual(runTestSummary([job("a", { tests: tests(3, 1) }), job("b"), job("c", { tests: tests(2, 0) })]), { passed: 5, failed: 1, flaky: 2, skipped: 0, quarantined_failures: 0 });
  });

  it("describes a run with its failing tests by name", () => {
    const failed = run([job("test", { state: "failed", attempt: 2, max_attempts: 2, runner: "ci-1", started_at: at(1), finished_at: at(31), reason: "1 test failed", tests: { passed: 4, failed: 1, flaky: 0, skipped: 0, quarantined_failures: 0 } })], {
      state: "failed",
      reason: "test failed",
      finished_at: at(31),
    });
    const text = describeRun(failed, [{ test_id: "a.test.js::adds", name: "adds", classname: null, file: "a.test.js", outcome: "failed", quarantined: false, duration_ms: 5, attempts: 3, message: "expected 2\nmore", job: "test" }]);
    assert.match(text, /^State:\s+failed: test failed$/m);
    assert.match(text, /^Commit:\s+main at 4f2a9c1d0e3b: fix the total$/m);
    assert.match(text, /^Finished:\s+2026-01-01 10:00:31Z \(30 s\)$/m);
    assert.match(text, /^✗ test\s+-\s+failed\s+ci-1\s+2\/2\s+30 s\s+4 passed, 1 failed\s+1 test failed$/m);
    assert.match(text, /^Failed tests:\n {2}a\.test\.js::adds {2}\[test\]: expected 2$/m);
  });

  it("appends a line per change without a terminal", () => {
    let text = "";
    let now = Date.parse(at(1));
    const view = new RunProgressView({ write: (chunk: string) => (text += chunk) }, { tty: false, now: () => now });
    const compile = job("compile", { state: "queued" });
    view.update(run([compile, job("test", { needs: ["compile"] })], { state: "queued" }));
    now += 1000;
    view.update(run([{ ...compile, state: "running", runner: "ci-1", attempt: 1, started_at: at(2) }, job("test", { needs: ["compile"] })]));
    now += 4000;
    const done = run([{ ...compile, state: "succeeded", runner: "ci-1", attempt: 1, started_at: at(2), finished_at: at(6) }, job("test", { needs: ["compile"], state: "skipped", reason: "a need failed" })], { state: "failed", reason: "test skipped", finished_at: at(6) });
    view.update(done);
    view.finish(done);
    assert.doesNotMatch(text, /\x1b\[/);
    assert.deepEqual(text.trim().split("\n"), [
      "Run #7 of web (run_1): main at 4f2a9c1d0e3b: fix the total, manual by alice",
      "10:00:01  compile: queued",
      "10:00:01  run #7: queued",
      "10:00:02  compile: queued -> running on ci-1",
      "10:00:02  run #7: queued -> running",
      "10:00:06  compile: running -> succeeded (4 s)",
      "10:00:06  test: pending -> skipped: a need failed",
      "10:00:06  run #7: running -> failed: test skipped",
    ].map((line) => line.replace(/^10:00:0\d/, (time) => new Date(Date.parse(`2026-01-01T${time}Z`)).toTimeString().slice(0, 8))));
  });

  it("redraws the jobs in place on a terminal and leaves the last picture on screen", () => {
    const writes: string[] = [];
    const view = new RunProgressView({ write: (chunk: string) => writes.push(chunk) }, { tty: true, now: () => Date.parse(at(11)) });
    const jobs = [job("compile", { state: "running", attempt: 1, runner: "ci-1", started_at: at(1), steps: [{ index: 0, name: "npm ci", state: "running", started_at: 1, finished_at: null, exit_code: null }, { index: 1, name: "build", state: "pending", started_at: null, finished_at: null, exit_code: null }] })];
    view.update(run(jobs));
    view.tick();
    view.finish(run([{ ...jobs[0]!, state: "succeeded", finished_at: at(9) }], { state: "succeeded", finished_at: at(9), release: { id: "rel_1", version: "1.0.7" } }));
    assert.equal(writes.length, 3);
    assert.doesNotMatch(writes[0]!, /\x1b\[/, "nothing to erase the first time");
    assert.match(writes[0]!, /^Run #7 of web \(run_1\)/);
    assert.match(writes[0]!, /^ {2}running {2}\(10 s\)$/m);
    assert.match(writes[0]!, /^ {4}→ compile\s+-\s+running: npm ci \(1\/2\)\s+ci-1\s+1\/1\s+10 s/m);
    // The block is three lines (state, table header, one job): each redraw moves up over them first.
    assert.ok(writes[1]!.startsWith("\x1b[3F\x1b[J"), JSON.stringify(writes[1]));
    assert.match(writes[2]!, /^\x1b\[3F\x1b\[J {2}succeeded {2}\(8 s\) {2}release 1\.0\.7\n {4}JOB.*\n {4}✓ compile\s+-\s+succeeded\s+ci-1\s+1\/1\s+8 s/);
  });

  it("cuts the block's lines to the terminal's width, so that a redraw erases exactly the block", () => {
    let text = "";
    const view = new RunProgressView({ write: (chunk: string) => (text += chunk) }, { tty: true, columns: () => 40 });
    view.update(run([job("test", { state: "failed", reason: "3 tests failed: a.test.js::adds, b.test.js::subtracts, c.test.js::divides" })]));
    const block = text.split("\n").slice(1, -1);
    assert.equal(block.length, 3);
    for (const line of block) assert.ok(line.length < 40, line);
    assert.match(block[2]!, /^ {4}✗ test.*…$/);
  });
});
