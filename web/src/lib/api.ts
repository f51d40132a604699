// The dashboard's view of the HTTP API: the shapes are the server's own contracts (types only,
// erased at build time, so zod never reaches the browser).
import type { Deployment, DeployLog, DeploymentSummary, EnvironmentStatus, HostServiceState, ServiceStatus } from "../../../src/contracts/deployments.ts";
import type { Service } from "../../../src/contracts/services.ts";
import type { WhoAmI } from "../../../src/contracts/tenancy.ts";

export type { Deployment, DeployLog, DeploymentSummary, EnvironmentStatus, HostServiceState, ServiceStatus, Service, WhoAmI };
export type DeploymentState = DeploymentSummary["state"];
export type HostProgress = Deployment["hosts"][number];

export const API = "/api/v1";

/** The token was refused: the dashboard asks for another. */
export class Unauthenticated extends Error {}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function getJson<T>(token: string, path: string, signal?: AbortSignal): Promise<T> {
  return request<T>(token, "GET", path, undefined, signal);
}

/** A change through the API (POST, PUT, DELETE); resolves with the answer's JSON, or null when it has none. */
export async function sendJson<T = unknown>(token: string, method: "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
  return request<T>(token, method, path, body);
}

async function request<T>(token: string, method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(API + path, { method, headers, body: body === undefined ? null : JSON.stringify(body), signal: signal ?? null });
  if (response.status === 401) throw new Unauthenticated("the token is unknown, revoked or expired");
  if (!response.ok) {
    const answer = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new ApiError(response.status, answer?.error?.message ?? `${path} answered ${response.status}`);
  }
  if (response.status === 204) return null as T;
  return (await response.json()) as T;
}

/** The message to show for a failed call. */
export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const TERMINAL: readonly DeploymentState[] = ["succeeded", "failed", "rolled_back", "cancelled"];

export function isTerminal(state: DeploymentState): boolean {
  return TERMINAL.includes(state);
}

/** Everything the page shows, read in one go so it is always one consistent picture. */
export interface Snapshot {
  services: ServiceStatus[];
  log: DeployLog;
  /** Deployments in progress (not queued), with their per-host progress. */
  active: Deployment[];
  at: number;
}

export async function loadSnapshot(token: string, signal: AbortSignal): Promise<Snapshot> {
  const [services, log] = await Promise.all([
    getJson<{ items: Service[] }>(token, "/services", signal),
    getJson<DeployLog>(token, "/deployments?limit=50", signal),
  ]);
  const statuses = await Promise.all(services.items.map((s) => getJson<ServiceStatus>(token, `/services/${encodeURIComponent(s.name)}/status`, signal)));
  const activeIds = statuses.flatMap((s) => s.environments.flatMap((e) => (e.active ? [e.active.id] : [])));
  const active = await Promise.all(activeIds.map((id) => getJson<Deployment>(token, `/deployments/${encodeURIComponent(id)}`, signal)));
  return { services: statuses, log, active, at: Date.now() };
}
