// One deployment as its page reads it: the deployment (stages, hosts, events, warnings), the
// canary analysis behind its decisions, and what its environment's hosts actually run. Types
// are the server's contracts (erased at build).
import type { AnalysisLook, DeploymentAnalysis } from "../../../src/contracts/analysis.ts";
import { getJson, sendJson, type Deployment, type ServiceStatus } from "./api.ts";

export type { AnalysisLook, DeploymentAnalysis };
export type Stage = Deployment["stages"][number];
export type StageStatus = Stage["status"];
export type LookOutcome = AnalysisLook["outcome"];
export type AnalysisWindow = DeploymentAnalysis["windows"][number];
export type MetricInfo = DeploymentAnalysis["metrics"][number];
export type DeploymentEvent = Deployment["events"][number];

const segment = encodeURIComponent;

export const loadDeployment = (token: string, id: string, signal: AbortSignal): Promise<Deployment> => getJson<Deployment>(token, `/deployments/${segment(id)}`, signal);

export const loadAnalysis = (token: string, id: string, signal: AbortSignal): Promise<DeploymentAnalysis> => getJson<DeploymentAnalysis>(token, `/deployments/${segment(id)}/analysis`, signal);

export const loadServiceStatus = (token: string, service: string, signal: AbortSignal): Promise<ServiceStatus> =>
  getJson<ServiceStatus>(token, `/services/${segment(service)}/status`, signal);

/** What a person may ask of a deployment in progress (POST /deployments/:id/<command>). */
export type DeploymentCommand = "resume" | "rollback" | "cancel";

export const commandDeployment = (token: string, id: string, command: DeploymentCommand): Promise<Deployment> => sendJson<Deployment>(token, "POST", `/deployments/${segment(id)}/${command}`);

/** The commands the state machine accepts in a state; the server refuses the others anyway. */
export function commandsFor(state: Deployment["state"]): DeploymentCommand[] {
  switch (state) {
    case "paused":
      return ["resume", "rollback", "cancel"];
    case "running":
      return ["rollback", "cancel"];
    case "queued":
    case "migrating":
      return ["cancel"];
    default:
      return [];
  }
}

/** The analysis settings the deployment was started with, read loosely (settings is a free record). */
export interface AnalysisSettings {
  interval: number | null;
  minSamples: number | null;
  onFailure: string | null;
}

export function analysisSettingsOf(d: Deployment): AnalysisSettings | null {
  const analysis = d.settings["analysis"];
  if (typeof analysis !== "object" || analysis === null) return null;
  const read = (key: string) => (analysis as Record<string, unknown>)[key];
  const number = (value: unknown) => (typeof value === "number" ? value : null);
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return { interval: number(read("interval")), minSamples: number(read("min_samples")), onFailure: text(read("on_failure")) };
}
