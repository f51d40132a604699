// `slipway pipeline validate`, run as a real child process on real files: a summary of the jobs
// for a good file, every error with its line and column and a non-zero exit for a bad one.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSlipway } from "./support/cli.ts";

/** `slipway args...` in `cwd`, with a config directory of its own (it needs no login). */
const slipway = (args: string[], cwd: string) => runSlipway(args, { cwd, env: { SLIPWAY_CONFIG_DIR: cwd } });

const GOOD = `run:
  start: node server.js
on:
  push: { branches: [main] }
  schedule: ["0 3 * * *"]
jobs:
  release:
    needs: [test]
    package: { files: [dist/**], version: "1.0.{run_number}" }
  build:
    runs_on: [linux]
    steps:
      - run: npm ci
      - run: npm run build
  test:
    needs: build
    parallelism: 4
    tests: { files: "test/**/*.test.js", command: "node --test {files}" }
`;

const BAD = `jobs:
  build:
    steps: [{ run: make }]
  test:
    need: [build]
    steps: [{ run: make test }]
  release:
    needs: [tset]
    package: { files: [dist] }
`;

describe("slipway pipeline validate", () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-validate-"));
    await writeFile(join(dir, "slipway.yaml"), GOOD);
    await writeFile(join(dir, "bad.yaml"), BAD);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("checks ./slipway.yaml by default and lists its jobs in the order they can run, with needs and shards", async () => {
    const result = await slipway(["pipeline", "validate"], dir);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split("\n");
    assert.equal(lines[0], "slipway.yaml is valid.");
    const rows = lines.filter((l) => /^(build|test|release) /.test(l)).map((l) => l.split(/\s{2,}/).slice(0, 4));
    assert.deepEqual(rows, [
      ["build", "-", "1", "linux"],
      ["test", "build", "4", "any runner"],
      ["release", "test", "1", "any runner"],
    ]);
    assert.match(result.stdout, /^push: +main/m);
    assert.match(result.stdout, /^schedule: +0 3 \* \* \* \(UTC\), next \d{4}-\d\d-\d\d 03:00:00Z$/m);
  });

  it("prints the summary as JSON with --json", async () => {
    const result = await slipway(["pipeline", "validate", "slipway.yaml", "--json"], dir);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.runtime, true);
    assert.deepEqual(
      summary.jobs.map((j: { id: string; needs: string[]; shards: number }) => [j.id, j.needs, j.shards]),
      [
        ["build", [], 1],
        ["test", ["build"], 4],
        ["release", ["test"], 1],
      ],
    );
  });

  it("exits non-zero with every error as file:line:col field: message", async () => {
    const result = await slipway(["pipeline", "validate", "bad.yaml"], dir);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^error: bad.yaml is invalid: bad.yaml:5:5 jobs.test.need: unknown key 'need' \(did you mean 'needs'\?\)/);
    assert.match(result.stderr, /^ {2}bad.yaml:8:13 jobs.release.needs.0: job 'release' needs 'tset', which is not a job \(did you mean 'test'\?\)$/m);
  });

  it("gives the errors as JSON with --json, and says when the file can not be read", async () => {
    const bad = await slipway(["pipeline", "validate", "bad.yaml", "--json"], dir);
    assert.equal(bad.code, 1);
    const { error } = JSON.parse(bad.stderr);
    assert.equal(error.code, "invalid_input");
    assert.deepEqual(
      error.details.map((d: { field: string }) => d.field),
      ["bad.yaml:5:5 jobs.test.need", "bad.yaml:8:13 jobs.release.needs.0"],
    );
    const missing = await slipway(["pipeline", "validate", "missing.yaml"], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: cannot read missing.yaml: ENOENT/);
  });
});
