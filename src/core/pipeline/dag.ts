// The job graph of a pipeline: the checks slipway.yaml must pass beyond its schema (every need
// is a job, no cycles, one packaging job that cannot skip the tests), and the planning the
// controller does with it (in which order jobs run, which may be queued now, which must be
// skipped, which runner may take a job).
//
// A job's life: pending -> queued -> running -> succeeded | failed | cancelled, or
// pending -> skipped when a job it needs did not succeed. Only `succeeded` lets the jobs that
// need it go on.
import { didYouMean } from "../manifest/did-you-mean.ts";
import type { Job } from "./schema.ts";

export const JOB_STATES = ["pending", "queued", "running", "succeeded", "failed", "cancelled", "skipped"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States after which a job never runs again (within one attempt of the run). */
export const isTerminalJobState = (state: JobState): boolean => state === "succeeded" || state === "failed" || state === "cancelled" || state === "skipped";
/** States of a need that mean the jobs needing it can never run. */
const blocksDependents = (state: JobState): boolean => state === "failed" || state === "cancelled" || state === "skipped";

/** A problem in the pipeline, at a path of the file's keys (so the parser can name its line). */
export interface PipelineProblem {
  path: (string | number)[];
  message: string;
}

/** What the graph checks and planning read of a job. */
interface GraphJob {
  needs: readonly string[];
  tests?: unknown;
  package?: unknown;
}
type Jobs = Readonly<Record<string, GraphJob>>;

interface PipelineKeys {
  on?: unknown;
  env?: unknown;
  quarantine?: unknown;
  jobs?: Jobs | undefined;
}

/** Every problem of the pipeline part of a parsed slipway.yaml; none when it is sound. */
export function pipelineProblems(file: PipelineKeys): PipelineProblem[] {
  const { jobs } = file;
  if (jobs === undefined) {
    return (["on", "env", "quarantine"] as const)
      .filter((key) => file[key] !== undefined)
      .map((key) => ({
        path: [key],
        message: `'${key}' belongs to the pipeline, which has no jobs: add jobs${key === "env" ? " (a service's own variables go under run.env)" : ""}`,
      }));
  }
  if (Object.keys(jobs).length === 0) return [{ path: ["jobs"], message: "a pipeline needs at least one job" }];
  const unknown = unknownNeeds(jobs);
  // A cycle or the package rule are only meaningful once every need names a job.
  if (unknown.length > 0) return unknown;
  const cycles = cyclesOf(jobs);
  return cycles.length > 0 ? cycles : packageProblems(jobs);
}

function unknownNeeds(jobs: Jobs): PipelineProblem[] {
  const ids = Object.keys(jobs);
  return Object.entries(jobs).flatMap(([id, job]) =>
    job.needs.flatMap((need, index) => (need in jobs ? [] : [{ path: ["jobs", id, "needs", index], message: `job '${id}' needs '${need}', which is not a job${didYouMean(need, ids)}` }])),
  );
}

/** One problem per cycle, naming it from its first-declared job: "build -> test -> build". */
function cyclesOf(jobs: Jobs): PipelineProblem[] {
  const order = Object.keys(jobs);
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const seen = new Set<string>();
  const problems: PipelineProblem[] = [];
  const visit = (id: string): void => {
    state.set(id, "visiting");
    stack.push(id);
    for (const need of jobs[id]!.needs) {
      if (state.get(need) === "visiting") {
        const cycle = stack.slice(stack.indexOf(need));
        const first = cycle.reduce((a, b) => (order.indexOf(b) < order.indexOf(a) ? b : a));
        const rotated = [...cycle.slice(cycle.indexOf(first)), ...cycle.slice(0, cycle.indexOf(first))];
        const key = [...rotated].sort().join(" ");
        if (seen.has(key)) continue;
        seen.add(key);
        const next = rotated[1] ?? first;
        problems.push({
          path: ["jobs", first, "needs", jobs[first]!.needs.indexOf(next)],
          message: `jobs need each other in a cycle: ${[...rotated, first].join(" -> ")} (each needs the next), so none of them could start`,
        });
      } else if (!state.has(need)) visit(need);
    }
    stack.pop();
    state.set(id, "done");
  };
  for (const id of order) if (!state.has(id)) visit(id);
  return problems;
}

/** The jobs `id` needs, directly or through others. */
export function transitiveNeeds(jobs: Jobs, id: string): Set<string> {
  const found = new Set<string>();
  const pending = [...(jobs[id]?.needs ?? [])];
  for (let need = pending.pop(); need !== undefined; need = pending.pop()) {
    if (found.has(need)) continue;
    found.add(need);
    pending.push(...(jobs[need]?.needs ?? []));
  }
  return found;
}

// At most one job makes the release, and it must come after every job that runs tests: a
// release whose tests did not run (or did not pass) can not exist.
function packageProblems(jobs: Jobs): PipelineProblem[] {
  const packaging = Object.keys(jobs).filter((id) => jobs[id]!.package !== undefined);
  const [packager, ...others] = packaging;
  if (packager === undefined) return [];
  const problems = others.map((id) => ({ path: ["jobs", id, "package"], message: `only one job may package the release, and '${packager}' already does` }));
  const before = transitiveNeeds(jobs, packager);
  for (const [id, job] of Object.entries(jobs)) {
    if (job.tests === undefined || id === packager || before.has(id)) continue;
    problems.push({
      path: ["jobs", packager, "needs"],
      message: `job '${packager}' packages the release but does not need '${id}', which runs tests: add '${id}' to its needs (directly or through another job), so no release skips the tests`,
    });
  }
  return problems;
}

/**
 * The job ids in an order where each comes after everything it needs; among jobs free to go,
 * the one declared first comes first. Throws on a cycle (a validated pipeline has none).
 */
export function topologicalOrder(jobs: Jobs): string[] {
  const declared = Object.keys(jobs);
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < declared.length) {
    const next = declared.find((id) => !placed.has(id) && jobs[id]!.needs.every((need) => placed.has(need)));
    if (next === undefined) throw new Error(`jobs ${declared.filter((id) => !placed.has(id)).join(", ")} need each other in a cycle or need a job that does not exist`);
    placed.add(next);
    order.push(next);
  }
  return order;
}

