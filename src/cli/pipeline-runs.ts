// `slipway pipeline run | list | show | cancel`: start a run by hand (and, with --follow, watch it
// to the end and exit non-zero unless it succeeded), list runs, look at one run's jobs, and
// cancel one. A run is named by its id or as SERVICE#NUMBER (`web#12`).
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { z } from "zod";
import type { Run } from "../contracts/pipelines.ts";
import { conflict, invalidInput, notFound } from "../core/errors.ts";
import { apiCommand, clientFor, type ApiClient } from "./client.ts";
import { emit, emitList } from "./output.ts";
import { RUN_COLUMNS, RunProgressView, describeRun, isFinishedRun, runStateLine, runTitle, runTestSummary } from "./pipeline-view.ts";

/** How often a followed run is read again. */
const POLL_MS = 500;
const wantsJson = (command: Command): boolean => command.opts<{ json?: boolean }>().json === true;

/** `--limit` as a whole number from 1 to `max`, or a clear error naming the flag. */
export function parseLimit(text: string, max: number): number {
  const limit = z.coerce.number().int().min(1).max(max).safeParse(text);
  if (!limit.success) throw invalidInput(`--limit '${text}' is not a number from 1 to ${max}`, [{ field: "--limit", message: `1 to ${max}` }]);
  return limit.data;
}

/** The run a command names: a run id, or SERVICE#NUMBER. */
export async function resolveRun(client: ApiClient, ref: string): Promise<Run> {
  const numbered = /^(.+)#(\d+)$/.exec(ref);
  if (!numbered) return client.getRun(ref);
  const [, service = "", number = ""] = numbered;
  // Runs are listed newest first: the first one older than N + 1 is N, if N exists.
  const [found] = await client.listRuns(service, { before: Number(number) + 1, limit: 1 });
  if (!found || found.number !== Number(number)) throw notFound("pipeline run", ref);
  return client.getRun(found.id);
}

/**
 * Reads the run every `pollMs` and hands each version to `onUpdate` until the run has finished;
 * resolves with that last version.
 */
export async function followRun(client: Pick<ApiClient, "getRun">, id: string, onUpdate: (run: Run) => void, options: { pollMs?: number; signal?: AbortSignal } = {}): Promise<Run> {
  for (;;) {
    const run = await client.getRun(id);
    onUpdate(run);
    if (isFinishedRun(run)) return run;
    await sleep(options.pollMs ?? POLL_MS, undefined, options.signal ? { signal: options.signal } : {});
  }
}

/**
 * Follows a run to its end in the command's style: a live view (none with --json, which prints
 * one JSON document per new version of the run with `everyVersion`, or the last one otherwise).
 * Ctrl-C stops watching only.
 */
