// A service and its environments, left to right in promotion order.
import type { ServiceStatus } from "../lib/api.ts";
import { EnvironmentColumn } from "./EnvironmentColumn.tsx";

export function ServiceCard({ status, now }: { status: ServiceStatus; now: number }) {
  const envs = status.environments;
  return (
    <section className="card service" data-service={status.service}>
      <header className="card-head">
        <h2>{status.service}</h2>
        <span className="muted">{envs.map((e) => e.name).join(" → ") || "no environments"}</span>
      </header>
      {envs.length > 0 ? (
        <div className="envs" style={{ gridTemplateColumns: `repeat(${envs.length}, minmax(17rem, 1fr))` }}>
          {envs.map((env) => (
            <EnvironmentColumn key={env.name} env={env} now={now} />
          ))}
        </div>
      ) : (
        <p className="empty">This service has no environments yet.</p>
      )}
    </section>
  );
}
