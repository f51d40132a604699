// Who deployed what, where and when, newest first, under the team's deploy rhythm.
import type { DeployLog as Log } from "../lib/api.ts";
import { ago, elapsed, plural, stamp } from "../lib/format.ts";
import { paths } from "../lib/route.ts";
import { deploymentTone, stateLabel } from "../lib/tones.ts";
import { Badge } from "./Badge.tsx";
import { Link } from "./Link.tsx";

export function deploySummary(summary: Log["summary"], now: number): string {
  const last = summary.last_deploy_at ? `last deploy ${ago(summary.last_deploy_at, now)} by ${summary.last_deploy_by ?? "someone"}` : "no deploys yet";
  return `${last} — ${plural(summary.deploys_this_week, "deploy")} this week by ${plural(summary.deployers_this_week, "person", "people")}`;
}

export function DeployLog({ log, now }: { log: Log; now: number }) {
  return (
    <section className="card log" aria-label="deploy log">
      <header className="card-head">
        <h2>Deploy log</h2>
        <span className="summary">{deploySummary(log.summary, now)}</span>
      </header>
      {log.items.length === 0 ? (
        <p className="empty">Nothing deployed yet. Deploy with `slipway deploy SERVICE VERSION --env ENV`.</p>
      ) : (
        <table className="log-table">
          <thead>
            <tr>
              <th>when</th>
              <th>service</th>
              <th>version</th>
              <th>environment</th>
              <th>state</th>
              <th>who</th>
              <th className="num">duration</th>
              <th>reason</th>
            </tr>
          </thead>
          <tbody>
            {log.items.map((d) => (
              <tr key={d.id} data-deployment={d.id}>
                <td title={stamp(d.created_at)}>{ago(d.created_at, now)}</td>
                <td>{d.service}</td>
                <td className="mono">
                  <Link to={paths.deployment(d.id)} title="the deployment: stages, analysis, hosts, events">
                    {d.release.version}
                  </Link>
                  {d.kind === "rollback" && <span className="tag warn">rollback</span>}
                </td>
                <td>{d.environment}</td>
                <td>
                  <Badge tone={deploymentTone(d.state)}>{stateLabel(d.state)}</Badge>
                </td>
                <td>{d.created_by}</td>
                <td className="num mono">{elapsed(d, now)}</td>
                <td className="reason-cell" title={d.reason ?? undefined}>
                  {d.reason ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
