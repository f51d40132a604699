// A service's tests: the slowest, the flakiest and the failing ones over recent runs, and its
// quarantine. Re-read when runs change (their results feed these figures).
import { useCallback, useEffect } from "react";
import { useLiveQuery, useNow } from "../../lib/live.ts";
import { loadServices, loadTestsOverview } from "../../lib/pipelines.ts";
import { navigate, paths } from "../../lib/route.ts";
import { Link } from "../Link.tsx";
import { ProblemTests } from "./ProblemTests.tsx";
import { QuarantineList } from "./QuarantineList.tsx";
import { SlowestTests } from "./SlowestTests.tsx";

const concernsTests = (change: { kind: string }) => change.kind === "run";

export function TestsPage({ service }: { service: string | null }) {
  const load = useCallback(async (token: string, signal: AbortSignal) => {
    const [services, overview] = await Promise.all([loadServices(token, signal), service === null ? null : loadTestsOverview(token, service, signal)]);
    return { services, overview };
  }, [service]);
  const { data, error, reload } = useLiveQuery(`tests:${service ?? ""}`, load, concernsTests);
  const now = useNow();
  const first = data?.services[0]?.name;

  // /tests opens the first service's tests.
  useEffect(() => {
    if (service === null && first !== undefined) navigate(paths.tests(first), { replace: true });
  }, [service, first]);

  return (
    <>
      {error && <div className="banner">Could not refresh: {error}{data ? " — showing the last data read." : ""}</div>}
      {data && (
        <nav className="service-picker" aria-label="services">
          <span className="muted">Tests of</span>
          {data.services.map((s) => (
            <Link key={s.id} to={paths.tests(s.name)} className={s.name === service ? "current" : undefined}>
              {s.name}
            </Link>
          ))}
          {service !== null && (
            <Link to={paths.pipelines(service)} className="right">
              {service}'s runs
            </Link>
          )}
        </nav>
      )}
      {!data ? (
        !error && <p className="empty">Loading…</p>
      ) : data.services.length === 0 ? (
        <section className="card">
          <p className="empty">No services yet.</p>
        </section>
      ) : (
        service !== null &&
        data.overview && (
          <>
            <SlowestTests tests={data.overview.slowest} now={now} />
            <ProblemTests kind="flakiest" service={service} tests={data.overview.flakiest} now={now} onChanged={reload} />
            <ProblemTests kind="failing" service={service} tests={data.overview.failing} now={now} onChanged={reload} />
            <QuarantineList service={service} entries={data.overview.quarantine} now={now} onChanged={reload} />
          </>
        )
      )}
    </>
  );
}
