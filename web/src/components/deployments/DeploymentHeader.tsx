// What a deployment is: its state, the service and environment, the release it brings (and the
// one it replaces), why it is where it is, who started it and when, what the analysis in
// progress says right now, and the buttons to resume, roll back or cancel it.
import type { Deployment } from "../../lib/api.ts";
import { isTerminal } from "../../lib/api.ts";
import { ago, elapsed, stamp } from "../../lib/format.ts";
import { paths } from "../../lib/route.ts";
import { deploymentTone, stateLabel } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";
import { Link } from "../Link.tsx";
import { DeploymentActions } from "./DeploymentActions.tsx";

export function DeploymentHeader({ d, now, onChanged }: { d: Deployment; now: number; onChanged: () => void }) {
  // Why a deployment that stopped, or is stopping, did so: the transition that decided it.
  const decision = ["paused", "rolling_back", "rolled_back", "failed"].includes(d.state) ? d.events.findLast((e) => e.from !== e.to && ["paused", "rolling_back", "failed"].includes(e.to)) : undefined;
  const strategy = typeof d.settings["strategy"] === "string" ? d.settings["strategy"].replaceAll("_", " ") : null;
  return (
    <section className="card deployment-page-head" aria-label="deployment" data-deployment={d.id} data-state={d.state}>
      <div className="run-title">
        <Badge tone={deploymentTone(d.state)}>{stateLabel(d.state)}</Badge>
        <h1>
          <Link to={paths.overview(d.service)}>{d.service}</Link> → {d.environment}
        </h1>
        <span className="mono release">
          {d.previous_release ? `${d.previous_release.version} → ` : ""}
          <span className="version new-version">{d.release.version}</span>
        </span>
        {d.kind === "rollback" && <span className="tag warn">rollback</span>}
        {strategy && <span className="muted">{strategy}</span>}
        <span className="spacer" />
        <DeploymentActions d={d} onDone={onChanged} />
      </div>
      {d.reason && <div className="deployment-reason">{d.reason}</div>}
      {decision && decision.reason !== d.reason && (
        <div className="reason decision-reason" title={stamp(decision.at)}>
          {stateLabel(decision.to)} at {stamp(decision.at).slice(11)} because {decision.reason}
        </div>
      )}
      {d.analysis?.last_reason && !isTerminal(d.state) && (
        <div className="reason analysis-now" title={`analysis window from ${stamp(d.analysis.started_at)} to ${stamp(d.analysis.until)}`}>
          analysis now: {d.analysis.last_reason}
        </div>
      )}
      <div className="run-meta muted">
        <span>by {d.created_by}</span>
        <span title={stamp(d.created_at)}>created {ago(d.created_at, now)}</span>
        <span title={d.started_at ? `started ${stamp(d.started_at)}` : "not started yet"}>
          {d.finished_at ? "took" : "running for"} {elapsed(d, now)}
        </span>
        {d.finished_at && <span title={stamp(d.finished_at)}>finished {stamp(d.finished_at).slice(11)}</span>}
        {d.migration && (
          <span>
            migration on {d.migration.host}: {d.migration.status}
            {d.migration.reason ? ` — ${d.migration.reason}` : ""}
          </span>
        )}
      </div>
      {d.warnings.length > 0 && (
        <ul className="warnings" aria-label="warnings">
          {d.warnings.map((w) => (
            <li key={`${w.at}:${w.reason}`}>
              <Badge tone="warn">warning</Badge> <span title={stamp(w.at)}>{stamp(w.at).slice(11)}</span> {w.reason}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
