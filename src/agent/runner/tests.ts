// A job's `tests` section: run the command on the shard's files, read the JUnit reports it wrote,
// and run the files of the failed tests again, up to `retries` times. Every attempt's results are
// kept and sent in /finish; the server classifies them (flaky, failed, quarantined) and its
// verdict on the job prevails. The runner's own outcome is only "did the last attempt's command
// exit 0".
//
// {files} gets the files relative to the tests' working directory (the server lists them
// relative to the repository root), shell-quoted. Reports are found by the `reports` globs,
// relative to the working directory (node_modules and .git are not searched), and are deleted
// before each attempt so that an attempt never reads an earlier one's results. The time of each
// file (the sum of its tests' durations in the first attempt, which ran all of them) is sent as
// `file_timings` for the next split.
import { readFile, rm } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { JobFinish, ReportedTest, RunnerTests } from "../../contracts/runner.ts";
import { testCommand } from "../../core/testing/command.ts";
import { rerunFiles } from "../../core/testing/flaky.ts";
import { parseJUnit, timingsByFile, type TestResult } from "../../core/testing/junit.ts";
import { matchFiles } from "./paths.ts";

export type TestsReport = NonNullable<JobFinish["tests"]>;

export interface TestsDeps {
  workspace: string;
  /** The tests' working directory, absolute. */
  cwd: string;
  /** Runs one attempt's command; resolves with its exit code (null when it could not start). */
  run: (command: string) => Promise<{ exitCode: number | null; stopped: boolean }>;
  log: (text: string) => void;
}

const REPORT_SKIP = ["node_modules"];
const MAX_MESSAGE = 4000;

export async function runTests(section: RunnerTests, deps: TestsDeps): Promise<{ report: TestsReport; ok: boolean }> {
  const report: TestsReport = { attempts: [], command_exit_codes: [], reports_found: false, file_timings: {} };
  let files = section.files;
  for (let attempt = 0; ; attempt++) {
    await removeReports(deps.cwd, section.reports);
    if (attempt > 0) deps.log(`re-running ${files.length} file${files.length === 1 ? "" : "s"} of failed tests (retry ${attempt} of ${section.retries}): ${files.join(" ")}`);
    const { exitCode, stopped } = await deps.run(testCommand(section.command, files.map((file) => fromCwd(deps, file))));
    const { results, found } = await readReports(section.reports, deps);
    report.attempts.push(results.map(toReported));
    report.command_exit_codes.push(exitCode ?? -1);
    report.reports_found ||= found > 0;
    if (attempt === 0) {
      const shard = new Set(section.files);
      for (const [file, ms] of timingsByFile(results, section.files)) if (shard.has(file)) report.file_timings[file] = Math.round(ms);
    }
    const ok = exitCode === 0;
    if (ok || stopped || attempt >= section.retries) return { report, ok };
    const rerun = rerunFiles(results, section.files);
    if (rerun.unmapped.length > 0) deps.log(`cannot tell the file of ${rerun.unmapped.length} failed test(s), so they are not re-run: ${rerun.unmapped.slice(0, 5).join(", ")}`);
    if (rerun.files.length === 0) return { report, ok };
    files = rerun.files;
  }
}

/** A file relative to the repository root, as the command in the working directory names it. */
function fromCwd(deps: Pick<TestsDeps, "workspace" | "cwd">, file: string): string {
  return relative(deps.cwd, join(deps.workspace, file)).split(sep).join("/");
}

async function removeReports(cwd: string, globs: readonly string[]): Promise<void> {
  for (const file of await matchFiles(cwd, globs, { skipDirectories: REPORT_SKIP })) await rm(join(cwd, file), { force: true });
}

/** Every test of every report found; a report that cannot be read or parsed is said and skipped. */
async function readReports(globs: readonly string[], deps: Pick<TestsDeps, "workspace" | "cwd" | "log">): Promise<{ results: TestResult[]; found: number }> {
  const results: TestResult[] = [];
  const files = await matchFiles(deps.cwd, globs, { skipDirectories: REPORT_SKIP });
  for (const file of files) {
    try {
      results.push(...parseJUnit(await readFile(join(deps.cwd, file), "utf8"), file, { root: deps.workspace }));
    } catch (error) {
      deps.log(`skipping the report ${file}: ${(error as Error).message}`);
    }
  }
  return { results, found: files.length };
}

function toReported(result: TestResult): ReportedTest {
  return {
    id: result.id,
    name: result.name,
    classname: result.classname ?? null,
    file: result.file ?? null,
    duration_ms: result.durationMs,
    status: result.status,
    message: result.message ? result.message.slice(0, MAX_MESSAGE) : null,
  };
}
