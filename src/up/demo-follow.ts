// What `slipway up --demo` shows after each commit, all read through the HTTP API: the pipeline
// run the push started (its jobs live, in the run view of `slipway pipeline show --follow`), then
// the deployments of its release, which the server starts by itself in each automatic
// environment (in the progress view of `slipway deploy --wait`). Something already done on an
// earlier start is said in a line and skipped; something still going is followed.
import { setTimeout as sleep } from "node:timers/promises";
import type { Environment } from "../contracts/services.ts";
import type { Deployment } from "../contracts/deployments.ts";
import type { Run } from "../contracts/pipelines.ts";
import { SlipwayError } from "../core/errors.ts";
import type { ApiClient } from "../cli/client.ts";
import type { DeploymentApi } from "../cli/deploy.ts";
import { followRun } from "../cli/pipeline-runs.ts";
import { RunProgressView, isFinishedRun, runStateLine, runTitle } from "../cli/pipeline-view.ts";
import { failureReason, followDeployment, isFinal, ProgressView, type Output } from "../cli/progress.ts";

export interface FollowContext {
  api: ApiClient;
  deployments: DeploymentApi;
  service: string;
  /** The server's URL: dashboard pages are under it. */
  dashboard: string;
  out: Output;
  tty: boolean;
  columns: () => number | undefined;
  signal: AbortSignal;
}

/** Calls `check` every `intervalMs` until it gives a value; fails after `timeoutMs` saying `what` did not happen. */
export async function until<T>(check: () => Promise<T | undefined>, options: { what: string; timeoutMs: number; intervalMs: number; signal: AbortSignal }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new SlipwayError("unavailable", `the demo stopped: ${options.what} did not happen within ${options.timeoutMs / 1000} s`);
    await sleep(options.intervalMs, undefined, { signal: options.signal });
  }
}

/** The newest run of commit `sha`, once the server has started one. */
function runOf(c: FollowContext, sha: string, timeoutMs: number): Promise<Run> {
  return until(
    async () => {
      const found = (await c.api.listRuns(c.service, { limit: 50 })).find((run) => run.sha === sha);
      return found ? c.api.getRun(found.id) : undefined;
    },
    { what: `a pipeline run of commit ${sha.slice(0, 12)} (the server polls the repository for pushes; see its log in logs/server.log)`, timeoutMs, intervalMs: 250, signal: c.signal },
  );
}

async function watch(c: FollowContext, run: Run): Promise<Run> {
  c.out.write(`\nThe pipeline runs (${c.dashboard}/runs/${run.id}):\n`);
  const view = new RunProgressView(c.out, { tty: c.tty, columns: c.columns });
  const ticker = c.tty ? setInterval(() => view.tick(), 1000) : undefined;
  try {
    const final = await followRun(c.api, run.id, (next) => view.update(next), { pollMs: 300, signal: c.signal });
    view.finish(final);
    return final;
  } finally {
    clearInterval(ticker);
  }
}

/** `; its tests ran in 2 shards, on runner-1 and runner-2`, or nothing for a run without split tests. */
function shardsText(run: Run): string {
  const shards = run.jobs.filter((job) => job.shard && job.shard.total > 1);
  const runners = [...new Set(shards.map((job) => job.runner).filter((name): name is string => name !== null))].sort();
  if (shards.length === 0 || runners.length === 0) return "";
  return `; its tests ran in ${shards.length} shards, on ${runners.join(" and ")}`;
}

/**
 * The pipeline of commit `sha`, followed to its end; resolves with the succeeded run (which made
 * a release). A run stopped from outside (cancelled when `up` stopped halfway, or superseded) is
 * started again by hand, once; a failed one stops the demo, saying where to look.
 */
