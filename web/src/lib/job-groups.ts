// A job with `parallelism: N` is N shards, one row each; the dashboard shows them as one job
// whose state is that of its shards together (failed if one failed, succeeded once all did).
import { keyState } from "../../../src/core/pipeline/run.ts";
import type { JobState } from "./pipelines.ts";

export interface JobGroup<J> {
  key: string;
  jobs: J[];
  state: JobState;
}

/** The run's jobs grouped by their key in slipway.yaml, in the order they first appear. */
export function groupJobs<J extends { key: string; state: JobState }>(jobs: readonly J[]): JobGroup<J>[] {
  const byKey = new Map<string, J[]>();
  for (const job of jobs) byKey.set(job.key, [...(byKey.get(job.key) ?? []), job]);
  return [...byKey].map(([key, shards]) => ({ key, jobs: shards, state: keyState(shards) }));
}

/** From the first shard's start to the last one's end; still open while any shard has not finished. */
export function groupSpan(jobs: readonly { started_at: string | null; finished_at: string | null }[]): { started_at: string | null; finished_at: string | null } {
  const starts = jobs.flatMap((j) => (j.started_at ? [j.started_at] : [])).sort();
  const ends = jobs.map((j) => j.finished_at);
  const open = ends.some((end) => end === null);
  return { started_at: starts[0] ?? null, finished_at: open ? null : ([...ends].sort().at(-1) ?? null) };
}
