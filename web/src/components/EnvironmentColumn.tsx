// One environment of a service: what is live (and what was before), what is deploying or
// queued, and its hosts.
import type { EnvironmentStatus } from "../lib/api.ts";
import { ago, stamp } from "../lib/format.ts";
import { paths } from "../lib/route.ts";
import { deploymentTone, stateLabel } from "../lib/tones.ts";
import { Badge } from "./Badge.tsx";
import { HostTable } from "./HostTable.tsx";
import { Link } from "./Link.tsx";

export function EnvironmentColumn({ env, now }: { env: EnvironmentStatus; now: number }) {
  const healthy = env.hosts.filter((h) => h.reachable && h.health === "healthy").length;
  const selector = Object.entries(env.selector).map(([k, v]) => `${k}=${v}`);
  return (
    <div className="env" data-environment={env.name}>
      <div className="env-head">
        <span className="env-name">{env.name}</span>
        {env.production && <span className="tag prod">prod</span>}
        <span className="selector" title="host selector">
          {selector.length ? selector.join(",") : "all hosts"}
        </span>
        <span className={`host-count ${healthy < env.hosts.length ? "warn-text" : ""}`} title="healthy hosts / hosts">
          {healthy}/{env.hosts.length} healthy
        </span>
      </div>
      <div className="live">
        {env.live ? (
          <>
            <span className="version live-version">{env.live.version}</span>
            <span className="muted" title={stamp(env.live.since)}>
              live {ago(env.live.since, now)} by {env.live.deployed_by}
            </span>
          </>
        ) : (
          <span className="muted">nothing live yet</span>
        )}
      </div>
      <div className="previous muted">
        previous <span className="version">{env.previous?.version ?? "—"}</span>
        {env.previous && <span title={stamp(env.previous.since)}> · {ago(env.previous.since, now)}</span>}
      </div>
      {env.active && (
        <div className="env-active">
          <Badge tone={deploymentTone(env.active.state)}>{stateLabel(env.active.state)}</Badge>
          <span>
            <Link to={paths.deployment(env.active.id)}>
              {env.active.kind === "rollback" ? "rolling back to" : "deploying"} <span className="version">{env.active.release.version}</span>
            </Link>
            {env.active.batch !== null && ` · batch ${env.active.batch + 1}/${env.active.batches}`}
          </span>
        </div>
      )}
      {env.queued > 0 && <div className="env-queued">{env.queued} queued</div>}
      <HostTable hosts={env.hosts} liveVersion={env.live?.version ?? null} now={now} />
    </div>
  );
}
