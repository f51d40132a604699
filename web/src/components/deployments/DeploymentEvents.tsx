// Every transition of the deployment, oldest first: the "why" of each decision, with who (or
// which rule) made it and when.
import type { DeploymentEvent } from "../../lib/deployments.ts";
import { stamp } from "../../lib/format.ts";
import { deploymentTone, stateLabel } from "../../lib/tones.ts";
import type { DeploymentState } from "../../lib/api.ts";
import { Badge } from "../Badge.tsx";

const STATES: readonly string[] = ["queued", "migrating", "running", "paused", "rolling_back", "succeeded", "failed", "rolled_back", "cancelled"];
const toneOf = (state: string) => (STATES.includes(state) ? deploymentTone(state as DeploymentState) : "idle");

export function DeploymentEvents({ events }: { events: DeploymentEvent[] }) {
  return (
    <section className="card" aria-label="events">
      <header className="card-head">
        <h2>Events</h2>
        <span className="muted">every transition and the reason for it</span>
      </header>
      {events.length === 0 ? (
        <p className="empty">Nothing has happened yet.</p>
      ) : (
        <table className="deployment-events">
          <thead>
            <tr>
              <th>when</th>
              <th>state</th>
              <th>why</th>
              <th>by</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} data-seq={e.seq}>
                <td className="mono" title={stamp(e.at)}>
                  {stamp(e.at).slice(11)}
                </td>
                <td>
                  {e.from === e.to ? (
                    <Badge tone={toneOf(e.to)}>{stateLabel(e.to)}</Badge>
                  ) : (
                    <>
                      <span className="muted">{stateLabel(e.from)} →</span> <Badge tone={toneOf(e.to)}>{stateLabel(e.to)}</Badge>
                    </>
                  )}
                </td>
                <td className="event-reason">{e.reason}</td>
                <td className="muted">{e.actor}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
