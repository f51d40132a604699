// How a pipeline run reads in a terminal: its jobs in the order their needs put them, each with
// its state, runner, attempts, time and test summary; and, while it runs, a view that redraws
// itself in place on a terminal or appends one line per change when the output is a file or a
// pipe (so CI logs and `| tee` stay readable).
import type { z } from "zod";
import type { JobState, Run, RunJob, RunList, RunState, TestResultView, TestSummary } from "../contracts/pipelines.ts";
import { topologicalOrder } from "../core/pipeline/dag.ts";
import { isTerminalRun } from "../core/pipeline/run.ts";
import type { Output } from "./progress.ts";
import { renderTable, shortTime, type Column } from "./output.ts";

export type RunSummary = z.infer<typeof RunList>["items"][number];
type TestResult = z.infer<typeof TestResultView>;

export const isFinishedRun = (run: Pick<Run, "state">): boolean => isTerminalRun(run.state);

const JOB_MARKS: Record<JobState, string> = { pending: "·", queued: "○", running: "→", succeeded: "✓", failed: "✗", cancelled: "⊘", skipped: "-" };
const RUN_WORDS: Record<RunState, string> = { queued: "queued", running: "running", succeeded: "succeeded", failed: "failed", cancelled: "cancelled", superseded: "superseded" };

/** `Run #3 of web`. */
export const runTitle = (run: Pick<Run, "number" | "service">): string => `Run #${run.number} of ${run.service}`;

/** `failed: test failed`, or just the state when there is no reason. */
export const runStateLine = (run: Pick<Run, "state" | "reason">): string => `${RUN_WORDS[run.state]}${run.reason ? `: ${run.reason}` : ""}`;

/** `Ada Lovelace` out of `Ada Lovelace <ada@example.com>`. */
export const authorName = (author: string): string => author.replace(/\s*<[^>]*>$/, "") || author;

/** `8 s`, `3 min 4 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min${seconds % 60 ? ` ${seconds % 60} s` : ""}`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
}

/** How long something took (or has taken so far); a dash before it started. */
export function took(startedAt: string | null, finishedAt: string | null, now: number): string {
  if (startedAt === null) return "-";
  return formatDuration((finishedAt === null ? now : Date.parse(finishedAt)) - Date.parse(startedAt));
}

/** `12 passed, 1 failed, 2 flaky` (zeros left out, but never empty). */
export function testSummaryText(tests: TestSummary): string {
  const parts = (["passed", "failed", "flaky", "skipped"] as const).filter((key) => tests[key] > 0).map((key) => `${tests[key]} ${key}`);
  if (tests.quarantined_failures > 0) parts.push(`${tests.quarantined_failures} quarantined failure${tests.quarantined_failures === 1 ? "" : "s"}`);
  return parts.join(", ") || "no tests";
}

/** The test summaries of every job that ran tests, added up; null when none did. */
export function runTestSummary(jobs: readonly Pick<RunJob, "tests">[]): TestSummary | null {
  const summaries = jobs.map((job) => job.tests).filter((tests): tests is TestSummary => tests !== null);
  if (summaries.length === 0) return null;
  const total: TestSummary = { passed: 0, failed: 0, flaky: 0, skipped: 0, quarantined_failures: 0 };
  for (const tests of summaries) for (const key of Object.keys(total) as (keyof TestSummary)[]) total[key] += tests[key];
  return total;
}

/** Jobs in the order their needs put them (a job after everything it needs), shards in order. */
export function jobsInOrder<J extends Pick<RunJob, "key" | "needs" | "shard">>(jobs: readonly J[]): J[] {
  const keys = [...new Set(jobs.map((job) => job.key))];
  const graph = Object.fromEntries(keys.map((key) => [key, { needs: (jobs.find((job) => job.key === key)?.needs ?? []).filter((need) => keys.includes(need)) }]));
  let order: string[];
  try {
    order = topologicalOrder(graph);
  } catch {
    // A run's jobs come from a validated pipeline; should they not, their own order will do.
    order = keys;
  }
  const rank = new Map(order.map((key, index) => [key, index]));
  return [...jobs].sort((a, b) => (rank.get(a.key) ?? 0) - (rank.get(b.key) ?? 0) || (a.shard?.index ?? 0) - (b.shard?.index ?? 0));
}

