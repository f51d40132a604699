// One pipeline run: its header, the graph of its jobs, the selected job's steps and live log,
// and its test results. Everything re-reads when the run or one of its jobs changes.
import { useCallback } from "react";
import type { Change } from "../../lib/events.ts";
import { useLiveQuery, useNow } from "../../lib/live.ts";
import { isTerminalRun, loadRun, loadRunTests, type Run } from "../../lib/pipelines.ts";
import { navigate, paths } from "../../lib/route.ts";
import { JobGraph } from "./JobGraph.tsx";
import { JobPanel } from "./JobPanel.tsx";
import { RunHeader } from "./RunHeader.tsx";
import { RunTests } from "./RunTests.tsx";

/** The job to show when none is chosen: a failed one, else a running one, else the first. */
function defaultJob(run: Run): string | null {
  const job = run.jobs.find((j) => j.state === "failed") ?? run.jobs.find((j) => j.state === "running") ?? run.jobs[0];
  return job?.id ?? null;
}

export function RunPage({ id, job }: { id: string; job: string | null }) {
  const concernsRun = useCallback((change: Change) => change.kind === "run" && change.id === id, [id]);
  const readRun = useCallback((token: string, signal: AbortSignal) => loadRun(token, id, signal), [id]);
  const readTests = useCallback((token: string, signal: AbortSignal) => loadRunTests(token, id, signal), [id]);
  const { data: run, error, reload } = useLiveQuery(`run:${id}`, readRun, concernsRun);
  const { data: tests, reload: reloadTests } = useLiveQuery(`run-tests:${id}`, readTests, concernsRun);
  const now = useNow(run && !isTerminalRun(run.state) ? 1_000 : 10_000);

  if (!run) return error ? <div className="banner">Could not read run {id}: {error}</div> : <p className="empty">Loading…</p>;
  const selected = run.jobs.find((j) => j.id === job) ?? run.jobs.find((j) => j.id === defaultJob(run));
  const select = (jobId: string) => navigate(paths.run(id, jobId), { replace: true });
  return (
    <>
      {error && <div className="banner">Could not refresh: {error} — showing the last data read.</div>}
      <RunHeader run={run} now={now} onChanged={reload} />
      <section className="card" aria-label="job graph">
        <header className="card-head">
          <h2>Jobs</h2>
          <span className="muted">click a job to see its steps and log</span>
        </header>
        {run.jobs.length === 0 ? <p className="empty">This run has no jobs.</p> : <JobGraph jobs={run.jobs} selected={selected?.id ?? null} onSelect={select} now={now} />}
      </section>
      {selected && <JobPanel run={run.id} job={selected} now={now} />}
      {tests && <RunTests service={run.service} tests={tests} onChanged={reloadTests} />}
    </>
  );
}