/**
 * What to do with the pending jobs now: `queue` those whose needs all succeeded, `skip` those
 * that can never run because a need failed, was cancelled or skipped (also through jobs
 * skipped in this same call, so one call skips a whole branch of the graph). A job missing
 * from `states` is pending.
 */
export function readyJobs(jobs: Jobs, states: Readonly<Record<string, JobState>>): { queue: string[]; skip: string[] } {
  const queue: string[] = [];
  const skip = new Set<string>();
  const stateOf = (id: string): JobState => (skip.has(id) ? "skipped" : (states[id] ?? "pending"));
  for (const id of topologicalOrder(jobs)) {
    if (stateOf(id) !== "pending") continue;
    const needs = jobs[id]!.needs.map(stateOf);
    if (needs.some(blocksDependents)) skip.add(id);
    else if (needs.every((state) => state === "succeeded")) queue.push(id);
  }
  return { queue, skip: [...skip] };
}

/**
 * Whether a runner with `labels` may take a job with `runsOn`: each listed item is a label key
 * the runner must have ("gpu") or a key and the value it must have ("os=linux"); a map means a
 * key and value each. A job without runs_on runs anywhere.
 */
export function runnerMatches(runsOn: Job["runs_on"], labels: Readonly<Record<string, string>>): boolean {
  if (runsOn === undefined) return true;
  const wanted: [string, string | undefined][] =
    typeof runsOn === "string" || Array.isArray(runsOn)
      ? [runsOn].flat().map((item) => {
          const eq = item.indexOf("=");
          return eq === -1 ? [item, undefined] : [item.slice(0, eq), item.slice(eq + 1)];
        })
      : Object.entries(runsOn);
  return wanted.every(([key, value]) => Object.hasOwn(labels, key) && (value === undefined || labels[key] === value));
}
