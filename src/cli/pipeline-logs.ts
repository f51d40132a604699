// `slipway pipeline logs RUN [JOB] [--follow]`: a run's job logs, read a page at a time (1,000
// lines) and written out as each page comes, so a long log never sits whole in memory.
//
// Text output, all on stdout in the order it was produced (so `| less` and `| grep` see it all):
//   "  text"  a line the step wrote on stdout
//   "! text"  a line it wrote on stderr
//   "# text"  the runner's own lines (checkout, test re-runs, uploads), and a "# step N: name"
//             line where each step's output begins
// With several jobs shown, each line starts with the job's name (and shard): "test (2/4) | ...".
// With --json: one JSON object per line, the API's log line with the job's id, key and name.
//
// Without --follow, every chosen job is read to where its log is now, one job after the other
// in the order of their needs. With --follow, the chosen jobs are followed at once (up to 16 of
// them; lines appear as they are written, whichever job writes them), each with a long poll,
// until all have ended.
import type { Command } from "commander";
import type { LogLine, Run, RunJob } from "../contracts/pipelines.ts";
import { SlipwayError } from "../core/errors.ts";
import { apiCommand, clientFor, type ApiClient } from "./client.ts";
import { jobsInOrder } from "./pipeline-view.ts";
import { resolveRun } from "./pipeline-runs.ts";

const PAGE_LINES = 1000;
/** How long the server may hold a follow request open when there is nothing new (its limit is 30 s). */
const WAIT_MS = 25_000;
/** Jobs followed at the same time: a run split into 64 shards does not hold 64 requests open. */
const FOLLOWED_AT_ONCE = 16;

/** The jobs `selector` names: a job id, or a job key (every shard of it); every job when undefined. */
export function selectJobs(run: Run, selector: string | undefined): RunJob[] {
  const ordered = jobsInOrder(run.jobs);
  if (selector === undefined) return ordered;
  const chosen = ordered.filter((job) => job.id === selector || job.key === selector);
  if (chosen.length === 0) {
    const keys = [...new Set(ordered.map((job) => job.key))];
    throw new SlipwayError("not_found", `run #${run.number} of ${run.service} has no job '${selector}'`, {
      details: [{ field: "JOB", message: keys.length ? `one of ${keys.join(", ")}, or a job id` : "the run has no jobs" }],
    });
  }
  return chosen;
}

/** The step a log line belongs to, as its header names it. */
function stepTitle(job: RunJob, index: number): string {
  // The tests command is logged as the step after the last one; it has no status of its own.
  const name = job.steps[index]?.name ?? (index === job.steps.length ? "tests" : undefined);
  return `# step ${index + 1}${name ? `: ${name}` : ""}`;
}

const STREAM_MARKS: Record<LogLine["stream"], string> = { stdout: "  ", stderr: "! ", system: "# " };

/** Writes pages of log lines for people (or as JSON lines), waiting for stdout to drain between pages. */
class LogWriter {
  readonly #json: boolean;
  readonly #prefixWidth: number | undefined;
  /** Per job: the attempt and step of the last line written, to mark where a new one begins. */
  readonly #position = new Map<string, { attempt: number; step: number }>();

  constructor(options: { json: boolean; jobs: readonly RunJob[] }) {
    this.#json = options.json;
    this.#prefixWidth = options.jobs.length > 1 ? Math.max(...options.jobs.map((job) => job.name.length)) : undefined;
  }

  /** Whether a line of `job` needs a step name the run did not have when it was read. */
  needsSteps(job: RunJob, lines: readonly LogLine[]): boolean {
    return !this.#json && job.steps.length === 0 && lines.some((line) => line.step >= 0);
  }

  async write(job: RunJob, lines: readonly LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const text = this.#json ? lines.map((line) => JSON.stringify({ job: job.id, key: job.key, name: job.name, ...line })).join("\n") : this.#text(job, lines);
    if (!process.stdout.write(text + "\n")) await new Promise((resolve) => process.stdout.once("drain", resolve));
  }

  #text(job: RunJob, lines: readonly LogLine[]): string {
    const prefix = this.#prefixWidth === undefined ? "" : `${job.name.padEnd(this.#prefixWidth)} | `;
    const out: string[] = [];
    let position = this.#position.get(job.id);
    for (const line of lines) {
      if (position ? line.attempt !== position.attempt : line.attempt > 1) out.push(`${prefix}# attempt ${line.attempt} of ${job.max_attempts}`);
      if (position?.attempt !== line.attempt) position = { attempt: line.attempt, step: -1 };
      if (line.step >= 0 && line.step !== position.step) {
        out.push(prefix + stepTitle(job, line.step));
        position.step = line.step;
      }
      out.push(prefix + STREAM_MARKS[line.stream] + line.text);
    }
    if (position) this.#position.set(job.id, position);
    return out.join("\n");
  }
}

/**
 * Reads one job's log from the start, a page at a time, handing each page to `write`: to where
 * it is now, or with `follow` until the job has ended and every line has been read.
 */
async function readJobLog(client: ApiClient, runId: string, job: RunJob, follow: boolean, write: (lines: LogLine[]) => Promise<void>): Promise<void> {
  let after = -1;
  for (;;) {
    const page = await client.jobLogs(runId, job.id, { after, limit: PAGE_LINES, ...(follow ? { wait_ms: WAIT_MS } : {}) });
    await write(page.lines);
    after = page.next;
    if (page.done || (!follow && page.lines.length < PAGE_LINES)) return;
  }
}

export function registerPipelineLogsCommand(pipeline: Command): void {
  apiCommand(pipeline, "logs")
    .description("a run's job logs, every job in the order of their needs or only JOB (with --follow, live until the jobs end)")
    .argument("<run>", "the run's id, or SERVICE#NUMBER")
    .argument("[job]", "a job's key in slipway.yaml (every shard of it) or a job id (default: every job)")
    .option("--follow", "keep printing new lines until the jobs have ended")
    .action(async (ref: string, selector: string | undefined, options: { follow?: boolean }, command: Command) => {
      const client = await clientFor(command);
      const run = await resolveRun(client, ref);
      const jobs = selectJobs(run, selector);
      const writer = new LogWriter({ json: command.opts<{ json?: boolean }>().json === true, jobs });
      const follow = options.follow === true;
      // The jobs as last read. Step names arrive with a runner's first status report, after
      // the run was read for a job that had not started: the run is read again (once per job).
      const latest = new Map(jobs.map((job) => [job.id, job]));
      const reread = new Set<string>();
      const read = (job: RunJob) =>
        readJobLog(client, run.id, job, follow, async (lines) => {
          if (!reread.has(job.id) && writer.needsSteps(latest.get(job.id) ?? job, lines)) {
            reread.add(job.id);
            for (const fresh of (await client.getRun(run.id)).jobs) if (latest.has(fresh.id)) latest.set(fresh.id, fresh);
          }
          await writer.write(latest.get(job.id) ?? job, lines);
        });
      if (!follow) {
        for (const job of jobs) await read(job);
        return;
      }
      // At most FOLLOWED_AT_ONCE long polls at a time, taken in the order of the needs: a job
      // further down waits its turn (its lines are all printed then, from its first one).
      const waiting = [...jobs];
      const follower = async () => {
        for (let job = waiting.shift(); job; job = waiting.shift()) await read(job);
      };
      await Promise.all(Array.from({ length: Math.min(FOLLOWED_AT_ONCE, jobs.length) }, follower));
    });
}
