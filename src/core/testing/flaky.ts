// Flaky tests: what the attempts of one job say about each test, the flake rate over a test's
// history, automatic quarantine, and whether the job passes.
//
// Attempts are successive runs of the same tests on the same commit: the shard's first run,
// then each re-run of the files of its failed tests (up to `tests.retries`).
//
//   outcome   a test that...
//   flaky     failed (or errored) in some attempt and passed in another, in either order, or
//             passed after its own tool retried it (Surefire's flakyFailure): the same code both
//             passed and failed, so the failure is not the commit's.
//   failed    failed in every attempt it ran in. Deterministic: never called flaky.
//   passed    passed in every attempt it ran in.
//   skipped   was skipped in every attempt.
//
// Flake rate: over a test's most recent `window` runs that ran (skipped runs are not runs),
// oldest first in `history`, the share whose outcome was `flaky`. A deterministic failure counts
// as a run but never as a flake, so a test that is simply broken does not get quarantined (its
// rate falls), it blocks until fixed.
import type { QuarantinePolicy } from "../pipeline/schema.ts";
import { isFailure, testFileResolver, type TestResult, type TestStatus } from "./junit.ts";

export const TEST_OUTCOMES = ["passed", "failed", "flaky", "skipped"] as const;
export type TestOutcome = (typeof TEST_OUTCOMES)[number];

export interface ClassifiedTest {
  id: string;
  name: string;
  classname?: string;
  file?: string;
  outcome: TestOutcome;
  /** How many attempts the test appeared in. */
  attempts: number;
  /** The duration in the last attempt it appeared in. */
  durationMs: number;
  /** Its status in the last attempt it appeared in. */
  lastStatus: TestStatus;
  /** The message of its most recent failure (or skip), if any. */
  message?: string;
}

// When a report lists one id twice in one attempt (pytest's call failure plus teardown error,
// or two tests of the same name), the worst status stands for the attempt.
const SEVERITY: Record<TestStatus, number> = { skipped: 0, passed: 1, failed: 2, error: 3 };

/** Merges a report's results that share an id: the worst status, the durations added up. */
function mergeAttempt(results: readonly TestResult[]): Map<string, TestResult> {
  const merged = new Map<string, TestResult>();
  for (const result of results) {
    const seen = merged.get(result.id);
    if (!seen) {
      merged.set(result.id, { ...result });
      continue;
    }
    const worse = SEVERITY[result.status] > SEVERITY[seen.status] ? result : seen;
    const reruns = (seen.rerunFailures ?? 0) + (result.rerunFailures ?? 0);
    merged.set(result.id, { ...worse, durationMs: seen.durationMs + result.durationMs, ...(reruns > 0 ? { rerunFailures: reruns } : {}) });
  }
  return merged;
}

/** Classifies each test over the attempts of one job on one commit (see the header), by id. */
export function classifyAttempts(attempts: readonly (readonly TestResult[])[]): Map<string, ClassifiedTest> {
  const runs = new Map<string, TestResult[]>();
  for (const attempt of attempts) {
    for (const [id, result] of mergeAttempt(attempt)) runs.set(id, [...(runs.get(id) ?? []), result]);
  }
  const classified = new Map<string, ClassifiedTest>();
  for (const id of [...runs.keys()].sort()) {
    const results = runs.get(id)!;
    const last = results.at(-1)!;
    const failedOnce = results.some((r) => isFailure(r.status) || (r.rerunFailures ?? 0) > 0);
    const passedOnce = results.some((r) => r.status === "passed");
    const outcome: TestOutcome = failedOnce && passedOnce ? "flaky" : failedOnce ? "failed" : passedOnce ? "passed" : "skipped";
    const message = results.findLast((r) => r.message !== undefined)?.message;
    const test: ClassifiedTest = { id, name: last.name, outcome, attempts: results.length, durationMs: last.durationMs, lastStatus: last.status };
    if (last.classname !== undefined) test.classname = last.classname;
    if (last.file !== undefined) test.file = last.file;
    if (message !== undefined) test.message = message;
    classified.set(id, test);
  }
  return classified;
}

interface FlakeCount {
  flakes: number;
  runs: number;
}

function countFlakes(history: readonly { outcome: TestOutcome }[], window: number): FlakeCount {
  const ran = history.filter((h) => h.outcome !== "skipped").slice(-Math.max(1, Math.floor(window)));
  return { flakes: ran.filter((h) => h.outcome === "flaky").length, runs: ran.length };
}

/** Flaky runs / runs over the last `window` runs of `history` (oldest first); 0 with no runs. */
export function flakeRate(history: readonly { outcome: TestOutcome }[], window: number): number {
  const { flakes, runs } = countFlakes(history, window);
  return runs === 0 ? 0 : flakes / runs;
}

export interface QuarantineDecision {
  quarantine: boolean;
  rate: number;
  runs: number;
  reason: string;
}

const percent = (rate: number) => `${Math.round(rate * 1000) / 10}%`;

/**
 * Whether automatic quarantine takes a test, from its history (oldest first): once it has
 * `min_runs` runs (or a full window, when the window is the smaller), when its flake rate
 * is above `flake_rate`. Quarantine by hand is kept apart and is not decided here.
 */