/** `running: compile (2/3)` for a job in a step; the state otherwise. */
export function jobStateText(job: Pick<RunJob, "state" | "steps">): string {
  if (job.state !== "running") return job.state;
  const index = job.steps.findIndex((step) => step.state === "running");
  const step = job.steps[index];
  return step ? `running: ${step.name} (${index + 1}/${job.steps.length})` : "running";
}

const jobColumns = (now: number): Column<RunJob>[] => [
  { header: "JOB", value: (j) => `${JOB_MARKS[j.state]} ${j.name}` },
  { header: "NEEDS", value: (j) => j.needs.join(",") || "-" },
  { header: "STATE", value: (j) => jobStateText(j) },
  { header: "RUNNER", value: (j) => j.runner ?? "-" },
  { header: "ATTEMPT", value: (j) => (j.attempt === 0 ? "-" : `${j.attempt}/${j.max_attempts}`) },
  { header: "TOOK", value: (j) => took(j.started_at, j.finished_at, now) },
  { header: "TESTS", value: (j) => (j.tests ? testSummaryText(j.tests) : "-") },
  { header: "REASON", value: (j) => j.reason ?? "-" },
];

/** The run's jobs as a table, in the order of their needs. */
export const jobsTable = (run: Pick<Run, "jobs">, now: number): string => renderTable(jobsInOrder(run.jobs), jobColumns(now));

/** `main at 4f2a9c1d0e3b: fix the checkout total`. */
const commitLine = (run: Pick<Run, "branch" | "sha" | "message">): string => `${run.branch ?? "(no branch)"} at ${run.sha.slice(0, 12)}${run.message ? `: ${run.message.split("\n")[0]}` : ""}`;

/** The run for `pipeline show`; with the run's test results, the tests that failed or flaked by name. */
export function describeRun(run: Run, tests: readonly TestResult[] = [], now = Date.now()): string {
  const summary = runTestSummary(run.jobs);
  const lines = [
    `${runTitle(run)} (${run.id})`,
    `State:     ${runStateLine(run)}`,
    `Commit:    ${commitLine(run)}`,
    `Author:    ${run.author}`,
    `Trigger:   ${run.trigger}, by ${run.triggered_by}`,
    `Created:   ${shortTime(run.created_at)}`,
    `Started:   ${shortTime(run.started_at)}`,
    `Finished:  ${shortTime(run.finished_at)}${run.started_at ? ` (${took(run.started_at, run.finished_at, now)})` : ""}`,
    `Release:   ${run.release ? `${run.release.version} (${run.release.id})` : "-"}`,
  ];
  if (summary) lines.push(`Tests:     ${testSummaryText(summary)}`);
  lines.push("", run.jobs.length ? jobsTable(run, now) : "No jobs.");
  for (const [outcome, heading] of [["failed", "Failed tests"], ["flaky", "Flaky tests (failed, then passed on a re-run)"]] as const) {
    const listed = tests.filter((t) => t.outcome === outcome);
    if (listed.length === 0) continue;
    lines.push("", `${heading}:`);
    for (const t of listed) lines.push(`  ${t.test_id}  [${t.job}]${t.quarantined ? " (quarantined)" : ""}${t.message ? `: ${t.message.split("\n")[0]}` : ""}`);
  }
  return lines.join("\n");
}

export const RUN_COLUMNS: Column<RunSummary>[] = [
  { header: "#", value: (r) => String(r.number) },
  { header: "SERVICE", value: (r) => r.service },
  { header: "BRANCH", value: (r) => r.branch ?? "-" },
  { header: "SHA", value: (r) => r.sha.slice(0, 12) },
  { header: "STATE", value: (r) => r.state },
  { header: "TRIGGER", value: (r) => r.trigger },
  { header: "AUTHOR", value: (r) => authorName(r.author) },
  { header: "STARTED", value: (r) => shortTime(r.started_at) },
  { header: "DURATION", value: (r) => took(r.started_at, r.finished_at, Date.now()) },
  { header: "RELEASE", value: (r) => r.release?.version ?? "-" },
];

const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);

