// Every service with its latest run, a filter link, a way to start its pipeline and its tests.
import type { Service } from "../../lib/api.ts";
import { ago, stamp } from "../../lib/format.ts";
import type { RunSummary } from "../../lib/pipelines.ts";
import { paths } from "../../lib/route.ts";
import { runTone, stateLabel } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";
import { Link } from "../Link.tsx";
import { RunPipelineButton } from "./RunPipelineButton.tsx";

export function ServiceRuns({ services, runs, selected, now }: { services: Service[]; runs: RunSummary[]; selected: string | null; now: number }) {
  const shown = services.filter((s) => selected === null || s.name === selected);
  return (
    <section className="card" aria-label="services">
      <header className="card-head">
        <h2>Services</h2>
        {selected !== null && <Link to={paths.pipelines()}>all services</Link>}
      </header>
      {shown.length === 0 ? (
        <p className="empty">{selected === null ? "No services yet. Register one with `slipway service create NAME --repo URL`." : `There is no service ${selected}.`}</p>
      ) : (
        <table className="service-runs">
          <tbody>
            {shown.map((service) => {
              const last = runs.find((r) => r.service === service.name);
              return (
                <tr key={service.id} data-service={service.name}>
                  <td>
                    <Link to={paths.pipelines(service.name)} className="service-name" title="show this service's runs only">
                      {service.name}
                    </Link>
                    <span className="muted repo">{service.repository_url}</span>
                  </td>
                  <td>
                    {last ? (
                      <span title={stamp(last.created_at)}>
                        <Badge tone={runTone(last.state)}>{stateLabel(last.state)}</Badge> <Link to={paths.run(last.id)}>#{last.number}</Link> <span className="muted">{ago(last.created_at, now)}</span>
                      </span>
                    ) : (
                      <span className="muted">{selected === null ? "no recent run" : "no run yet"}</span>
                    )}
                  </td>
                  <td>
                    <Link to={paths.tests(service.name)}>tests</Link>
                  </td>
                  <td className="actions">
                    <RunPipelineButton service={service.name} />
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