export async function followPipeline(c: FollowContext, sha: string): Promise<Run & { release: NonNullable<Run["release"]> }> {
  let run = await runOf(c, sha, 60_000);
  if (run.state === "succeeded" && run.release) {
    c.out.write(`${runTitle(run)} (${sha.slice(0, 12)}) already succeeded: release ${run.release.version}; skipped.\n`);
    return { ...run, release: run.release };
  }
  run = isFinishedRun(run) ? run : await watch(c, run);
  if (run.state === "cancelled" || run.state === "superseded") {
    c.out.write(`${runTitle(run)} was ${run.state}; running the pipeline of ${sha.slice(0, 12)} again by hand.\n`);
    run = await watch(c, await c.api.startRun(c.service, { sha }));
  }
  if (run.state !== "succeeded" || !run.release) {
    const failed = run.jobs.find((job) => job.state === "failed");
    const hint = failed ? `; see why with: slipway pipeline logs ${run.id} ${failed.key}` : "";
    throw new SlipwayError("conflict", `the demo stopped: ${runTitle(run)} ${runStateLine(run)}${hint}`);
  }
  c.out.write(`${runTitle(run)} succeeded: release ${run.release.version}${shardsText(run)}.\n`);
  return { ...run, release: run.release };
}

/** What the demo expects of a deployment: that it succeeds, or that its canary rolls it back. */
export type Expected = "succeeded" | "rolled_back";

/**
 * The deployment of `version` to `environment`: started by the server when the environment is
 * automatic (waited for), by the demo itself otherwise; followed unless it already ended as
 * expected. Resolves with the deployment once it ended as `expected`; anything else (a pause
 * included: the demo would wait for a person) stops the demo, saying why.
 */
export async function followDeploymentTo(c: FollowContext, environment: Environment, version: string, expected: Expected = "succeeded"): Promise<Deployment> {
  const find = async () => (await c.deployments.list(c.service, environment.name, 100)).filter((d) => d.kind === "deploy" && d.release.version === version);
  const earlier = await find();
  const done = earlier.find((d) => d.state === expected);
  if (done) {
    c.out.write(expected === "succeeded" ? `${c.service} ${version} was already deployed to ${environment.name}; skipped.\n` : `${c.service} ${version} was already rolled back in ${environment.name}; skipped.\n`);
    return c.deployments.get(done.id);
  }
  let id = earlier.find((d) => !isFinal(d.state))?.id;
  let how = environment.auto ? `Slipway deploys ${c.service} ${version} to ${environment.name} by itself (automatic environment)` : `Following the deployment of ${c.service} ${version} to ${environment.name}`;
  if (!id && environment.auto) {
    id = await until(async () => (await find())[0]?.id, {
      what: `the automatic deployment of ${version} to ${environment.name}`,
      timeoutMs: 60_000,
      intervalMs: 250,
      signal: c.signal,
    });
  } else if (!id) {
    how = `${environment.name} is not automatic for this service: the demo deploys ${c.service} ${version} there, as \`slipway deploy\` would`;
    id = (await c.deployments.create(c.service, { version, environment: environment.name })).id;
  }
  c.out.write(`\n${how} (${c.dashboard}/deployments/${encodeURIComponent(id)}):\n`);
  const view = new ProgressView(c.out, { tty: c.tty });
  const ticker = c.tty ? setInterval(() => view.tick(), 1000) : undefined;
  let final: Deployment;
  try {
    final = await followDeployment(c.deployments, id, (d) => view.update(d), { signal: c.signal, pollMs: 1000, until: (d) => isFinal(d.state) || d.state === "paused" });
  } finally {
    clearInterval(ticker);
  }
  view.finish(final);
  if (final.state === expected) return final;
  const where = `deployment ${final.id} of ${version} to ${environment.name}`;
  if (final.state === "paused") throw new SlipwayError("conflict", `the demo stopped: ${where} is paused: ${failureReason(final)}. Go on with: slipway deployment resume ${final.id}, or undo it with: slipway deployment rollback ${final.id}`);
  if (expected === "rolled_back" && final.state === "succeeded") {
    const passed = [...final.events].reverse().find((e) => e.reason.startsWith("analysis of "));
    throw new SlipwayError("conflict", `the demo stopped: its canary did not catch the bad release, and ${where} succeeded${passed ? `: ${passed.reason}` : ""}`);
  }
  throw new SlipwayError("conflict", `the demo stopped: ${where} ${final.state.replace("_", " ")}: ${failureReason(final)}`);
}
