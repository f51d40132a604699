// The selected job: where and how it ran, why it ended as it did, its tests, its steps and its log.
import { ago, elapsed, plural, stamp } from "../../lib/format.ts";
import type { RunJob } from "../../lib/pipelines.ts";
import { jobTone, stateLabel } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";
import { LogViewer } from "./LogViewer.tsx";
import { StepList } from "./StepList.tsx";

export function JobPanel({ run, job, now }: { run: string; job: RunJob; now: number }) {
  const tests = job.tests;
  return (
    <section className="card job-panel" aria-label="job" data-job={job.id}>
      <header className="card-head">
        <h2>{job.name}</h2>
        <Badge tone={jobTone(job.state)}>{stateLabel(job.state)}</Badge>
        <span className="muted">
          attempt {job.attempt} of {job.max_attempts}
          {job.runner ? ` · on ${job.runner}` : ""}
        </span>
        <span className="muted right" title={stamp(job.started_at ?? job.queued_at)}>
          {job.started_at ? `started ${ago(job.started_at, now)}` : job.queued_at ? `queued ${ago(job.queued_at, now)}` : "not queued yet"} · {elapsed(job, now)}
        </span>
      </header>
      {job.reason && <div className="reason job-reason">{job.reason}</div>}
      {tests && (
        <div className="job-tests">
          tests: {tests.passed} passed · <span className={tests.failed ? "bad-text" : ""}>{tests.failed} failed</span> · <span className={tests.flaky ? "warn-text" : ""}>{tests.flaky} flaky</span> · {tests.skipped} skipped
          {tests.quarantined_failures > 0 && ` · ${plural(tests.quarantined_failures, "quarantined failure")}`}
        </div>
      )}
      {job.test_files.length > 0 && (
        <details className="test-files">
          <summary className="muted">{plural(job.test_files.length, "test file")} in this shard</summary>
          <ul className="mono">
            {job.test_files.map((file) => (
              <li key={file}>{file}</li>
            ))}
          </ul>
        </details>
      )}
      {/* A job made only of a tests section has no steps of its own: its log tells the story. */}
      {(job.steps.length > 0 || job.test_files.length === 0) && <StepList steps={job.steps} now={now} />}
      <LogViewer key={job.id} run={run} job={job} />
    </section>
  );
}