export function quarantineDecision(history: readonly { outcome: TestOutcome }[], policy: QuarantinePolicy): QuarantineDecision {
  const { flakes, runs } = countFlakes(history, policy.window);
  const rate = runs === 0 ? 0 : flakes / runs;
  const decision = (quarantine: boolean, reason: string) => ({ quarantine, rate, runs, reason });
  if (!policy.auto) return decision(false, "automatic quarantine is off (quarantine.auto is false)");
  const needed = Math.min(policy.min_runs, policy.window);
  if (runs < needed) return decision(false, `${runs} of the ${needed} runs needed before the flake rate counts`);
  const observed = `flaky in ${flakes} of the last ${runs} runs (${percent(rate)})`;
  if (rate > policy.flake_rate) return decision(true, `${observed}, above the ${percent(policy.flake_rate)} threshold`);
  return decision(false, `${observed}, not above the ${percent(policy.flake_rate)} threshold`);
}

export interface JobVerdict {
  passed: boolean;
  reason: string;
  /** Tests that failed in every attempt and are not quarantined: these fail the job. */
  failed: string[];
  /** Tests that both passed and failed: reported, they do not fail the job. */
  flaky: string[];
  /** Quarantined tests that failed in every attempt: reported, they do not fail the job. */
  quarantinedFailures: string[];
}

/**
 * Whether a test job passes, from its classified tests, the quarantine list, whether its last
 * attempt's command exited 0, and whether any JUnit report was found:
 *
 *   1. A test that failed in every attempt and is not quarantined fails the job, whatever the
 *      command's exit status (a report is more precise than an exit status).
 *   2. No report: the exit status decides. Non-zero fails; zero passes, saying that no
 *      per-test results were kept (a `reports` glob that matches nothing).
 *   3. A non-zero exit must be explained by the report: some test whose last run failed (a
 *      quarantined one, or a flaky one). Otherwise the command crashed, timed out or failed
 *      outside the tests (a hook, a coverage threshold), and the job fails.
 *   4. Otherwise the job passes; flaky tests and quarantined failures are listed.
 */
export function testJobVerdict(classified: ReadonlyMap<string, ClassifiedTest>, quarantinedIds: ReadonlySet<string>, commandExitedZero: boolean, reportsFound: boolean): JobVerdict {
  const tests = reportsFound ? [...classified.values()] : [];
  const failed = tests.filter((t) => t.outcome === "failed" && !quarantinedIds.has(t.id)).map((t) => t.id);
  const flaky = tests.filter((t) => t.outcome === "flaky").map((t) => t.id);
  const quarantinedFailures = tests.filter((t) => t.outcome === "failed" && quarantinedIds.has(t.id)).map((t) => t.id);
  const verdict = (passed: boolean, reason: string): JobVerdict => ({ passed, reason, failed, flaky, quarantinedFailures });

  if (failed.length > 0) return verdict(false, `${count(failed.length, "test")} failed in every attempt: ${listed(failed)}`);
  if (!reportsFound) {
    return commandExitedZero
      ? verdict(true, "the test command succeeded; no JUnit report matched `reports`, so no per-test results were kept")
      : verdict(false, "the test command failed and no JUnit report matched `reports`");
  }
  const explained = tests.some((t) => isFailure(t.lastStatus));
  if (!commandExitedZero && !explained) {
    return verdict(false, "the test command failed but its reports show no failing test: it crashed, timed out or failed outside the tests");
  }
  const passed = tests.filter((t) => t.outcome === "passed").length;
  const notes = [flaky.length > 0 ? `${count(flaky.length, "flaky test")}: ${listed(flaky)}` : "", quarantinedFailures.length > 0 ? `${count(quarantinedFailures.length, "quarantined test")} failed: ${listed(quarantinedFailures)}` : ""].filter(Boolean);
  return verdict(true, [`${count(passed, "test")} passed`, ...notes].join("; "));
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
const listed = (ids: readonly string[], most = 5) => (ids.length <= most ? ids.join(", ") : `${ids.slice(0, most).join(", ")} and ${ids.length - most} more`);

export interface Rerun {
  /** The test files to run again, sorted: the {files} of the next attempt. */
  files: string[];
  /** Failed tests whose file could not be told: re-running by file cannot cover them. */
  unmapped: string[];
}

/**
 * The files to run again after an attempt: those of its failed tests, quarantined ones included
 * (their re-run is what tells a flaky quarantined test from a broken one). `knownFiles` (the
 * shard's files) lets dotted classnames and absolute paths be mapped to them.
 */
export function rerunFiles(lastAttempt: readonly TestResult[], knownFiles?: Iterable<string>): Rerun {
  const resolve = testFileResolver(knownFiles);
  const files = new Set<string>();
  const unmapped = new Set<string>();
  for (const result of lastAttempt) {
    if (!isFailure(result.status)) continue;
    const file = resolve(result);
    if (file === undefined) unmapped.add(result.id);
    else files.add(file);
  }
  return { files: [...files].sort(), unmapped: [...unmapped].sort() };
}
