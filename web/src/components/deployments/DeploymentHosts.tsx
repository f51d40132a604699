// The deployment's hosts: the stage and batch each belongs to, where the deployment has it
// (pending, switching, healthy, rolled back...) and why, beside what the host actually runs
// and how it is doing (from the environment's status).
import type { Deployment, HostServiceState } from "../../lib/api.ts";
import { stageOfHosts } from "../../lib/canary.ts";
import { ago, stamp } from "../../lib/format.ts";
import { hostCondition, hostProgressTone, stateLabel } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";

export function DeploymentHosts({ d, hosts, now }: { d: Deployment; hosts: HostServiceState[] | null; now: number }) {
  const stageOf = stageOfHosts(d);
  const byId = new Map((hosts ?? []).map((h) => [h.id, h]));
  return (
    <section className="card" aria-label="hosts">
      <header className="card-head">
        <h2>Hosts</h2>
        <span className="muted">
          {d.hosts.filter((h) => h.status === "healthy").length}/{d.hosts.length} on {d.release.version}
        </span>
      </header>
      {d.hosts.length === 0 ? (
        <p className="empty">No hosts planned yet.</p>
      ) : (
        <table className="deployment-hosts">
          <thead>
            <tr>
              <th>host</th>
              <th>stage</th>
              <th className="num">batch</th>
              <th>deployment</th>
              <th>runs</th>
              <th>state</th>
              <th>why</th>
              <th>since</th>
            </tr>
          </thead>
          <tbody>
            {d.hosts.map((h) => {
              const stage = stageOf.get(h.id);
              const actual = byId.get(h.id);
              const condition = actual ? hostCondition(actual) : null;
              return (
                <tr key={h.id} data-host={h.name} data-status={h.status}>
                  <td>
                    <span className="host-name">{h.name}</span>
                    {actual && (
                      <>
                        {" "}
                        <span className="host-addr">{actual.address}</span>
                      </>
                    )}
                  </td>
                  <td>{stage === undefined ? "—" : `${stage + 1}. ${d.stages[stage]?.label ?? ""}`}</td>
                  <td className="num">{h.batch + 1}</td>
                  <td>
                    <Badge tone={hostProgressTone(h.status)}>{stateLabel(h.status)}</Badge>
                  </td>
                  <td className="mono">
                    {actual?.actual_version ?? "—"}
                    {actual && actual.desired_version !== null && actual.desired_version !== actual.actual_version && <span className="converging"> → {actual.desired_version}</span>}
                  </td>
                  <td>{condition ? <Badge tone={condition.tone}>{condition.label}</Badge> : <span className="muted">—</span>}</td>
                  <td className="reason-cell" title={h.reason ?? undefined}>
                    {h.reason ?? ""}
                  </td>
                  <td className="muted" title={stamp(h.at)}>
                    {h.at ? ago(h.at, now) : "—"}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