async function watchRun(command: Command, client: ApiClient, run: Run, options: { everyVersion: boolean }): Promise<Run> {
  const json = wantsJson(command);
  const tty = process.stdout.isTTY === true;
  const view = json ? undefined : new RunProgressView(process.stdout, { tty, columns: () => process.stdout.columns });
  const ticker = view && tty ? setInterval(() => view.tick(), 1000) : undefined;
  const onSigint = () => {
    process.stderr.write(`\nStopped watching; run ${run.id} goes on. Follow it again with: slipway pipeline show ${run.id} --follow\n`);
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  let printed = "";
  const onUpdate = (next: Run) => {
    if (view) return view.update(next);
    const text = JSON.stringify(next);
    if (options.everyVersion && text !== printed) process.stdout.write(text + "\n");
    printed = text;
  };
  try {
    const final = await followRun(client, run.id, onUpdate);
    view?.finish(final);
    return final;
  } finally {
    clearInterval(ticker);
    process.off("SIGINT", onSigint);
  }
}

/** Where to look next when a run did not succeed: the log of the first job that failed. */
function failureHint(run: Run): string {
  const failed = run.jobs.find((job) => job.state === "failed");
  return failed ? `; see its log with \`slipway pipeline logs ${run.id} ${failed.key}\`` : "";
}

export function registerPipelineRunCommands(pipeline: Command): void {
  apiCommand(pipeline, "run")
    .description("start a run of a service's pipeline by hand (with --follow, watch it and fail unless it succeeds)")
    .argument("<service>", "name or id")
    .option("--branch <branch>", "the branch to build (default: main, master, or the only branch)")
    .option("--sha <sha>", "a commit on the branch (default: the branch's head)")
    .option("--follow", "watch the run until it ends; exit non-zero unless it succeeded")
    .action(async (service: string, options: { branch?: string; sha?: string; follow?: boolean }, command: Command) => {
      const client = await clientFor(command);
      const started = await client.startRun(service, { branch: options.branch, sha: options.sha });
      if (!options.follow) {
        return emit(command, started, (r) => `Started ${runTitle(r)} (${r.id}): ${r.branch ?? "-"} at ${r.sha.slice(0, 12)}, ${runStateLine(r)}.\nFollow it with: slipway pipeline show ${r.id} --follow`);
      }
      const final = await watchRun(command, client, started, { everyVersion: false });
      if (wantsJson(command)) process.stdout.write(JSON.stringify(final, null, 2) + "\n");
      if (final.state !== "succeeded") throw conflict(`run #${final.number} of ${final.service} ${runStateLine(final)}${failureHint(final)}`);
      if (!wantsJson(command)) process.stdout.write(`${runTitle(final)} succeeded${final.release ? `: release ${final.release.version}` : ""}.\n`);
    });

  apiCommand(pipeline, "list")
    .description("pipeline runs, newest first: one service's, or every service's")
    .argument("[service]", "name or id (default: every service)")
    .option("--branch <branch>", "only runs of this branch")
    .option("--limit <n>", "how many, at most 200", "20")
    .action(async (service: string | undefined, options: { branch?: string; limit: string }, command: Command) => {
      const client = await clientFor(command);
      const runs = await client.listRuns(service, { branch: options.branch, limit: parseLimit(options.limit, 200) });
      emitList(command, runs, RUN_COLUMNS, `No runs${service ? ` of ${service}` : ""}${options.branch ? ` on ${options.branch}` : ""} yet.`);
    });

  apiCommand(pipeline, "show")
    .description("a run: its commit, state and release, and its jobs in order with their state, runner, attempts, time and tests (with --follow, live until it ends)")
    .argument("<run>", "the run's id, or SERVICE#NUMBER")
    .option("--follow", "keep showing its progress until it ends")
    .action(async (ref: string, options: { follow?: boolean }, command: Command) => {
      const client = await clientFor(command);
      const run = await resolveRun(client, ref);
      if (options.follow && !isFinishedRun(run)) {
        await watchRun(command, client, run, { everyVersion: true });
        return;
      }
      const summary = runTestSummary(run.jobs);
      const tests = !wantsJson(command) && summary && summary.failed + summary.flaky > 0 ? await client.runTests(run.id) : [];
      emit(command, run, (r) => describeRun(r, tests));
    });

  apiCommand(pipeline, "cancel")
    .description("cancel a run: its queued jobs never start, its running steps are stopped")
    .argument("<run>", "the run's id, or SERVICE#NUMBER")
    .action(async (ref: string, _options: unknown, command: Command) => {
      const client = await clientFor(command);
      const run = await resolveRun(client, ref);
      if (isFinishedRun(run)) return emit(command, run, (r) => `${runTitle(r)} had already ${r.state === "superseded" ? "been superseded" : r.state === "cancelled" ? "been cancelled" : r.state}; nothing to cancel.`);
      const cancelled = await client.cancelRun(run.id);
      const stopping = cancelled.jobs.filter((job) => job.state === "running").length;
      emit(command, cancelled, (r) => `${runTitle(r)} ${runStateLine(r)}.${stopping ? ` Stopping ${stopping} running job${stopping === 1 ? "" : "s"}.` : ""}`);
    });
}