/**
 * A run as it goes. On a terminal: a block (the run's state, its elapsed time and the jobs
 * table) redrawn in place. Otherwise: one line per change of the run's or a job's state, with
 * the time it was seen.
 */
export class RunProgressView {
  readonly #out: Output;
  readonly #tty: boolean;
  readonly #now: () => number;
  readonly #columns: () => number | undefined;
  #headerShown = false;
  #runState: RunState | undefined;
  #jobStates = new Map<string, string>();
  #blockLines = 0;
  #last: Run | undefined;

  /** `columns`: the terminal's width, to keep each line of the block on one line of the screen. */
  constructor(out: Output, options: { tty: boolean; now?: () => number; columns?: () => number | undefined }) {
    this.#out = out;
    this.#tty = options.tty;
    this.#now = options.now ?? Date.now;
    this.#columns = options.columns ?? (() => undefined);
  }

  update(run: Run): void {
    this.#last = run;
    const lines: string[] = [];
    if (!this.#headerShown) {
      this.#headerShown = true;
      lines.push(`${runTitle(run)} (${run.id}): ${commitLine(run)}, ${run.trigger} by ${run.triggered_by}`);
    }
    if (!this.#tty) lines.push(...this.#changes(run));
    this.#draw(lines, run);
  }

  /** Redraws the elapsed times without new data; a no-op without a terminal. */
  tick(): void {
    if (this.#tty && this.#last) this.#draw([], this.#last);
  }

  /** The last word: the block stays on screen as the final picture. */
  finish(run: Run): void {
    this.update(run);
    this.#blockLines = 0;
  }

  #changes(run: Run): string[] {
    const at = clock(this.#now());
    const lines: string[] = [];
    for (const job of jobsInOrder(run.jobs)) {
      const key = `${job.state}|${job.attempt}`;
      const before = this.#jobStates.get(job.id);
      if (before === key) continue;
      this.#jobStates.set(job.id, key);
      if (before === undefined && job.state === "pending") continue;
      const from = before?.split("|")[0];
      const change = from && from !== job.state ? `${from} -> ${job.state}` : job.state;
      const where = job.state === "running" ? ` on ${job.runner ?? "a runner"}${job.max_attempts > 1 ? `, attempt ${job.attempt}/${job.max_attempts}` : ""}` : "";
      const done = job.finished_at && job.state !== "running" && job.state !== "queued" ? ` (${took(job.started_at, job.finished_at, this.#now())})` : "";
      // A tests job's reason is its verdict on the tests; without one, the counts say it.
      const why = job.state === "running" ? "" : job.reason ? `: ${job.reason}` : job.tests ? `: tests: ${testSummaryText(job.tests)}` : "";
      lines.push(`${at}  ${job.name}: ${change}${where}${why}${done}`);
    }
    if (run.state !== this.#runState) {
      const from = this.#runState;
      this.#runState = run.state;
      lines.push(`${at}  run #${run.number}: ${from ? `${from} -> ` : ""}${runStateLine(run)}${isFinishedRun(run) && run.release ? `; release ${run.release.version}` : ""}`);
    }
    return lines;
  }

  #draw(newLines: string[], run: Run): void {
    if (!this.#tty) {
      if (newLines.length) this.#out.write(newLines.join("\n") + "\n");
      return;
    }
    // Erase the previous block (cursor up N lines, clear to the end), print the new lines, redraw.
    const erase = this.#blockLines > 0 ? `\x1b[${this.#blockLines}F\x1b[J` : "";
    const now = this.#now();
    // A line wider than the terminal would wrap onto two, and the next redraw would erase one too few.
    const width = this.#columns();
    const fit = (line: string) => (width !== undefined && line.length >= width ? `${line.slice(0, Math.max(0, width - 2))}…` : line);
    const block = [`  ${runStateLine(run)}  (${took(run.started_at ?? run.created_at, run.finished_at, now)})${run.release ? `  release ${run.release.version}` : ""}`, ...jobsTable(run, now).split("\n").map((line) => `    ${line}`)].map(fit);
    this.#blockLines = block.length;
    this.#out.write(erase + [...newLines, ...block].map((line) => line + "\n").join(""));
  }
}
