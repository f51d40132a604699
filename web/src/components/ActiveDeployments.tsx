// Deployments in progress, host by host: which batch each host is in, where it is, and why.
import type { Deployment, HostProgress } from "../lib/api.ts";
import { ago, elapsed, stamp } from "../lib/format.ts";
import { paths } from "../lib/route.ts";
import { deploymentTone, hostProgressTone, stateLabel } from "../lib/tones.ts";
import { Badge } from "./Badge.tsx";
import { Link } from "./Link.tsx";

export function ActiveDeployments({ deployments, now }: { deployments: Deployment[]; now: number }) {
  if (deployments.length === 0) return null;
  return (
    <section className="card active" aria-label="deploying now">
      <header className="card-head">
        <h2>Deploying now</h2>
        <span className="muted">{deployments.length} in progress</span>
      </header>
      {deployments.map((d) => (
        <DeploymentProgress key={d.id} d={d} now={now} />
      ))}
    </section>
  );
}

function DeploymentProgress({ d, now }: { d: Deployment; now: number }) {
  const done = d.hosts.filter((h) => h.status === "healthy" || h.status === "skipped").length;
  const batches = Array.from({ length: Math.max(d.batches, 0) }, (_, i) => d.hosts.filter((h) => h.batch === i));
  const unbatched = d.hosts.filter((h) => h.batch < 0 || h.batch >= d.batches);
  return (
    <article className="deployment" data-deployment={d.id}>
      <div className="deployment-head">
        <Badge tone={deploymentTone(d.state)}>{stateLabel(d.state)}</Badge>
        <strong>{d.service}</strong>
        <span className="muted">→</span>
        <strong>{d.environment}</strong>
        <span className="mono">
          {d.previous_release ? `${d.previous_release.version} → ` : ""}
          <span className="version">{d.release.version}</span>
        </span>
        {d.kind === "rollback" && <span className="tag warn">rollback</span>}
        {d.batch !== null && <span>batch {d.batch + 1} of {d.batches}</span>}
        <span className="muted">
          {done}/{d.hosts.length} hosts done
        </span>
        <span className="muted right" title={stamp(d.started_at ?? d.created_at)}>
          by {d.created_by} · started {ago(d.started_at ?? d.created_at, now)} · {elapsed(d, now)}
        </span>
        <Link to={paths.deployment(d.id)} className="details">
          details
        </Link>
      </div>
      <ProgressBar hosts={d.hosts} />
      {d.reason && <div className="reason">{d.reason}</div>}
      {d.migration && (
        <div className="reason">
          migration on {d.migration.host}: {d.migration.status}
          {d.migration.reason ? ` — ${d.migration.reason}` : ""}
        </div>
      )}
      <div className="batches">
        {[...batches, ...(unbatched.length ? [unbatched] : [])].map((hosts, index) => (
          <div className={`batch ${d.batch === index ? "current" : ""}`} key={index}>
            <span className="batch-label">batch {index + 1}</span>
            {hosts.map((h) => (
              <HostChip key={h.id} host={h} />
            ))}
          </div>
        ))}
      </div>
    </article>
  );
}

function HostChip({ host }: { host: HostProgress }) {
  return (
    <span className={`chip tone-${hostProgressTone(host.status)}`} data-host={host.name} title={host.reason ?? undefined}>
      <span className="chip-name">{host.name}</span>
      <span className="chip-status">{stateLabel(host.status)}</span>
      {host.reason && <span className="chip-reason">{host.reason}</span>}
    </span>
  );
}

function ProgressBar({ hosts }: { hosts: HostProgress[] }) {
  return (
    <div className="progress" aria-hidden="true">
      {hosts.map((h) => (
        <span key={h.id} className={`segment tone-${hostProgressTone(h.status)}`} />
      ))}
    </div>
  );
}
