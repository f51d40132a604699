// A run's jobs at a glance: one cell per job (its shards together), coloured by state.
import { groupJobs } from "../../lib/job-groups.ts";
import type { JobState } from "../../lib/pipelines.ts";
import { jobTone, stateLabel } from "../../lib/tones.ts";

export function JobStrip({ jobs }: { jobs: { key: string; state: JobState; shard: { total: number } | null }[] }) {
  return (
    <span className="job-strip" aria-label="jobs">
      {groupJobs(jobs).map((group) => (
        <span key={group.key} className={`strip-cell tone-${jobTone(group.state)}`} data-job-key={group.key} title={`${group.key}: ${stateLabel(group.state)}${group.jobs.length > 1 ? ` (${group.jobs.length} shards)` : ""}`} />
      ))}
    </span>
  );
}
