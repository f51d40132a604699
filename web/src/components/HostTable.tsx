// The hosts an environment selects, with what each actually runs and how it is doing.
import type { HostServiceState } from "../lib/api.ts";
import { ago, stamp } from "../lib/format.ts";
import { hostCondition } from "../lib/tones.ts";
import { Badge } from "./Badge.tsx";

export function HostTable({ hosts, liveVersion, now }: { hosts: HostServiceState[]; liveVersion: string | null; now: number }) {
  if (hosts.length === 0) return <p className="empty">No hosts match this environment's selector.</p>;
  return (
    <table className="hosts">
      <thead>
        <tr>
          <th>host</th>
          <th>release</th>
          <th>state</th>
          <th className="num" title="process restarts">rst</th>
        </tr>
      </thead>
      <tbody>
        {hosts.map((host) => (
          <HostRow key={host.id} host={host} liveVersion={liveVersion} now={now} />
        ))}
      </tbody>
    </table>
  );
}

function HostRow({ host, liveVersion, now }: { host: HostServiceState; liveVersion: string | null; now: number }) {
  const condition = hostCondition(host);
  const converging = host.desired_version !== null && host.desired_version !== host.actual_version;
  const drift = !converging && liveVersion !== null && host.actual_version !== null && host.actual_version !== liveVersion;
  const seen = host.reported_at ? `last report ${ago(host.reported_at, now)} (${stamp(host.reported_at)})` : "no report yet";
  return (
    <>
      <tr className={host.reachable ? "" : "unreachable"} data-host={host.name}>
        <td title={`${host.address}${host.port ? `:${host.port}` : ""} · ${labels(host.labels)} · ${seen}`}>
          <span className="host-name">{host.name}</span>
          <span className="host-addr">{host.address}</span>
        </td>
        <td className="mono">
          <span className={drift ? "drift" : ""} title={drift ? `differs from the live release ${liveVersion}` : undefined}>
            {host.actual_version ?? "—"}
          </span>
          {converging && <span className="converging" title="desired release, not reached yet"> → {host.desired_version}</span>}
        </td>
        <td>
          <Badge tone={condition.tone} title={`process ${host.process_state}, health ${host.health}, ${seen}`}>
            {condition.label}
          </Badge>
        </td>
        <td className={`num ${host.restarts > 0 ? "warn-text" : "muted"}`}>{host.restarts}</td>
      </tr>
      {host.error && (
        <tr className="host-error">
          <td colSpan={4}>{host.error}</td>
        </tr>
      )}
    </>
  );
}

const labels = (l: Record<string, string>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ") || "no labels";
