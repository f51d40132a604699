// One deployment: its header, its stages, the canary analysis behind every decision (charts and
// verdicts), its hosts and its events. The deployment and its analysis are re-read when the
// event stream says this deployment changed (each look that changes the verdict in words is a
// change); the hosts' own state when one of its hosts reports.
import { useCallback } from "react";
import { isTerminal } from "../../lib/api.ts";
import { analysisSettingsOf, loadAnalysis, loadDeployment, loadServiceStatus } from "../../lib/deployments.ts";
import type { Change } from "../../lib/events.ts";
import { useLiveQuery, useNow } from "../../lib/live.ts";
import { paths } from "../../lib/route.ts";
import { Link } from "../Link.tsx";
import { AnalysisCard } from "./AnalysisCard.tsx";
import { DeploymentEvents } from "./DeploymentEvents.tsx";
import { DeploymentHeader } from "./DeploymentHeader.tsx";
import { DeploymentHosts } from "./DeploymentHosts.tsx";
import { StageStepper } from "./StageStepper.tsx";

export function DeploymentPage({ id }: { id: string }) {
  const concernsDeployment = useCallback((change: Change) => change.kind === "deployment" && change.id === id, [id]);
  const read = useCallback(async (token: string, signal: AbortSignal) => {
    const [deployment, analysis] = await Promise.all([loadDeployment(token, id, signal), loadAnalysis(token, id, signal)]);
    return { deployment, analysis };
  }, [id]);
  const { data, error, reload } = useLiveQuery(`deployment:${id}`, read, concernsDeployment);
  const d = data?.deployment ?? null;

  const service = d?.service ?? null;
  const hostIds = d?.hosts.map((h) => h.id).join(",") ?? "";
  const concernsHosts = useCallback((change: Change) => (change.kind === "host" && hostIds.split(",").includes(change.id)) || (change.kind === "deployment" && change.id === id), [hostIds, id]);
  const readStatus = useCallback((token: string, signal: AbortSignal) => (service === null ? Promise.resolve(null) : loadServiceStatus(token, service, signal)), [service]);
  const { data: status } = useLiveQuery(`deployment-status:${service ?? ""}`, readStatus, concernsHosts);

  const running = d !== null && !isTerminal(d.state);
  const now = useNow(running ? 1_000 : 10_000);

  if (!data || !d) return error ? <div className="banner">Could not read deployment {id}: {error}</div> : <p className="empty">Loading…</p>;
  const environment = status?.environments.find((e) => e.name === d.environment) ?? null;
  const settings = analysisSettingsOf(d);
  return (
    <>
      {error && <div className="banner">Could not refresh: {error} — showing the last data read.</div>}
      <p className="crumbs">
        <Link to={paths.overview()}>overview</Link> / <Link to={paths.overview(d.service)}>{d.service}</Link> / deployment {d.release.version} to {d.environment}
      </p>
      <DeploymentHeader d={d} now={now} onChanged={reload} />
      <StageStepper d={d} windows={data.analysis.windows} now={now} />
      <AnalysisCard analysis={data.analysis} settings={settings} stages={d.stages} finished={!running} />
      <DeploymentHosts d={d} hosts={environment?.hosts ?? null} now={now} />
      <DeploymentEvents events={d.events} />
    </>
  );
}
