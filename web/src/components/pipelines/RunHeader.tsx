// What a run is: its state, the commit it builds, who and what started it, how long it took,
// why it ended as it did, and the release it made.
import { ago, elapsed, firstLine, shortSha, stamp } from "../../lib/format.ts";
import { isTerminalRun, type Run } from "../../lib/pipelines.ts";
import { paths } from "../../lib/route.ts";
import { runTone, stateLabel } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";
import { Link } from "../Link.tsx";
import { CancelRunButton } from "./CancelRunButton.tsx";

export function RunHeader({ run, now, onChanged }: { run: Run; now: number; onChanged: () => void }) {
  const body = run.message.split("\n").slice(1).join("\n").trim();
  return (
    <section className="card run-head" aria-label="run" data-run={run.id}>
      <div className="run-title">
        <Badge tone={runTone(run.state)}>{stateLabel(run.state)}</Badge>
        <h1>
          <Link to={paths.pipelines(run.service)}>{run.service}</Link> #{run.number}
        </h1>
        <span className="mono branch">{run.branch ?? "—"}</span>
        <span className="mono sha" title={run.sha}>
          {shortSha(run.sha)}
        </span>
        <span className="spacer" />
        {!isTerminalRun(run.state) && <CancelRunButton run={run.id} onCancelled={onChanged} />}
      </div>
      <div className="run-message" title={run.message}>
        {firstLine(run.message)}
      </div>
      {body && <pre className="run-message-body">{body}</pre>}
      <div className="run-meta muted">
        <span>by {run.author}</span>
        <span>
          {run.trigger === "manual" ? "started by hand" : `triggered by ${run.trigger}`} · {run.triggered_by}
        </span>
        <span title={stamp(run.created_at)}>created {ago(run.created_at, now)}</span>
        <span className="run-duration" title={run.started_at ? `started ${stamp(run.started_at)}` : "not started yet"}>
          duration {elapsed(run, now)}
        </span>
      </div>
      {run.reason && <div className="reason run-reason">{run.reason}</div>}
      {run.release && (
        <div className="run-release">
          released <span className="version">{run.release.version}</span> — <Link to={paths.overview(run.service)}>see where {run.service} is live</Link>
        </div>
      )}
    </section>
  );
}
