// Pipeline runs of every service (or one), newest first, kept current as runs move.
import { useCallback } from "react";
import { useLiveQuery, useNow } from "../../lib/live.ts";
import { isTerminalRun, loadRuns, loadServices } from "../../lib/pipelines.ts";
import { RunsTable } from "./RunsTable.tsx";
import { ServiceRuns } from "./ServiceRuns.tsx";

const concernsRuns = (change: { kind: string }) => change.kind === "run";

export function RunsPage({ service }: { service: string | null }) {
  const load = useCallback(async (token: string, signal: AbortSignal) => {
    const [services, runs] = await Promise.all([loadServices(token, signal), loadRuns(token, service, signal)]);
    return { services, runs };
  }, [service]);
  const { data, error } = useLiveQuery(`runs:${service ?? ""}`, load, concernsRuns);
  // Durations of running runs tick every second; otherwise "3 minutes ago" every ten.
  const running = data?.runs.some((r) => !isTerminalRun(r.state)) ?? false;
  const now = useNow(running ? 1_000 : 10_000);
  return (
    <>
      {error && <div className="banner">Could not refresh: {error}{data ? " — showing the last data read." : ""}</div>}
      {!data ? (
        !error && <p className="empty">Loading…</p>
      ) : (
        <>
          <ServiceRuns services={data.services} runs={data.runs} selected={service} now={now} />
          <section className="card" aria-label="pipeline runs">
            <header className="card-head">
              <h2>Pipeline runs</h2>
              <span className="muted">{service === null ? "all services" : service} · newest first</span>
            </header>
            <RunsTable runs={data.runs} now={now} />
          </section>
        </>
      )}
    </>
  );
}
