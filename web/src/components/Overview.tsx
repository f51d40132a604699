// The overview: what is deploying right now, every service (or the one asked for) with its
// environments and hosts, and the deploy log.
import { isTerminal, loadSnapshot } from "../lib/api.ts";
import { useLiveQuery, useNow } from "../lib/live.ts";
import { paths } from "../lib/route.ts";
import { ActiveDeployments } from "./ActiveDeployments.tsx";
import { DeployLog } from "./DeployLog.tsx";
import { Link } from "./Link.tsx";
import { ServiceCard } from "./ServiceCard.tsx";

// Pipeline runs change often and never change what this page shows until they make a release,
// which arrives as a release or deployment change of its own.
const concernsOverview = (change: { kind: string }) => change.kind !== "run";

export function Overview({ service }: { service: string | null }) {
  const { data: snapshot, error } = useLiveQuery("overview", loadSnapshot, concernsOverview);
  const now = Math.max(useNow(), snapshot?.at ?? 0);
  const services = snapshot?.services.filter((s) => service === null || s.service === service) ?? [];
  return (
    <>
      {error && <div className="banner">Could not refresh: {error}{snapshot ? " — showing the last data read." : ""}</div>}
      {!snapshot ? (
        !error && <p className="empty">Loading…</p>
      ) : (
        <>
          <ActiveDeployments deployments={snapshot.active.filter((d) => !isTerminal(d.state) && (service === null || d.service === service))} now={now} />
          {service !== null && (
            <p className="crumbs">
              <Link to={paths.overview()}>all services</Link> / {service}
            </p>
          )}
          {services.length === 0 ? (
            <section className="card">
              <p className="empty">{service === null ? "No services yet. Register one with `slipway service create NAME --repo URL --env staging --env production`." : `There is no service ${service}.`}</p>
            </section>
          ) : (
            services.map((status) => <ServiceCard key={status.service} status={status} now={now} />)
          )}
          <DeployLog log={snapshot.log} now={now} />
        </>
      )}
    </>
  );
}
