// A job's live log: stdout plain, stderr in red, the runner's own lines dimmed, a heading where
// each step (and each new attempt) starts. It follows new lines at the bottom unless the
// reader has scrolled up, and says when earlier lines are no longer kept.
import { Fragment, useLayoutEffect, useRef, useState } from "react";
import { MAX_LINES, useJobLog } from "../../lib/job-log.ts";
import type { LogLine, RunJob } from "../../lib/pipelines.ts";

/** How close to the bottom (px) still counts as "at the bottom", following new lines. */
const STICK_PX = 24;
// Colour codes from tools that print them anyway; the log shows plain text.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function LogViewer({ run, job }: { run: string; job: RunJob }) {
  const log = useJobLog(run, job.id);
  const box = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);

  useLayoutEffect(() => {
    const element = box.current;
    if (element && following) element.scrollTop = element.scrollHeight;
  }, [log.lines, following]);

  const onScroll = () => {
    const element = box.current;
    if (element) setFollowing(element.scrollHeight - element.scrollTop - element.clientHeight <= STICK_PX);
  };

  const stepName = (line: LogLine) => (line.step < 0 ? "runner" : (job.steps[line.step]?.name ?? `step ${line.step + 1}`));
  return (
    <div className="log-viewer">
      <div className="log-status muted">
        {log.dropped > 0 && (
          <span className="log-dropped">
            {log.dropped.toLocaleString("en")} earlier lines are not shown (the page keeps the last {MAX_LINES.toLocaleString("en")}); `slipway pipeline logs {run}` prints them all.{" "}
          </span>
        )}
        {log.error ? <span className="error-text">Could not read the log: {log.error} — retrying.</span> : log.done ? <span>end of log</span> : <span className="following">following…</span>}
        {!following && (
          <button type="button" className="link follow" onClick={() => setFollowing(true)}>
            ↓ follow
          </button>
        )}
      </div>
      <div className="log-lines" ref={box} onScroll={onScroll} role="log" aria-label="job log" data-done={log.done}>
        {log.lines.length === 0 && <div className="log-line system">{log.done ? "No output." : "Waiting for output…"}</div>}
        {log.lines.map((line, index) => {
          const previous = index > 0 ? log.lines[index - 1] : undefined;
          const starts = !previous || previous.step !== line.step || previous.attempt !== line.attempt;
          return (
            <Fragment key={line.seq}>
              {starts && (
                <div className="log-step">
                  {stepName(line)}
                  {line.attempt > 1 && <span className="muted"> · attempt {line.attempt}</span>}
                </div>
              )}
              <div className={`log-line ${line.stream}`}>{line.text.replace(ANSI, "")}</div>
            </Fragment>
          );
        })}
      </div>
    </div>
  );
}
