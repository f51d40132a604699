// Pipeline runs, newest first: one row each, the whole row a link to the run.
import { ago, authorName, elapsed, firstLine, shortSha, stamp } from "../../lib/format.ts";
import type { RunSummary } from "../../lib/pipelines.ts";
import { navigate, paths } from "../../lib/route.ts";
import { runTone, stateLabel } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";
import { Link } from "../Link.tsx";
import { JobStrip } from "./JobStrip.tsx";

/** A click anywhere on a row opens the run; links inside the row are followed as they are. */
function openRow(target: EventTarget, id: string): void {
  if (target instanceof Element && target.closest("a, button, input")) return;
  navigate(paths.run(id));
}

export function RunsTable({ runs, now }: { runs: RunSummary[]; now: number }) {
  if (runs.length === 0) return <p className="empty">No runs yet. Push to the service's repository, or start one with "Run pipeline".</p>;
  return (
    <table className="runs-table">
      <thead>
        <tr>
          <th>state</th>
          <th>run</th>
          <th>service</th>
          <th>branch</th>
          <th>commit</th>
          <th>message</th>
          <th>author</th>
          <th>trigger</th>
          <th>when</th>
          <th className="num">duration</th>
          <th>jobs</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.id} data-run={run.id} className="clickable" onClick={(event) => openRow(event.target, run.id)}>
            <td>
              <Badge tone={runTone(run.state)} title={run.reason ?? undefined}>
                {stateLabel(run.state)}
              </Badge>
            </td>
            <td>
              <Link to={paths.run(run.id)}>#{run.number}</Link>
            </td>
            <td>{run.service}</td>
            <td className="mono">{run.branch ?? "—"}</td>
            <td className="mono" title={run.sha}>
              {shortSha(run.sha)}
            </td>
            <td className="message-cell" title={run.message}>
              {firstLine(run.message)}
            </td>
            <td title={run.author}>{authorName(run.author)}</td>
            <td title={`by ${run.triggered_by}`}>{run.trigger}</td>
            <td title={stamp(run.created_at)}>{ago(run.created_at, now)}</td>
            <td className="num mono">{elapsed(run, now)}</td>
            <td>
              <JobStrip jobs={run.jobs} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
